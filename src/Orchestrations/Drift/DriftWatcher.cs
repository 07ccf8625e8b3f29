using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using FleetFunctions.Core.Clusters;
using FleetFunctions.Core.Fleet;
using FleetFunctions.Core.Inventory;
using FleetFunctions.Core.Manifests;
using FleetFunctions.Orchestrations.Engine;
using k8s;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FleetFunctions.Orchestrations.Drift;

/// <summary>
/// Watch mode: long-lived Kubernetes watches on every kind the inventories hold per cluster. A modification or
/// deletion of a managed object schedules a <see cref="DriftChecker"/> check (detect, record, heal where the fleet has
/// selfHeal) of that (cluster, fleet) after <see cref="DriftWatchOptions.Debounce"/>; checks of one pair never overlap.
/// Watches resume from their last resource version; a broken connection is retried with exponential back-off, and
/// after an interruption, a watch the server ended before its timeout, or an expired version every fleet on the
/// cluster is checked once (events may have been missed: a cluster that lost its storage sends no DELETED events). The watched kinds and objects are re-read every <see cref="DriftWatchOptions.RefreshInterval"/>. The timer
/// sweep stays the safety net.
/// </summary>
public sealed class DriftWatcher
{
    private static readonly TimeSpan s_firstBackoff = TimeSpan.FromMilliseconds(200);
    private readonly IPlatformProvider _platform;
    private readonly InventoryStore _inventory;
    private readonly ClusterClientFactory _clients;
    private readonly DriftChecker _checker;
    private readonly DriftWatchOptions _options;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, ClusterWatch> _clusters = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Cluster, string Fleet), PairState> _pairs = new();
    private readonly ConcurrentDictionary<Task, byte> _inFlight = new();
    private CancellationToken _stopping;
    private long _checks;

    public DriftWatcher(IPlatformProvider platform, InventoryStore inventory, ClusterClientFactory clients, DriftChecker checker, DriftWatchOptions? options = null, ILogger<DriftWatcher>? logger = null)
    {
        _platform = platform ?? throw new ArgumentNullException(nameof(platform));
        _inventory = inventory ?? throw new ArgumentNullException(nameof(inventory));
        _clients = clients ?? throw new ArgumentNullException(nameof(clients));
        _checker = checker ?? throw new ArgumentNullException(nameof(checker));
        _options = options ?? new DriftWatchOptions();
        _logger = logger ?? (ILogger)NullLogger.Instance;
    }

    /// <summary>Watches currently connected (the server answered), across all clusters and kinds.</summary>
    public int ConnectedWatches => _clusters.Values.Sum(c => c.Kinds.Values.Count(k => k.Connected));

    /// <summary>(cluster, fleet) pairs whose checks this watcher keeps apart (pairs no longer watched are dropped at a refresh).</summary>
    internal int TrackedPairs => _pairs.Count;

    /// <summary>Checks run by this watcher so far.</summary>
    public long ChecksRun => Interlocked.Read(ref _checks);

    /// <summary>Runs until <paramref name="cancellationToken"/> is cancelled: refreshes the watch set, then keeps the watches going.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        _stopping = cancellationToken;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                try
                {
                    await RefreshAsync(cancellationToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    Log.WatchRefreshFailed(_logger, e.Message);
                }

                await Task.Delay(_options.RefreshInterval, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping.
        }
        finally
        {
            await Task.WhenAll(_clusters.Values.SelectMany(c => c.Kinds.Values).Select(k => k.StopAsync()));
            _clusters.Clear();
            await Task.WhenAll(_inFlight.Keys);
        }
    }

    /// <summary>Re-reads the platform and the inventories; starts watches for new kinds and clusters, stops obsolete ones.</summary>
    internal async Task RefreshAsync(CancellationToken cancellationToken)
    {
        var platform = (await _platform.GetCurrentAsync(cancellationToken)).Config;
        var pairs = platform.Fleets.Values.SelectMany(f => platform.ClustersOf(f).Select(c => (Fleet: f, Cluster: c))).ToList();
        var inventories = new FleetInventory?[pairs.Count];
        await Parallel.ForEachAsync(
            Enumerable.Range(0, pairs.Count),
            new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken },
            async (i, ct) => inventories[i] = await _inventory.GetAsync(pairs[i].Cluster.Name, pairs[i].Fleet.Name, ct));

        var byCluster = pairs.Select((p, i) => (p.Fleet, p.Cluster, Inventory: inventories[i]))
            .Where(p => p.Inventory is { Entries.Count: > 0 })
            .GroupBy(p => p.Cluster.Name, StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var group in byCluster)
        {
            seen.Add(group.Key);
            var managed = new Dictionary<ObjectReference, List<string>>();
            var kinds = new HashSet<(string ApiVersion, string Kind)>();
            foreach (var (fleet, _, inventory) in group)
            {
                foreach (var entry in inventory!.Entries)
                {
                    kinds.Add((entry.ApiVersion, entry.Reference.Kind));
                    if (!managed.TryGetValue(entry.Reference, out var fleets))
                    {
                        managed[entry.Reference] = fleets = [];
                    }

                    fleets.Add(fleet.Name);
                }
            }

            var watch = _clusters.GetOrAdd(group.Key, name => new ClusterWatch(name));
            watch.Index = new ClusterIndex(platform, group.First().Cluster, [.. group.Select(p => p.Fleet.Name)],
                managed.ToDictionary(m => m.Key, m => (IReadOnlyList<string>)m.Value));
            foreach (var kind in kinds.Where(k => !watch.Kinds.ContainsKey(k)))
            {
                var kindWatch = new KindWatch();
                watch.Kinds[kind] = kindWatch;
                Log.WatchStarted(_logger, group.Key, $"{kind.ApiVersion}/{kind.Kind}", managed.Count);
                kindWatch.Loop = Task.Run(() => WatchKindAsync(watch, kind.ApiVersion, kind.Kind, kindWatch), CancellationToken.None);
            }

            foreach (var obsolete in watch.Kinds.Keys.Where(k => !kinds.Contains(k)).ToList())
            {
                if (watch.Kinds.TryRemove(obsolete, out var stopped))
                {
                    await stopped.StopAsync();
                }
            }
        }

        foreach (var gone in _clusters.Keys.Where(k => !seen.Contains(k)).ToList())
        {
            if (_clusters.TryRemove(gone, out var removed))
            {
                await Task.WhenAll(removed.Kinds.Values.Select(k => k.StopAsync()));
            }
        }

        // Pairs no longer watched (fleet or cluster gone, nothing applied) are forgotten once no check of theirs is pending or running.
        var watched = _clusters.Values.SelectMany(c => (c.Index?.Fleets ?? []).Select(f => (c.Name, f))).ToHashSet();
        foreach (var (pair, state) in _pairs.Where(p => !watched.Contains(p.Key)).ToList())
        {
            if (Volatile.Read(ref state.Pending) == 0 && state.Gate.CurrentCount == 1)
            {
                _pairs.TryRemove(new KeyValuePair<(string, string), PairState>(pair, state));
            }
        }
    }

    private async Task WatchKindAsync(ClusterWatch cluster, string apiVersion, string kind, KindWatch watch)
    {
        var cancellationToken = watch.Stopping;
        string? resourceVersion = null;
        var backoff = s_firstBackoff;
        var resync = false;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                var client = await _clients.GetClientAsync(cluster.Name, cancellationToken);
                var resource = await client.ResolveAsync(apiVersion, kind, null, cancellationToken);
                var expired = false;
                var connected = Stopwatch.StartNew();
                await foreach (var e in client.WatchAsync(resource, resourceVersion, _options.WatchTimeout, cancellationToken))
                {
                    watch.Connected = true;
                    backoff = s_firstBackoff;
                    if (resync)
                    {
                        // Events may have been missed while disconnected: check every fleet on the cluster once.
                        resync = false;
                        ScheduleAll(cluster);
                    }

                    if (e.Type == WatchEventType.Error)
                    {
                        expired = true;
                        break;
                    }

                    // ADDED events of a fresh watch describe what exists, in no version order: resume from bookmarks and changes only.
                    if (e.Type is WatchEventType.Added)
                    {
                        continue;
                    }

                    resourceVersion = e.ResourceVersion ?? resourceVersion;
                    if (e.Type is WatchEventType.Modified or WatchEventType.Deleted && e.Name is { } name)
                    {
                        OnChange(cluster, new ObjectReference(resource.Group, resource.Kind, e.Namespace ?? string.Empty, name), e.Type);
                    }
                }

                if (expired)
                {
                    Log.WatchExpired(_logger, cluster.Name, kind);
                    (resourceVersion, resync) = (null, true);
                }
                else if (connected.Elapsed < _options.WatchTimeout * 0.9 && !cancellationToken.IsCancellationRequested)
                {
                    // The server ended the watch before its timeout (restart, lost storage): what happened meanwhile
                    // may never arrive as events, so check every fleet on the cluster once the watch is back.
                    Log.WatchClosedEarly(_logger, cluster.Name, $"{apiVersion}/{kind}");
                    resync = true;
                }
            }
            catch (KubernetesApiException e) when (e.StatusCode == HttpStatusCode.Gone)
            {
                Log.WatchExpired(_logger, cluster.Name, kind);
                (resourceVersion, resync) = (null, true);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                // Unreachable, refused, unknown kind (a CRD not there yet), missing credentials: keep trying, slower each time.
                watch.Connected = false;
                resync = true;
                Log.WatchInterrupted(_logger, cluster.Name, $"{apiVersion}/{kind}", e.Message, (long)backoff.TotalMilliseconds);
                await Task.Delay(backoff, cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, _options.MaxBackoff.Ticks));
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
        }

        watch.Connected = false;
    }

    private void OnChange(ClusterWatch cluster, ObjectReference reference, WatchEventType type)
    {
        if (cluster.Index?.Managed.TryGetValue(reference, out var fleets) != true)
        {
            return;
        }

        foreach (var fleet in fleets!)
        {
            Log.WatchEvent(_logger, cluster.Name, type.ToString(), reference.ToString(), fleet);
            Schedule(cluster, fleet);
        }
    }

    private void ScheduleAll(ClusterWatch cluster)
    {
        foreach (var fleet in cluster.Index?.Fleets ?? [])
        {
            Schedule(cluster, fleet);
        }
    }

    /// <summary>Runs one check of the pair after the debounce window; a check already pending absorbs the event.</summary>
    private void Schedule(ClusterWatch cluster, string fleet)
    {
        var state = _pairs.GetOrAdd((cluster.Name, fleet), _ => new PairState());
        if (Interlocked.Exchange(ref state.Pending, 1) == 1)
        {
            return;
        }

        var stopping = _stopping;
        var check = Task.Run(async () =>
        {
            try
            {
                await Task.Delay(_options.Debounce, stopping);
                await state.Gate.WaitAsync(stopping);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            try
            {
                // Events from here on schedule a further check (they may come after this check's reads).
                Interlocked.Exchange(ref state.Pending, 0);
                if (cluster.Index is { } index && index.Platform.Fleets.TryGetValue(fleet, out var definition))
                {
                    await _checker.CheckIfIdleAsync(index.Platform, definition, index.Cluster, "watch", _options.ObjectConcurrency, stopping);
                    Interlocked.Increment(ref _checks);
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                // Stopping.
            }
            catch (Exception e)
            {
                Log.DriftCheckFailed(_logger, cluster.Name, fleet, e.Message);
            }
            finally
            {
                state.Gate.Release();
            }
        }, CancellationToken.None);
        _inFlight.TryAdd(check, 0);
        _ = check.ContinueWith(t => _inFlight.TryRemove(t, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private sealed record ClusterIndex(PlatformConfig Platform, Cluster Cluster, IReadOnlyList<string> Fleets, IReadOnlyDictionary<ObjectReference, IReadOnlyList<string>> Managed);

    private sealed class ClusterWatch(string name)
    {
        private volatile ClusterIndex? _index;

        public string Name { get; } = name;

        public ClusterIndex? Index
        {
            get => _index;
            set => _index = value;
        }

        public ConcurrentDictionary<(string ApiVersion, string Kind), KindWatch> Kinds { get; } = new();
    }

    private sealed class KindWatch
    {
        private readonly CancellationTokenSource _stop = new();
        private volatile bool _connected;

        public CancellationToken Stopping => _stop.Token;

        public Task Loop { get; set; } = Task.CompletedTask;

        public bool Connected
        {
            get => _connected;
            set => _connected = value;
        }

        public async Task StopAsync()
        {
            await _stop.CancelAsync();
            await Loop;
            _stop.Dispose();
        }
    }

    private sealed class PairState
    {
        /// <summary>1 while a check is scheduled and has not started reading yet (a field: Interlocked needs one).</summary>
        public int Pending;

        public SemaphoreSlim Gate { get; } = new(1, 1);
    }
}
