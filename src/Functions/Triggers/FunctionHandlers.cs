using FleetFunctions.Core.Fleet;
using FleetFunctions.Core.Webhooks;
using FleetFunctions.Orchestrations.Drift;
using FleetFunctions.Orchestrations.Engine;
using FleetFunctions.Orchestrations.Rollouts;
using Microsoft.Extensions.Logging;

namespace FleetFunctions.Functions.Triggers;

/// <summary>
/// The queue and timer functions. Both hosts call these: the Functions host through custom-handler
/// invocations (<c>POST /&lt;Name&gt;</c>), the standalone host through its own queue pollers and timers.
/// A failure result makes the Functions host retry the message and, after maxDequeueCount, poison it.
/// </summary>
public sealed partial class FunctionHandlers(
    DurableTaskHub hub,
    DurableMessageHandler engine,
    DeliveryProcessor deliveries,
    DeliveryStore deliveryStore,
    IPlatformProvider platform,
    DriftSweeper drift,
    TimeProvider time,
    ILogger<FunctionHandlers> logger)
{
    /// <summary>Attempts after which a delivery message is given up (matches host.json extensions.queues.maxDequeueCount).</summary>
    public const int MaxDequeueCount = 5;

    /// <summary>
    /// Handles one queue message of <paramref name="function"/>. The function says which queue the message came from:
    /// the engine functions read the configured task hub's control and work-item queues (function.json names the
    /// default hub's), the delivery function the delivery store's queue.
    /// </summary>
    public async Task<MessageHandlingResult> HandleQueueMessageAsync(string function, string message, long dequeueCount, string? messageId, CancellationToken cancellationToken = default)
    {
        switch (function)
        {
            case FunctionCatalog.EngineControl:
                return await engine.HandleMessageAsync(hub.ControlQueueName, message, dequeueCount, messageId, cancellationToken);
            case FunctionCatalog.EngineWorkItems:
                return await engine.HandleMessageAsync(hub.WorkItemQueueName, message, dequeueCount, messageId, cancellationToken);
            case FunctionCatalog.WebhookDeliveries:
                return await ProcessDeliveryAsync(message, dequeueCount, cancellationToken);
            default:
                return MessageHandlingResult.Failure($"function '{function}' is not a queue function of this app; known: {string.Join(", ", FunctionCatalog.All.Where(f => f.Trigger == TriggerKind.Queue).Select(f => f.Name))}");
        }
    }

    /// <summary>Runs one timer function.</summary>
    public async Task<MessageHandlingResult> HandleTimerAsync(string function, CancellationToken cancellationToken = default)
    {
        try
        {
            switch (function)
            {
                case FunctionCatalog.PlatformRefresh:
                    await RefreshPlatformAsync(cancellationToken);
                    return MessageHandlingResult.Success;
                case FunctionCatalog.EngineMaintenance:
                    var upkeep = await engine.RunMaintenanceAsync(cancellationToken: cancellationToken);
                    if (upkeep.OutboxRows > 0 || upkeep.InstancesRedriven > 0 || upkeep.InstancesPurged > 0)
                    {
                        LogEngineMaintenance(logger, upkeep.MessagesResent, upkeep.OutboxRows, upkeep.InstancesRedriven, upkeep.InstancesPurged);
                    }

                    return MessageHandlingResult.Success;
                case FunctionCatalog.DriftSweep:
                    // Per-pair failures (unreachable clusters) are recorded by the sweep; only a sweep that could not run fails.
                    await drift.SweepAsync(cancellationToken);
                    return MessageHandlingResult.Success;
                default:
                    return MessageHandlingResult.Failure($"function '{function}' is not a timer function of this app; known: {string.Join(", ", FunctionCatalog.All.Where(f => f.Trigger == TriggerKind.Timer).Select(f => f.Name))}");
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogTimerFailed(logger, function, ex.Message);
            return MessageHandlingResult.Failure($"{function}: {ex.Message}");
        }
    }

    private async Task RefreshPlatformAsync(CancellationToken cancellationToken)
    {
        if (platform is GitPlatformProvider git)
        {
            await git.RefreshAsync(cancellationToken);
        }

        var requeued = await deliveryStore.RequeueStaleAsync(DeliveryStore.StaleAfter, time.GetUtcNow(), cancellationToken);
        if (requeued > 0)
        {
            LogRequeued(logger, requeued);
        }

        if (await deliveryStore.PurgeExpiredAsync(time.GetUtcNow(), cancellationToken) is var purged and > 0)
        {
            LogDeliveriesPurged(logger, purged);
        }
    }

    private async Task<MessageHandlingResult> ProcessDeliveryAsync(string message, long dequeueCount, CancellationToken cancellationToken)
    {
        DeliveryMessage parsed;
        try
        {
            parsed = DeliveryStore.ParseMessage(message);
        }
        catch (Exception ex) when (ex is FormatException or System.Text.Json.JsonException)
        {
            // A message nobody can read will never succeed: drop it with a log line rather than poison the queue.
            LogUnreadableDelivery(logger, ex.Message);
            return MessageHandlingResult.Success;
        }

        try
        {
            var record = await deliveries.ProcessAsync(parsed, isLastAttempt: dequeueCount >= MaxDequeueCount, cancellationToken);
            if (record is not null)
            {
                LogDeliveryProcessed(logger, parsed.Provider, parsed.DeliveryId, record.Message);
            }

            return MessageHandlingResult.Success;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogDeliveryFailed(logger, parsed.Provider, parsed.DeliveryId, dequeueCount, ex.Message);
            return MessageHandlingResult.Failure($"delivery {parsed.Provider}/{parsed.DeliveryId}: {ex.Message}");
        }
    }

    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "delivery {Provider}/{DeliveryId}: {Message}")]
    private static partial void LogDeliveryProcessed(ILogger logger, WebhookProvider provider, string deliveryId, string message);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Warning, Message = "delivery {Provider}/{DeliveryId} failed on attempt {Attempt}: {Error}")]
    private static partial void LogDeliveryFailed(ILogger logger, WebhookProvider provider, string deliveryId, long attempt, string error);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Error, Message = "dropped an unreadable delivery message: {Error}")]
    private static partial void LogUnreadableDelivery(ILogger logger, string error);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Warning, Message = "requeued {Count} delivery(ies) that were recorded but never queued")]
    private static partial void LogRequeued(ILogger logger, int count);

    [LoggerMessage(EventId = 2006, Level = LogLevel.Information, Message = "engine maintenance resent {Messages} message(s) of {Rows} orphaned outbox row(s), redrove {Instances} stalled instance(s) and purged {Purged} finished one(s) past the retention")]
    private static partial void LogEngineMaintenance(ILogger logger, int messages, int rows, int instances, int purged);

    [LoggerMessage(EventId = 2007, Level = LogLevel.Information, Message = "deleted {Count} finished webhook delivery record(s) past the retention")]
    private static partial void LogDeliveriesPurged(ILogger logger, int count);

    [LoggerMessage(EventId = 2005, Level = LogLevel.Error, Message = "timer function {Function} failed: {Error}")]
    private static partial void LogTimerFailed(ILogger logger, string function, string error);
}
