namespace FleetFunctions.Core.Fleet;

/// <summary>One cluster of a wave, with the source path resolved for it.</summary>
/// <param name="Fleets">
/// Every fleet that selects the cluster at the plan's platform commit (the planned one included), by name: only their
/// inventories on the cluster can take over an object that left the fleet's Git. Null for plans of earlier builds.
/// </param>
public sealed record PlannedCluster(string Name, string Region, string Path, IReadOnlyList<string>? Fleets = null);

/// <summary>One wave of a rollout: its clusters and what decides whether it passed.</summary>
/// <param name="IsCanary">True for the canary wave, which is judged by analysis before promotion.</param>
/// <param name="MaxFailures">Clusters that may fail before the wave fails.</param>
/// <param name="SoakAfter">Time to wait after the wave is healthy before the next one starts.</param>
/// <param name="OnFailure">What a failure of this wave does; null for the plan's (canary waves, and plans of earlier builds).</param>
public sealed record PlannedWave(int Index, string Name, bool IsCanary, IReadOnlyList<PlannedCluster> Clusters, int MaxFailures, TimeSpan SoakAfter, FailureAction? OnFailure = null);

/// <summary>How every cluster of a rollout is reconciled: the source and the fleet's apply settings.</summary>
/// <param name="PolicySet">Directory of policies in the platform repository at <paramref name="PlatformCommit"/>.</param>
/// <param name="SourceGitHubApp">The GitHub App the source is fetched as (its key in <paramref name="SourceSecretRef"/>); null for plans of earlier builds.</param>
/// <param name="SourceKnownHosts">The host keys of an SSH source (<c>GitSource.spec.knownHosts</c>); null for other sources and plans of earlier builds.</param>
public sealed record FleetSettings(
    string SourceName,
    string SourceUrl,
    string SourceBranch,
    string? SourceSecretRef,
    bool Prune,
    bool AllowEmpty,
    bool Force,
    bool Recreate,
    string? PolicySet,
    string? PlatformCommit,
    GitHubAppSpec? SourceGitHubApp = null,
    string? SourceKnownHosts = null);

/// <summary>
/// Everything a rollout orchestration needs, computed once (by an activity) and passed in as input, so
/// that running instances never depend on configuration or code that changes later.
/// </summary>
public sealed record RolloutPlan(
    string Fleet,
    string Commit,
    RolloutStrategy Strategy,
    IReadOnlyList<PlannedWave> Waves,
    AnalysisSpec? Analysis,
    ApprovalSpec? Approval,
    FailureAction OnFailure,
    int MaxParallel,
    TimeSpan HealthTimeout,
    IReadOnlyList<string> DependsOn,
    FleetSettings Settings,
    IReadOnlyList<string> Warnings)
{
    /// <summary>Every cluster of the plan, in wave order.</summary>
    public IEnumerable<PlannedCluster> Clusters => Waves.SelectMany(w => w.Clusters);
}

/// <summary>The fleet cannot be planned as configured (for example, a canary selector that matches no cluster).</summary>
public sealed class RolloutPlanningException(string message) : Exception(message);
