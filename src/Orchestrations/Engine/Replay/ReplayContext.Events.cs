using FleetFunctions.Orchestrations.Engine.History;

namespace FleetFunctions.Orchestrations.Engine.Replay;

internal sealed partial class ReplayContext
{
    /// <summary>Applies one history or new event: completes the task the code awaits, buffers or delivers raised events.</summary>
    internal void Apply(HistoryEvent e)
    {
        switch (e.EventType)
        {
            case HistoryEventType.OrchestratorStarted:
                CurrentTime = e.Timestamp;
                break;
            case HistoryEventType.TaskScheduled:
            case HistoryEventType.TimerCreated:
            case HistoryEventType.SubOrchestrationInstanceCreated:
                if (!_createdIds.Contains(e.EventId))
                {
                    NonDeterminismError ??=
                        $"orchestration '{InstanceId}' ({Name}): non-deterministic replay: history step #{e.EventId} is {OrchestratorAction.Describe(e)}, " +
                        $"but the code now does not reach it (it scheduled {_nextTaskId} step(s) and is waiting). The orchestrator changed while this " +
                        "instance was running: deploy incompatible changes under a new orchestrator name, or terminate and restart the instance.";
                }

                break;
            case HistoryEventType.TaskCompleted:
            case HistoryEventType.TaskFailed:
            case HistoryEventType.TimerFired:
            case HistoryEventType.SubOrchestrationInstanceCompleted:
            case HistoryEventType.SubOrchestrationInstanceFailed:
                if (_openTasks.Remove(e.TaskScheduledId, out var complete))
                {
                    complete(e);
                }

                break;
            case HistoryEventType.EventRaised:
                DeliverEvent(e);
                break;
            default:
                break;
        }
    }

    private void DeliverEvent(HistoryEvent e)
    {
        var name = e.Name ?? string.Empty;
        if (_eventWaiters.TryGetValue(name, out var waiters) && waiters.First is { } first)
        {
            waiters.RemoveFirst();
            first.Value(e);
            return;
        }

        if (!_bufferedEvents.TryGetValue(name, out var queue))
        {
            queue = new Queue<HistoryEvent>();
            _bufferedEvents[name] = queue;
        }

        queue.Enqueue(e);
    }
}
