using System.Text.Json.Nodes;

namespace FleetFunctions.Simulator.Apply;

/// <summary>
/// Structured merge and field ownership for one object, as the Kubernetes API server does it:
/// server-side apply (<see cref="Apply"/>) and ownership tracking for ordinary writes (<see cref="Update(JsonObject?, JsonObject, string, DateTimeOffset)"/>).
/// Pure: no storage, no clock, no I/O. The caller owns metadata such as uid, resourceVersion, generation
/// and creationTimestamp, and status handling. Thread-safe: instances hold only immutable options.
/// </summary>
/// <remarks>
/// For kinds whose <c>status</c> is a subresource (<see cref="FieldManagerOptions.HasStatusSubresource"/>),
/// writes to the main resource never own or change ownership of <c>status</c>: Apply ignores a
/// <c>status</c> in the configuration and keeps the live one; Update does not record it, so the caller
/// should copy the live status into the updated object as the API server does. Status writes go through
/// <see cref="Update(JsonObject?, JsonObject, string, DateTimeOffset, string?)"/> with subresource
/// <c>"status"</c>, which records only fields under <c>status</c> (Apply has the same overload).
/// <para>
/// Neither method modifies its inputs and results share no nodes with them, so the caller may pass stored
/// objects directly. Merge rules come from <see cref="KubernetesSchemas"/> (built-in kinds of Kubernetes
/// 1.32); custom resources merge objects per field and replace lists whole. Managed fields sent in an
/// Update body are honoured (kubectl's client-side to server-side migration rewrites them with a JSON
/// patch); an applied configuration's managed fields are ignored (the API server rejects them with 400
/// <c>metadata.managedFields must be nil</c> before apply runs).
/// </para>
/// </remarks>
internal sealed partial class FieldManager
{
    private readonly FieldManagerOptions options;

    public FieldManager(FieldManagerOptions? options = null)
    {
        this.options = options ?? new FieldManagerOptions();
    }

    /// <summary>
    /// Server-side apply of <paramref name="applied"/> by <paramref name="manager"/> onto <paramref name="live"/>
    /// (null when the object does not exist yet). Returns the merged object with <c>metadata.managedFields</c>
    /// updated, or the conflicts with other managers when <paramref name="force"/> is false.
    /// When nothing changes (same values, same field set for this manager) the result is JSON-equal to
    /// <paramref name="live"/>, including the manager's managedFields entry and its time.
    /// Neither input is modified. Throws <see cref="FieldManagerException"/> when the configuration has an
    /// associative-list item without its key or two items with the same key (the API server's 500
    /// <c>failed to create typed patch object</c>).
    /// </summary>
    public ApplyResult Apply(JsonObject? live, JsonObject applied, string manager, bool force, DateTimeOffset now) =>
        Apply(live, applied, manager, force, now, subresource: null);

