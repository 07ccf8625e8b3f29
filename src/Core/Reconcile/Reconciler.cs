using System.Diagnostics;
using FleetFunctions.Core.Apply;
using FleetFunctions.Core.Clusters;
using FleetFunctions.Core.Drift;
using FleetFunctions.Core.Health;
using FleetFunctions.Core.Inventory;
using FleetFunctions.Core.Manifests;
using FleetFunctions.Core.Rendering;
using FleetFunctions.Core.Secrets;
using FleetFunctions.Core.Sources;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FleetFunctions.Core.Reconcile;

/// <summary>
/// Reconciles one fleet on one cluster at one commit, top to bottom: source → render → validate → re-seal → apply →
/// prune → health. Each failing phase records its errors and returns; a commit that fails to render or
/// validate applies nothing. Every result is recorded in the history table. Thread-safe: reconciles of
/// different (cluster, fleet) pairs run concurrently; callers serialise reconciles of the same pair. A no-op
/// (same commit and path as the inventory, nothing written, no drift) is not recorded: it only reads.
/// </summary>
public sealed partial class Reconciler
{
    private readonly GitRepositories _source;
    private readonly ManifestRenderer _renderer;
    private readonly ClusterClientFactory _clusters;
    private readonly InventoryStore _inventory;
    private readonly ReconcileHistoryStore? _history;
    private readonly IManifestValidator? _validator;
    private readonly SealedSecretResealer? _resealer;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;

    public Reconciler(
        GitRepositories source,
        ManifestRenderer renderer,
        ClusterClientFactory clusters,
        InventoryStore inventory,
        ReconcileHistoryStore? history = null,
        IManifestValidator? validator = null,
        ILoggerFactory? loggerFactory = null,
        SealedSecretResealer? resealer = null)
    {
        _source = source ?? throw new ArgumentNullException(nameof(source));
        _renderer = renderer ?? throw new ArgumentNullException(nameof(renderer));
        _clusters = clusters ?? throw new ArgumentNullException(nameof(clusters));
        _inventory = inventory ?? throw new ArgumentNullException(nameof(inventory));
        _history = history;
        _validator = validator;
        _resealer = resealer;
        _loggers = loggerFactory ?? NullLoggerFactory.Instance;
        _logger = _loggers.CreateLogger<Reconciler>();
    }

    /// <summary>Runs every phase and returns (and records) the result; never throws for cluster, Git or manifest problems.</summary>
    public async Task<ReconcileResult> ReconcileAsync(ReconcileRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var started = DateTimeOffset.UtcNow;
        var stopwatch = Stopwatch.StartNew();

        // Read alongside the phases, for a no-op: if the history does not show its commit (the reconcile that applied
        // it was interrupted after saving the inventory and before recording), the no-op records it.
        var lastRecorded = _history is null ? null : LastRecordedCommitAsync(_history, request, cancellationToken);
        var result = await RunPhasesAsync(request, new ReconcileResult { Cluster = request.Cluster, Fleet = request.Fleet, Path = request.Path, StartedAt = started }, cancellationToken);
        result = result with { Duration = stopwatch.Elapsed };
        RecordMetrics(result);
        if (result.Succeeded)
        {
            Log.Reconciled(_logger, request.Fleet, request.Cluster, result.Commit, result.Changes.Count(ChangeAction.Created), result.Changes.Count(ChangeAction.Configured),
                result.Changes.Count(ChangeAction.Unchanged), result.Pruned.Count(ChangeAction.Deleted), (long)result.Duration.TotalMilliseconds);
        }
        else
        {
            Log.ReconcileFailed(_logger, request.Fleet, request.Cluster, result.Commit, string.Join(" | ", result.Errors));
        }

        // A no-op stays reads only when the inventory and the last recorded reconcile already describe that state.
        if (_history is not null && (!result.IsNoOp || await lastRecorded! != result.Commit))
        {
            await _history.RecordAsync(result, cancellationToken);
        }

        return result;
    }

