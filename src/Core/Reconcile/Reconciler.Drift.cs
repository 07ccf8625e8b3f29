using Microsoft.Extensions.Logging;
using FleetFunctions.Core.Apply;
using FleetFunctions.Core.Clusters;
using FleetFunctions.Core.Drift;
using FleetFunctions.Core.Manifests;

namespace FleetFunctions.Core.Reconcile;

public sealed partial class Reconciler
{
    /// <summary>
    /// Compares the cluster with the desired objects of the fleet's last applied commit, read from the render
    /// cache (never rendering). Returns an error in the report when nothing was applied yet or the cache
    /// has no output for that commit on this worker.
    /// </summary>
    public async Task<DriftReport> DetectDriftAsync(string cluster, string fleet, CancellationToken cancellationToken = default)
    {
        var inventory = await _inventory.GetAsync(cluster, fleet, cancellationToken);
        if (inventory is null)
        {
            return new DriftReport(cluster, fleet, string.Empty, [], [$"{cluster}: fleet {fleet} was never applied here; reconcile it first."]);
        }

        var rendered = await _renderer.Cache.TryGetAsync(inventory.Commit, inventory.Path, cancellationToken);
        if (rendered is null)
        {
            return new DriftReport(cluster, fleet, inventory.Commit, [], [
                $"{cluster}: no rendered output of {inventory.Path}@{Short(inventory.Commit)} in the render cache; reconcile the fleet to fill it (drift checks never render)."]);
        }

        try
        {
            var client = await _clusters.GetClientAsync(cluster, cancellationToken);
            var report = await new DriftDetector(client).DetectAsync(fleet, inventory.Commit, rendered.Manifests, cancellationToken);
            if (report.HasDrift)
            {
                Log.DriftFound(_logger, cluster, fleet, report.Objects.Count);
            }

            return report;
        }
        catch (ClusterUnreachableException e)
        {
            return new DriftReport(cluster, fleet, inventory.Commit, [], [e.Message]);
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
        var rendered = inventory is null ? null : await _renderer.Cache.TryGetAsync(drift.Commit, inventory.Path, cancellationToken);
        if (rendered is null)
        {
            return new ChangeSet([.. drift.Objects.Select(o => new ObjectChange(o.Reference, o.ApiVersion, ChangeAction.Failed,
                $"{o.Reference.On(drift.Cluster)}: cannot heal: the rendered output of commit {Short(drift.Commit)} is not cached; reconcile the fleet."))]);
        }

        var drifted = drift.Objects.Select(o => o.Reference).ToHashSet();
        var objects = rendered.Manifests.Objects.Where(o => drifted.Contains(o.Reference) || drifted.Contains(o.WithNamespace("default").Reference)).ToList();
        var client = await _clusters.GetClientAsync(drift.Cluster, cancellationToken);
        var applyOptions = (options ?? new ReconcileOptions()).Apply with { Force = true };
        return await new Applier(client, applyOptions, _loggers.CreateLogger<Applier>()).ApplyAsync(ManifestSet.Create(objects), inventory, cancellationToken);
    }
}
