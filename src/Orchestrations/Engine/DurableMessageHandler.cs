using FleetFunctions.Orchestrations.Engine.Processing;
using FleetFunctions.Orchestrations.Engine.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FleetFunctions.Orchestrations.Engine;

/// <summary>Outcome of handling one queue message: success (delete it) or failure (retry it; the host poisons it eventually).</summary>
public sealed record MessageHandlingResult(bool Succeeded, string? Error = null)
{
    public static MessageHandlingResult Success { get; } = new(true);

    public static MessageHandlingResult Failure(string error) => new(false, error);
}

/// <summary>
/// The engine behind a queue trigger (Azure Functions custom handler): the host receives a message from the
/// control or work-item queue and passes it here; a success reply lets the host delete it, a failure makes the
/// host retry it. On the last attempt (<see cref="DurableTaskHubOptions.MaxDequeueCount"/>, which must match
/// host.json <c>extensions.queues.maxDequeueCount</c>) a failing message is parked and its orchestration failed
/// here, and success is returned so the host does not poison it a second time. A transient failure (storage
/// unavailable, a lost race) is not the host's to count: a delayed copy of the message is sent and success returned.
/// </summary>
public sealed class DurableMessageHandler
{
    private readonly DurableTaskHub _hub;
    private readonly OrchestrationProcessor _processor;
    private readonly ActivityRunner _activities;
    private readonly MessageIntake _intake;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _maintenance = new(1, 1);
    private readonly EngineUpkeep _upkeep;

    public DurableMessageHandler(DurableTaskHub hub, DurableTaskRegistry registry, ILoggerFactory? loggerFactory = null, int instanceCacheSize = 500)
    {
        _hub = hub ?? throw new ArgumentNullException(nameof(hub));
        ArgumentNullException.ThrowIfNull(registry);
        var logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("FleetFunctions.Orchestrations.Engine.DurableMessageHandler");
        _logger = logger;
        _processor = new OrchestrationProcessor(hub, registry, new InstanceCache(instanceCacheSize), logger);
        _activities = new ActivityRunner(hub, registry);
        _intake = new MessageIntake(hub, _processor, logger);
        _upkeep = new EngineUpkeep(hub, _processor, logger, stallCheckAtOnce: true);
    }

    /// <summary>Handles one message of <paramref name="queueName"/> (the hub's control or work-item queue).</summary>
    public async Task<MessageHandlingResult> HandleMessageAsync(
        string queueName, string messageText, long dequeueCount, string? messageId = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messageText);
        TaskHubQueue queue;
        if (string.Equals(queueName, _hub.ControlQueueName, StringComparison.OrdinalIgnoreCase))
        {
            queue = TaskHubQueue.Control;
        }
        else if (string.Equals(queueName, _hub.WorkItemQueueName, StringComparison.OrdinalIgnoreCase))
        {
            queue = TaskHubQueue.WorkItems;
        }
        else
        {
            return MessageHandlingResult.Failure(
                $"queue '{queueName}' does not belong to task hub '{_hub.Options.TaskHubName}' (expected '{_hub.ControlQueueName}' or '{_hub.WorkItemQueueName}'): check the queueName in function.json.");
        }

        var id = messageId ?? "unknown";
        var message = await _intake.AcceptAsync(queue, id, messageText, dequeueCount, cancellationToken);
        if (message is null)
        {
            return MessageHandlingResult.Success;
        }

        try
        {
            if (queue == TaskHubQueue.Control)
            {
                await _processor.ProcessAsync(message.InstanceId, [message], [], cancellationToken);
            }
            else
            {
                var result = await _activities.ExecuteAsync(message, cancellationToken);
                await _hub.SendAsync(new OutboundMessage(TaskHubQueue.Control, result), cancellationToken);
            }

            return MessageHandlingResult.Success;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            if (MessageIntake.IsTransient(ex))
            {
                // Storage's failure, not the message's: a delayed copy takes its place, so the host's dequeue count
                // (which poisons on its own) does not grow. If even the copy cannot be sent, the host retries this one.
                try
                {
                    await _intake.RetryLaterAsync(queue, message, dequeueCount, ex, cancellationToken);
                    return MessageHandlingResult.Success;
                }
                catch (Exception sendError) when (MessageIntake.IsTransient(sendError) && !cancellationToken.IsCancellationRequested)
                {
                    return MessageHandlingResult.Failure($"orchestration '{message.InstanceId}': {Log.Describe(message)}: {ex.Message} (storage unavailable; retrying)");
                }
            }

            if (!_intake.IsLastAttempt(message, dequeueCount))
            {
                return MessageHandlingResult.Failure($"orchestration '{message.InstanceId}': {Log.Describe(message)}: {ex.Message}");
            }

            await _intake.PoisonAsync(queue, id, message, messageText, dequeueCount, ex.Message, cancellationToken);
            return MessageHandlingResult.Success;
        }
    }

    /// <summary>
    /// One pass of the upkeep a standalone <see cref="Worker.DurableWorker"/> does on its own timer (<see cref="EngineUpkeep"/>:
    /// orphaned outbox rows over at most <paramref name="maxInstances"/> instances of the outbox index, stalled instances,
    /// finished instances past the retention), for hosts that only deliver messages (a custom handler's queue triggers).
    /// A pass that finds another one running returns at once.
    /// </summary>
    public async Task<MaintenanceResult> RunMaintenanceAsync(int maxInstances = 200, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxInstances, 1);
        if (!await _maintenance.WaitAsync(TimeSpan.Zero, cancellationToken))
        {
            return new MaintenanceResult(0, 0, 0, 0);
        }

        try
        {
            return await _upkeep.RunAsync(maxInstances, cancellationToken);
        }
        finally
        {
            _maintenance.Release();
        }
    }
}

/// <summary>What one maintenance pass did.</summary>
/// <param name="MessagesResent">Messages sent from orphaned outbox rows.</param>
/// <param name="OutboxRows">Orphaned outbox rows handled.</param>
/// <param name="InstancesRedriven">Stalled instances whose awaited messages were sent again.</param>
/// <param name="InstancesPurged">Finished instances purged for being older than the retention.</param>
public sealed record MaintenanceResult(int MessagesResent, int OutboxRows, int InstancesRedriven, int InstancesPurged);
