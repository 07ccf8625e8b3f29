namespace FleetFunctions.Orchestrations.Engine;

/// <summary>
/// The orchestrator code, replayed against its stored history, did something other than what the history
/// records (a different activity, a timer instead of an activity, a step missing). The instance fails with
/// this error: the code changed incompatibly while the instance was in flight. Deploy the change under a new
/// orchestrator name or version, or terminate and restart the instance.
/// </summary>
public sealed class NonDeterministicOrchestrationException : Exception
{
    public NonDeterministicOrchestrationException(string message)
        : base(message)
    {
    }

    public NonDeterministicOrchestrationException()
        : this("non-deterministic orchestration")
    {
    }

    public NonDeterministicOrchestrationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
