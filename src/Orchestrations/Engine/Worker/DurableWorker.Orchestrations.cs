using Azure.Storage.Queues.Models;
using FleetFunctions.Orchestrations.Engine.History;
using FleetFunctions.Orchestrations.Engine.Processing;
using FleetFunctions.Orchestrations.Engine.Storage;

namespace FleetFunctions.Orchestrations.Engine.Worker;

public sealed partial class DurableWorker
{
    private readonly Lock _mailboxLock = new();
    private readonly Dictionary<string, Mailbox> _mailboxes = new(StringComparer.Ordinal);

    /// <summary>
    /// A message waiting for its instance's next episode, with what to do once it is recorded or has failed; for the
    /// result of an activity run here, the outbox row holding its work item.
    /// </summary>
    private sealed record Inbound(TaskMessage Message, long DequeueCount, Func<Task> AckAsync, Func<Exception, Task> FailAsync, LocalBatch? Local = null);

    /// <summary>Messages for one instance; at most one drain per instance runs at a time in this process.</summary>
    private sealed class Mailbox
    {
        public List<Inbound> Pending { get; } = [];

        public bool Running { get; set; }

        /// <summary>Completed when a message is posted (the running drain is waiting for one while a commit is in flight).</summary>
        public TaskCompletionSource? Arrived { get; set; }
    }

    private void OnControlMessage(QueueMessage received)
    {
        Interlocked.Increment(ref _controlInFlight);
        _ = Task.Run(async () =>
        {
            var queue = _hub.ControlQueue;
            var posted = false;
            try
            {
                var message = await _intake.AcceptAsync(TaskHubQueue.Control, received.MessageId, received.MessageText, received.DequeueCount, _stopping.Token);
                if (message is null)
                {
                    await DurableTaskHub.DeleteMessageAsync(queue, received.MessageId, received.PopReceipt, CancellationToken.None);
                    return;
                }

                Post(new Inbound(
                    message,
                    received.DequeueCount,
                    async () =>
                    {
                        try
                        {
                            await DurableTaskHub.DeleteMessageAsync(queue, received.MessageId, received.PopReceipt, CancellationToken.None);
                        }
                        catch (Exception ex) when (ex is Azure.RequestFailedException or HttpRequestException or IOException)
                        {
                            // Recorded already; if the message reappears it is dropped as a duplicate.
                        }
                        finally
                        {
                            Interlocked.Decrement(ref _controlInFlight);
                        }
                    },
                    async error =>
                    {
                        try
                        {
                            if (MessageIntake.IsTransient(error))
                            {
                                await _intake.RetryLaterAsync(TaskHubQueue.Control, message, received.DequeueCount, error, CancellationToken.None);
                                await DurableTaskHub.DeleteMessageAsync(queue, received.MessageId, received.PopReceipt, CancellationToken.None);
                            }
                            else if (_intake.IsLastAttempt(message, received.DequeueCount))
                            {
                                await _intake.PoisonAsync(TaskHubQueue.Control, received.MessageId, message, received.MessageText, received.DequeueCount, error.Message, CancellationToken.None);
                                await DurableTaskHub.DeleteMessageAsync(queue, received.MessageId, received.PopReceipt, CancellationToken.None);
                            }
                            else
                            {
                                await queue.UpdateMessageAsync(received.MessageId, received.PopReceipt, visibilityTimeout: Backoff(received.DequeueCount));
                            }
                        }
                        catch (Exception ex) when (ex is Azure.RequestFailedException or HttpRequestException or IOException || MessageIntake.IsTransient(ex))
                        {
                            // The message reappears when its visibility lapses (a stale pop receipt, a 4xx: the same).
                        }
                        finally
                        {
                            Interlocked.Decrement(ref _controlInFlight);
                        }
                    }));
                posted = true;
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !_stopping.IsCancellationRequested)
            {
                Log.PollFailed(_logger, queue.Name, ex.Message);
            }
            finally
            {
                if (!posted)
                {
                    Interlocked.Decrement(ref _controlInFlight);
                }
            }
        });
    }

