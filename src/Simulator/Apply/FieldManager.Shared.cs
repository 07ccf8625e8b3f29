using System.Text.Json;
using System.Text.Json.Nodes;

namespace FleetFunctions.Simulator.Apply;

internal sealed partial class FieldManager
{
    private static readonly PathElement StatusField = PathElement.Field("status");

    /// <summary>
    /// Fields the API server never records as owned (its "strip meta" set): type information, identity and
    /// server-maintained metadata. Only the members themselves go; <c>metadata.labels</c> stays owned.
    /// </summary>
    private static readonly PathElement[][] ServerFields =
    [
        [PathElement.Field("apiVersion")],
        [PathElement.Field("kind")],
        [PathElement.Field("metadata")],
        .. new[] { "name", "namespace", "creationTimestamp", "selfLink", "uid", "clusterName", "generation", "managedFields", "resourceVersion" }
            .Select(name => new[] { PathElement.Field("metadata"), PathElement.Field(name) }),
    ];

    private static readonly PathElement[] ManagedFieldsPath = [PathElement.Field("metadata"), PathElement.Field("managedFields")];

    /// <summary>Which part of the object a write may own, given the status subresource.</summary>
    private enum StatusScope
    {
        /// <summary>No status subresource: status is an ordinary field.</summary>
        Included,

        /// <summary>Main resource of a kind with a status subresource: status is not owned through it.</summary>
        Excluded,

        /// <summary>The status subresource: only status is owned through it.</summary>
        Only,
    }

    private static Comparison Compare(JsonObject? before, JsonObject after, TypeSchema schema, StatusScope scope)
    {
        var comparison = StructuredCompare.Compare(
            before ?? new JsonObject(),
            after,
            schema,
            KubernetesSchemas.EmptyObject(TextAt(after, "apiVersion"), TextAt(after, "kind")));
        comparison.Added.RemoveMember(ManagedFieldsPath);
        comparison.Modified.RemoveMember(ManagedFieldsPath);
        comparison.Removed.RemoveMember(ManagedFieldsPath);
        switch (scope)
        {
            case StatusScope.Excluded:
                comparison.ExcludeTopLevel(StatusField);
                break;
            case StatusScope.Only:
                comparison.KeepOnlyTopLevel(StatusField);
                break;
        }

        return comparison;
    }

    /// <summary>
    /// Whether <paramref name="merged"/> with the managed fields as read is exactly <paramref name="live"/>
    /// (list order included, as the API server's no-op check). When true, <paramref name="merged"/> keeps
    /// them; otherwise it is left without managed fields.
    /// </summary>
    private static bool IsUnchanged(JsonObject live, JsonObject merged, List<ManagedFieldsEntry> entries)
    {
        if (merged["metadata"] is not JsonObject metadata)
        {
            return false;
        }

        var restored = new JsonArray();
        foreach (var entry in entries)
        {
            restored.Add(entry.Original);
        }

        metadata["managedFields"] = restored;
        if (CanonicalJson.Equal(live, merged))
        {
            return true;
        }

        metadata.Remove("managedFields");
        restored.Clear();
        return false;
    }

    /// <summary>Fields removed from the object are no longer owned by anyone.</summary>
    private static void RemoveFromOthers(List<ManagedFieldsEntry> entries, ManagedFieldsEntry? self, FieldSet removed)
    {
        if (removed.IsEmpty)
        {
            return;
        }

        foreach (var entry in entries)
        {
            if (!ReferenceEquals(entry, self))
            {
                entry.Changed |= entry.Set.ExceptWith(removed);
            }
        }
    }

    private static void StripServerFields(FieldSet set)
    {
        foreach (var path in ServerFields)
        {
            set.RemoveMember(path);
        }
    }

    private StatusScope ScopeOf(string? apiVersion, string? kind, string? subresource) =>
        subresource == "status"
            ? StatusScope.Only
            : options.HasStatusSubresource(apiVersion, kind) ? StatusScope.Excluded : StatusScope.Included;

    /// <summary>
    /// The part of an applied configuration the applier can own: never managedFields; no status through the
    /// main resource of a kind with a status subresource; only status (and the object's identity) through it.
    /// </summary>
    private static JsonObject ConfigFor(JsonObject applied, StatusScope scope)
    {
        if (scope == StatusScope.Only)
        {
            var statusOnly = new JsonObject();
            foreach (var name in (ReadOnlySpan<string>)["apiVersion", "kind"])
            {
                if (applied.TryGetPropertyValue(name, out var value))
                {
                    statusOnly[name] = value?.DeepClone();
                }
            }

            if (applied["metadata"] is JsonObject appliedMetadata)
            {
                var identity = new JsonObject();
                foreach (var name in (ReadOnlySpan<string>)["name", "namespace"])
                {
                    if (appliedMetadata.TryGetPropertyValue(name, out var value))
                    {
                        identity[name] = value?.DeepClone();
                    }
                }

                statusOnly["metadata"] = identity;
            }

            if (applied.TryGetPropertyValue("status", out var status))
            {
                statusOnly["status"] = status?.DeepClone();
            }

            return statusOnly;
        }

        var hasManagedFields = applied["metadata"] is JsonObject metadata && metadata.ContainsKey("managedFields");
        var hasStatus = scope == StatusScope.Excluded && applied.ContainsKey("status");
        if (!hasManagedFields && !hasStatus)
        {
            return applied;
        }

        var copy = (JsonObject)applied.DeepClone();
        if (hasManagedFields)
        {
            ((JsonObject)copy["metadata"]!).Remove("managedFields");
        }

        if (hasStatus)
        {
            copy.Remove("status");
        }

        return copy;
    }

    /// <summary>Removes <c>metadata.managedFields</c> from <paramref name="obj"/> and returns it (null when absent or not a list).</summary>
    private static JsonArray? DetachManagedFields(JsonObject obj)
    {
        if (obj["metadata"] is not JsonObject metadata || !metadata.TryGetPropertyValue("managedFields", out var value))
        {
            return null;
        }

        metadata.Remove("managedFields");
        return value as JsonArray;
    }

    private static JsonArray? ManagedFieldsOf(JsonObject? obj) =>
        obj?["metadata"] is JsonObject metadata ? metadata["managedFields"] as JsonArray : null;

    private static void WriteManagedFields(JsonObject obj, List<ManagedFieldsEntry> entries, bool originalsAreDetached)
    {
        if (entries.Count == 0)
        {
            (obj["metadata"] as JsonObject)?.Remove("managedFields");
            return;
        }

        if (obj["metadata"] is not JsonObject metadata)
        {
            metadata = [];
            obj["metadata"] = metadata;
        }

        metadata["managedFields"] = ManagedFieldsEntry.Encode(entries, originalsAreDetached);
    }

    private static string? TextAt(JsonObject obj, string name) =>
        obj.TryGetPropertyValue(name, out var value) && value is JsonValue v && v.GetValueKind() == JsonValueKind.String
            ? v.GetValue<string>()
            : null;
}
