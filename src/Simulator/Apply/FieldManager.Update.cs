using System.Text.Json.Nodes;

namespace FleetFunctions.Simulator.Apply;

internal sealed partial class FieldManager
{
    /// <summary>
    /// An ordinary write (create, update, merge/JSON patch) by <paramref name="manager"/>: returns
    /// <paramref name="updated"/> with managedFields recording that the manager (operation Update) now owns
    /// every field it changed relative to <paramref name="live"/>, taken from other managers' sets.
    /// </summary>
    public JsonObject Update(JsonObject? live, JsonObject updated, string manager, DateTimeOffset now) =>
        Update(live, updated, manager, now, subresource: null);

    /// <summary>
    /// As <see cref="Update(JsonObject?, JsonObject, string, DateTimeOffset)"/>, for a write through
    /// <paramref name="subresource"/> (<c>"status"</c>: only fields under <c>status</c> are recorded, and
    /// the entry carries <c>subresource: status</c>). The result is a copy; neither input is modified.
    /// Managed fields sent in <paramref name="updated"/> replace the live ones (an empty list resets them),
    /// as the API server allows on the main resource; otherwise the live ones are kept.
    /// </summary>
    public JsonObject Update(JsonObject? live, JsonObject updated, string manager, DateTimeOffset now, string? subresource)
    {
        ArgumentNullException.ThrowIfNull(updated);
        ArgumentException.ThrowIfNullOrEmpty(manager);

        var apiVersion = TextAt(updated, "apiVersion");
        var kind = TextAt(updated, "kind");
        var schema = KubernetesSchemas.ForKind(apiVersion, kind);
        var scope = ScopeOf(apiVersion, kind, subresource);

        var result = (JsonObject)updated.DeepClone();
        var sent = DetachManagedFields(result);
        List<ManagedFieldsEntry> entries;
        var detached = true;
        if (subresource is null && sent is not null)
        {
            entries = ManagedFieldsEntry.Decode(sent);
            if (entries.Count == 0 && sent.Count > 0)
            {
                // Unreadable entries: keep the live ones rather than losing ownership.
                entries = ManagedFieldsEntry.Decode(ManagedFieldsOf(live));
                detached = false;
            }
        }
        else
        {
            entries = ManagedFieldsEntry.Decode(ManagedFieldsOf(live));
            detached = false;
        }

        if (detached)
        {
            sent?.Clear();
        }

        var comparison = Compare(live, result, schema, scope);
        var changed = comparison.Changed();
        if (!changed.IsEmpty)
        {
            foreach (var entry in entries)
            {
                entry.Changed |= entry.Set.ExceptWith(changed);
            }
        }

        RemoveFromOthers(entries, self: null, comparison.Removed);

        StripServerFields(changed);
        if (!changed.IsEmpty)
        {
            var own = entries.Find(e => e.Is(manager, ManagedFieldsEntry.UpdateOperation, apiVersion, subresource));
            if (own is null)
            {
                own = new ManagedFieldsEntry
                {
                    Manager = manager,
                    Operation = ManagedFieldsEntry.UpdateOperation,
                    ApiVersion = apiVersion,
                    Subresource = subresource,
                    Set = changed,
                };
                entries.Add(own);
            }
            else
            {
                own.Set.UnionWith(changed);
            }

            own.Time = ManagedFieldsEntry.FormatTime(now);
            own.Changed = true;
        }

        entries.RemoveAll(e => e.IsEmpty);
        CapUpdateManagers(entries);
        WriteManagedFields(result, entries, detached);
        return result;
    }

    /// <summary>
    /// Merges the oldest Update entries into <c>ancient-changes</c> entries (one per apiVersion) while
    /// there are more than <see cref="FieldManagerOptions.MaxUpdateManagers"/>, as the API server does.
    /// </summary>
    /// <returns>Whether entries were merged.</returns>
    private bool CapUpdateManagers(List<ManagedFieldsEntry> entries)
    {
        const string AncientChanges = "ancient-changes";
        var updaters = entries.Where(e => !e.IsApply).ToList();
        if (updaters.Count <= options.MaxUpdateManagers)
        {
            return false;
        }

        updaters.Sort(static (a, b) =>
        {
            var c = string.CompareOrdinal(a.Time, b.Time);
            return c != 0 ? c : string.CompareOrdinal(a.Manager, b.Manager);
        });

        var remaining = updaters.Count;
        var seenVersions = new HashSet<string>(StringComparer.Ordinal);
        var firstByVersion = new Dictionary<string, ManagedFieldsEntry>(StringComparer.Ordinal);
        foreach (var entry in updaters)
        {
            if (remaining <= options.MaxUpdateManagers)
            {
                break;
            }

            var version = entry.ApiVersion ?? string.Empty;
            if (seenVersions.Add(version))
            {
                firstByVersion[version] = entry;
                continue;
            }

            var bucket = entries.Find(e => e.Is(AncientChanges, ManagedFieldsEntry.UpdateOperation, entry.ApiVersion, null));
            if (ReferenceEquals(bucket, entry))
            {
                continue;
            }

            if (bucket is null)
            {
                // The first entry of this version becomes the bucket.
                var first = firstByVersion[version];
                bucket = new ManagedFieldsEntry
                {
                    Manager = AncientChanges,
                    Operation = ManagedFieldsEntry.UpdateOperation,
                    ApiVersion = first.ApiVersion,
                    Time = first.Time,
                    Set = first.Set,
                };
                entries[entries.IndexOf(first)] = bucket;
            }

            bucket.Set.UnionWith(entry.Set);
            bucket.Time = entry.Time;
            bucket.Changed = true;
            entries.Remove(entry);
            remaining--;
        }

        return true;
    }
}
