using FleetFunctions.Core;
using FleetFunctions.Core.Analysis;
using FleetFunctions.Core.Fleet;
using FleetFunctions.Orchestrations.Engine;
using FleetFunctions.Orchestrations.Engine.Client;

namespace FleetFunctions.Orchestrations.Rollouts;

/// <summary>
/// Rolls one commit out to one fleet: AllAtOnce, Progressive waves or Canary with analysis, with automatic
/// rollback to the fleet's last good commit. One instance per (fleet, commit). Deterministic: every decision
/// is taken from the plan (computed once by an activity) and from activity results in history.
/// </summary>
public static class RolloutOrchestrator
{
    /// <summary>Delay between attempts of a reconcile that failed transiently (unreachable cluster).</summary>
    public static readonly TimeSpan TransientRetryDelay = TimeSpan.FromSeconds(5);

    /// <summary>Attempts per cluster for transient failures.</summary>
    public const int TransientAttempts = 3;

    /// <summary>The first pause between polls of dependencies and of a superseded predecessor.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The longest pause between polls: from version 3 on the pause doubles from <see cref="PollInterval"/> up to this,
    /// so an hour's wait for a dependency is about 130 polls (a few hundred history events), not 1,800.
    /// </summary>
    public static readonly TimeSpan MaxPollInterval = TimeSpan.FromSeconds(30);

    /// <summary>How long a rollout waits for the fleets it depends on.</summary>
    public static readonly TimeSpan DependencyTimeout = TimeSpan.FromHours(1);

    /// <summary>
    /// The version this build starts instances with. The orchestrator replays an instance the way the build that
    /// started it ran: instances whose version lacks <see cref="VersionPrefix"/> come from builds that planned and
    /// claimed in two activities; those before version 3 do not read the last good commit again after waiting for the
    /// rollout they superseded.
    /// </summary>
    public const string Version = VersionPrefix + "3";

    public const string VersionPrefix = "rollout-v";

    /// <summary>The number of a rollout version (<c>rollout-v3</c> is 3); 1 for instances of builds before versions.</summary>
    internal static int VersionNumber(string? version) =>
        version is not null && version.StartsWith(VersionPrefix, StringComparison.Ordinal) && int.TryParse(version.AsSpan(VersionPrefix.Length), System.Globalization.CultureInfo.InvariantCulture, out var number)
            ? number
            : 1;

    /// <summary>Starts the rollout of <paramref name="request"/> as instance <paramref name="instanceId"/> (see <see cref="RolloutInstanceId"/>).</summary>
    public static Task<string> StartAsync(
        DurableClient client, RolloutRequest request, string instanceId,
        OrchestrationIdReusePolicy ifRunning = OrchestrationIdReusePolicy.Reject, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        return client.ScheduleNewOrchestrationInstanceAsync(RolloutNames.Orchestrator, request,
            new StartOrchestrationOptions(instanceId) { IfRunning = ifRunning, Version = Version }, cancellationToken);
    }

    public static Task<RolloutOutcome> RunAsync(TaskOrchestrationContext context, RolloutRequest request) =>
        new RolloutRun(context, request).ExecuteAsync();

    /// <summary>Registers the orchestrator (activities are registered by <see cref="RolloutActivities"/>).</summary>
    public static DurableTaskRegistry AddRolloutOrchestrator(this DurableTaskRegistry registry) =>
        registry.AddOrchestrator<RolloutRequest, RolloutOutcome>(RolloutNames.Orchestrator, RunAsync);
}

/// <summary>One execution of the rollout orchestrator; all state is local and rebuilt identically on replay.</summary>
internal sealed partial class RolloutRun(TaskOrchestrationContext context, RolloutRequest request)
{
    private readonly List<PlannedCluster> _touched = [];
    private int _gates;
    private bool _promotionDecided;
    private RolloutPlan _plan = null!;
    private RolloutStatus _status = null!;
    private Task<SupersededEvent> _superseded = null!;
    private Task<DecisionEvent> _abort = null!;

    private enum Interrupt
    {
        None,
        Aborted,
        Superseded,
    }

