using System.Diagnostics;
using Azure.Storage.Blobs;
using FleetFunctions.Core.Clusters;
using FleetFunctions.Core.Fleet;
using FleetFunctions.Core.Storage;
using FleetFunctions.Orchestrations.Engine;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FleetFunctions.Orchestrations.Drift;

/// <summary>The outcome of one sweep: skipped (another sweep held the lease), or one result per (cluster, fleet) pair.</summary>
public sealed record DriftSweepResult(bool Skipped, TimeSpan Duration, IReadOnlyList<DriftCheckResult> Checks)
{
    public static DriftSweepResult SkippedByLease { get; } = new(true, TimeSpan.Zero, []);

    public int Count(DriftOutcome outcome) => Checks.Count(c => c.Outcome == outcome);
}

/// <summary>
/// The drift sweep: for every (cluster, fleet) pair of the platform configuration in force, a <see cref="DriftChecker"/>
/// check, at most <see cref="DriftSweepOptions.Concurrency"/> at once. One sweep runs at a time across instances (a
/// blob lease, renewed while the sweep runs; a sweep that finds it held returns <see cref="DriftSweepResult.SkippedByLease"/>).
/// Fleets with a running rollout are skipped; a cluster that does not answer its probe, or a pair whose check fails, is
/// recorded as an error and the sweep goes on.
/// </summary>
public sealed class DriftSweeper
{
    private readonly IPlatformProvider _platform;
    private readonly DriftChecker _checker;
    private readonly BlobContainerClient _leases;
    private readonly DriftSweepOptions _options;
    private readonly ILogger _logger;
    private readonly ClusterClientFactory? _clients;

    /// <param name="clients">When given, each cluster is probed once per sweep (<c>GET /version</c>) and the pairs of a cluster
    /// that does not answer are recorded as errors without being checked one by one.</param>
    public DriftSweeper(IPlatformProvider platform, DriftChecker checker, StorageAccount storage, DriftSweepOptions? options = null,
        ILogger<DriftSweeper>? logger = null, ClusterClientFactory? clients = null)
    {
        ArgumentNullException.ThrowIfNull(storage);
        _clients = clients;
        _platform = platform ?? throw new ArgumentNullException(nameof(platform));
        _checker = checker ?? throw new ArgumentNullException(nameof(checker));
        _options = options ?? new DriftSweepOptions();
        _leases = storage.CreateBlobContainerClient(_options.LeaseContainer);
        _logger = logger ?? (ILogger)NullLogger.Instance;
    }

