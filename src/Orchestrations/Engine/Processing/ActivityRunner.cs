using FleetFunctions.Orchestrations.Engine.History;

namespace FleetFunctions.Orchestrations.Engine.Processing;

/// <summary>Executes one work item (a TaskScheduled event) and builds the result message for its orchestration.</summary>
internal sealed class ActivityRunner(DurableTaskHub hub, DurableTaskRegistry registry)
{
    /// <summary>
    /// Runs the activity; its exceptions become a TaskFailed result, never an exception here. A long one beats a heartbeat
    /// (<see cref="ActivityHeartbeat"/>) so that the stall redrive does not start it again while it runs.
    /// </summary>
    public async Task<TaskMessage> ExecuteAsync(TaskMessage workItem, CancellationToken cancellationToken)
    {
        var scheduled = workItem.Event;
        var name = scheduled.Name ?? string.Empty;
        await using var heartbeat = ActivityHeartbeat.Start(hub, workItem);
        HistoryEvent outcome;
        try
        {
            var activity = registry.CreateActivity(name)
                ?? throw new InvalidOperationException(
                    $"orchestration '{workItem.InstanceId}': activity '{name}' is not registered in this worker; register it with DurableTaskRegistry.AddActivity.");
            var inputText = await hub.Payloads.ResolveAsync(scheduled.Input, cancellationToken);
            var input = hub.Converter.Deserialize(inputText, activity.InputType);
            var output = await activity.RunAsync(new ActivityContext(name, workItem.InstanceId, scheduled.EventId), input, cancellationToken);
            var serialized = await hub.Payloads.OffloadAsync(workItem.InstanceId, hub.Converter.Serialize(output), cancellationToken);
            outcome = new HistoryEvent { EventType = HistoryEventType.TaskCompleted, Timestamp = DateTime.UtcNow, TaskScheduledId = scheduled.EventId, Result = serialized };
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            outcome = new HistoryEvent
            {
                EventType = HistoryEventType.TaskFailed,
                Timestamp = DateTime.UtcNow,
                TaskScheduledId = scheduled.EventId,
                FailureDetails = TaskFailureDetails.FromException(ex),
            };
        }

        return Result(workItem, outcome);
    }

    /// <summary>A TaskFailed result for a work item that could not be executed (poisoned).</summary>
    public static TaskMessage Failed(TaskMessage workItem, TaskFailureDetails failure) =>
        Result(workItem, new HistoryEvent
        {
            EventType = HistoryEventType.TaskFailed,
            Timestamp = DateTime.UtcNow,
            TaskScheduledId = workItem.Event.EventId,
            FailureDetails = failure,
        });

    private static TaskMessage Result(TaskMessage workItem, HistoryEvent outcome) => new()
    {
        Id = Guid.NewGuid().ToString("N"),
        InstanceId = workItem.InstanceId,
        ExecutionId = workItem.ExecutionId,
        Event = outcome,
    };
}
