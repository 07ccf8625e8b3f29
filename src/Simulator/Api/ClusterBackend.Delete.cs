using System.Globalization;
using System.Text.Json.Nodes;
using FleetFunctions.Simulator.Resources;
using FleetFunctions.Simulator.Selectors;
using FleetFunctions.Simulator.Store;

namespace FleetFunctions.Simulator.Api;

/// <summary>
/// Deletion as kube-apiserver does it. An object with <c>metadata.finalizers</c> is only marked (<c>deletionTimestamp</c>,
/// <c>deletionGracePeriodSeconds: 0</c>) and goes when a write empties its finalizers. A Namespace or a CRD being deleted
/// is marked too (a namespace's phase becomes Terminating), its content is deleted the same way, and it goes once that
/// content is gone: the work of kube's namespace controller and of the CRD's cleanup finalizer, done in the request.
/// </summary>
internal sealed partial class ClusterBackend
{
    private const int DeletionHistory = 256;
    private readonly Queue<SimulatedDeletion> _deletions = new();

    /// <summary>The last client DELETE requests (at most 256), oldest first, with the propagation policy each asked for.</summary>
    public IReadOnlyList<SimulatedDeletion> Deletions
    {
        get
        {
            lock (Store.Sync)
            {
                return [.. _deletions];
            }
        }
    }

    public DeleteResult Delete(ResourceType type, string ns, string name, WriteOptions options, string? propagationPolicy = null)
    {
        if (type == BuiltInResources.Namespace && BuiltInResources.DefaultNamespaces.Take(3).Contains(name))
        {
            throw new ApiException(403, "Forbidden", $"namespaces \"{name}\" is forbidden: this namespace may not be deleted", name, "", "namespaces");
        }

        lock (Store.Sync)
        {
            var live = Store.Get(type.StorageKey, ns, name) ?? throw ApiException.NotFound(type, name);
            if (options.DryRun)
            {
                return new DeleteResult(live, Removed: true);
            }

            if (_deletions.Count == DeletionHistory)
            {
                _deletions.Dequeue();
            }

            _deletions.Enqueue(new SimulatedDeletion(live.ApiVersion, type.Kind, ns, name, propagationPolicy));
            if (!live.Deleting)
            {
                Interlocked.Increment(ref _writes);
            }

            return DeleteObject(type, live);
        }
    }

    /// <summary>Deletes every match of a list query; returns the deleted (or, with finalizers, marked) objects.</summary>
    public List<StoredObject> DeleteCollection(ResourceType type, string? ns, LabelSelector labels, FieldSelector fields, WriteOptions options)
    {
        lock (Store.Sync)
        {
            var matches = Store.List(type.StorageKey, ns).Where(o => labels.Matches(o.Labels) && fields.Matches(o)).ToList();
            if (options.DryRun)
            {
                return matches;
            }

            var deleted = new List<StoredObject>(matches.Count);
            foreach (var obj in matches)
            {
                if (!obj.Deleting)
                {
                    Interlocked.Increment(ref _writes);
                }

                deleted.Add(DeleteObject(type, obj).Object);
            }

            return deleted;
        }
    }

    /// <summary>
    /// Removes <paramref name="live"/>, or marks it deleted when finalizers (or, for a namespace or CRD, content) hold it;
    /// an object already marked is left as it is. Call holding the lock.
    /// </summary>
    private DeleteResult DeleteObject(ResourceType type, StoredObject live)
    {
        if (live.Deleting)
        {
            return new DeleteResult(live, Removed: false);
        }

        var holdsContent = type == BuiltInResources.Namespace || type == BuiltInResources.CustomResourceDefinition;
        if (!live.HasFinalizers && !holdsContent)
        {
            return new DeleteResult(Remove(type, live.ToJsonObject()), Removed: true);
        }

        var marked = live.ToJsonObject();
        var meta = Metadata(marked);
        meta["deletionTimestamp"] = Timestamp(Now);
        meta["deletionGracePeriodSeconds"] = 0;
        if (type == BuiltInResources.Namespace)
        {
            marked["status"] = new JsonObject { ["phase"] = "Terminating" };
        }

        var rv = Store.NextResourceVersion();
        meta["resourceVersion"] = rv.ToString(CultureInfo.InvariantCulture);
        var stored = StoredObject.From(marked, rv);
        Store.Put(type.StorageKey, stored, created: false);
        if (holdsContent)
        {
            foreach (var (contentType, obj) in Content(type, stored))
            {
                DeleteObject(contentType, obj);
            }

            FinishDeletion(type, stored);
        }

        return Store.Get(type.StorageKey, stored.Namespace, stored.Name) is { } remaining
            ? new DeleteResult(remaining, Removed: false)
            : new DeleteResult(stored, Removed: true);
    }

