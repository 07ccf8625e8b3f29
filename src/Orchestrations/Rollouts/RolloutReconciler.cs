using FleetFunctions.Core;
using FleetFunctions.Core.Apply;
using FleetFunctions.Core.Fleet;
using FleetFunctions.Core.Health;
using FleetFunctions.Core.Policy;
using FleetFunctions.Core.Reconcile;
using FleetFunctions.Core.Secrets;
using FleetFunctions.Core.Sources;

namespace FleetFunctions.Orchestrations.Rollouts;

/// <summary>Reconciles one cluster of a rollout and summarises the result for orchestration history.</summary>
public interface IClusterReconciler
{
    Task<ClusterReconcileSummary> ReconcileAsync(ClusterReconcileInput input, CancellationToken cancellationToken = default);
}

/// <summary>
/// Runs the reconcile pipeline (source → render → validate → apply → prune → health) for one cluster at the
/// rollout's commit, with the fleet's settings from the plan. Git credentials come from the secret store.
/// </summary>
/// <remarks>A fleet with a <c>policySet</c> is validated against it (read from the platform repository at the plan's
/// platform commit) between render and apply: Enforce violations apply nothing on the cluster; Audit findings are
/// reported in the cluster's message.</remarks>
public sealed class PipelineClusterReconciler(Reconciler reconciler, ISecretStore secrets, IPolicySetSource? policies = null) : IClusterReconciler
{
    public async Task<ClusterReconcileSummary> ReconcileAsync(ClusterReconcileInput input, CancellationToken cancellationToken = default)
    {
        var settings = input.Settings;
        GitSourceSpec source;
        try
        {
            source = await GitSourceSpecs.ForAsync(settings, secrets, cancellationToken);
        }
        catch (SourceException ex)
        {
            return Failed(input, "Source", ex.Message, transient: false);
        }

        IManifestValidator? validator = null;
        if (settings.PolicySet is { } policySet)
        {
            if (policies is null || settings.PlatformCommit is null)
            {
                return Failed(input, "Validate", $"ClusterFleet/{input.Fleet}: policySet '{policySet}' needs the platform repository in Git (FLEETFUNCTIONS_PlatformRepository); nothing was applied", transient: false);
            }

            try
            {
                validator = new PolicyManifestValidator(await policies.GetAsync(settings.PlatformCommit, policySet, cancellationToken));
            }
            catch (PolicyLoadException ex)
            {
                return Failed(input, "Validate", $"ClusterFleet/{input.Fleet}: policySet '{policySet}' cannot be loaded: {ex.Message}; nothing was applied", transient: false);
            }
        }

        var request = new ReconcileRequest(input.Cluster.Name, input.Fleet, source, input.Cluster.Path)
        {
            Commit = input.Commit,
            Validator = validator,
            ClusterFleets = input.Cluster.Fleets?.ToHashSet(StringComparer.Ordinal),
            Options = new ReconcileOptions
            {
                Prune = settings.Prune,
                AllowEmpty = settings.AllowEmpty,
                Apply = new ApplyOptions { Force = settings.Force, Recreate = settings.Recreate },
                Health = new HealthOptions { Timeout = input.HealthTimeout },
            },
        };
        var result = await reconciler.ReconcileAsync(request, cancellationToken);
        var message = result.Succeeded
            ? $"{(input.IsRollback ? "rolled back to" : "applied")} {CommitSha.Short(result.Commit)}: {result.Changes}"
            : string.Join("; ", result.Errors.DefaultIfEmpty($"failed in {result.Phase}"));
        if (result.PolicyWarnings.Count > 0)
        {
            message += $"; {result.PolicyWarnings.Count} policy warning(s): {string.Join("; ", result.PolicyWarnings)}";
        }
        return new ClusterReconcileSummary(
            input.Cluster.Name,
            result.Succeeded,
            result.IsTransient,
            result.Phase.ToString(),
            message,
            result.Changes.Count(ChangeAction.Created),
            result.Changes.Count(ChangeAction.Configured),
            result.Changes.Count(ChangeAction.Unchanged),
            result.Pruned.Count(ChangeAction.Deleted));
    }

    private static ClusterReconcileSummary Failed(ClusterReconcileInput input, string phase, string message, bool transient) =>
        new(input.Cluster.Name, false, transient, phase, message, 0, 0, 0, 0);

}
