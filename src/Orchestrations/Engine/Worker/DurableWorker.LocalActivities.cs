using FleetFunctions.Orchestrations.Engine.History;
using FleetFunctions.Orchestrations.Engine.Processing;
using FleetFunctions.Orchestrations.Engine.Storage;

namespace FleetFunctions.Orchestrations.Engine.Worker;

public sealed partial class DurableWorker
{
    private int _localHeld;
    private int _localInFlight;

    /// <summary>
    /// Reserves room for activities an episode of this worker schedules, so they run here without a trip through the
    /// work-item queue: at most <see cref="DurableWorkerOptions.MaxConcurrentActivities"/> held locally at once;
    /// the rest are sent to the queue for any worker.
    /// </summary>
    private int ReserveLocal(int wanted)
    {
        if (!_options.RunActivitiesLocally || _stopping.IsCancellationRequested)
        {
            return 0;
        }

        while (true)
        {
            var held = Volatile.Read(ref _localHeld);
            var take = Math.Clamp(_options.MaxConcurrentActivities - held, 0, wanted);
            if (take == 0 || Interlocked.CompareExchange(ref _localHeld, held + take, held) == held)
            {
                return take;
            }
        }
    }

    private LocalRun StartLocal(string instanceId, IReadOnlyList<OutboundMessage> workItems)
    {
        var run = new LocalRun(this, instanceId, workItems.Count);
        foreach (var outbound in workItems)
        {
            Interlocked.Increment(ref _localInFlight);
            _ = Task.Run(() => RunLocalWorkItemAsync(run, outbound.Message));
        }

        return run;
    }

    /// <summary>
    /// Runs one work item here, then, once its checkpoint has committed, hands the result to this worker's episode
    /// for the instance like a received work item. Stopping before it finished sends the work item to the queue
    /// instead, for another worker; a checkpoint that did not commit drops it.
    /// </summary>
    private async Task RunLocalWorkItemAsync(LocalRun run, TaskMessage workItem)
    {
        try
        {
            TaskMessage? result = null;
            try
            {
                await _activitySlots.WaitAsync(run.Token);
                try
                {
                    result = await _activities.ExecuteAsync(workItem, run.Token);
                }
                finally
                {
                    _activitySlots.Release();
                }
            }
            catch (OperationCanceledException)
            {
                // Stopping, or the checkpoint was abandoned: decided below, once the commit's outcome is known.
            }
            finally
            {
                Interlocked.Decrement(ref _localHeld);
            }

            if (await run.BatchOfAsync(workItem) is not { } batch)
            {
                return;
            }

            if (result is null)
            {
                await batch.HandOverAsync(new OutboundMessage(TaskHubQueue.WorkItems, workItem));
                return;
            }

            Post(new Inbound(
                result,
                1,
                () =>
                {
                    batch.Done(recorded: true);
                    return Task.CompletedTask;
                },
                error => batch.HandOverAsync(new OutboundMessage(TaskHubQueue.Control, result)),
                batch));
        }
        finally
        {
            run.ItemFinished();
            Interlocked.Decrement(ref _localInFlight);
        }
    }

    /// <summary>Reserves and starts activities for the orchestration processor.</summary>
    private sealed class LocalActivityHost(DurableWorker worker) : ILocalActivityHost
    {
        public int Reserve(int wanted) => worker.ReserveLocal(wanted);

        public ILocalRun Start(string instanceId, IReadOnlyList<OutboundMessage> workItems) => worker.StartLocal(instanceId, workItems);
    }

    /// <summary>
    /// The local work items of one checkpoint, started while it commits. Each waits for the commit's outcome before
    /// its result goes anywhere: committed, it belongs to the outbox row holding it; abandoned, it is cancelled and dropped.
    /// </summary>
    private sealed class LocalRun : ILocalRun
    {
        private readonly DurableWorker _worker;
        private readonly string _instanceId;
        private readonly CancellationTokenSource _cancel;
        private readonly TaskCompletionSource<Dictionary<string, LocalBatch>?> _outcome = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _unfinished;

        public LocalRun(DurableWorker worker, string instanceId, int count)
        {
            _worker = worker;
            _instanceId = instanceId;
            _unfinished = count;
            _cancel = CancellationTokenSource.CreateLinkedTokenSource(worker._stopping.Token);
        }

        public CancellationToken Token => _cancel.Token;

