using FleetFunctions.Orchestrations.Engine.History;
using FleetFunctions.Orchestrations.Engine.Storage;

namespace FleetFunctions.Orchestrations.Engine.Processing;

/// <summary>The outcome of planning an episode: the checkpoint to commit and what to clean up afterwards.</summary>
internal sealed class EpisodePlan
{
    public static readonly EpisodePlan Reload = new() { NeedsFreshLoad = true };

    public Checkpoint Checkpoint { get; init; } = null!;

    /// <summary>Rows of a finished execution (ContinueAsNew, restart), deleted after the commit.</summary>
    public IReadOnlyList<string> StaleRowKeys { get; init; } = [];

    /// <summary>A decision depended on cached data that may be stale: load the partition and plan again.</summary>
    public bool NeedsFreshLoad { get; init; }

    /// <summary>ContinueAsNew: the history just written belongs to a finished execution and is deleted after the commit.</summary>
    public bool DiscardsHistory { get; init; }

    /// <summary>True when the episode started a new execution (history restarts).</summary>
    public bool NewExecution { get; init; }

    /// <summary>
    /// The episode stays within its execution's history: no new execution, no ContinueAsNew, no rows to clean up (those
    /// need the committed history's row keys, so nothing is planned on top of them before their commit returns).
    /// </summary>
    public bool StaysInExecution => !NewExecution && !DiscardsHistory && StaleRowKeys.Count == 0;

    /// <summary>The orchestrator after this episode, still running: kept with the session once the commit succeeded.</summary>
    public Replay.LiveExecution? Live { get; init; }

    /// <summary>Brings the cached session up to date with what was committed.</summary>
    public void ApplyTo(InstanceSession session, CommitResult result)
    {
        ApplyAhead(session);
        Settle(session, result);
    }

    /// <summary>
    /// Everything the commit changes in the session but what only its result tells (<see cref="Settle"/>): lets the
    /// next episode be planned while this one is still committing.
    /// </summary>
    public void ApplyAhead(InstanceSession session)
    {
        session.State = Checkpoint.State;
        session.FromCache = false;
        if (DiscardsHistory)
        {
            // ContinueAsNew: the committed rows belong to the finished execution.
            session.ResetHistory();
            session.HistoryRowKeys.Clear();
        }
        else
        {
            if (NewExecution)
            {
                session.ResetHistory();
                session.HistoryRowKeys.Clear();
            }

            session.AppendHistory(Checkpoint.NewHistory);
            if (Live is not null)
            {
                Live.HistoryCount = session.History.Count;
                session.Live = Live;
            }
        }

        var deleted = Checkpoint.InboxDeletes.ToHashSet(StringComparer.Ordinal);
        session.Inbox.RemoveAll(r => deleted.Contains(r.RowKey));
        foreach (var parked in Checkpoint.InboxParks)
        {
            session.Inbox.Add(new InboxRow(InstanceStore.InboxRowKey(parked.Id), parked));
        }
    }

    /// <summary>The rest of <see cref="ApplyTo"/> once the commit returned: the new ETag and the history rows written.</summary>
    public void Settle(InstanceSession session, CommitResult result)
    {
        session.ETag = result.ETag;
        session.Creating = false;
        if (!DiscardsHistory)
        {
            session.HistoryRowKeys.AddRange(result.HistoryRowKeys);
        }
    }
}