    /// <summary>The commit of the last recorded reconcile, or null when there is none or it cannot be read (then a no-op records).</summary>
    private static async Task<string?> LastRecordedCommitAsync(ReconcileHistoryStore history, ReconcileRequest request, CancellationToken cancellationToken)
    {
        try
        {
            return await history.LastCommitAsync(request.Cluster, request.Fleet, cancellationToken);
        }
        catch (Exception ex) when (ex is Azure.RequestFailedException or HttpRequestException or IOException)
        {
            return null;
        }
    }

    private async Task<ReconcileResult> RunPhasesAsync(ReconcileRequest request, ReconcileResult result, CancellationToken cancellationToken)
    {
        // Source.
        SourceTree tree;
        try
        {
            var commit = request.Commit ?? (await _source.ResolveAsync(request.Source, cancellationToken)).Commit;
            result = result with { Commit = commit };
            tree = await _source.GetTreeAsync(request.Source, commit, cancellationToken);
        }
        catch (SourceException e)
        {
            return Fail(result, ReconcilePhase.Source, [e.Message], transient: true);
        }

        // Render.
        ManifestSet desired;
        try
        {
            desired = (await _renderer.RenderAsync(tree, request.Path, cancellationToken)).Manifests;
        }
        catch (ManifestException e)
        {
            return Fail(result, ReconcilePhase.Render, e.Errors);
        }
        catch (RenderException e)
        {
            return Fail(result, ReconcilePhase.Render, [e.Message]);
        }

        // Validate.
        if ((request.Validator ?? _validator) is { } validator)
        {
            var validation = await validator.ValidateAsync(new ValidationContext(request.Cluster, request.Fleet, result.Commit, request.Path), desired, cancellationToken);
            result = result with { PolicyWarnings = validation.Warnings };
            if (!validation.IsValid)
            {
                return Fail(result, ReconcilePhase.Validate, validation.Violations);
            }
        }

        // Re-seal: SealedSecrets are sealed in Git for FleetFunctions; each cluster gets them sealed for its own key.
        try
        {
            desired = await ResealAsync(request.Cluster, desired, cancellationToken);
        }
        catch (SealingException e)
        {
            return Fail(result, ReconcilePhase.Render, [e.Message]);
        }

        // Apply.
        ClusterClient client;
        Task<FleetInventory?> inventoryRead;
        FleetInventory? assumed;
        try
        {
            client = await _clusters.GetClientAsync(request.Cluster, cancellationToken);

            // The inventory read overlaps the cluster probe and, when this process remembers the inventory, the apply too:
            // the apply uses an inventory only to skip reads (an object new or changed since it is written unread, one
            // unchanged is compared with the cluster first), so the cluster ends the same whichever it used. What to prune
            // and what to save are decided on the inventory read. A storage failure is thrown (the workflow retries it).
            inventoryRead = _inventory.GetAsync(request.Cluster, request.Fleet, cancellationToken);
            var probe = client.ProbeAsync(cancellationToken);
            assumed = desired.Count > 0 ? _inventory.Remembered(request.Cluster, request.Fleet) : null;
            if (assumed is not null)
            {
                await probe;
            }
            else
            {
                await Task.WhenAll(inventoryRead, probe);
                assumed = await inventoryRead;
                if (desired.Count == 0 && assumed is { Entries.Count: > 0 } && !request.Options.AllowEmpty)
                {
                    return Fail(result, ReconcilePhase.Render, [
                        $"{request.Path}@{CommitSha.Short(result.Commit)}: rendered zero objects; refusing to prune the {assumed.Entries.Count} objects fleet {request.Fleet} applied to {request.Cluster}. " +
                        "Fix the path in Git, or set allowEmpty on the fleet if removing everything is intended."]);
                }
            }
        }
        catch (ClusterUnreachableException e)
        {
            return Fail(result, ReconcilePhase.Apply, [e.Message], transient: true);
        }
        catch (KubernetesApiException e)
        {
            return Fail(result, ReconcilePhase.Apply, [e.Message], transient: e.IsTransient);
        }
        catch (KeyNotFoundException e)
        {
            return Fail(result, ReconcilePhase.Apply, [e.Message]);
        }

        var changes = await new Applier(client, request.Options.Apply, _loggers.CreateLogger<Applier>()).ApplyAsync(desired, assumed, cancellationToken);
        var previous = await inventoryRead;
        result = result with { Changes = changes, Drift = DriftOf(changes) };
        if (changes.HasFailures)
        {
            await SaveInventoryAsync(request, result.Commit, previous, changes, ChangeSet.Empty, succeeded: false, cancellationToken);
            return Fail(result, ReconcilePhase.Apply, [.. changes.Failures.Select(f => f.Message ?? f.ToString())], transient: changes.FailedTransiently);
        }

        // Prune.
        var pruned = ChangeSet.Empty;
        IReadOnlyDictionary<ObjectReference, string> handedOver = new Dictionary<ObjectReference, string>();
        if (request.Options.Prune)
        {
            // An object that moved to another fleet's Git, which selects the cluster and has applied it since, is that
            // fleet's now: not pruned here, and no longer in this fleet's inventory.
            var stale = Pruner.Stale(previous, changes.Changes.Select(c => c.Reference));
            handedOver = await _inventory.OtherOwnersAsync(request.Cluster, request.Fleet, [.. stale.Select(e => e.Reference)], request.ClusterFleets, cancellationToken);
            pruned = await new Pruner(client, new PruneOptions { Concurrency = request.Options.Apply.Concurrency, Stages = request.Options.Apply.Stages, FinalizerTimeout = request.Options.Health.Timeout }, _loggers.CreateLogger<Pruner>())
                .PruneAsync([.. stale.Where(e => !handedOver.ContainsKey(e.Reference))], cancellationToken);
            pruned = new ChangeSet([
                .. pruned.Changes,
                .. stale.Where(e => handedOver.ContainsKey(e.Reference)).Select(e => new ObjectChange(e.Reference, e.ApiVersion, ChangeAction.Skipped,
                    $"not pruned: ClusterFleet/{handedOver[e.Reference]} applies it on {request.Cluster} now")),
            ]);
            result = result with { Pruned = pruned };
        }

        // The inventory write overlaps the health wait; it is awaited before the reconcile returns, whatever happens.
        // It starts on another thread: building and compressing it (a few milliseconds of CPU for hundreds of objects)
        // does not hold back the first health read.
        var appliedCommit = result.Commit;
        var inventorySaved = Task.Run(
            () => SaveInventoryAsync(request, appliedCommit, previous, changes, pruned, succeeded: !pruned.HasFailures, cancellationToken, handedOver),
            CancellationToken.None);
        if (pruned.HasFailures)
        {
            await inventorySaved;
            return Fail(result, ReconcilePhase.Prune, [.. pruned.Failures.Select(f => f.Message ?? f.ToString())], transient: pruned.FailedTransiently);
        }

        // Health.
        HealthReport? health;
        try
        {
            health = request.Options.WaitForHealth ? await WaitForHealthAsync(client, changes, request.Options.Health, cancellationToken) : null;
        }
        finally
        {
            await inventorySaved;
        }

        if (health is not null)
        {
            result = result with { Health = health };
            if (health.Unreachable is { } unreachable)
            {
                return Fail(result, ReconcilePhase.Health, [$"{unreachable} The objects were applied; their health is not known until the cluster answers."], transient: true);
            }

            if (!health.Healthy)
            {
                var why = health.TimedOut ? $"not healthy within {request.Options.Health.Timeout.TotalSeconds:0}s" : "failed";
                return Fail(result, ReconcilePhase.Health, [.. health.Describe().Select(d => $"{d} ({why}; check the workload's events and logs, or roll back the commit)")]);
            }
        }

        var noOp = previous is not null && previous.Commit == result.Commit && previous.Path == request.Path
            && !changes.HasChanges && !pruned.HasChanges && result.Drift.Count == 0;
        return result with { Phase = ReconcilePhase.Done, IsNoOp = noOp };
    }

