using Azure;
using FleetFunctions.Orchestrations.Engine.History;

namespace FleetFunctions.Orchestrations.Engine.Storage;

/// <summary>A message waiting in an instance's partition: parked while the instance is pending or suspended, or written there by a client.</summary>
internal sealed record InboxRow(string RowKey, TaskMessage Message);

/// <summary>An outgoing message recorded by a checkpoint; sent after the commit, then its row is deleted.</summary>
internal sealed record OutboundMessage(TaskHubQueue Queue, TaskMessage Message);

/// <summary>One outbox row: the messages of one checkpoint, sent together.</summary>
internal sealed record OutboxRow(string RowKey, IReadOnlyList<OutboundMessage> Messages);

/// <summary>The queues of a task hub.</summary>
internal enum TaskHubQueue
{
    Control,
    WorkItems,
}

/// <summary>
/// An instance's partition as loaded for an episode: state row and ETag, the current execution's history,
/// parked messages, outbox rows left over by a crash, and rows of earlier executions awaiting cleanup.
/// Kept in the worker's cache between episodes; a failed commit evicts it.
/// </summary>
internal sealed class InstanceSession(string instanceId)
{
    public string InstanceId { get; } = instanceId;

    public InstanceState? State { get; set; }

    public ETag? ETag { get; set; }

    public List<HistoryEvent> History { get; } = [];

    public List<InboxRow> Inbox { get; } = [];

    /// <summary>Outbox rows found at load, with their last-modified time (recent ones are likely being sent right now).</summary>
    public List<(DateTimeOffset Timestamp, OutboxRow Row)> LeftoverOutbox { get; } = [];

    /// <summary>Row keys of the current execution's history rows.</summary>
    public List<string> HistoryRowKeys { get; } = [];

    /// <summary>
    /// Not stored yet: the instance a client of this process is creating. Its first commit adds the state row, so a
    /// conflict means the id was taken meanwhile (see <see cref="Processing.OrchestrationProcessor.SeedNew"/>).
    /// </summary>
    public bool Creating { get; set; }

    /// <summary>True when the session came from the worker's cache rather than a fresh load.</summary>
    public bool FromCache { get; set; }

    public List<string> StaleRowKeys { get; } = [];

    /// <summary>Contents of payload blobs referenced by the history, by reference.</summary>
    public Dictionary<string, string> Payloads { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// The orchestrator kept suspended after the last committed episode, so the next one continues it instead of
    /// replaying the history; null whenever it may not match the history (an episode in progress or failed, a reload).
    /// </summary>
    public Replay.LiveExecution? Live { get; set; }

    public HashSet<int> ScheduledTaskIds { get; } = [];

    public HashSet<int> CompletedTaskIds { get; } = [];

    /// <summary>Ids of the messages recorded by id in the history (raised events, suspends, resumes), to drop redeliveries.</summary>
    public HashSet<string> RecordedMessageIds { get; } = new(StringComparer.Ordinal);

    /// <summary>Adds events to the in-memory history and the dedupe indexes.</summary>
    public void AppendHistory(IEnumerable<HistoryEvent> events)
    {
        foreach (var e in events)
        {
            History.Add(e);
            if (e.IsSchedulingEvent)
            {
                ScheduledTaskIds.Add(e.EventId);
            }
            else if (e.IsCompletionEvent)
            {
                CompletedTaskIds.Add(e.TaskScheduledId);
            }
            else if (e.MessageId is { } id)
            {
                RecordedMessageIds.Add(id);
            }
        }
    }

    /// <summary>Forgets the history (a new execution begins).</summary>
    public void ResetHistory()
    {
        Live = null;
        History.Clear();
        ScheduledTaskIds.Clear();
        CompletedTaskIds.Clear();
        RecordedMessageIds.Clear();
    }
}
