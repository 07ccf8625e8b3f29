using FleetFunctions.Core.Manifests;

namespace FleetFunctions.Core.Apply;

/// <summary>What happened to one object.</summary>
public enum ChangeAction
{
    /// <summary>The object did not exist and was created.</summary>
    Created,

    /// <summary>The object existed and was changed.</summary>
    Configured,

    /// <summary>The object already matched Git; nothing was written.</summary>
    Unchanged,

    /// <summary>The object was deleted (prune, or recreate).</summary>
    Deleted,

    /// <summary>The object was deliberately not touched (prune disabled, earlier stage failed).</summary>
    Skipped,

    /// <summary>Applying or deleting the object failed; <see cref="ObjectChange.Message"/> says why.</summary>
    Failed,
}

/// <summary>
/// One object's outcome. <see cref="Checksum"/> is the checksum of what was applied (for the inventory).
/// <see cref="DriftedFields"/> lists fields that had drifted from an unchanged Git definition (and were re-applied by this
/// apply); <see cref="KeptFields"/> those of them the server still holds differently after the write.
/// </summary>
public sealed record ObjectChange(ObjectReference Reference, string ApiVersion, ChangeAction Action, string? Message = null, string Checksum = "")
{
    public IReadOnlyList<string> DriftedFields { get; init; } = [];

    /// <summary>
    /// Drifted fields the object the server returned for the re-apply still holds differently from Git: an admission
    /// webhook put its value back (or the server does not store the value as Git writes it), so the drift was not healed.
    /// An Unchanged object with drifted fields keeps them all (the server stored nothing new).
    /// </summary>
    public IReadOnlyList<string> KeptFields { get; init; } = [];

    /// <summary>True when the object was deleted and created again because an immutable field changed (<see cref="ApplyOptions.Recreate"/>).</summary>
    public bool Recreated { get; init; }

    /// <summary>
    /// True for a Failed object that is on the cluster as applied (a CRD applied but not seen Established): the inventory
    /// keeps it, so that a later prune still sees it.
    /// </summary>
    public bool Applied { get; init; }

    /// <summary>
    /// True for a Failed object whose failure may pass by itself (the cluster unreachable, the API server throttling or
    /// failing, an object still terminating when the wait for it ended): the same reconcile, retried later, may succeed
    /// without a change in Git.
    /// </summary>
    public bool IsTransient { get; init; }

    /// <summary>Health seen in the object the server returned for this apply, or read while checking an Unchanged object (saves a second read); null when nothing was read or written.</summary>
    public Health.ObjectHealth? Health { get; init; }

    /// <summary>A Failed change for a cluster error: transient when the cluster was unreachable or the API server throttled or failed.</summary>
    public static ObjectChange FailedBy(ObjectReference reference, string apiVersion, Exception error, string checksum) =>
        new(reference, apiVersion, ChangeAction.Failed, error.Message, checksum) { IsTransient = IsTransientError(error) };

    /// <summary>Whether <paramref name="error"/> may pass by itself: an unreachable cluster, or a throttling or failing API server.</summary>
    public static bool IsTransientError(Exception error) => error is Clusters.ClusterUnreachableException or Clusters.KubernetesApiException { IsTransient: true };

    public override string ToString() => Message is null ? $"{Reference} {Action.ToString().ToLowerInvariant()}" : $"{Reference} {Action.ToString().ToLowerInvariant()}: {Message}";
}

/// <summary>The outcome of an apply or prune: one entry per object, in the order they were processed.</summary>
public sealed record ChangeSet(IReadOnlyList<ObjectChange> Changes)
{
    public static ChangeSet Empty { get; } = new([]);

    public int Count(ChangeAction action) => Changes.Count(c => c.Action == action);

    public IEnumerable<ObjectChange> Failures => Changes.Where(c => c.Action == ChangeAction.Failed);

    public bool HasFailures => Changes.Any(c => c.Action == ChangeAction.Failed);

    /// <summary>True when something failed and every failure may pass by itself (<see cref="ObjectChange.IsTransient"/>): worth retrying as it is.</summary>
    public bool FailedTransiently => HasFailures && Failures.All(f => f.IsTransient);

    /// <summary>True when something was created, configured or deleted.</summary>
    public bool HasChanges => Changes.Any(c => c.Action is ChangeAction.Created or ChangeAction.Configured or ChangeAction.Deleted);

    public override string ToString() =>
        $"{Count(ChangeAction.Created)} created, {Count(ChangeAction.Configured)} configured, {Count(ChangeAction.Unchanged)} unchanged, " +
        $"{Count(ChangeAction.Deleted)} deleted, {Count(ChangeAction.Skipped)} skipped, {Count(ChangeAction.Failed)} failed";
}