    /// <summary>Every applied or compared object was seen during apply; only those not yet Current are polled.</summary>
    private static async Task<HealthReport> WaitForHealthAsync(ClusterClient client, ChangeSet changes, HealthOptions options, CancellationToken cancellationToken)
    {
        var known = changes.Changes.Where(c => c.Health is { Status: HealthStatus.Current }).Select(c => c.Health!).ToList();
        var targets = changes.Changes.Where(c => c.Health is not { Status: HealthStatus.Current }).Select(c => (c.Reference, c.ApiVersion)).ToList();
        var polled = targets.Count == 0 ? HealthReport.Empty(client.Name) : await new HealthChecker(client).WaitAsync(targets, options, cancellationToken);
        return polled with { Objects = [.. known, .. polled.Objects] };
    }

    /// <summary>
    /// <paramref name="desired"/> with its SealedSecrets re-sealed for <paramref name="cluster"/>. Without a resealer they
    /// are applied as written (sealed for the clusters' own shared key).
    /// </summary>
    private Task<ManifestSet> ResealAsync(string cluster, ManifestSet desired, CancellationToken cancellationToken) =>
        _resealer is null ? Task.FromResult(desired) : _resealer.ResealAsync(cluster, desired, cancellationToken);

    /// <param name="handedOver">Stale objects another fleet applies now: dropped from this fleet's inventory though not pruned.</param>
    private async Task SaveInventoryAsync(
        ReconcileRequest request, string commit, FleetInventory? previous, ChangeSet changes, ChangeSet pruned, bool succeeded, CancellationToken cancellationToken,
        IReadOnlyDictionary<ObjectReference, string>? handedOver = null)
    {
        var entries = new Dictionary<ObjectReference, InventoryEntry>();
        foreach (var entry in previous?.Entries ?? [])
        {
            entries[entry.Reference] = entry;
        }

        foreach (var change in changes.Changes)
        {
            if (change.Action is ChangeAction.Created or ChangeAction.Configured or ChangeAction.Unchanged || change.Applied)
            {
                entries[change.Reference] = new InventoryEntry(change.Reference, change.ApiVersion, change.Checksum);
            }
        }

        if (!changes.HasFailures)
        {
            // A successful apply defines the inventory: stale entries stay only if prune kept or failed them.
            var applied = changes.Changes.Select(c => c.Reference).ToHashSet();
            var kept = pruned.Changes.Where(p => p.Action is ChangeAction.Skipped or ChangeAction.Failed && handedOver?.ContainsKey(p.Reference) != true).Select(p => p.Reference).ToHashSet();
            var unpruned = request.Options.Prune ? kept : entries.Keys.ToHashSet();
            foreach (var key in entries.Keys.Where(k => !applied.Contains(k) && !unpruned.Contains(k)).ToList())
            {
                entries.Remove(key);
            }
        }

        var keepCommit = !succeeded || changes.HasFailures;
        var inventory = new FleetInventory(
            request.Cluster,
            request.Fleet,
            keepCommit && previous is not null ? previous.Commit : commit,
            keepCommit && previous is not null ? previous.Path : request.Path,
            [.. entries.Values],
            DateTimeOffset.UtcNow);
        await _inventory.SaveAsync(inventory, previous, cancellationToken);
    }

