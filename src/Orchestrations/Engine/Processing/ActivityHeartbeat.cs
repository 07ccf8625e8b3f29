using FleetFunctions.Orchestrations.Engine.History;
using FleetFunctions.Orchestrations.Engine.Storage;

namespace FleetFunctions.Orchestrations.Engine.Processing;

/// <summary>
/// Tells the stall redrive that an activity is still running: every quarter of
/// <see cref="DurableTaskHubOptions.RedriveStalledAfter"/> while it runs, a heartbeat row of its own in the instance's
/// partition is written, and the redrive leaves alone a work item with a heartbeat younger than that (so a long
/// activity is not started a second time beside itself). An activity shorter than a quarter writes nothing. The row of a
/// longer one is left when it ends: its last beat covers the time until the result is recorded (deleting it first would
/// let a redrive in between run the activity again), the redrive looks only at work without a result, and the row goes
/// with the instance when it is purged.
/// </summary>
internal sealed class ActivityHeartbeat : IAsyncDisposable
{
    private readonly InstanceStore _store;
    private readonly string _instanceId;
    private readonly string _rowKey;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    private ActivityHeartbeat(InstanceStore store, string instanceId, string rowKey, TimeSpan interval)
    {
        _store = store;
        _instanceId = instanceId;
        _rowKey = rowKey;
        _loop = BeatAsync(interval, _stop.Token);
    }

    /// <summary>Starts beating for a work item; null when the hub has no stall redrive.</summary>
    public static ActivityHeartbeat? Start(DurableTaskHub hub, TaskMessage workItem) =>
        hub.Options.RedriveStalledAfter is { } stalledAfter && workItem.ExecutionId is { } executionId
            ? new ActivityHeartbeat(hub.Store, workItem.InstanceId, InstanceStore.HeartbeatRowKey(executionId, workItem.Event.EventId), stalledAfter / 4)
            : null;

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }

    private async Task BeatAsync(TimeSpan interval, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, stop);
                await _store.HeartbeatAsync(_instanceId, _rowKey, stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception)
            {
                // Storage unavailable or refusing: the next beat tries again (a redrive meanwhile only costs a duplicate
                // run); the activity itself is never failed by its heartbeat.
            }
        }
    }
}
