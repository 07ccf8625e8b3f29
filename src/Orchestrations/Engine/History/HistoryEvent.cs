using System.Text.Json.Serialization;

namespace FleetFunctions.Orchestrations.Engine.History;

/// <summary>Kinds of history events, with Durable Task's names.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<HistoryEventType>))]
public enum HistoryEventType
{
    ExecutionStarted,
    ExecutionCompleted,
    ExecutionTerminated,
    ExecutionSuspended,
    ExecutionResumed,
    OrchestratorStarted,
    OrchestratorCompleted,
    TaskScheduled,
    TaskCompleted,
    TaskFailed,
    TimerCreated,
    TimerFired,
    SubOrchestrationInstanceCreated,
    SubOrchestrationInstanceCompleted,
    SubOrchestrationInstanceFailed,
    EventRaised,
}

/// <summary>The parent of a sub-orchestration, to which its completion is reported.</summary>
public sealed record ParentInstance(string InstanceId, string ExecutionId, int TaskId, string Name);

/// <summary>
/// One step of an instance's history. A single flat record for every kind keeps storage and the status API
/// simple; which fields are set depends on <see cref="EventType"/>. Payload fields hold JSON text, or a
/// <c>@blob:</c> reference for payloads stored in the payload container.
/// </summary>
public sealed record HistoryEvent
{
    public required HistoryEventType EventType { get; init; }

    public DateTime Timestamp { get; init; }

    /// <summary>Task id of a scheduling event (TaskScheduled, TimerCreated, SubOrchestrationInstanceCreated); -1 otherwise.</summary>
    public int EventId { get; init; } = -1;

    /// <summary>Task id a completion refers to (TaskCompleted/Failed, TimerFired, SubOrchestrationInstanceCompleted/Failed).</summary>
    public int TaskScheduledId { get; init; } = -1;

    /// <summary>Orchestrator, activity or event name.</summary>
    public string? Name { get; init; }

    public string? Version { get; init; }

    /// <summary>Input payload (ExecutionStarted, TaskScheduled, SubOrchestrationInstanceCreated, EventRaised).</summary>
    public string? Input { get; init; }

    /// <summary>Result payload (TaskCompleted, SubOrchestrationInstanceCompleted, ExecutionCompleted; reason of ExecutionTerminated).</summary>
    public string? Result { get; init; }

    public TaskFailureDetails? FailureDetails { get; init; }

    /// <summary>Final status carried by ExecutionCompleted (Completed, Failed or ContinuedAsNew).</summary>
    public OrchestrationRuntimeStatus? OrchestrationStatus { get; init; }

    public DateTime? FireAt { get; init; }

    /// <summary>Child instance id (SubOrchestrationInstanceCreated).</summary>
    public string? InstanceId { get; init; }

    /// <summary>Execution id (ExecutionStarted; on SubOrchestrationInstanceCreated, the child run it started).</summary>
    public string? ExecutionId { get; init; }

    public ParentInstance? Parent { get; init; }

    /// <summary>Id of the message that delivered the event, used to drop duplicate deliveries of raised events, suspends and resumes.</summary>
    public string? MessageId { get; init; }

    [JsonIgnore]
    internal bool IsSchedulingEvent =>
        EventType is HistoryEventType.TaskScheduled or HistoryEventType.TimerCreated or HistoryEventType.SubOrchestrationInstanceCreated;

    [JsonIgnore]
    internal bool IsCompletionEvent =>
        EventType is HistoryEventType.TaskCompleted or HistoryEventType.TaskFailed or HistoryEventType.TimerFired
            or HistoryEventType.SubOrchestrationInstanceCompleted or HistoryEventType.SubOrchestrationInstanceFailed;
}
