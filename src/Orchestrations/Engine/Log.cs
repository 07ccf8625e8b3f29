using FleetFunctions.Orchestrations.Engine.History;
using Microsoft.Extensions.Logging;

namespace FleetFunctions.Orchestrations.Engine;

/// <summary>Engine log messages (event ids 4000-4099).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 4000, Level = LogLevel.Debug, Message = "orchestration '{InstanceId}': episode committed, status {Status}, {MessageCount} message(s) in, {OutboxCount} out")]
    public static partial void EpisodeCommitted(ILogger logger, string instanceId, OrchestrationRuntimeStatus status, int messageCount, int outboxCount);

    [LoggerMessage(EventId = 4001, Level = LogLevel.Debug, Message = "orchestration '{InstanceId}': checkpoint conflict on attempt {Attempt}, reloading: {Reason}")]
    public static partial void CheckpointConflict(ILogger logger, string instanceId, int attempt, string reason);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Warning, Message = "orchestration '{InstanceId}': episode failed; the messages will be retried")]
    public static partial void EpisodeFailed(ILogger logger, string instanceId, Exception exception);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Information, Message = "orchestration '{InstanceId}': resending {Count} message(s) from an outbox left behind by an interrupted worker")]
    public static partial void OrphanedOutboxResent(ILogger logger, string instanceId, int count);

    [LoggerMessage(EventId = 4004, Level = LogLevel.Warning, Message = "orchestration '{InstanceId}': could not delete {What}: {Reason}")]
    public static partial void RowCleanupFailed(ILogger logger, string instanceId, string what, string reason);

    [LoggerMessage(EventId = 4005, Level = LogLevel.Error, Message = "queue '{Queue}': message {MessageId} for orchestration '{InstanceId}' parked as poison after {DequeueCount} attempts: {Error}")]
    public static partial void MessagePoisoned(ILogger logger, string queue, string messageId, string instanceId, long dequeueCount, string error);

    [LoggerMessage(EventId = 4006, Level = LogLevel.Warning, Message = "queue '{Queue}': polling failed, backing off: {Reason}")]
    public static partial void PollFailed(ILogger logger, string queue, string reason);

    [LoggerMessage(EventId = 4007, Level = LogLevel.Warning, Message = "activity '{Name}' for orchestration '{InstanceId}': delivering the result failed, the work item will run again")]
    public static partial void ActivityResultDeliveryFailed(ILogger logger, string name, string instanceId, Exception exception);

    [LoggerMessage(EventId = 4008, Level = LogLevel.Warning, Message = "queue '{Queue}': unreadable message {MessageId} parked as poison: {Error}")]
    public static partial void UnreadableMessage(ILogger logger, string queue, string messageId, string error);

    [LoggerMessage(EventId = 4009, Level = LogLevel.Information, Message = "outbox sweep resent {Count} message(s) from {Rows} orphaned outbox row(s)")]
    public static partial void OutboxSwept(ILogger logger, int count, int rows);

    [LoggerMessage(EventId = 4010, Level = LogLevel.Warning, Message = "outbox sweep failed: {Reason}")]
    public static partial void OutboxSweepFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 4011, Level = LogLevel.Debug, Message = "timer message for orchestration '{InstanceId}' re-armed until {VisibleAt:o}")]
    public static partial void TimerRearmed(ILogger logger, string instanceId, DateTime visibleAt);

    [LoggerMessage(EventId = 4012, Level = LogLevel.Warning, Message = "orchestration '{InstanceId}': no progress for {StalledAfter}; re-sent {Count} message(s) it waits for")]
    public static partial void InstanceRedriven(ILogger logger, string instanceId, int count, TimeSpan stalledAfter);

    [LoggerMessage(EventId = 4013, Level = LogLevel.Warning, Message = "orchestration '{InstanceId}': its first episode failed here and its start could not be sent to the control queue; the outbox sweep will send it: {Reason}")]
    public static partial void LocalStartHandOverFailed(ILogger logger, string instanceId, string reason);

    [LoggerMessage(EventId = 4014, Level = LogLevel.Debug, Message = "orchestration '{InstanceId}': partition loaded, {HistoryCount} history event(s), {InboxCount} parked message(s)")]
    public static partial void PartitionLoaded(ILogger logger, string instanceId, int historyCount, int inboxCount);

    [LoggerMessage(EventId = 4015, Level = LogLevel.Information, Message = "purged {Count} finished orchestration(s) last updated more than {Retention} ago")]
    public static partial void FinishedInstancesPurged(ILogger logger, int count, TimeSpan retention);

    [LoggerMessage(EventId = 4016, Level = LogLevel.Warning, Message = "queue '{Queue}': {Message} for orchestration '{InstanceId}' failed transiently ({Failures} time(s) so far), retried in {Delay} without counting toward poison: {Reason}")]
    public static partial void TransientFailureRetried(ILogger logger, string queue, string instanceId, string message, int failures, TimeSpan delay, string reason);

    [LoggerMessage(EventId = 4017, Level = LogLevel.Warning, Message = "outbox sweep: orchestration '{InstanceId}' skipped, its outbox rows could not be read or sent (tried again next pass)")]
    public static partial void OutboxSweepInstanceFailed(ILogger logger, string instanceId, Exception exception);

    [LoggerMessage(EventId = 4018, Level = LogLevel.Warning, Message = "upkeep: {What} failed (tried again next pass)")]
    public static partial void UpkeepFailed(ILogger logger, string what, Exception exception);

    internal static string Describe(TaskMessage message) => $"{message.Event.EventType} {message.Id}";
}
