using FleetFunctions.Orchestrations.Engine.History;
using FleetFunctions.Orchestrations.Engine.Storage;

namespace FleetFunctions.Orchestrations.Engine.Processing;

/// <summary>
/// Runs an episode's activities in the process that commits the episode, skipping the work-item queue, while it
/// has free activity capacity. The work items are still part of the checkpoint (outbox rows of their own), so a
/// crash loses nothing: the rows are found orphaned and sent to the work-item queue like any other outbox.
/// </summary>
internal interface ILocalActivityHost
{
    /// <summary>Reserves capacity for up to <paramref name="wanted"/> activities; returns how many may run here.</summary>
    int Reserve(int wanted);

    /// <summary>
    /// Starts reserved work items while their checkpoint is being committed, so an activity does not wait for the
    /// commit. Nothing of it becomes visible before the commit: each result is held until
    /// <see cref="ILocalRun.Committed"/>, and dropped (the activity cancelled) on <see cref="ILocalRun.Abandon"/>.
    /// An activity may therefore run for a checkpoint that never commits; activities are at-least-once already.
    /// </summary>
    ILocalRun Start(string instanceId, IReadOnlyList<OutboundMessage> workItems);
}

/// <summary>The work items of one checkpoint, started before its commit finished.</summary>
internal interface ILocalRun
{
    /// <summary>The checkpoint committed: results are recorded, and each row is deleted once all its results are.</summary>
    void Committed(IReadOnlyList<OutboxRow> rows);

    /// <summary>The checkpoint did not commit: the work items are cancelled and their results dropped.</summary>
    void Abandon();
}