    public async Task<RolloutOutcome> ExecuteAsync()
    {
        _superseded = context.WaitForExternalEvent<SupersededEvent>(RolloutNames.SupersededEvent);
        _abort = context.WaitForExternalEvent<DecisionEvent>(RolloutNames.AbortEvent);
        FleetClaim? claim = null;
        try
        {
            if (context.Version.StartsWith(RolloutOrchestrator.VersionPrefix, StringComparison.Ordinal))
            {
                (_plan, claim) = await context.CallActivityAsync<PlannedRollout>(RolloutNames.PlanAndClaimActivity, request);
            }
            else
            {
                _plan = await context.CallActivityAsync<RolloutPlan>(RolloutNames.PlanActivity, request);
            }
        }
        catch (TaskFailedException ex)
        {
            var reason = $"the rollout could not be planned: {ex.FailureDetails.ErrorMessage}";
            context.SetCustomStatus(new { fleet = request.Fleet, commit = request.Commit, phase = RolloutPhase.Failed, message = reason });
            return new RolloutOutcome(RolloutPhase.Failed, reason);
        }

        _status = InitialStatus();
        if (claim is null)
        {
            // Started by a build that planned and claimed in two activities: its history replays that way.
            Publish();
            claim = await context.CallActivityAsync<FleetClaim>(RolloutNames.ClaimActivity, new ClaimInput(_plan.Fleet, context.InstanceId, _plan.Commit, _plan.Settings));
        }

        _status = _status with { LastGoodCommit = claim.LastGoodCommit };
        Publish();
        if (claim.Refused is { } refused)
        {
            return await FinishAsync(RolloutPhase.Refused, refused);
        }

        if (_plan.DependsOn.Count > 0 && await WaitForDependenciesAsync() is { } dependencyOutcome)
        {
            return dependencyOutcome;
        }

        if (claim.Previous is { } previous)
        {
            if (await WaitForPreviousAsync(previous) is { } previousOutcome)
            {
                return previousOutcome;
            }

            // The superseded rollout may have finished its last wave after all and recorded its commit as the last good
            // one: a rollback goes to that, not to what the fleet had when this rollout claimed it.
            if (RolloutOrchestrator.VersionNumber(context.Version) >= 3)
            {
                _status = _status with { LastGoodCommit = (await context.CallActivityAsync<LastGoodCommit>(RolloutNames.LastGoodActivity, _plan.Fleet)).Commit };
                Publish();
            }
        }

        if (_plan.Waves.Count == 0)
        {
            return await FinishAsync(RolloutPhase.Succeeded, string.Join("; ", _plan.Warnings.DefaultIfEmpty("nothing to deploy")));
        }

        // Failed clusters the rollout went on past (within a wave's maxFailures, or continued by an operator), for the
        // final message: a rollout that succeeds with them does not claim every cluster is healthy.
        var accepted = new List<string>();
        for (var i = 0; i < _plan.Waves.Count; i++)
        {
            var wave = _plan.Waves[i];
            if (await CheckpointAsync() is { } interrupted)
            {
                return interrupted;
            }

            MoveTo(RolloutPhase.Applying, $"wave {wave.Index} ({wave.Name}): applying to {wave.Clusters.Count} cluster(s)");
            _status = _status.WithWave(wave.Index, "Applying");
            Publish();
            var results = await ReconcileAllAsync(wave.Clusters, _plan.Commit, rollback: false);
            var failed = results.Where(r => !r.Succeeded).ToList();
            _status = _status.WithWave(wave.Index, failed.Count == 0 ? "Healthy" : $"{failed.Count} failed");

            var limit = wave.IsCanary ? 0 : wave.MaxFailures;
            if (failed.Count > limit)
            {
                var reason = $"wave {wave.Index} ({wave.Name}): {failed.Count} cluster(s) failed, more than maxFailures {limit}: "
                    + MessageList.Listed([.. failed.Select(f => $"{f.Cluster}: {f.Message}")]);
                if (await OnFailureAsync(reason, wave.OnFailure ?? _plan.OnFailure) is { } outcome)
                {
                    return outcome;
                }

                accepted.AddRange(failed.Select(f => $"{f.Cluster} (wave {wave.Index}, continued by an operator): {f.Message}"));
            }
            else
            {
                accepted.AddRange(failed.Select(f => $"{f.Cluster} (wave {wave.Index}, within maxFailures {limit}): {f.Message}"));
            }

            if (wave.IsCanary && _plan.Analysis is { } analysis && await AnalyzeCanaryAsync(wave, analysis) is { } analysisOutcome)
            {
                return analysisOutcome;
            }

            // An operator who continued after a failed analysis has already decided to promote: no second gate.
            if (wave.IsCanary && _plan.Approval is { } approval && !_promotionDecided && await AwaitApprovalAsync(approval) is { } approvalOutcome)
            {
                return approvalOutcome;
            }

            if (wave.SoakAfter > TimeSpan.Zero)
            {
                MoveTo(RolloutPhase.Soaking, $"wave {wave.Index} ({wave.Name}) is healthy; soaking for {GoDuration.Format(wave.SoakAfter)}");
                Publish();
                if (await WaitAsync(wave.SoakAfter) is var interrupt && interrupt != Interrupt.None)
                {
                    return await InterruptedAsync(interrupt);
                }
            }
        }

        var clusters = _plan.Clusters.Count();
        return await FinishAsync(RolloutPhase.Succeeded, accepted.Count == 0
            ? $"commit {CommitSha.Short(_plan.Commit)} is healthy on all {clusters} cluster(s)"
            : $"commit {CommitSha.Short(_plan.Commit)} is healthy on {clusters - accepted.Count} of {clusters} cluster(s); {accepted.Count} failed and were accepted: {MessageList.Listed(accepted)}");
    }

    private RolloutStatus InitialStatus() => new(
        _plan.Fleet,
        _plan.Commit,
        _plan.Strategy,
        RolloutPhase.Planning,
        0,
        _plan.Waves.Select(w => new WaveStatus(w.Index, w.Name, w.IsCanary, w.Clusters.Select(c => c.Name).ToList(), "Pending")).ToList(),
        _plan.Waves.SelectMany(w => w.Clusters.Select(c => new ClusterStatus(c.Name, w.Index, ClusterRolloutState.Pending, "waiting for its wave"))).ToList(),
        [],
        "planned");

    private void MoveTo(RolloutPhase phase, string message) =>
        _status = _status with { Phase = _status.Phase == phase ? phase : RolloutPhases.Move(_status.Phase, phase), Message = message };

    /// <summary>
    /// Sets the custom status, except while replaying: a replayed status is overwritten before the episode ends, and
    /// serialising the whole status at every step of every replay made replay the dominant cost of an episode.
    /// </summary>
    private void Publish()
    {
        if (!context.IsReplaying)
        {
            context.SetCustomStatus(_status);
        }
    }

}
