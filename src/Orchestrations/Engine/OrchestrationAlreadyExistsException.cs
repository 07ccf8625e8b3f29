namespace FleetFunctions.Orchestrations.Engine;

/// <summary>
/// Thrown by <see cref="Client.DurableClient.ScheduleNewOrchestrationInstanceAsync"/> when an instance with the
/// requested id is still pending, running or suspended and the start options say to reject the duplicate.
/// </summary>
public sealed class OrchestrationAlreadyExistsException : InvalidOperationException
{
    public OrchestrationAlreadyExistsException(string instanceId, OrchestrationRuntimeStatus status)
        : base($"orchestration instance '{instanceId}' already exists and is {status}: wait for it to finish, terminate it, or start with IfRunning = ReturnExisting.")
    {
        InstanceId = instanceId;
        Status = status;
    }

    public OrchestrationAlreadyExistsException()
        : this(string.Empty, OrchestrationRuntimeStatus.Running)
    {
    }

    public OrchestrationAlreadyExistsException(string message)
        : base(message)
    {
        InstanceId = string.Empty;
    }

    public OrchestrationAlreadyExistsException(string message, Exception innerException)
        : base(message, innerException)
    {
        InstanceId = string.Empty;
    }

    public string InstanceId { get; }

    public OrchestrationRuntimeStatus Status { get; }
}
