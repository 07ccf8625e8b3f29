using Azure.Storage.Queues.Models;
using FleetFunctions.Orchestrations.Engine.History;
using FleetFunctions.Orchestrations.Engine.Storage;
using Microsoft.Extensions.Logging;

namespace FleetFunctions.Orchestrations.Engine.Worker;

public sealed partial class DurableWorker
{
    private void OnWorkItem(QueueMessage received)
    {
        Interlocked.Increment(ref _workInFlight);
        _ = Task.Run(() => RunWorkItemAsync(received));
    }

    /// <summary>
    /// Runs an activity, then hands its result straight to this worker's episode for the instance. The work item
    /// stays invisible (its lease renewed) until that episode has committed the result, and is deleted only then:
    /// a crash at any point leaves the work item to run again, and the duplicate result is dropped at checkpoint.
    /// </summary>
    private async Task RunWorkItemAsync(QueueMessage received)
    {
        var queue = _hub.WorkItemQueue;
        using var lease = new WorkItemLease(queue, received, _hub.Options.WorkItemVisibilityTimeout);
        var handedOver = false;
        try
        {
            var workItem = await _intake.AcceptAsync(TaskHubQueue.WorkItems, received.MessageId, received.MessageText, received.DequeueCount, _stopping.Token);
            if (workItem is null)
            {
                await lease.DeleteAsync();
                return;
            }

            TaskMessage result;
            await _activitySlots.WaitAsync(_stopping.Token);
            try
            {
                result = await _activities.ExecuteAsync(workItem, _stopping.Token);
            }
            finally
            {
                _activitySlots.Release();
            }

            var done = new TaskCompletionSource();
            Post(new Inbound(
                result,
                1,
                async () =>
                {
                    try
                    {
                        await lease.DeleteAsync();
                    }
                    catch (Exception ex) when (ex is Azure.RequestFailedException or HttpRequestException or IOException)
                    {
                        // The result is recorded; if the work item reappears its result is dropped as a duplicate.
                    }
                    finally
                    {
                        done.TrySetResult();
                    }
                },
                async error =>
                {
                    // The result could not be recorded here: send it through the control queue instead.
                    try
                    {
                        await _hub.SendAsync(new OutboundMessage(TaskHubQueue.Control, result), CancellationToken.None);
                        await lease.DeleteAsync();
                    }
                    catch (Exception ex) when (ex is Azure.RequestFailedException or HttpRequestException or IOException)
                    {
                        Log.ActivityResultDeliveryFailed(_logger, workItem.Event.Name ?? string.Empty, workItem.InstanceId, ex);
                    }
                    finally
                    {
                        done.TrySetResult();
                    }
                }));
            handedOver = true;
            await done.Task;
        }
        catch (Exception ex) when (!handedOver)
        {
            if (ex is not OperationCanceledException)
            {
                _logger.LogWarning(ex, "work item {MessageId} failed; it will run again", received.MessageId);
            }
        }
        finally
        {
            Interlocked.Decrement(ref _workInFlight);
        }
    }
}
