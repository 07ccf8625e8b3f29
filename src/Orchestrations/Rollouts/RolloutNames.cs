namespace FleetFunctions.Orchestrations.Rollouts;

/// <summary>Registered names of the rollout orchestrator, its activities and the events it listens to.</summary>
public static class RolloutNames
{
    public const string Orchestrator = "Rollout";

    /// <summary>Plans the rollout and claims the fleet for it (instances of <see cref="RolloutOrchestrator.Version"/>).</summary>
    public const string PlanAndClaimActivity = "PlanAndClaimRollout";

    /// <summary>Plans, then <see cref="ClaimActivity"/> claims: the two first steps of instances started by earlier builds.</summary>
    public const string PlanActivity = "PlanRollout";
    public const string ClaimActivity = "ClaimFleet";
    public const string SupersedeActivity = "SupersedeRollout";
    public const string PhaseActivity = "GetRolloutPhase";
    public const string DependenciesActivity = "CheckDependencies";
    public const string ReconcileActivity = "ReconcileCluster";
    public const string AnalyzeActivity = "AnalyzeCanary";
    public const string RecordActivity = "RecordRolloutResult";

    /// <summary>Reads the fleet's last good commit again once the superseded rollout has stopped (instances of version 3 on).</summary>
    public const string LastGoodActivity = "GetLastGoodCommit";

    /// <summary>Continues a paused rollout, or promotes a canary waiting at the approval gate.</summary>
    public const string ApproveEvent = "approve";

    /// <summary>Stops a rollout and rolls back the clusters it touched.</summary>
    public const string AbortEvent = "abort";

    /// <summary>Raised by a newer rollout of the same fleet; the rollout ends at its next checkpoint.</summary>
    public const string SupersededEvent = "superseded";
}
