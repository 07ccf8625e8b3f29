namespace FleetFunctions.Orchestrations.Rollouts;

/// <summary>Where a rollout is. Terminal phases: Succeeded, Failed, RolledBack, Superseded, Refused.</summary>
public enum RolloutPhase
{
    Planning,
    WaitingForDependencies,
    WaitingForPrevious,
    Applying,
    Soaking,
    Analyzing,
    AwaitingApproval,
    Paused,
    RollingBack,
    Succeeded,
    Failed,
    RolledBack,
    Superseded,

    /// <summary>Not started: the commit is an ancestor of the fleet's running or last good commit; nothing was applied.</summary>
    Refused,
}

/// <summary>The allowed transitions between <see cref="RolloutPhase"/>s, in one place.</summary>
public static class RolloutPhases
{
    private static readonly Dictionary<RolloutPhase, RolloutPhase[]> s_allowed = new()
    {
        [RolloutPhase.Planning] = [RolloutPhase.WaitingForDependencies, RolloutPhase.WaitingForPrevious, RolloutPhase.Applying, RolloutPhase.Succeeded, RolloutPhase.Failed, RolloutPhase.Refused],
        [RolloutPhase.WaitingForDependencies] = [RolloutPhase.WaitingForPrevious, RolloutPhase.Applying, RolloutPhase.Succeeded, RolloutPhase.Failed, RolloutPhase.Superseded],
        [RolloutPhase.WaitingForPrevious] = [RolloutPhase.Applying, RolloutPhase.Succeeded, RolloutPhase.Failed, RolloutPhase.Superseded],
        [RolloutPhase.Applying] = [RolloutPhase.Soaking, RolloutPhase.Analyzing, RolloutPhase.Applying, RolloutPhase.Paused, RolloutPhase.RollingBack, RolloutPhase.Succeeded, RolloutPhase.Failed, RolloutPhase.Superseded],
        [RolloutPhase.Soaking] = [RolloutPhase.Applying, RolloutPhase.RollingBack, RolloutPhase.Superseded],
        [RolloutPhase.Analyzing] = [RolloutPhase.AwaitingApproval, RolloutPhase.Applying, RolloutPhase.Paused, RolloutPhase.RollingBack, RolloutPhase.Succeeded, RolloutPhase.Superseded],
        [RolloutPhase.AwaitingApproval] = [RolloutPhase.Applying, RolloutPhase.RollingBack, RolloutPhase.Succeeded, RolloutPhase.Superseded],
        [RolloutPhase.Paused] = [RolloutPhase.Applying, RolloutPhase.Soaking, RolloutPhase.RollingBack, RolloutPhase.Succeeded, RolloutPhase.Superseded],
        [RolloutPhase.RollingBack] = [RolloutPhase.RolledBack, RolloutPhase.Failed],
        [RolloutPhase.Succeeded] = [],
        [RolloutPhase.Failed] = [],
        [RolloutPhase.RolledBack] = [],
        [RolloutPhase.Superseded] = [],
        [RolloutPhase.Refused] = [],
    };

    public static bool IsTerminal(RolloutPhase phase) => s_allowed[phase].Length == 0;

    public static bool CanMove(RolloutPhase from, RolloutPhase to) => s_allowed[from].Contains(to);

    /// <summary>Returns <paramref name="to"/>, or throws when the move is not allowed (a bug in the orchestrator, never user input).</summary>
    public static RolloutPhase Move(RolloutPhase from, RolloutPhase to) =>
        CanMove(from, to) ? to : throw new InvalidOperationException($"rollout cannot move from {from} to {to}");
}
