using FleetFunctions.Orchestrations.Engine.Storage;

namespace FleetFunctions.Orchestrations.Engine.Processing;

/// <summary>
/// Runs an episode's activities in the process that committed the episode, skipping the work-item queue, while it
/// has free activity capacity. The work items are still part of the checkpoint (outbox rows of their own), so a
/// crash loses nothing: the rows are found orphaned and sent to the work-item queue like any other outbox.
/// </summary>
internal interface ILocalActivityHost
{
    /// <summary>Reserves capacity for up to <paramref name="wanted"/> activities; returns how many may run here.</summary>
    int Reserve(int wanted);

    /// <summary>Gives back reserved capacity that was not used (the commit failed).</summary>
    void Release(int count);

    /// <summary>Runs the committed work items of one outbox row; the row is deleted once every result is recorded.</summary>
    void Run(string instanceId, OutboxRow row);
}
