using System.Text.Json.Nodes;

namespace FleetFunctions.Simulator.Apply;

/// <summary>
/// Structured merge and field ownership for one object, as the Kubernetes API server does it:
/// server-side apply (<see cref="Apply"/>) and ownership tracking for ordinary writes (<see cref="Update"/>).
/// Pure: no storage, no clock, no I/O. The caller owns metadata such as uid, resourceVersion, generation
/// and creationTimestamp, and status handling.
/// </summary>
internal sealed class FieldManager
{
    /// <summary>
    /// Server-side apply of <paramref name="applied"/> by <paramref name="manager"/> onto <paramref name="live"/>
    /// (null when the object does not exist yet). Returns the merged object with <c>metadata.managedFields</c>
    /// updated, or the conflicts with other managers when <paramref name="force"/> is false.
    /// When nothing changes (same values, same field set for this manager) the result is JSON-equal to
    /// <paramref name="live"/>, including the manager's managedFields entry and its time.
    /// </summary>
    public ApplyResult Apply(JsonObject? live, JsonObject applied, string manager, bool force, DateTimeOffset now) =>
        throw new NotImplementedException("interface placeholder; replaced by the SSA implementation");

    /// <summary>
    /// An ordinary write (create, update, merge/JSON patch) by <paramref name="manager"/>: returns
    /// <paramref name="updated"/> with managedFields recording that the manager (operation Update) now owns
    /// every field it changed relative to <paramref name="live"/>, taken from other managers' sets.
    /// </summary>
    public JsonObject Update(JsonObject? live, JsonObject updated, string manager, DateTimeOffset now) =>
        throw new NotImplementedException("interface placeholder; replaced by the SSA implementation");
}

/// <summary>Outcome of an apply: the merged object, or the conflicts that prevented it.</summary>
internal sealed record ApplyResult(JsonObject? Merged, IReadOnlyList<FieldConflict> Conflicts)
{
    public bool HasConflicts => Conflicts.Count > 0;
}

/// <summary>
/// A field that another manager owns with a different value. <see cref="Field"/> is formatted as the
/// API server formats it in a conflict cause, e.g. <c>.spec.replicas</c> or
/// <c>.spec.template.spec.containers[name="app"].image</c>.
/// </summary>
internal sealed record FieldConflict(string Manager, string Field);
