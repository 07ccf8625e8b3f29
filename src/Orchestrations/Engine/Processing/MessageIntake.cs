using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using FleetFunctions.Orchestrations.Engine.History;
using FleetFunctions.Orchestrations.Engine.Storage;
using Microsoft.Extensions.Logging;

namespace FleetFunctions.Orchestrations.Engine.Processing;

/// <summary>
/// The checks every received message goes through, whichever way it arrived (poller or queue trigger): parse (a
/// message too large for the queue arrives as a blob reference),
/// re-arm timers that are not due yet, and park poison — a message that keeps failing is written to the poison
/// table with its error, and its orchestration is failed with that error (work items: the orchestration receives
/// a TaskFailed it can handle). Only failures that repeat count: a failure of storage itself (unavailable, timing
/// out, a race lost to another worker) is transient, and the message is replaced by a delayed copy instead
/// (<see cref="RetryLaterAsync"/>), so an outage of any length fails no instance.
/// </summary>
internal sealed class MessageIntake(DurableTaskHub hub, OrchestrationProcessor processor, ILogger logger)
{
    public const string PoisonErrorType = "PoisonMessage";

    /// <summary>Returns the message to process, or null when it was handled here (unreadable, poisoned, re-armed).</summary>
    public async Task<TaskMessage?> AcceptAsync(TaskHubQueue queue, string queueMessageId, string text, long dequeueCount, CancellationToken cancellationToken)
    {
        TaskMessage message;
        try
        {
            message = TaskMessage.FromJson((await hub.Payloads.ResolveAsync(text, cancellationToken))!);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            Log.UnreadableMessage(logger, QueueName(queue), queueMessageId, ex.Message);
            await ParkAsync(queue, queueMessageId, text, null, dequeueCount, $"not a task message: {ex.Message}", cancellationToken);
            return null;
        }

        if (message.VisibleAt is { } visibleAt && visibleAt > DateTime.UtcNow)
        {
            var remaining = visibleAt - DateTime.UtcNow;
            if (remaining > TimeSpan.FromSeconds(2))
            {
                // Past the queue's 7-day delay limit (or delivered early): send it again for the rest of the wait.
                await hub.SendAsync(new OutboundMessage(queue, message), cancellationToken);
                Log.TimerRearmed(logger, message.InstanceId, visibleAt);
                return null;
            }

            if (remaining > TimeSpan.Zero)
            {
                await Task.Delay(remaining, cancellationToken);
            }
        }

        if (Deliveries(message, dequeueCount) > hub.Options.MaxDequeueCount)
        {
            await PoisonAsync(queue, queueMessageId, message, text, dequeueCount,
                $"received {Deliveries(message, dequeueCount)} times without being completed (the worker crashed or timed out each time)", cancellationToken);
            return null;
        }

        return message;
    }

    /// <summary>True when a failed attempt should park the message instead of retrying it.</summary>
    public bool IsLastAttempt(TaskMessage message, long dequeueCount) => Deliveries(message, dequeueCount) >= hub.Options.MaxDequeueCount;

    /// <summary>
    /// Whether a failure is storage's rather than the message's: the service unavailable, throttling or timing out
    /// (after the SDK's own retries), the connection failing, or a race lost to another worker. Such a message is
    /// retried later without counting toward poison.
    /// </summary>
    public static bool IsTransient(Exception error) => error switch
    {
        CheckpointConflictException => true,
        RequestFailedException failed => failed.Status is 0 or 408 or 412 or 429 or >= 500,
        HttpRequestException or IOException or TimeoutException => true,
        OperationCanceledException => true,
        AggregateException all => all.InnerExceptions.Count > 0 && all.InnerExceptions.All(IsTransient),
        _ => false,
    };

    /// <summary>
    /// Replaces a message whose processing failed transiently by a copy that becomes visible after a wait doubling with
    /// each transient failure (1 s, 2 s, 4 s... up to <see cref="DurableTaskHubOptions.TransientRetryMaxDelay"/>). The
    /// copy keeps the message id (a duplicate is still recognised) and the deliveries that counted toward poison; the
    /// caller deletes the original once this returned.
    /// </summary>
    public async Task RetryLaterAsync(TaskHubQueue queue, TaskMessage message, long dequeueCount, Exception error, CancellationToken cancellationToken)
    {
        var failures = (message.TransientFailures ?? 0) + 1;
        var delay = TimeSpan.FromSeconds(Math.Min(hub.Options.TransientRetryMaxDelay.TotalSeconds, Math.Pow(2, Math.Min(failures - 1, 20))));
        var visibleAt = DateTime.UtcNow + delay;
        var copy = message with
        {
            FailedDeliveries = (int)Math.Max(0, Deliveries(message, dequeueCount) - 1),
            TransientFailures = failures,
            VisibleAt = message.VisibleAt > visibleAt ? message.VisibleAt : visibleAt,
        };
        await hub.SendAsync(new OutboundMessage(queue, copy), cancellationToken);
        Log.TransientFailureRetried(logger, QueueName(queue), message.InstanceId, Log.Describe(message), failures, delay, error.Message);
    }

    /// <summary>Deliveries that count toward poison: this copy's dequeue count plus those of the copies before it.</summary>
    private static long Deliveries(TaskMessage message, long dequeueCount) => dequeueCount + (message.FailedDeliveries ?? 0);

    /// <summary>Parks a message and fails its orchestration (or, for a work item, fails the activity call).</summary>
    public async Task PoisonAsync(TaskHubQueue queue, string queueMessageId, TaskMessage message, string text, long dequeueCount, string error, CancellationToken cancellationToken)
    {
        Log.MessagePoisoned(logger, QueueName(queue), queueMessageId, message.InstanceId, dequeueCount, error);
        await ParkAsync(queue, queueMessageId, text, message.InstanceId, dequeueCount, error, cancellationToken);
        var failure = new TaskFailureDetails(
            PoisonErrorType,
            $"orchestration '{message.InstanceId}': {Log.Describe(message)} on queue '{QueueName(queue)}' failed {dequeueCount} time(s) and was parked in table '{hub.PoisonTable.Name}': {error}");
        if (queue == TaskHubQueue.WorkItems)
        {
            await hub.SendAsync(new OutboundMessage(TaskHubQueue.Control, ActivityRunner.Failed(message, failure)), cancellationToken);
        }
        else
        {
            await processor.FailInstanceAsync(message.InstanceId, failure, cancellationToken);
        }
    }

    private async Task ParkAsync(TaskHubQueue queue, string queueMessageId, string text, string? instanceId, long dequeueCount, string error, CancellationToken cancellationToken)
    {
        var entity = new TableEntity(QueueName(queue), $"{DateTime.UtcNow:yyyyMMddHHmmssfffffff}-{queueMessageId}")
        {
            ["InstanceId"] = instanceId ?? string.Empty,
            ["DequeueCount"] = dequeueCount,
            ["Error"] = error.Length > TableText.ChunkChars ? error[..TableText.ChunkChars] : error,
        };
        TableText.Set(entity, "Message", text);
        await hub.PoisonTable.UpsertEntityAsync(entity, TableUpdateMode.Replace, cancellationToken);
    }

    private string QueueName(TaskHubQueue queue) => hub.GetQueue(queue).Name;
}