    private static void RecordMetrics(ReconcileResult result)
    {
        var cluster = new KeyValuePair<string, object?>("cluster", result.Cluster);
        var fleet = new KeyValuePair<string, object?>("fleet", result.Fleet);
        PipelineMetrics.Reconciles.Add(1, cluster, fleet, new KeyValuePair<string, object?>("phase", result.Phase.ToString()));
        PipelineMetrics.ReconcileDuration.Record(result.Duration.TotalSeconds, cluster, fleet);
        foreach (var group in result.Changes.Changes.Concat(result.Pruned.Changes).GroupBy(c => c.Action))
        {
            PipelineMetrics.ApplyObjects.Add(group.Count(), cluster, new KeyValuePair<string, object?>("action", group.Key.ToString().ToLowerInvariant()));
        }
    }

    private static IReadOnlyList<ObjectDrift> DriftOf(ChangeSet changes) =>
        [.. changes.Changes
            .Where(c => c.DriftedFields.Count > 0)
            .Select(c => new ObjectDrift(c.Reference, c.ApiVersion, c.Action == ChangeAction.Created ? DriftKind.Missing : DriftKind.Modified, c.Action == ChangeAction.Created ? [] : c.DriftedFields))];

    private static ReconcileResult Fail(ReconcileResult result, ReconcilePhase phase, IReadOnlyList<string> errors, bool transient = false) =>
        result with { Phase = phase, Errors = errors, IsTransient = transient };

}
