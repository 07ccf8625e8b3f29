using FleetFunctions.Orchestrations.Engine.History;
using FleetFunctions.Orchestrations.Engine.Storage;

namespace FleetFunctions.Orchestrations.Engine.Processing;

internal sealed partial class OrchestrationProcessor
{
    /// <summary>How long an execution whose state row never appeared stays listed (its first commit may still be in flight).</summary>
    private static readonly TimeSpan s_unlistUnknownAfter = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Looks at the outbox rows of up to <paramref name="maxInstances"/> instances listed in the outbox index,
    /// continuing where <paramref name="continuationToken"/> left off (null: from the start): rows older than
    /// <see cref="DurableTaskHubOptions.OrphanedOutboxAge"/> were left by a crash between commit and send, and are
    /// sent and deleted; finished instances with no rows left are unlisted. Returns the messages resent, rows
    /// flushed and the token to continue with (null once the whole index was visited).
    /// </summary>
    public async Task<(int Messages, int Rows, string? ContinuationToken)> SweepOutboxesAsync(int maxInstances, string? continuationToken, CancellationToken cancellationToken)
    {
        var index = hub.Store.OutboxIndex;
        var cutoff = DateTimeOffset.UtcNow - hub.Options.OrphanedOutboxAge;
        var (messages, rows, visited) = (0, 0, 0);
        do
        {
            var (entries, next) = await index.PageAsync(Math.Min(100, maxInstances - visited), continuationToken, cancellationToken);
            continuationToken = next;
            foreach (var entry in entries)
            {
                visited++;
                try
                {
                    var (sent, flushed) = await SweepOutboxAsync(entry, cutoff, cancellationToken);
                    messages += sent;
                    rows += flushed;
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    // One instance whose rows cannot be read or sent must not hold up the others: the next pass over
                    // the index tries it again.
                    Log.OutboxSweepInstanceFailed(logger, entry.InstanceId, ex);
                }
            }
        }
        while (continuationToken is not null && visited < maxInstances);

        return (messages, rows, continuationToken);
    }

    /// <summary>Sends and deletes one listed instance's orphaned outbox rows; unlists it when finished with none left.</summary>
    private async Task<(int Messages, int Rows)> SweepOutboxAsync(OutboxIndexEntry entry, DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        var (state, outbox) = await hub.Store.ReadOutboxAsync(entry.InstanceId, cancellationToken);
        var orphaned = outbox.Where(o => o.Timestamp < cutoff).Select(o => o.Row).ToList();
        if (orphaned.Count > 0)
        {
            await hub.FlushOutboxAsync(entry.InstanceId, orphaned, cancellationToken);
        }

        // Finished a while ago (so the final commit's rows, written with it, were visible to the query above).
        var now = DateTimeOffset.UtcNow;
        var finished = state is null
            ? entry.RegisteredAt < now - s_unlistUnknownAfter
            : state.Status.IsTerminal() && state.ExecutionId == entry.ExecutionId && state.LastUpdatedTime < (now - hub.Options.OrphanedOutboxAge).UtcDateTime;
        if (finished && outbox.Count == orphaned.Count)
        {
            await hub.Store.OutboxIndex.RemoveAsync(entry, cancellationToken);
        }

        return (orphaned.Sum(r => r.Messages.Count), orphaned.Count);
    }

    /// <summary>
    /// Safety net for an instance that made no progress for a long time: sends again every message it still waits
    /// for (unfinished activities not beating a heartbeat, due timers, missing or finished children, or its own start). Needed only when
    /// storage lost an acknowledged queue write (an emulator killed before flushing); duplicates are dropped on receipt.
    /// Returns how many messages were sent.
    /// </summary>
    public async Task<int> RedriveAsync(string instanceId, CancellationToken cancellationToken)
    {
        cache.Remove(instanceId);
        var session = await hub.Store.LoadAsync(instanceId, cancellationToken);
        if (session.State is not { } state)
        {
            return 0;
        }

        var now = DateTime.UtcNow;
        var messages = new List<OutboundMessage>();
        if (!state.Started && state.Status == OrchestrationRuntimeStatus.Pending)
        {
            messages.Add(new OutboundMessage(TaskHubQueue.Control, state.ToStartMessage()));
        }
        else if (state.Status == OrchestrationRuntimeStatus.Running)
        {
            // Activities still running beat a heartbeat (ActivityHeartbeat): running them again beside themselves would
            // only duplicate their work (a cluster reconciled twice at once).
            var heartbeats = await hub.Store.ReadHeartbeatsAsync(instanceId, state.ExecutionId, cancellationToken);
            var alive = DateTimeOffset.UtcNow - (hub.Options.RedriveStalledAfter ?? TimeSpan.Zero);
            foreach (var scheduled in session.History.Where(e => e.IsSchedulingEvent && !session.CompletedTaskIds.Contains(e.EventId)))
            {
                switch (scheduled.EventType)
                {
                    case HistoryEventType.TaskScheduled when !(heartbeats.TryGetValue(scheduled.EventId, out var beat) && beat > alive):
                        messages.Add(ToOutbound(state, scheduled, now));
                        break;
                    case HistoryEventType.TimerCreated when scheduled.FireAt <= now:
                        messages.Add(ToOutbound(state, scheduled, now));
                        break;
                    case HistoryEventType.SubOrchestrationInstanceCreated:
                        var child = await hub.Store.ReadStateAsync(scheduled.InstanceId!, cancellationToken);
                        if (child is null)
                        {
                            messages.Add(ChildStart(state, scheduled, now, Guid.NewGuid().ToString("N")));
                        }
                        else if (child.Value.State.Status.IsTerminal() && child.Value.State.Parent is { } parent
                            && parent.InstanceId == instanceId && parent.ExecutionId == state.ExecutionId && parent.TaskId == scheduled.EventId)
                        {
                            var done = child.Value.State;
                            messages.Add(ToParent(parent, now, done.Status == OrchestrationRuntimeStatus.Completed ? done.Output : null,
                                done.Status == OrchestrationRuntimeStatus.Completed ? null : done.Failure ?? new TaskFailureDetails("OrchestrationTerminated", $"sub-orchestration '{done.InstanceId}' was {done.Status}.")));
                        }

                        break;
                    default:
                        break;
                }
            }
        }

        await hub.SendAllAsync(messages, cancellationToken);
        return messages.Count;
    }
}
