using System.Runtime.ExceptionServices;
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

    /// <summary>
    /// Planning an episode again replays the whole history (the orchestrator kept from the last plan went with it):
    /// past this many events a replay costs about what the commit it saves waiting for does, so later arrivals wait.
    /// </summary>
    private const int MaxHistoryToPlanAgain = 2_000;

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
        var single = new SingleInput(outboxRowsDone);
        await ProcessAsync(instanceId, new EpisodeInput(messages), single, cancellationToken);
        return single.Committed;
    }

    /// <summary>
    /// Processes <paramref name="first"/>, then, while each commit is in flight, what <paramref name="feed"/> has
    /// waiting: that episode is planned on top of the one being committed (its local activities started too; planned
    /// again with later arrivals while it has started none) and committed as soon as the previous commit succeeded,
    /// so a message that arrives during a commit does not wait for it before the orchestrator sees it. Each input is
    /// reported to <see cref="IEpisodeFeed.Recorded"/> once recorded; when this throws, the inputs not reported are the
    /// caller's to fail. A failed or conflicting commit drops what was planned on top of it: its activities are
    /// cancelled and its messages planned again with the failed ones.
    /// </summary>
    public async Task ProcessAsync(string instanceId, EpisodeInput first, IEpisodeFeed feed, CancellationToken cancellationToken)
    {
        var inputs = new List<EpisodeInput> { first };

        // Message ids of a commit whose outcome is unknown (a retried request may have succeeded before failing).
        var attempted = new HashSet<string>(StringComparer.Ordinal);
        for (var attempt = 1; ; attempt++)
        {
            var session = cache.TryTake(instanceId) ?? await LoadAsync(instanceId, cancellationToken);
            try
            {
                await FlushOrphanedOutboxAsync(session, attempted, cancellationToken);
                PreparedEpisode? ready = null;
                while (true)
                {
                    if (ready is null)
                    {
                        var plan = await PlanAsync(session, Messages(inputs), cancellationToken);
                        if (plan is null)
                        {
                            cache.Put(session);
                            feed.Recorded(inputs, [], committed: false);
                            return;
                        }

                        if (plan.NeedsFreshLoad)
                        {
                            break;
                        }

                        ready = Prepare(instanceId, inputs, plan);
                    }

                    if (await CommitAsync(session, ready, feed, attempted, cancellationToken) is not { } next)
                    {
                        return;
                    }

                    (inputs, ready) = next;
                }
            }
            catch (CheckpointConflictException ex) when (attempt < MaxAttempts)
            {
                // A create that conflicts found the id taken, unless its own commit went through and only the reply
                // was lost (a retried request): then it is loaded and gone on with like any conflict.
                if (session.Creating && (await hub.Store.ReadStateAsync(instanceId, cancellationToken))?.State.ExecutionId != session.State!.ExecutionId)
                {
                    throw new InstanceIdTakenException(instanceId, ex);
                }

                Log.CheckpointConflict(logger, instanceId, attempt, ex.Message);
                await Task.Delay(Random.Shared.Next(1, 20 * attempt), cancellationToken);
            }
        }
    }

    /// <summary>An episode planned and ready to commit, its local activities already started.</summary>
    private sealed record PreparedEpisode(List<EpisodeInput> Inputs, EpisodePlan Plan, Checkpoint Checkpoint, ILocalRun? Local);

    private PreparedEpisode Prepare(string instanceId, List<EpisodeInput> inputs, EpisodePlan plan)
    {
        var checkpoint = KeepWorkLocal(plan.Checkpoint);
        var local = checkpoint.LocalWork.Count > 0 ? localActivities!.Start(instanceId, checkpoint.LocalWork) : null;
        return new PreparedEpisode(inputs, plan, checkpoint, local);
    }

    /// <summary>
    /// Commits <paramref name="episode"/>, plans what arrives meanwhile on top of it, then brings the session up to
    /// date, sends the outbox and reports the inputs recorded. Returns the next episode: prepared when it could be
    /// planned ahead, otherwise only its inputs (to plan on the session now); null when nothing arrived.
    /// </summary>
    private async Task<(List<EpisodeInput> Inputs, PreparedEpisode? Ready)?> CommitAsync(
        InstanceSession session, PreparedEpisode episode, IEpisodeFeed feed, HashSet<string> attempted, CancellationToken cancellationToken)
    {
        var instanceId = session.InstanceId;
        var plan = episode.Plan;
        attempted.UnionWith(plan.Checkpoint.Outbox.Select(m => m.Message.Id));
        var rowsDone = feed.OutboxRowsDone(episode.Inputs);
        var commit = CommitCheckpointAsync(instanceId, episode.Checkpoint with { OutboxDeletes = rowsDone }, cancellationToken);

        List<EpisodeInput>? aheadInputs = null;
        PreparedEpisode? ahead = null;
        ExceptionDispatchInfo? aheadFailure = null;

        // What arrives while the commit is in flight is planned on top of it as one episode, planned again with each
        // later arrival for as long as that episode has started nothing: the last of a batch of results (the one the
        // orchestrator waits for) then starts its activities at once instead of waiting for this commit.
        while (CanPlanAhead(plan) && !commit.IsCompleted && aheadFailure is null
            && (aheadInputs is null || (ahead is { Local: null } && session.History.Count <= MaxHistoryToPlanAgain)))
        {
            var arrived = feed.WaitAsync(cancellationToken);
            var taken = aheadInputs?.Sum(i => i.Messages.Count) ?? 0;
            if (await Task.WhenAny(commit, arrived) != arrived || commit.IsCompleted || feed.TryTake(taken) is not { } more)
            {
                break;
            }

            if (aheadInputs is null)
            {
                // Assume the commit succeeds; if it does not, everything planned here is dropped with the session.
                plan.ApplyAhead(session);
                aheadInputs = [];
            }

            aheadInputs.Add(more);
            ahead = null;
            try
            {
                // An episode that leaves the execution is planned again once this commit has settled.
                if (await PlanAsync(session, Messages(aheadInputs), cancellationToken) is { NeedsFreshLoad: false, StaysInExecution: true } aheadPlan)
                {
                    ahead = Prepare(instanceId, aheadInputs, aheadPlan);
                }
            }
            catch (Exception ex)
            {
                aheadFailure = ExceptionDispatchInfo.Capture(ex);
            }
        }

        CommitResult result;
        try
        {
            result = await commit;
        }
        catch
        {
            episode.Local?.Abandon();
            ahead?.Local?.Abandon();
            episode.Inputs.AddRange(aheadInputs ?? []);
            throw;
        }

        episode.Local?.Committed(result.LocalOutbox);
        if (aheadInputs is null)
        {
            plan.ApplyTo(session, result);
        }
        else
        {
            plan.Settle(session, result);
        }

        Log.EpisodeCommitted(logger, instanceId, plan.Checkpoint.State.Status, episode.Inputs.Sum(i => i.Messages.Count), plan.Checkpoint.Outbox.Count);
        try
        {
            await hub.SendAllAsync(result.Outbox.SelectMany(r => r.Messages), cancellationToken);
            feed.Recorded(episode.Inputs, rowsDone, committed: true);

            // Sent: deleting the rows is off the critical path (rows left by a crash here are resent, and deduplicated).
            _ = DeleteRowsAsync(instanceId, [.. result.Outbox.Select(r => r.RowKey)], "sent outbox rows (resent later and dropped as duplicates)", CancellationToken.None);

            // Rows of an earlier execution are ignored by every reader; a purge removes them later.
            await DeleteRowsAsync(instanceId, plan.DiscardsHistory ? [.. plan.StaleRowKeys, .. result.HistoryRowKeys] : plan.StaleRowKeys, "rows of a finished execution (ignored by every reader; a purge removes them)", cancellationToken);
        }
        catch
        {
            // Not put back in the cache: the next load sees unsent outbox rows.
            ahead?.Local?.Abandon();
            throw;
        }

        aheadFailure?.Throw();
        if (aheadInputs is null)
        {
            cache.Put(session);
            return null;
        }

        return (aheadInputs, ahead is null ? null : ahead with { Checkpoint = ahead.Checkpoint with { ExpectedETag = result.ETag } });
    }

    /// <summary>Whether the next episode may be planned before <paramref name="plan"/> commits: not across the end of an execution.</summary>
    private static bool CanPlanAhead(EpisodePlan plan) => plan.StaysInExecution && !plan.Checkpoint.State.Status.IsTerminal();

    private async Task<CommitResult> CommitCheckpointAsync(string instanceId, Checkpoint checkpoint, CancellationToken cancellationToken)
    {
        if (hub.Options.FaultInjection?.BeforeCommit is { } beforeCommit)
        {
            await beforeCommit(instanceId, checkpoint.Outbox.Count(m => m.Queue == TaskHubQueue.WorkItems) + checkpoint.LocalWork.Count);
        }

        return await hub.Store.CommitAsync(checkpoint, cancellationToken);
    }

    private static List<TaskMessage> Messages(List<EpisodeInput> inputs) => inputs.SelectMany(i => i.Messages).DistinctBy(m => m.Id).ToList();

    /// <summary>The feed of a single input: nothing more arrives, the caller learns whether it was committed.</summary>
    private sealed class SingleInput(IReadOnlyList<string> outboxRowsDone) : IEpisodeFeed
    {
        private static readonly Task Never = new TaskCompletionSource().Task;

        public bool Committed { get; private set; }

        public Task WaitAsync(CancellationToken cancellationToken) => Never;

        public EpisodeInput? TryTake(int taken) => null;

        public IReadOnlyList<string> OutboxRowsDone(IReadOnlyList<EpisodeInput> inputs) => outboxRowsDone;

        public void Recorded(IReadOnlyList<EpisodeInput> inputs, IReadOnlyList<string> rowsDeleted, bool committed) => Committed = committed;
    }

    private async Task<InstanceSession> LoadAsync(string instanceId, CancellationToken cancellationToken)
    {
        var session = await hub.Store.LoadAsync(instanceId, cancellationToken);
        Log.PartitionLoaded(logger, instanceId, session.History.Count, session.Inbox.Count);
        return session;
    }

    /// <summary>
    /// Takes an instance a client of this process is about to create (<paramref name="state"/>, pending, not stored) as
    /// loaded: its first episode's commit creates it, state row, history and work items in one transaction, instead
    /// of the client's create and then that commit. A conflict there throws <see cref="InstanceIdTakenException"/>.
    /// </summary>
    public void SeedNew(InstanceState state) => cache.Put(new InstanceSession(state.InstanceId) { State = state, Creating = true });

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

    private async Task DeleteRowsAsync(string instanceId, IReadOnlyList<string> keys, string what, CancellationToken cancellationToken)
    {
        if (keys.Count > 0 && await hub.Store.TryDeleteRowsAsync(instanceId, keys, cancellationToken) is { } failure)
        {
            Log.RowCleanupFailed(logger, instanceId, what, failure);
        }
    }
}
