using System.Text.Json.Nodes;
using FleetFunctions.Simulator.Apply;
using FleetFunctions.Simulator.Resources;

namespace FleetFunctions.Simulator.Api;

/// <summary>Server-side apply (<c>application/apply-patch+yaml</c>) through <see cref="FieldManager.Apply"/>.</summary>
internal sealed partial class ClusterBackend
{
    public WriteResult ServerSideApply(ResourceType type, string ns, string name, JsonObject applied, string? subresource, WriteOptions options)
    {
        CheckIdentity(type, ns, name, applied);
        var meta = Metadata(applied);
        foreach (var field in (ReadOnlySpan<string>)["uid", "resourceVersion", "creationTimestamp", "generation", "managedFields"])
        {
            meta.Remove(field);
        }

        if (type.HasStatus && subresource != StatusSubresource)
        {
            applied.Remove("status");
        }

        lock (Store.Sync)
        {
            var live = Store.Get(type.StorageKey, ns, name);
            if (live is null)
            {
                if (subresource is not null)
                {
                    throw ApiException.NotFound(type, name);
                }

                RequireNamespace(type, ns);
            }

            var liveJson = live?.ToJsonObject();
            var result = _fieldManager.Apply(liveJson is null ? null : (JsonObject)liveJson.DeepClone(), applied, options.Manager, options.Force, Now);
            if (result.HasConflicts || result.Merged is null)
            {
                throw ConflictError(type, name, liveJson, result.Conflicts);
            }

            var merged = result.Merged;
            if (liveJson is not null)
            {
                if (subresource == StatusSubresource)
                {
                    var statusOnly = (JsonObject)liveJson.DeepClone();
                    statusOnly["status"] = merged["status"]?.DeepClone();
                    Metadata(statusOnly)["managedFields"] = merged["metadata"]?["managedFields"]?.DeepClone();
                    merged = statusOnly;
                }
                else if (type.HasStatus)
                {
                    merged["status"] = liveJson["status"]?.DeepClone();
                    if (merged["status"] is null)
                    {
                        merged.Remove("status");
                    }
                }
            }

            var mergedMeta = Metadata(merged);
            mergedMeta["name"] = name;
            if (type.Namespaced)
            {
                mergedMeta["namespace"] = ns;
            }

            return Commit(type, live, liveJson, merged, options.DryRun);
        }
    }

    /// <summary>The 409 kube-apiserver answers an apply with: message and one FieldManagerConflict cause per field.</summary>
    private static ApiException ConflictError(ResourceType type, string name, JsonObject? live, IReadOnlyList<FieldConflict> conflicts)
    {
        string Describe(string manager)
        {
            var entry = (live?["metadata"]?["managedFields"] as JsonArray)?.OfType<JsonObject>()
                .FirstOrDefault(e => e["manager"]?.ToString() == manager && e["operation"]?.ToString() == "Update");
            return entry is null ? $"\"{manager}\"" : $"\"{manager}\" using {entry["apiVersion"]}";
        }

        var causes = conflicts.Select(c => new StatusCause("FieldManagerConflict", $"conflict with {Describe(c.Manager)}", c.Field)).ToList();
        string message;
        if (conflicts.Count == 1)
        {
            message = $"Apply failed with 1 conflict: conflict with {Describe(conflicts[0].Manager)}: {conflicts[0].Field}";
        }
        else
        {
            var lines = conflicts.GroupBy(c => c.Manager).OrderBy(g => g.Key, StringComparer.Ordinal)
                .SelectMany(g => g.Select(c => $"- {c.Field}").Prepend($"conflicts with {Describe(g.Key)}:"));
            message = $"Apply failed with {conflicts.Count} conflicts: {string.Join("\n", lines)}";
        }

        return new ApiException(409, "Conflict", message, name, type.Group, type.Plural, causes);
    }
}