    /// <summary>
    /// Takes the committed start of an instance created in this process straight to its mailbox (when
    /// <see cref="CreateLocallyAsync"/> was not taken, or the id held a finished execution). Once the first episode has
    /// recorded it the outbox row is deleted; if that episode fails, the row is flushed to the control queue like any
    /// outbox (and if even that fails, the sweeper finds the row orphaned and sends it).
    /// </summary>
    private bool StartLocally(LocalStart start)
    {
        if (_stopping.IsCancellationRequested)
        {
            return false;
        }

        var (instanceId, row) = (start.InstanceId, start.Row);
        Interlocked.Increment(ref _localInFlight);
        Post(new Inbound(
            row.Messages[0].Message,
            1,
            async () =>
            {
                try
                {
                    await _hub.Store.DeleteRowsAsync(instanceId, [row.RowKey], CancellationToken.None);
                }
                catch (Exception ex) when (ex is Azure.RequestFailedException or HttpRequestException or IOException)
                {
                    // Recorded already: if the row is resent as orphaned, the copy is dropped as a duplicate.
                }
                finally
                {
                    Interlocked.Decrement(ref _localInFlight);
                }
            },
            async error =>
            {
                try
                {
                    await _hub.FlushOutboxAsync(instanceId, [row], CancellationToken.None);
                }
                catch (Exception ex) when (ex is Azure.RequestFailedException or HttpRequestException or IOException)
                {
                    Log.LocalStartHandOverFailed(_logger, instanceId, ex.Message);
                }
                finally
                {
                    Interlocked.Decrement(ref _localInFlight);
                }
            }));
        return true;
    }

    /// <summary>
    /// Creates an instance for a client of this process by running its first episode here: that episode's commit
    /// writes the state row, its history and its work items in one transaction (whose activities start while it is in
    /// flight), one commit less than a create followed by a first episode. Taken only when this process has nothing
    /// for the id and a free orchestration slot, so the client never waits behind other instances.
    /// </summary>
    private async Task<LocalCreateOutcome> CreateLocallyAsync(InstanceState state, TaskMessage start, CancellationToken cancellationToken)
    {
        var instanceId = state.InstanceId;
        var outcome = new TaskCompletionSource<LocalCreateOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        var inbound = new Inbound(
            start,
            1,
            () =>
            {
                outcome.TrySetResult(LocalCreateOutcome.Created);
                Interlocked.Decrement(ref _localInFlight);
                return Task.CompletedTask;
            },
            error =>
            {
                if (error is InstanceIdTakenException)
                {
                    outcome.TrySetResult(LocalCreateOutcome.IdTaken);
                }
                else
                {
                    outcome.TrySetException(error);
                }

                Interlocked.Decrement(ref _localInFlight);
                return Task.CompletedTask;
            });

        Mailbox mailbox;
        lock (_mailboxLock)
        {
            if (_stopping.IsCancellationRequested || _orchestrationSlots.CurrentCount == 0 || _mailboxes.ContainsKey(instanceId))
            {
                return LocalCreateOutcome.NotTaken;
            }

            _processor.SeedNew(state);
            mailbox = new Mailbox { Running = true };
            mailbox.Pending.Add(inbound);
            _mailboxes[instanceId] = mailbox;
        }

        Interlocked.Increment(ref _localInFlight);
        _ = Task.Run(() => DrainMailboxAsync(instanceId, mailbox), CancellationToken.None);
        return await outcome.Task.WaitAsync(cancellationToken);
    }

    private void Post(Inbound inbound)
    {
        var instanceId = inbound.Message.InstanceId;
        Mailbox mailbox;
        lock (_mailboxLock)
        {
            if (!_mailboxes.TryGetValue(instanceId, out mailbox!))
            {
                mailbox = new Mailbox();
                _mailboxes[instanceId] = mailbox;
            }

            mailbox.Pending.Add(inbound);
            if (mailbox.Running)
            {
                mailbox.Arrived?.TrySetResult();
                mailbox.Arrived = null;
                return;
            }

            mailbox.Running = true;
        }

        _ = Task.Run(() => DrainMailboxAsync(instanceId, mailbox));
    }

