namespace FleetFunctions.Orchestrations.Engine;

/// <summary>Runtime status of an orchestration instance, as reported by the client and the status API.</summary>
public enum OrchestrationRuntimeStatus
{
    /// <summary>Scheduled; the first episode has not run yet.</summary>
    Pending,

    /// <summary>Started and not finished.</summary>
    Running,

    /// <summary>Returned normally; the output is set.</summary>
    Completed,

    /// <summary>Ended with an unhandled exception or a poisoned message; failure details are set.</summary>
    Failed,

    /// <summary>Ended by a terminate request; the output holds the reason.</summary>
    Terminated,

    /// <summary>Paused by a suspend request; messages are parked until it is resumed.</summary>
    Suspended,

    /// <summary>Transient: the instance restarted itself with new input and is about to run again.</summary>
    ContinuedAsNew,
}

/// <summary>Helpers over <see cref="OrchestrationRuntimeStatus"/>.</summary>
public static class OrchestrationRuntimeStatusExtensions
{
    /// <summary>True for Completed, Failed and Terminated: nothing more will happen to the instance.</summary>
    public static bool IsTerminal(this OrchestrationRuntimeStatus status) =>
        status is OrchestrationRuntimeStatus.Completed or OrchestrationRuntimeStatus.Failed or OrchestrationRuntimeStatus.Terminated;
}