    /// <summary>Removes an object being deleted once nothing holds it any more: no finalizers, no content. Call holding the lock.</summary>
    private void FinishDeletion(ResourceType type, StoredObject obj)
    {
        if (Store.Get(type.StorageKey, obj.Namespace, obj.Name) is { Deleting: true, HasFinalizers: false } current && !HasContent(type, current))
        {
            Remove(type, current.ToJsonObject());
        }
    }

    /// <summary>The objects a namespace or a CRD holds: what must go before it can.</summary>
    private IEnumerable<(ResourceType Type, StoredObject Object)> Content(ResourceType type, StoredObject holder)
    {
        if (type == BuiltInResources.Namespace)
        {
            return Registry.Current.All.Where(t => t.Namespaced).DistinctBy(t => t.StorageKey)
                .SelectMany(t => Store.List(t.StorageKey, holder.Name).Select(o => (t, o)));
        }

        if (type == BuiltInResources.CustomResourceDefinition && ResourceRegistry.FromCrd(holder.ToJsonObject()).Versions is [var served, ..])
        {
            return Store.List(served.StorageKey, null).Select(o => (served, o));
        }

        return [];
    }

    private bool HasContent(ResourceType type, StoredObject holder) =>
        type == BuiltInResources.Namespace
            ? Registry.Current.All.Any(t => t.Namespaced && Store.Any(t.StorageKey, holder.Name))
            : type == BuiltInResources.CustomResourceDefinition && Content(type, holder).Any();

    /// <summary>
    /// Removes the object whose final state is <paramref name="final"/> (given the deletion's resourceVersion), then lets a
    /// namespace or CRD being deleted that waited for it go. Call holding the lock.
    /// </summary>
    private StoredObject Remove(ResourceType type, JsonObject final)
    {
        var rv = Store.NextResourceVersion();
        Metadata(final)["resourceVersion"] = rv.ToString(CultureInfo.InvariantCulture);
        var finalState = StoredObject.From(final, rv);
        Store.Remove(type.StorageKey, finalState);
        AfterDelete(type, final);
        if (finalState.Namespace.Length > 0 && Store.Get(BuiltInResources.Namespace.StorageKey, "", finalState.Namespace) is { Deleting: true } ns)
        {
            FinishDeletion(BuiltInResources.Namespace, ns);
        }

        if (Store.Get(BuiltInResources.CustomResourceDefinition.StorageKey, "", type.StorageKey) is { Deleting: true } crd)
        {
            FinishDeletion(BuiltInResources.CustomResourceDefinition, crd);
        }

        return finalState;
    }

    /// <summary>
    /// kube-apiserver's rules for a write to an object being deleted: its deletionTimestamp stays, no finalizer may be
    /// added (422), and a write that leaves no finalizers removes it. Returns the error causes.
    /// </summary>
    private static IReadOnlyList<StatusCause> CheckFinalizers(JsonObject liveMeta, JsonObject nextMeta)
    {
        var before = (liveMeta["finalizers"] as JsonArray ?? []).Select(f => f?.ToString()).ToHashSet(StringComparer.Ordinal);
        var added = (nextMeta["finalizers"] as JsonArray ?? []).Select(f => f?.ToString() ?? "").Where(f => !before.Contains(f)).Distinct().Order(StringComparer.Ordinal).ToList();
        return added.Count == 0
            ? []
            : [new StatusCause("FieldValueForbidden", $"Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{{{string.Join(", ", added.Select(a => $"\"{a}\""))}}}", "metadata.finalizers")];
    }
}

/// <summary>What a DELETE did: the object removed (its final state), or, when finalizers or content hold it, as marked.</summary>
internal sealed record DeleteResult(StoredObject Object, bool Removed);
