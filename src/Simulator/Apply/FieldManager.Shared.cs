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
        var comparison = StructuredCompare.Compare(before, after, schema);
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

    /// <summary>The configuration without parts an applier cannot own: managedFields, and status when it is a subresource.</summary>
    private static JsonObject WithoutServerOwnedParts(JsonObject applied, bool statusIsSubresource)
    {
        var hasManagedFields = applied["metadata"] is JsonObject metadata && metadata.ContainsKey("managedFields");
        var hasStatus = statusIsSubresource && applied.ContainsKey("status");
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
