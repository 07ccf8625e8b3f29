namespace FleetFunctions.Orchestrations.Rollouts;

/// <summary>
/// Lists in the messages people read (a delivery's outcome, a rollout's reason): a push to a source that a thousand
/// fleets follow, or a commit that fails on every cluster of a large fleet, must not make a message of hundreds of KB.
/// </summary>
internal static class MessageList
{
    /// <summary>How many entries a message names.</summary>
    internal const int ListedInMessage = 20;

    /// <summary>The first <see cref="ListedInMessage"/> entries and a count of the rest.</summary>
    internal static string Listed(IReadOnlyList<string> entries) =>
        entries.Count <= ListedInMessage
            ? string.Join("; ", entries)
            : string.Join("; ", entries.Take(ListedInMessage)) + $"; and {entries.Count - ListedInMessage} more";
}
