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

        // Optimistic, like kube-apiserver's GuaranteedUpdate: the merge runs on a snapshot outside the cluster lock
        // (applies to one cluster run in parallel); the commit, under the lock, retries when the object changed meanwhile.
        while (true)
        {
            var live = Store.Get(type.StorageKey, ns, name);
            if (live is null)
            {
                if (subresource is not null)
                {
                    throw ApiException.NotFound(type, name);
                }

                AdmitCreate(type, ns, name);
            }

            var liveJson = live?.ToJsonObject();
            ApplyResult result;
            try
            {
                result = _fieldManager.Apply(liveJson, applied, options.Manager, options.Force, Now, subresource);
            }
            catch (FieldManagerException e)
            {
                throw ApiException.TypedPatchFailed(type, ns, name, e.Message);
            }

            if (result.HasConflicts || result.Merged is null)
            {
                throw ConflictError(result.Conflicts);
            }

            var merged = result.Merged;
            if (liveJson is not null && type.HasStatus && subresource != StatusSubresource)
            {
                // main-resource writes never change status
                merged["status"] = liveJson["status"]?.DeepClone();
                if (merged["status"] is null)
                {
                    merged.Remove("status");
                }
            }

            var mergedMeta = Metadata(merged);
            mergedMeta["name"] = name;
            if (type.Namespaced)
            {
                mergedMeta["namespace"] = ns;
            }

            lock (Store.Sync)
            {
                if (!ReferenceEquals(Store.Get(type.StorageKey, ns, name), live))
                {
                    continue;
                }

                if (live is null)
                {
                    AdmitCreate(type, ns, name);
                }

                return Commit(type, live, liveJson, merged, options.DryRun);
            }
        }
    }

    /// <summary>The 409 kube-apiserver answers an apply with: message and one FieldManagerConflict cause per field.</summary>
    private static ApiException ConflictError(IReadOnlyList<FieldConflict> conflicts)
    {
        var causes = conflicts.Select(c => new StatusCause("FieldManagerConflict", c.CauseMessage, c.Field)).ToList();
        // kube-apiserver's apply conflicts carry only the causes in their details (no name or kind)
        return new ApiException(409, "Conflict", FieldConflict.FormatMessage(conflicts), causes: causes);
    }
}
