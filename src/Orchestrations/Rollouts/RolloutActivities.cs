using FleetFunctions.Core.Analysis;
using FleetFunctions.Core.Fleet;
using FleetFunctions.Orchestrations.Engine;
using FleetFunctions.Orchestrations.Engine.Client;

namespace FleetFunctions.Orchestrations.Rollouts;

/// <summary>
/// The activities of the rollout orchestrator: the only place rollouts touch Git, clusters, Prometheus and
/// storage. Each is idempotent (they may run twice after a crash): planning is pure, reconcile is server-side
/// apply, state writes are upserts keyed by fleet and commit.
/// </summary>
public sealed class RolloutActivities(
    IPlatformProvider platform,
    IClusterReconciler reconciler,
    FleetStateStore fleets,
    RolloutAncestry ancestry,
    DurableClient client,
    CanaryAnalyzer? analyzer = null,
    TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>Registers every rollout activity on <paramref name="registry"/>.</summary>
    public DurableTaskRegistry Register(DurableTaskRegistry registry) => registry
        .AddActivity<RolloutRequest, PlannedRollout>(RolloutNames.PlanAndClaimActivity, PlanAndClaimAsync)
        .AddActivity<RolloutRequest, RolloutPlan>(RolloutNames.PlanActivity, PlanAsync)
        .AddActivity<ClaimInput, FleetClaim>(RolloutNames.ClaimActivity, ClaimAsync)
        .AddActivity<SupersedeInput, bool>(RolloutNames.SupersedeActivity, SupersedeAsync)
        .AddActivity<string, bool>(RolloutNames.PhaseActivity, IsRunningAsync)
        .AddActivity<DependencyInput, DependencyState>(RolloutNames.DependenciesActivity, CheckDependenciesAsync)
        .AddActivity<ClusterReconcileInput, ClusterReconcileSummary>(RolloutNames.ReconcileActivity, (_, input, ct) => reconciler.ReconcileAsync(input, ct))
        .AddActivity<AnalysisInput, AnalysisIteration>(RolloutNames.AnalyzeActivity, AnalyzeAsync)
        .AddActivity<RecordInput, bool>(RolloutNames.RecordActivity, RecordAsync)
        .AddActivity<string, LastGoodCommit>(RolloutNames.LastGoodActivity, async (_, fleet, ct) => new LastGoodCommit((await fleets.GetAsync(fleet, ct)).LastGoodCommit));

    private async Task<RolloutPlan> PlanAsync(TaskActivityContext context, RolloutRequest request, CancellationToken cancellationToken) =>
        (await PlanFleetAsync(request, cancellationToken)).Plan;

    private async Task<(RolloutPlan Plan, ClusterFleet Fleet)> PlanFleetAsync(RolloutRequest request, CancellationToken cancellationToken)
    {
        var snapshot = request.PlatformCommit is { } commit
            ? await platform.GetAtCommitAsync(commit, cancellationToken)
            : await platform.GetCurrentAsync(cancellationToken);
        if (!snapshot.Config.Fleets.TryGetValue(request.Fleet, out var fleet))
        {
            throw new RolloutPlanningException($"ClusterFleet/{request.Fleet} is not defined in the platform repository{(snapshot.Commit is { } c ? $" at {c}" : string.Empty)}");
        }

        return (RolloutPlanner.Plan(snapshot.Config, fleet, request.Commit, snapshot.Commit), fleet);
    }

    /// <summary>
    /// Plans, then claims the fleet for the plan, in one activity: one step less before the first wave. Idempotent like
    /// its parts (a claim by the same instance is granted again).
    /// </summary>
    private async Task<PlannedRollout> PlanAndClaimAsync(TaskActivityContext context, RolloutRequest request, CancellationToken cancellationToken)
    {
        var (plan, fleet) = await PlanFleetAsync(request, cancellationToken);
        if (fleet.Suspend)
        {
            // Refused without claiming: the fleet's running rollout (if any) and its last good commit stay as they are.
            return new PlannedRollout(plan, new FleetClaim(null, null,
                $"ClusterFleet/{fleet.Name} is suspended (spec.suspend at {fleet.Origin}); nothing was applied. Set suspend: false and push again to roll out."));
        }

        var claim = await ClaimAsync(context, new ClaimInput(plan.Fleet, context.InstanceId, plan.Commit, plan.Settings), cancellationToken);
        return new PlannedRollout(plan, claim);
    }

    /// <summary>
    /// Claims the fleet unless the commit is an ancestor of the one the fleet runs or is rolling out (a claim left by a
    /// rollout that is no longer running does not count).
    /// </summary>
    private Task<FleetClaim> ClaimAsync(TaskActivityContext context, ClaimInput input, CancellationToken cancellationToken) =>
        fleets.ClaimAsync(input.Fleet, input.InstanceId, input.Commit,
            input.Settings is not { } settings ? null : async (state, ct) => await ancestry.RefusalAsync(settings, await client.WithoutStaleClaimAsync(state, input.InstanceId, ct), input.Commit, input.InstanceId, ct),
            cancellationToken);

    private async Task<bool> SupersedeAsync(TaskActivityContext context, SupersedeInput input, CancellationToken cancellationToken)
    {
        var previous = await client.GetInstanceAsync(input.Previous, cancellationToken: cancellationToken);
        if (previous is not { IsRunning: true })
        {
            return false;
        }

        await client.RaiseEventAsync(input.Previous, RolloutNames.SupersededEvent, new SupersededEvent(input.By), cancellationToken);
        return true;
    }

    private async Task<bool> IsRunningAsync(TaskActivityContext context, string instanceId, CancellationToken cancellationToken) =>
        await client.GetInstanceAsync(instanceId, cancellationToken: cancellationToken) is { IsRunning: true };

    private async Task<DependencyState> CheckDependenciesAsync(TaskActivityContext context, DependencyInput input, CancellationToken cancellationToken)
    {
        var pending = new List<string>();
        var failed = new List<string>();
        var config = (await platform.GetCurrentAsync(cancellationToken)).Config;
        var suspended = input.Fleets.Where(f => config.Fleets.TryGetValue(f, out var dependency) && dependency.Suspend).ToList();
        foreach (var fleet in input.Fleets.Except(suspended))
        {
            switch (await fleets.GetCommitPhaseAsync(fleet, input.Commit, cancellationToken))
            {
                case RolloutPhase.Succeeded:
                    break;
                case null:
                    pending.Add(fleet);
                    break;
                default:
                    failed.Add(fleet);
                    break;
            }
        }

        return new DependencyState(pending, failed) { Suspended = suspended };
    }

    private async Task<AnalysisIteration> AnalyzeAsync(TaskActivityContext context, AnalysisInput input, CancellationToken cancellationToken)
    {
        var at = new DateTimeOffset(DateTime.SpecifyKind(input.At, DateTimeKind.Utc));
        if (analyzer is null)
        {
            return new AnalysisIteration(input.Index, at, MeasurementOutcome.Inconclusive,
                [new MetricMeasurement("analysis", null, string.Empty, null, MeasurementOutcome.Inconclusive, "no Prometheus is configured (FLEETFUNCTIONS_PrometheusUrl); canary analysis cannot pass")]);
        }

        // Measure now rather than at the orchestration's clock: the activity may run a little later.
        return await analyzer.MeasureAsync(input.Spec, input.Fleet, input.Clusters, input.Index, _time.GetUtcNow(), cancellationToken);
    }

    private async Task<bool> RecordAsync(TaskActivityContext context, RecordInput input, CancellationToken cancellationToken)
    {
        await fleets.RecordAsync(input, _time.GetUtcNow(), cancellationToken);
        return true;
    }
}
