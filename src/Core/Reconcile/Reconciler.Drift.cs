using Microsoft.Extensions.Logging;
using FleetFunctions.Core.Apply;
using FleetFunctions.Core.Clusters;
using FleetFunctions.Core.Drift;
using FleetFunctions.Core.Manifests;
using FleetFunctions.Core.Rendering;
using FleetFunctions.Core.Secrets;
using FleetFunctions.Core.Sources;

namespace FleetFunctions.Core.Reconcile;

public sealed partial class Reconciler
{
    /// <summary>
    /// Compares the cluster with the desired objects of the fleet's last applied commit, read from the render
    /// cache (never rendering). Returns an error in the report when nothing was applied yet or the cache
    /// has no output for that commit on this worker.
    /// </summary>
    public Task<DriftReport> DetectDriftAsync(string cluster, string fleet, CancellationToken cancellationToken = default) =>
        DetectDriftAsync(cluster, fleet, new DriftCheckOptions(), cancellationToken);

    /// <summary>
    /// Compares the cluster with the desired objects of the fleet's last applied commit, read from the render
    /// cache. With <see cref="DriftCheckOptions.Source"/> a cache miss (a worker that did not apply the commit)
    /// fetches and renders that commit once, filling the cache; without it the miss is an error in the report.
    /// A report with an empty <see cref="DriftReport.Commit"/> means the fleet was never applied to the cluster.
    /// </summary>
    public async Task<DriftReport> DetectDriftAsync(string cluster, string fleet, DriftCheckOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var inventory = await _inventory.GetAsync(cluster, fleet, cancellationToken);
        if (inventory is null)
        {
            return new DriftReport(cluster, fleet, string.Empty, [], [$"{cluster}: fleet {fleet} was never applied here; reconcile it first."]);
        }

        var rendered = await _renderer.Cache.TryGetAsync(inventory.Commit, inventory.Path, cancellationToken);
        if (rendered is null && options.Source is { } source)
        {
            try
            {
                var tree = await _source.GetTreeAsync(source, inventory.Commit, cancellationToken);
                rendered = await _renderer.RenderAsync(tree, inventory.Path, cancellationToken);
            }
            catch (Exception e) when (e is SourceException or RenderException or ManifestException)
            {
                return new DriftReport(cluster, fleet, inventory.Commit, [], [
                    $"{cluster}: cannot render {inventory.Path}@{CommitSha.Short(inventory.Commit)} for the drift check: {e.Message}"]);
            }
        }

        if (rendered is null)
        {
            return new DriftReport(cluster, fleet, inventory.Commit, [], [
                $"{cluster}: no rendered output of {inventory.Path}@{CommitSha.Short(inventory.Commit)} in the render cache; reconcile the fleet to fill it (drift checks never render)."]);
        }

        ManifestSet desired;
        try
        {
            desired = await ResealAsync(cluster, rendered.Manifests, cancellationToken);
        }
        catch (SealingException e)
        {
            return new DriftReport(cluster, fleet, inventory.Commit, [], [$"{cluster}: cannot re-seal the SealedSecrets of {inventory.Path}@{CommitSha.Short(inventory.Commit)} for the drift check: {e.Message}"]);
        }

        try
        {
            var client = await _clusters.GetClientAsync(cluster, cancellationToken);
            var report = await new DriftDetector(client, options.Concurrency).DetectAsync(fleet, inventory.Commit, desired, cancellationToken);
            if (report.HasDrift)
            {
                Log.DriftFound(_logger, cluster, fleet, report.Objects.Count);
            }

            return report;
        }
        catch (ClusterUnreachableException e)
        {
            return new DriftReport(cluster, fleet, inventory.Commit, [], [e.Message]) { Unreachable = true };
        }
    }

    /// <summary>
    /// Re-applies only the drifted objects of <paramref name="drift"/> from the cached render, taking
    /// ownership of their fields (Git wins). Returns the ChangeSet of that apply.
    /// </summary>
    public async Task<ChangeSet> HealDriftAsync(DriftReport drift, ReconcileOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(drift);
        if (!drift.HasDrift)
        {
            return ChangeSet.Empty;
        }

        var inventory = await _inventory.GetAsync(drift.Cluster, drift.Fleet, cancellationToken);
        if (inventory is not null && inventory.Commit != drift.Commit)
        {
            // Reconciled to another commit since the check (a rollout got there first): healing would put the old one back.
            return new ChangeSet([.. drift.Objects.Select(o => new ObjectChange(o.Reference, o.ApiVersion, ChangeAction.Skipped,
                $"{o.Reference.On(drift.Cluster)}: not healed: the cluster was reconciled to commit {CommitSha.Short(inventory.Commit)} after the drift check of {CommitSha.Short(drift.Commit)}"))]);
        }

        var rendered = inventory is null ? null : await _renderer.Cache.TryGetAsync(drift.Commit, inventory.Path, cancellationToken);
        if (rendered is null)
        {
            return new ChangeSet([.. drift.Objects.Select(o => new ObjectChange(o.Reference, o.ApiVersion, ChangeAction.Failed,
                $"{o.Reference.On(drift.Cluster)}: cannot heal: the rendered output of commit {CommitSha.Short(drift.Commit)} is not cached; reconcile the fleet."))]);
        }

        ManifestSet desired;
        try
        {
            desired = await ResealAsync(drift.Cluster, rendered.Manifests, cancellationToken);
        }
        catch (SealingException e)
        {
            return new ChangeSet([.. drift.Objects.Select(o => new ObjectChange(o.Reference, o.ApiVersion, ChangeAction.Failed, $"{o.Reference.On(drift.Cluster)}: cannot heal: {e.Message}"))]);
        }

        var drifted = drift.Objects.Select(o => o.Reference).ToHashSet();
        var objects = desired.Objects.Where(o => drifted.Contains(o.Reference) || drifted.Contains(o.WithNamespace("default").Reference)).ToList();
        var client = await _clusters.GetClientAsync(drift.Cluster, cancellationToken);
        var applyOptions = (options ?? new ReconcileOptions()).Apply with { Force = true };
        return await new Applier(client, applyOptions, _loggers.CreateLogger<Applier>()).ApplyAsync(ManifestSet.Create(objects), inventory, cancellationToken);
    }
}