    /// <summary>
    /// As <see cref="Apply(JsonObject?, JsonObject, string, bool, DateTimeOffset)"/>, through
    /// <paramref name="subresource"/>: with <c>"status"</c> only the configuration's <c>status</c> is merged
    /// and owned, by an Apply entry carrying <c>subresource: status</c> (kubectl <c>--subresource=status</c>).
    /// </summary>
    public ApplyResult Apply(JsonObject? live, JsonObject applied, string manager, bool force, DateTimeOffset now, string? subresource)
    {
        ArgumentNullException.ThrowIfNull(applied);
        ArgumentException.ThrowIfNullOrEmpty(manager);

        var apiVersion = TextAt(applied, "apiVersion");
        var kind = TextAt(applied, "kind");
        var schema = KubernetesSchemas.ForKind(apiVersion, kind);
        var scope = ScopeOf(apiVersion, kind, subresource);

        var config = ConfigFor(applied, scope);
        var appliedSet = FieldSetBuilder.Build(config, schema);

        var merged = live is null ? new JsonObject() : (JsonObject)live.DeepClone();
        var liveManagedFields = DetachManagedFields(merged);
        var entries = ManagedFieldsEntry.Decode(liveManagedFields);
        liveManagedFields?.Clear();
        StructuredMerge.MergeInto(merged, config, schema);

        var applier = entries.Find(e => e.Is(manager, ManagedFieldsEntry.ApplyOperation, null, subresource));
        if (applier is not null && !applier.Set.IsSubsetOf(appliedSet))
        {
            var owners = new List<FieldSet>(entries.Count) { appliedSet };
            owners.AddRange(entries.Where(e => !ReferenceEquals(e, applier)).Select(e => e.Set));
            Pruner.Prune(merged, applier.Set, owners, schema);
        }

        var comparison = Compare(live, merged, schema, scope);
        var changed = comparison.Changed();
        var conflicts = new List<FieldConflict>();
        var conflictSets = new List<(ManagedFieldsEntry Entry, FieldSet Fields)>();
        foreach (var entry in entries)
        {
            if (ReferenceEquals(entry, applier) || changed.IsEmpty)
            {
                continue;
            }

            var conflicting = entry.Set.Intersect(changed);
            if (!conflicting.IsEmpty)
            {
                conflictSets.Add((entry, conflicting));
                conflicts.AddRange(conflicting.ToDisplayPaths().Select(field => new FieldConflict(entry.Manager, field)
                {
                    Operation = entry.Operation,
                    ApiVersion = entry.ApiVersion,
                    Subresource = entry.Subresource,
                }));
            }
        }

        if (conflicts.Count > 0 && !force && !ConflictsAllowedByLastApplied(live, manager, conflictSets, schema))
        {
            return new ApplyResult(null, [.. conflicts.OrderBy(c => c.Manager, StringComparer.Ordinal)]);
        }

        foreach (var (entry, fields) in conflictSets)
        {
            entry.Changed |= entry.Set.ExceptWith(fields);
        }

        RemoveFromOthers(entries, applier, comparison.Removed);

        StripServerFields(appliedSet);
        if (applier is null)
        {
            if (!appliedSet.IsEmpty)
            {
                applier = new ManagedFieldsEntry
                {
                    Manager = manager,
                    Operation = ManagedFieldsEntry.ApplyOperation,
                    ApiVersion = apiVersion,
                    Subresource = subresource,
                    Set = appliedSet,
                    Changed = true,
                };
                entries.Add(applier);
            }
        }
        else if (!applier.Set.SetEquals(appliedSet) || applier.ApiVersion != apiVersion)
        {
            applier.Set = appliedSet;
            applier.ApiVersion = apiVersion;
            applier.Changed = true;
        }

        SyncLastApplied(live, merged, applied, manager);
        var managersChanged = entries.RemoveAll(e => e.IsEmpty) > 0 | CapUpdateManagers(entries) | entries.Exists(e => e.Changed);
        if (live is not null && comparison.IsSame && !managersChanged && IsUnchanged(live, merged, entries))
        {
            return new ApplyResult(merged, []);
        }

        if (applier is not null && entries.Contains(applier))
        {
            applier.Time = ManagedFieldsEntry.FormatTime(now);
            applier.Changed = true;
        }

        WriteManagedFields(merged, entries, originalsAreDetached: true);
        return new ApplyResult(merged, []);
    }
}

/// <summary>Options of a <see cref="FieldManager"/>; the defaults behave like a Kubernetes 1.32 API server.</summary>
internal sealed record FieldManagerOptions
{
    /// <summary>
    /// Whether objects of (apiVersion, kind) have a <c>status</c> subresource, so that <c>status</c> is not
    /// owned through the main resource. Default: the built-in kinds that have one; false for custom
    /// resources (pass a function that knows the CRDs).
    /// </summary>
    public Func<string?, string?, bool> HasStatusSubresource { get; init; } = KubernetesSchemas.HasStatusSubresource;

    /// <summary>At most this many Update entries are kept; older ones merge into <c>ancient-changes</c> (API server default 10).</summary>
    public int MaxUpdateManagers { get; init; } = 10;
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
internal sealed record FieldConflict(string Manager, string Field)
{
    /// <summary>The other manager's operation: <c>Apply</c> or <c>Update</c>.</summary>
    public string Operation { get; init; } = ManagedFieldsEntry.ApplyOperation;

    /// <summary>The apiVersion of the other manager's entry.</summary>
    public string? ApiVersion { get; init; }

    /// <summary>The subresource of the other manager's entry, if any.</summary>
    public string? Subresource { get; init; }

    /// <summary>The manager as the API server prints it: <c>"kubectl-edit" using apps/v1</c> for updates, <c>"flux"</c> for appliers.</summary>
    public string DescribeManager()
    {
        var text = Quote(Manager);
        if (!string.IsNullOrEmpty(Subresource))
        {
            text += " with subresource " + Quote(Subresource);
        }

        return Operation == ManagedFieldsEntry.UpdateOperation ? $"{text} using {ApiVersion}" : text;
    }

    /// <summary>The message of a conflict cause in the 409 Status: <c>conflict with "kubectl-edit" using apps/v1</c>.</summary>
    public string CauseMessage => "conflict with " + DescribeManager();

    /// <summary>The message of the 409 Status, as the API server words it.</summary>
    public static string FormatMessage(IReadOnlyList<FieldConflict> conflicts)
    {
        ArgumentNullException.ThrowIfNull(conflicts);
        if (conflicts.Count == 1)
        {
            return $"Apply failed with 1 conflict: {conflicts[0].CauseMessage}: {conflicts[0].Field}";
        }

        var lines = new List<string>();
        foreach (var group in conflicts.GroupBy(c => c.DescribeManager()).OrderBy(g => g.First().Manager, StringComparer.Ordinal))
        {
            lines.Add($"conflicts with {group.Key}:");
            lines.AddRange(group.Select(c => "- " + c.Field));
        }

        return $"Apply failed with {conflicts.Count} conflicts: {string.Join("\n", lines)}";
    }

    private static string Quote(string value) => "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}
