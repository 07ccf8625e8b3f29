using FleetFunctions.Orchestrations.Engine.History;

namespace FleetFunctions.Orchestrations.Engine.Processing;

/// <summary>Messages for one instance taken together for an episode; <see cref="Tag"/> is the feed's own bookkeeping.</summary>
internal sealed class EpisodeInput(IReadOnlyList<TaskMessage> messages, object? tag = null)
{
    public IReadOnlyList<TaskMessage> Messages { get; } = messages;

    public object? Tag { get; } = tag;
}

/// <summary>
/// Where an instance's messages come from while its episodes run, so the processor can plan the next episode while
/// the previous one is still committing. The processor calls it from one episode at a time.
/// </summary>
internal interface IEpisodeFeed
{
    /// <summary>Completes when messages are waiting to be taken.</summary>
    Task WaitAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Takes the waiting messages as one input, or null when none are waiting; <paramref name="taken"/> messages are
    /// already in the episode this input joins, so it holds no more than an episode's limit less those.
    /// </summary>
    EpisodeInput? TryTake(int taken = 0);

    /// <summary>Outbox rows of local work that a commit recording <paramref name="inputs"/> may delete (their last results are among them).</summary>
    IReadOnlyList<string> OutboxRowsDone(IReadOnlyList<EpisodeInput> inputs);

    /// <summary>
    /// <paramref name="inputs"/> are recorded: committed (with <paramref name="rowsDeleted"/> deleted by the same commit),
    /// or dropped as duplicates or stale (<paramref name="committed"/> false, nothing written).
    /// </summary>
    void Recorded(IReadOnlyList<EpisodeInput> inputs, IReadOnlyList<string> rowsDeleted, bool committed);
}
