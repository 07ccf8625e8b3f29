namespace FleetFunctions.Orchestrations.Engine;

/// <summary>
/// Thrown into orchestrator code when an activity or a sub-orchestration it awaited failed.
/// <see cref="FailureDetails"/> carries the remote error type, message, stack trace and inner failure.
/// </summary>
public sealed class TaskFailedException : Exception
{
    public TaskFailedException(string taskName, int taskId, TaskFailureDetails failureDetails)
        : base($"Task '{taskName}' (#{taskId}) failed: {failureDetails.ErrorType}: {failureDetails.ErrorMessage}")
    {
        TaskName = taskName;
        TaskId = taskId;
        FailureDetails = failureDetails;
    }

    public TaskFailedException()
        : this("unknown", -1, new TaskFailureDetails("unknown", "unknown failure"))
    {
    }

    public TaskFailedException(string message)
        : this("unknown", -1, new TaskFailureDetails("unknown", message))
    {
    }

    public TaskFailedException(string message, Exception innerException)
        : base(message, innerException)
    {
        TaskName = "unknown";
        TaskId = -1;
        FailureDetails = TaskFailureDetails.FromException(innerException);
    }

    /// <summary>Name of the activity or sub-orchestration that failed.</summary>
    public string TaskName { get; }

    /// <summary>Sequence number of the task within the orchestration.</summary>
    public int TaskId { get; }

    /// <summary>The remote failure.</summary>
    public TaskFailureDetails FailureDetails { get; }
}
