using FleetFunctions.Orchestrations.Engine.History;

namespace FleetFunctions.Orchestrations.Engine.Replay;

/// <summary>
/// A step the orchestrator code asked for while running: schedule an activity, create a timer, start a child.
/// Each becomes a scheduling history event (matched against history on replay) and, when new, an outgoing message.
/// </summary>
internal sealed record OrchestratorAction(HistoryEventType Kind, int Id, string? Name, string? Input, DateTime? FireAt, string? ChildInstanceId, string? Version)
{
    public HistoryEvent ToHistoryEvent(DateTime timestamp) => new()
    {
        EventType = Kind,
        Timestamp = timestamp,
        EventId = Id,
        Name = Name,
        Input = Input,
        FireAt = FireAt,
        InstanceId = ChildInstanceId,
        Version = Version,
    };

    public bool Matches(HistoryEvent scheduled) =>
        scheduled.EventType == Kind && (Kind == HistoryEventType.TimerCreated || string.Equals(scheduled.Name, Name, StringComparison.Ordinal));

    public string Describe() => Describe(Kind, Name, Id);

    public static string Describe(HistoryEvent scheduled) => Describe(scheduled.EventType, scheduled.Name, scheduled.EventId);

    private static string Describe(HistoryEventType kind, string? name, int id) => kind switch
    {
        HistoryEventType.TaskScheduled => $"CallActivity '{name}' (task #{id})",
        HistoryEventType.TimerCreated => $"CreateTimer (task #{id})",
        HistoryEventType.SubOrchestrationInstanceCreated => $"CallSubOrchestrator '{name}' (task #{id})",
        _ => $"{kind} '{name}' (task #{id})",
    };
}

/// <summary>How an episode ended for the orchestrator, when it did.</summary>
internal sealed record OrchestrationCompletion(
    OrchestrationRuntimeStatus Status,
    string? Output,
    TaskFailureDetails? Failure,
    string? NewInput = null,
    IReadOnlyList<HistoryEvent>? CarryOverEvents = null);

/// <summary>Outcome of replaying history plus new events: new steps, an end when reached, the custom status.</summary>
internal sealed record ExecutionResult(
    IReadOnlyList<OrchestratorAction> NewActions,
    OrchestrationCompletion? Completion,
    bool CustomStatusSet,
    string? CustomStatus);