        public void Committed(IReadOnlyList<OutboxRow> rows)
        {
            var batches = new Dictionary<string, LocalBatch>(StringComparer.Ordinal);
            foreach (var row in rows)
            {
                var batch = new LocalBatch(_worker, _instanceId, row);
                foreach (var message in row.Messages)
                {
                    batches[message.Message.Id] = batch;
                }
            }

            _outcome.TrySetResult(batches);
        }

        public void Abandon()
        {
            _cancel.Cancel();
            _outcome.TrySetResult(null);
        }

        /// <summary>The committed outbox row holding <paramref name="workItem"/>, or null when the checkpoint did not commit.</summary>
        public async Task<LocalBatch?> BatchOfAsync(TaskMessage workItem) =>
            await _outcome.Task is { } batches ? batches[workItem.Id] : null;

        public void ItemFinished()
        {
            if (Interlocked.Decrement(ref _unfinished) == 0)
            {
                _cancel.Dispose();
            }
        }
    }

    /// <summary>
    /// The work items of one outbox row run here. While any is unfinished the row is touched every third of
    /// <see cref="DurableTaskHubOptions.OrphanedOutboxAge"/> so no sweeper takes it for orphaned; once every result
    /// is recorded (or handed to a queue) the row is deleted, by the commit that records the last results when they
    /// arrive together, otherwise on its own. A result that could not be recorded anywhere leaves the row, which is
    /// then resent as orphaned: the activity runs again.
    /// </summary>
    private sealed class LocalBatch
    {
        private readonly DurableWorker _worker;
        private readonly string _instanceId;
        private readonly string _rowKey;
        private readonly CancellationTokenSource _lease = new();
        private int _remaining;
        private int _lost;
        private int _deleted;

        public LocalBatch(DurableWorker worker, string instanceId, OutboxRow row)
        {
            _worker = worker;
            _instanceId = instanceId;
            _rowKey = row.RowKey;
            _remaining = row.Messages.Count;
            _ = KeepAliveAsync();
        }

        public string RowKey => _rowKey;

        /// <summary>True when <paramref name="results"/> unrecorded results are all that is left of the row, none lost.</summary>
        public bool IsLastResults(int results) => Volatile.Read(ref _remaining) == results && Volatile.Read(ref _lost) == 0;

        public void RowDeletedByCommit() => Interlocked.Exchange(ref _deleted, 1);

        /// <summary>Sends a work item or result through its queue instead (the local path could not finish it).</summary>
        public async Task HandOverAsync(OutboundMessage outbound)
        {
            try
            {
                await _worker._hub.SendAsync(outbound, CancellationToken.None);
                Done(recorded: true);
            }
            catch (Exception ex) when (ex is Azure.RequestFailedException or HttpRequestException or IOException)
            {
                Log.ActivityResultDeliveryFailed(_worker._logger, outbound.Message.Event.Name ?? outbound.Message.Event.EventType.ToString(), _instanceId, ex);
                Done(recorded: false);
            }
        }

        public void Done(bool recorded)
        {
            if (!recorded)
            {
                Interlocked.Exchange(ref _lost, 1);
            }

            if (Interlocked.Decrement(ref _remaining) != 0)
            {
                return;
            }

            _lease.Cancel();
            _lease.Dispose();
            if (Volatile.Read(ref _lost) == 0 && Volatile.Read(ref _deleted) == 0)
            {
                _ = DeleteRowAsync();
            }
        }

        private async Task DeleteRowAsync()
        {
            if (await _worker._hub.Store.TryDeleteRowsAsync(_instanceId, [_rowKey], CancellationToken.None) is { } failure)
            {
                Log.RowCleanupFailed(_worker._logger, _instanceId, "the outbox row of finished local work (resent as orphaned later; its results are recorded, so the copies are dropped)", failure);
            }
        }

        private async Task KeepAliveAsync()
        {
            var token = _lease.Token;
            var interval = _worker._hub.Options.OrphanedOutboxAge / 3;
            try
            {
                while (true)
                {
                    await Task.Delay(interval, token);
                    if (!await _worker._hub.Store.TouchOutboxRowAsync(_instanceId, _rowKey, token))
                    {
                        return;
                    }
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or Azure.RequestFailedException or HttpRequestException or IOException)
            {
                // Done, or storage unavailable: at worst the row is resent and the activity runs again.
            }
        }
    }
}
