using FleetFunctions.Core.Analysis;
using FleetFunctions.Core.Fleet;

namespace FleetFunctions.Orchestrations.Rollouts;

/// <summary>Input of a rollout orchestration: roll <see cref="Commit"/> of the fleet's source out to the fleet.</summary>
/// <param name="PlatformCommit">Commit of the platform repository whose fleet definition applies (null: its current head).</param>
public sealed record RolloutRequest(string Fleet, string Commit, string? PlatformCommit = null);

/// <summary>State of one cluster within a rollout.</summary>
public enum ClusterRolloutState
{
    Pending,
    Applying,
    Healthy,
    Failed,
    RolledBack,

    /// <summary>Rollback was attempted and failed: the cluster needs an operator.</summary>
    RollbackFailed,
}

/// <summary>One cluster as the status API shows it.</summary>
/// <param name="Created">Objects created by the last apply (and so on for the other counts).</param>
public sealed record ClusterStatus(
    string Name,
    int Wave,
    ClusterRolloutState State,
    string Message,
    int Created = 0,
    int Configured = 0,
    int Unchanged = 0,
    int Deleted = 0);

/// <summary>A wave as the status API shows it.</summary>
public sealed record WaveStatus(int Index, string Name, bool IsCanary, IReadOnlyList<string> Clusters, string State);

/// <summary>
/// The custom status of a rollout: phase, current wave, every cluster's state and every analysis result.
/// Immutable; the orchestrator replaces it at each step.
/// </summary>
/// <param name="Gate">While the rollout waits for a decision (Paused, AwaitingApproval): which one, counting from 1.</param>
public sealed record RolloutStatus(
    string Fleet,
    string Commit,
    RolloutStrategy Strategy,
    RolloutPhase Phase,
    int CurrentWave,
    IReadOnlyList<WaveStatus> Waves,
    IReadOnlyList<ClusterStatus> Clusters,
    IReadOnlyList<AnalysisIteration> Analysis,
    string Message,
    string? LastGoodCommit = null,
    string? SupersededBy = null,
    int? Gate = null)
{
    public RolloutStatus WithCluster(string name, ClusterRolloutState state, string message, ClusterReconcileSummary? summary = null) =>
        this with
        {
            Clusters = Clusters.Select(c => c.Name != name ? c : summary is null
                ? c with { State = state, Message = message }
                : c with { State = state, Message = message, Created = summary.Created, Configured = summary.Configured, Unchanged = summary.Unchanged, Deleted = summary.Deleted })
                .ToList(),
        };

    public RolloutStatus WithWave(int index, string state) =>
        this with { CurrentWave = index, Waves = Waves.Select(w => w.Index == index ? w with { State = state } : w).ToList() };
}

/// <summary>How a rollout ended: its final phase, why, and the newer rollout that superseded it.</summary>
public sealed record RolloutOutcome(RolloutPhase Phase, string Reason, string? SupersededBy = null);

/// <summary>Input of the per-cluster reconcile activity.</summary>
/// <param name="IsRollback">True when re-applying the last good commit after a failure.</param>
public sealed record ClusterReconcileInput(string Fleet, PlannedCluster Cluster, string Commit, FleetSettings Settings, TimeSpan HealthTimeout, bool IsRollback);

/// <summary>What a per-cluster reconcile did, small enough for orchestration history.</summary>
/// <param name="IsTransient">The failure may go away by itself (unreachable cluster): the orchestrator retries.</param>
public sealed record ClusterReconcileSummary(
    string Cluster,
    bool Succeeded,
    bool IsTransient,
    string Phase,
    string Message,
    int Created,
    int Configured,
    int Unchanged,
    int Deleted);

/// <summary>Input of the analysis activity: one iteration over the canary clusters.</summary>
public sealed record AnalysisInput(string Fleet, AnalysisSpec Spec, IReadOnlyList<string> Clusters, int Index, DateTime At);

/// <summary>Input of the dependency check: which fleets must have rolled out <see cref="Commit"/> successfully.</summary>
public sealed record DependencyInput(IReadOnlyList<string> Fleets, string Commit);

/// <summary>What a dependency check found: fleets not done yet, and fleets whose rollout of the commit failed.</summary>
public sealed record DependencyState(IReadOnlyList<string> Pending, IReadOnlyList<string> Failed)
{
    /// <summary>Dependencies whose fleet is suspended: they will not roll out the commit (empty in histories of earlier builds).</summary>
    public IReadOnlyList<string> Suspended { get; init; } = [];
}

/// <summary>Output of the plan-and-claim activity: the plan, and the fleet claimed for it (or the refusal).</summary>
public sealed record PlannedRollout(RolloutPlan Plan, FleetClaim Claim);

/// <summary>Claim of a fleet by a rollout; <see cref="Previous"/> is the rollout it supersedes, if one was running.</summary>
/// <param name="Refused">Why the rollout may not take the fleet (its commit is older than the fleet's); null when claimed.</param>
public sealed record FleetClaim(string? Previous, string? LastGoodCommit, string? Refused = null);

/// <summary>Output of the last-good activity: the fleet's last good commit, null when no rollout of it succeeded yet.</summary>
public sealed record LastGoodCommit(string? Commit);

/// <summary>Event raised to a rollout when a newer one takes over its fleet.</summary>
public sealed record SupersededEvent(string By);

/// <summary>Payload of the <c>approve</c> and <c>abort</c> events (all optional).</summary>
/// <param name="Gate">
/// The decision point an <c>approve</c> was meant for (<see cref="RolloutStatus.Gate"/> when it was sent). A rollout
/// ignores an approve meant for an earlier gate, so a repeated or late approve cannot pass a later pause or gate;
/// one without a gate (raised through the Durable API) passes whichever gate it meets.
/// </param>
public sealed record DecisionEvent(string? By = null, string? Reason = null, int? Gate = null);

/// <summary>Input of the claim activity: this rollout becomes the fleet's active one, unless its commit is older than the fleet's.</summary>
/// <param name="Settings">The fleet's source, for the ancestry check (null in instances started before it existed: no check).</param>
public sealed record ClaimInput(string Fleet, string InstanceId, string Commit, FleetSettings? Settings = null);

/// <summary>Input of the supersede activity: tell <see cref="Previous"/> that <see cref="By"/> took over.</summary>
public sealed record SupersedeInput(string Previous, string By);

/// <summary>Input of the record activity: how a rollout ended (a success becomes the fleet's last good commit).</summary>
public sealed record RecordInput(string Fleet, string InstanceId, string Commit, RolloutPhase Phase, string Reason);
