using Azure;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;

namespace FleetFunctions.Orchestrations.Engine.Worker;

/// <summary>Keeps a received work item invisible while it is being worked on, renewing its visibility at half-time.</summary>
internal sealed class WorkItemLease : IDisposable
{
    private readonly QueueClient _queue;
    private readonly string _messageId;
    private readonly TimeSpan _visibility;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _lock = new();
    private string _popReceipt;
    private bool _deleted;

    public WorkItemLease(QueueClient queue, QueueMessage message, TimeSpan visibility)
    {
        _queue = queue;
        _messageId = message.MessageId;
        _popReceipt = message.PopReceipt;
        _visibility = visibility;
        _ = RenewLoopAsync();
    }

    public async Task DeleteAsync()
    {
        string receipt;
        lock (_lock)
        {
            if (_deleted)
            {
                return;
            }

            _deleted = true;
            receipt = _popReceipt;
        }

        await _stop.CancelAsync();
        await DurableTaskHub.DeleteMessageAsync(_queue, _messageId, receipt, CancellationToken.None);
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _deleted = true;
        }

        _stop.Cancel();
        _stop.Dispose();
    }

    private async Task RenewLoopAsync()
    {
        var token = _stop.Token;
        while (!token.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(_visibility / 2, token);
                string receipt;
                lock (_lock)
                {
                    if (_deleted)
                    {
                        return;
                    }

                    receipt = _popReceipt;
                }

                var response = await _queue.UpdateMessageAsync(_messageId, receipt, visibilityTimeout: _visibility, cancellationToken: token);
                lock (_lock)
                {
                    _popReceipt = response.Value.PopReceipt;
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (RequestFailedException)
            {
                // Lost the lease (storage restarted or the message reappeared): another worker may run it; its result is deduplicated.
                return;
            }
        }
    }
}
