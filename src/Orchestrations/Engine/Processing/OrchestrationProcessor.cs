using FleetFunctions.Orchestrations.Engine.History;
using FleetFunctions.Orchestrations.Engine.Storage;
using Microsoft.Extensions.Logging;

namespace FleetFunctions.Orchestrations.Engine.Processing;

/// <summary>
/// Runs episodes: for one instance and a batch of its messages, load (or reuse) the partition, drop duplicates,
/// replay the orchestrator with the new events, commit everything in one transaction, then send the outbox.
/// A lost race (ETag) reloads and runs again; everything before the commit is side-effect free, so retrying is safe.
/// With a <paramref name="localActivities"/> host, the activities an episode schedules run in this process while it
/// has capacity (their work items are committed all the same, as outbox rows kept until the results are recorded);
/// they start while the commit is in flight, and their results count only once it succeeded.
/// </summary>
internal sealed partial class OrchestrationProcessor(
    DurableTaskHub hub, DurableTaskRegistry registry, InstanceCache cache, ILogger logger, ILocalActivityHost? localActivities = null)
{
    private const int MaxAttempts = 10;

    public DurableTaskHub Hub => hub;

    /// <summary>
    /// Processes messages for one instance; returns normally when they are safely recorded or dropped as duplicates.
    /// <paramref name="outboxRowsDone"/> are outbox rows of local work whose last results are among the messages:
    /// they are deleted by the same commit, and the return value says whether that happened (false: nothing was
    /// committed, the caller deletes them).
    /// </summary>
    public async Task<bool> ProcessAsync(
        string instanceId, IReadOnlyList<TaskMessage> messages, IReadOnlyList<string> outboxRowsDone, CancellationToken cancellationToken)
    {
        // Message ids of a commit whose outcome is unknown (a retried request may have succeeded before failing).
        var attempted = new HashSet<string>(StringComparer.Ordinal);
        for (var attempt = 1; ; attempt++)
        {
            var session = cache.TryTake(instanceId) ?? await LoadAsync(instanceId, cancellationToken);
            EpisodePlan? plan;
            try
            {
                await FlushOrphanedOutboxAsync(session, attempted, cancellationToken);
                plan = await PlanAsync(session, messages, cancellationToken);
                if (plan is { NeedsFreshLoad: true })
                {
                    continue;
                }

                if (plan is null)
                {
                    cache.Put(session);
                    return false;
                }

                attempted.UnionWith(plan.Checkpoint.Outbox.Select(m => m.Message.Id));
                var checkpoint = KeepWorkLocal(plan.Checkpoint) with { OutboxDeletes = outboxRowsDone };
                var local = checkpoint.LocalWork.Count > 0 ? localActivities!.Start(instanceId, checkpoint.LocalWork) : null;
                CommitResult result;
                try
                {
                    if (hub.Options.FaultInjection?.BeforeCommit is { } beforeCommit)
                    {
                        await beforeCommit(instanceId, checkpoint.Outbox.Count(m => m.Queue == TaskHubQueue.WorkItems) + checkpoint.LocalWork.Count);
                    }

                    result = await hub.Store.CommitAsync(checkpoint, cancellationToken);
                }
                catch
                {
                    local?.Abandon();
                    throw;
                }

                local?.Committed(result.LocalOutbox);

                plan.ApplyTo(session, result);
                Log.EpisodeCommitted(logger, instanceId, plan.Checkpoint.State.Status, messages.Count, plan.Checkpoint.Outbox.Count);
                cache.Put(session);
                try
                {
                    await hub.SendAllAsync(result.Outbox.SelectMany(r => r.Messages), cancellationToken);
                }
                catch
                {
                    // The next load must see the unsent outbox rows.
                    cache.Remove(instanceId);
                    throw;
                }

                // Sent: deleting the rows is off the critical path (rows left by a crash here are resent, and deduplicated).
                _ = DeleteRowsQuietlyAsync(instanceId, result.Outbox.Select(r => r.RowKey).ToList());

                await DeleteStaleRowsAsync(instanceId, plan.DiscardsHistory ? [.. plan.StaleRowKeys, .. result.HistoryRowKeys] : plan.StaleRowKeys, cancellationToken);
                return true;
            }
            catch (CheckpointConflictException ex) when (attempt < MaxAttempts)
            {
                Log.CheckpointConflict(logger, instanceId, attempt, ex.Message);
                await Task.Delay(Random.Shared.Next(1, 20 * attempt), cancellationToken);
            }
        }
    }

    private async Task<InstanceSession> LoadAsync(string instanceId, CancellationToken cancellationToken)
    {
        var session = await hub.Store.LoadAsync(instanceId, cancellationToken);
        Log.PartitionLoaded(logger, instanceId, session.History.Count, session.Inbox.Count);
        return session;
    }

    /// <summary>
    /// Takes an instance just created in this process as loaded: its partition holds the state row as written and the
    /// start's outbox row, nothing else (see <see cref="LocalStart.Created"/>), so its first episode reads nothing.
    /// Like any cached session it counts on the commit's ETag check: if anything wrote the partition meanwhile, the
    /// commit conflicts and the instance is loaded.
    /// </summary>
    public void Seed(InstanceState state, Azure.ETag etag) => cache.Put(new InstanceSession(state.InstanceId) { State = state, ETag = etag });

    /// <summary>Moves as many of the checkpoint's work items as this process has room for from the outbox to local work.</summary>
    private Checkpoint KeepWorkLocal(Checkpoint checkpoint)
    {
        if (localActivities is null)
        {
            return checkpoint;
        }

        var workItems = checkpoint.Outbox.Count(m => m.Queue == TaskHubQueue.WorkItems);
        var local = workItems == 0 ? 0 : localActivities.Reserve(workItems);
        if (local == 0)
        {
            return checkpoint;
        }

        var kept = new List<OutboundMessage>(local);
        var sent = new List<OutboundMessage>(checkpoint.Outbox.Count - local);
        foreach (var message in checkpoint.Outbox)
        {
            (message.Queue == TaskHubQueue.WorkItems && kept.Count < local ? kept : sent).Add(message);
        }

        return checkpoint with { Outbox = sent, LocalWork = kept };
    }

    /// <summary>
    /// Fails an instance outside normal processing (a poisoned message): an episode that records the failure,
    /// and when even that cannot run, a direct write of the state row.
    /// </summary>
    public async Task FailInstanceAsync(string instanceId, TaskFailureDetails failure, CancellationToken cancellationToken)
    {
        var message = new TaskMessage
        {
            Id = Guid.NewGuid().ToString("N"),
            InstanceId = instanceId,
            Event = new HistoryEvent
            {
                EventType = HistoryEventType.ExecutionCompleted,
                Timestamp = DateTime.UtcNow,
                OrchestrationStatus = OrchestrationRuntimeStatus.Failed,
                FailureDetails = failure,
            },
        };
        try
        {
            await ProcessAsync(instanceId, [message], [], cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.EpisodeFailed(logger, instanceId, ex);
            cache.Remove(instanceId);
            for (var attempt = 0; attempt < MaxAttempts; attempt++)
            {
                var current = await hub.Store.ReadStateAsync(instanceId, cancellationToken);
                if (current is null || current.Value.State.Status.IsTerminal())
                {
                    return;
                }

                var now = DateTime.UtcNow;
                var failed = current.Value.State with { Status = OrchestrationRuntimeStatus.Failed, Failure = failure, LastUpdatedTime = now, CompletedTime = now };
                if (await hub.Store.TryReplaceStateAsync(failed, current.Value.ETag, cancellationToken))
                {
                    return;
                }
            }
        }
    }

    private async Task FlushOrphanedOutboxAsync(InstanceSession session, HashSet<string> attempted, CancellationToken cancellationToken)
    {
        if (session.LeftoverOutbox.Count == 0)
        {
            return;
        }

        // Old rows were left by a crash; rows holding our own messages were committed by our own attempt
        // whose reply was lost. Recent rows of other workers are being sent by them right now.
        var cutoff = DateTimeOffset.UtcNow - hub.Options.OrphanedOutboxAge;
        var orphaned = session.LeftoverOutbox
            .Where(o => o.Timestamp < cutoff || o.Row.Messages.Any(m => attempted.Contains(m.Message.Id)))
            .Select(o => o.Row)
            .ToList();
        session.LeftoverOutbox.Clear();
        if (orphaned.Count > 0)
        {
            Log.OrphanedOutboxResent(logger, session.InstanceId, orphaned.Sum(r => r.Messages.Count));
            await hub.FlushOutboxAsync(session.InstanceId, orphaned, cancellationToken);
        }
    }

    private async Task DeleteRowsQuietlyAsync(string instanceId, IReadOnlyList<string> keys)
    {
        try
        {
            await hub.Store.DeleteRowsAsync(instanceId, keys, CancellationToken.None);
        }
        catch (Exception ex) when (ex is Azure.RequestFailedException or HttpRequestException or IOException)
        {
            Log.StaleRowCleanupFailed(logger, instanceId, ex.Message);
        }
    }

    private async Task DeleteStaleRowsAsync(string instanceId, IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        if (keys.Count == 0)
        {
            return;
        }

        try
        {
            await hub.Store.DeleteRowsAsync(instanceId, keys, cancellationToken);
        }
        catch (Azure.RequestFailedException ex)
        {
            // Rows of an earlier execution are ignored by every reader; a purge removes them later.
            Log.StaleRowCleanupFailed(logger, instanceId, ex.Message);
        }
    }
}