    /// <summary>Runs one sweep, or skips it when another sweep holds the lease.</summary>
    public async Task<DriftSweepResult> SweepAsync(CancellationToken cancellationToken = default)
    {
        var lease = await SweepLease.TryAcquireAsync(_leases, _options.LeaseBlob, _options.LeaseDuration, cancellationToken);
        if (lease is null)
        {
            Log.DriftSweepSkipped(_logger, $"{_options.LeaseContainer}/{_options.LeaseBlob}");
            return DriftSweepResult.SkippedByLease;
        }

        await using (lease)
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lease.Lost);
            try
            {
                return await RunAsync(linked.Token);
            }
            catch (OperationCanceledException) when (lease.Lost.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                Log.DriftLeaseLost(_logger, $"{_options.LeaseContainer}/{_options.LeaseBlob}", lease.LostReason ?? "renewal failed");
                throw new InvalidOperationException($"drift sweep: lost the lease {_options.LeaseContainer}/{_options.LeaseBlob} ({lease.LostReason}); the next sweep starts over.");
            }
        }
    }

    private async Task<DriftSweepResult> RunAsync(CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        var platform = (await _platform.GetCurrentAsync(cancellationToken)).Config;
        var fleets = platform.Fleets.Values.OrderBy(f => f.Name, StringComparer.Ordinal).ToList();

        // Which fleets are rolling out: read once per fleet, not per pair.
        var active = new string?[fleets.Count];
        await Parallel.ForEachAsync(
            Enumerable.Range(0, fleets.Count),
            new ParallelOptions { MaxDegreeOfParallelism = _options.Concurrency, CancellationToken = cancellationToken },
            async (i, ct) => active[i] = await _checker.ActiveRolloutAsync(fleets[i].Name, ct));

        var pairs = fleets.SelectMany((fleet, i) => platform.ClustersOf(fleet).Select(cluster => (Fleet: fleet, Cluster: cluster, Active: active[i]))).ToList();
        var unreachable = await ProbeAsync([.. pairs.Select(p => p.Cluster.Name).Distinct(StringComparer.Ordinal)], cancellationToken);
        var results = new DriftCheckResult[pairs.Count];
        await Parallel.ForEachAsync(
            Enumerable.Range(0, pairs.Count),
            new ParallelOptions { MaxDegreeOfParallelism = _options.Concurrency, CancellationToken = cancellationToken },
            async (i, ct) =>
            {
                var (fleet, cluster, rollout) = pairs[i];
                if (rollout is not null)
                {
                    Log.DriftSkippedRollout(_logger, cluster.Name, fleet.Name, rollout);
                    results[i] = DriftCheckResult.Of(cluster.Name, fleet.Name, DriftOutcome.RolloutRunning);
                    return;
                }

                try
                {
                    results[i] = unreachable.TryGetValue(cluster.Name, out var error)
                        ? await _checker.RecordUnreachableAsync(fleet, cluster, error, "sweep", ct)
                        : await _checker.CheckAsync(platform, fleet, cluster, "sweep", _options.ObjectConcurrency, ct);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // Storage trouble for one pair must not stop the sweep of the others.
                    var message = $"{cluster.Name}: drift check of fleet {fleet.Name} failed: {e.Message}";
                    Log.DriftCheckFailed(_logger, cluster.Name, fleet.Name, message);
                    results[i] = DriftCheckResult.Of(cluster.Name, fleet.Name, DriftOutcome.Error, message);
                }
            });

        var result = new DriftSweepResult(false, stopwatch.Elapsed, results);
        DriftMetrics.SweepDuration.Record(result.Duration.TotalSeconds);
        Log.DriftSweepDone(_logger, results.Length, (long)result.Duration.TotalMilliseconds, result.Count(DriftOutcome.InSync),
            result.Count(DriftOutcome.Reported) + result.Count(DriftOutcome.Healed) + result.Count(DriftOutcome.HealFailed),
            result.Count(DriftOutcome.Healed), result.Count(DriftOutcome.Error) + result.Count(DriftOutcome.HealFailed), result.Count(DriftOutcome.RolloutRunning));
        return result;
    }

    /// <summary>The clusters that do not answer, with why (empty without a client factory).</summary>
    private async Task<IReadOnlyDictionary<string, string>> ProbeAsync(IReadOnlyList<string> clusters, CancellationToken cancellationToken)
    {
        if (_clients is null)
        {
            return new Dictionary<string, string>();
        }

        var errors = new string?[clusters.Count];
        await Parallel.ForEachAsync(
            Enumerable.Range(0, clusters.Count),
            new ParallelOptions { MaxDegreeOfParallelism = _options.Concurrency, CancellationToken = cancellationToken },
            async (i, ct) =>
            {
                try
                {
                    await (await _clients.GetClientAsync(clusters[i], ct)).ProbeAsync(ct);
                }
                catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
                {
                    errors[i] = e.Message.StartsWith(clusters[i], StringComparison.Ordinal) ? e.Message : $"{clusters[i]}: {e.Message}";
                }
            });
        return clusters.Select((name, i) => (name, Error: errors[i])).Where(c => c.Error is not null).ToDictionary(c => c.name, c => c.Error!, StringComparer.Ordinal);
    }
}