    private async Task DrainMailboxAsync(string instanceId, Mailbox mailbox)
    {
        await _orchestrationSlots.WaitAsync();
        try
        {
            while (true)
            {
                var feed = new MailboxFeed(this, mailbox);
                if (feed.TryTake() is not { } first)
                {
                    lock (_mailboxLock)
                    {
                        if (mailbox.Pending.Count == 0)
                        {
                            mailbox.Running = false;
                            _mailboxes.Remove(instanceId);
                            return;
                        }
                    }

                    continue;
                }

                try
                {
                    await _processor.ProcessAsync(instanceId, first, feed, _stopping.Token);
                }
                catch (InstanceIdTakenException ex)
                {
                    // Not a failure of the instance: the creating client reads what holds the id and decides.
                    await feed.FailUnrecordedAsync(ex);
                }
                catch (Exception ex)
                {
                    Log.EpisodeFailed(_logger, instanceId, ex);
                    await feed.FailUnrecordedAsync(ex);
                }
            }
        }
        finally
        {
            _orchestrationSlots.Release();
        }
    }

    /// <summary>
    /// An instance's mailbox as the processor sees it during one drain: it takes messages in batches of at most
    /// <see cref="DurableWorkerOptions.MaxMessagesPerEpisode"/>, acknowledges them once recorded, and fails those the
    /// processor took but could not record.
    /// </summary>
    private sealed class MailboxFeed(DurableWorker worker, Mailbox mailbox) : IEpisodeFeed
    {
        private readonly List<EpisodeInput> _unrecorded = [];

        public Task WaitAsync(CancellationToken cancellationToken)
        {
            lock (worker._mailboxLock)
            {
                if (mailbox.Pending.Count > 0)
                {
                    return Task.CompletedTask;
                }

                mailbox.Arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                return mailbox.Arrived.Task.WaitAsync(cancellationToken);
            }
        }

        public EpisodeInput? TryTake(int taken = 0)
        {
            List<Inbound> batch;
            lock (worker._mailboxLock)
            {
                var take = Math.Min(mailbox.Pending.Count, worker._options.MaxMessagesPerEpisode - taken);
                if (take <= 0)
                {
                    return null;
                }

                batch = mailbox.Pending.GetRange(0, take);
                mailbox.Pending.RemoveRange(0, take);
            }

            var input = new EpisodeInput(batch.Select(b => b.Message).DistinctBy(m => m.Id).ToList(), batch);
            _unrecorded.Add(input);
            return input;
        }

        /// <summary>Rows of local work whose last results are all in <paramref name="inputs"/>: the commit recording them deletes them.</summary>
        public IReadOnlyList<string> OutboxRowsDone(IReadOnlyList<EpisodeInput> inputs) =>
            [.. LocalBatches(inputs).Where(g => g.Key.IsLastResults(g.Count())).Select(g => g.Key.RowKey)];

        public void Recorded(IReadOnlyList<EpisodeInput> inputs, IReadOnlyList<string> rowsDeleted, bool committed)
        {
            if (committed)
            {
                foreach (var local in LocalBatches(inputs).Select(g => g.Key).Where(b => rowsDeleted.Contains(b.RowKey)))
                {
                    local.RowDeletedByCommit();
                }
            }

            var recorded = inputs.SelectMany(Inbound).ToList();
            _unrecorded.RemoveAll(inputs.Contains);

            // Recorded: deleting the queue messages need not hold up the next episode (acks never throw).
            _ = Task.WhenAll(recorded.Select(b => b.AckAsync()));
        }

        public Task FailUnrecordedAsync(Exception error)
        {
            var failed = _unrecorded.SelectMany(Inbound).ToList();
            _unrecorded.Clear();
            return Task.WhenAll(failed.Select(b => b.FailAsync(error)));
        }

        private static List<Inbound> Inbound(EpisodeInput input) => (List<Inbound>)input.Tag!;

        private static IEnumerable<IGrouping<LocalBatch, Inbound>> LocalBatches(IEnumerable<EpisodeInput> inputs) =>
            inputs.SelectMany(Inbound).Where(b => b.Local is not null).GroupBy(b => b.Local!);
    }

    private static TimeSpan Backoff(long dequeueCount) => TimeSpan.FromMilliseconds(Math.Min(30_000, 250 * (1 << (int)Math.Min(dequeueCount, 7))));
}
