using System.Globalization;
using System.Text.Json.Nodes;
using FleetFunctions.Simulator.Apply;
using FleetFunctions.Simulator.Resources;
using FleetFunctions.Simulator.Selectors;
using FleetFunctions.Simulator.Store;

namespace FleetFunctions.Simulator.Api;

/// <summary>
/// The API server logic of one cluster, independent of HTTP: reads, the write verbs with
/// Kubernetes' metadata rules, field ownership through <see cref="FieldManager"/>, and server-side hooks
/// (namespaces, CRDs). Every write commits under the cluster's lock; server-side apply and workload status
/// writes compute on a snapshot outside it and retry when the object changed before their commit. Clusters never
/// contend with each other.
/// </summary>
internal sealed partial class ClusterBackend
{
    private readonly FieldManager _fieldManager;
    private readonly TimeProvider _clock;
    private long _requests;
    private long _writes;
    private int _serviceIps = 8;

    public ClusterBackend(SimulatorOptions options, TimeProvider clock)
    {
        Options = options;
        _clock = clock;
        _fieldManager = new FieldManager(new FieldManagerOptions
        {
            // built-in kinds from the table, custom resources from their CRD's subresources
            HasStatusSubresource = (apiVersion, kind) =>
                apiVersion is not null && kind is not null && Registry.Current.FindKind(apiVersion, kind)?.HasStatus == true,
        });
        lock (Store.Sync)
        {
            SeedDefaults();
        }
    }

    public SimulatorOptions Options { get; }

    public ClusterStore Store { get; } = new();

    public ResourceRegistry Registry { get; } = new();

    /// <summary>
    /// Raised under the cluster lock after every committed (non dry-run) create or update, with the stored object
    /// and the same object parsed (read-only: handlers must not modify it), so that handlers need not parse it again.
    /// </summary>
    public event Action<ResourceType, StoredObject, JsonObject>? ObjectWritten;

    public long Requests => Interlocked.Read(ref _requests);

    public long Writes => Interlocked.Read(ref _writes);

    public void CountRequest() => Interlocked.Increment(ref _requests);

    public void ResetCounters()
    {
        Interlocked.Exchange(ref _requests, 0);
        Interlocked.Exchange(ref _writes, 0);
    }

    public DateTimeOffset Now => _clock.GetUtcNow();

    public static string Timestamp(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public StoredObject Get(ResourceType type, string ns, string name)
    {
        lock (Store.Sync)
        {
            return Store.Get(type.StorageKey, ns, name) ?? throw ApiException.NotFound(type, name);
        }
    }

    /// <summary>Objects matching the selectors, with the store's resourceVersion at the time of the read.</summary>
    public (List<StoredObject> Items, long ResourceVersion) List(ResourceType type, string? ns, LabelSelector labels, FieldSelector fields)
    {
        List<StoredObject> all;
        long rv;
        lock (Store.Sync)
        {
            all = Store.List(type.StorageKey, ns);
            rv = Store.ResourceVersion;
        }

        all.RemoveAll(o => !labels.Matches(o.Labels) || !fields.Matches(o));
        return (all, rv);
    }

    /// <summary>Drops every object and recreates the default namespaces, as after losing etcd.</summary>
    public void Wipe()
    {
        lock (Store.Sync)
        {
            Store.Clear();
            Registry.Reset();
            SeedDefaults();
        }
    }

    private void SeedDefaults()
    {
        foreach (var ns in BuiltInResources.DefaultNamespaces)
        {
            var obj = new JsonObject
            {
                ["apiVersion"] = "v1",
                ["kind"] = "Namespace",
                ["metadata"] = new JsonObject
                {
                    ["name"] = ns,
                    ["labels"] = new JsonObject { ["kubernetes.io/metadata.name"] = ns },
                },
            };
            Commit(BuiltInResources.Namespace, null, null, obj, dryRun: false, countAsWrite: false);
        }
    }

    /// <summary>
    /// Finishes a write: server-owned metadata, hooks, the no-op check, immutable-field validation (422, also
    /// for dry runs), finalizers of an object being deleted (none added; removed with the last), generation,
    /// resourceVersion, storage and watch events. Call holding the lock. <paramref name="next"/> is consumed.
    /// </summary>
    private WriteResult Commit(ResourceType type, StoredObject? live, JsonObject? liveJson, JsonObject next, bool dryRun, bool countAsWrite = true)
    {
        var meta = Metadata(next);
        if (live is not null && liveJson is not null)
        {
            var liveMeta = Metadata(liveJson);
            meta["uid"] = liveMeta["uid"]?.DeepClone();
            meta["creationTimestamp"] = liveMeta["creationTimestamp"]?.DeepClone();
            meta["resourceVersion"] = liveMeta["resourceVersion"]?.DeepClone();
            foreach (var field in (ReadOnlySpan<string>)["generation", "deletionTimestamp", "deletionGracePeriodSeconds"])
            {
                meta[field] = liveMeta[field]?.DeepClone();
                if (meta[field] is null)
                {
                    meta.Remove(field);
                }
            }

            BeforeCommit(type, next, liveJson);
            if (JsonNode.DeepEquals(next, liveJson))
            {
                return new WriteResult(live, Created: false, Changed: false);
            }

            var causes = UpdateValidation.Validate(type, liveJson, next);
            if (live.Deleting)
            {
                causes = [.. causes, .. CheckFinalizers(liveMeta, meta)];
            }

            if (causes.Count > 0)
            {
                throw ApiException.Invalid(type, meta["name"]?.ToString() ?? "", causes);
            }

            if (live.Deleting && meta["finalizers"] is not JsonArray { Count: > 0 } && !HasContent(type, live))
            {
                // the last finalizer is gone: the update removes the object, and answers with its final state
                if (dryRun)
                {
                    return new WriteResult(StoredObject.From(next, live.ResourceVersion), Created: false, Changed: true);
                }

                if (countAsWrite)
                {
                    Interlocked.Increment(ref _writes);
                }

                return new WriteResult(Remove(type, next), Created: false, Changed: true);
            }

            if (type.HasGeneration && SpecChanged(liveJson, next))
            {
                meta["generation"] = (liveMeta["generation"]?.GetValue<long>() ?? 0) + 1;
            }
        }
        else
        {
            meta["uid"] = Guid.NewGuid().ToString();
            meta["creationTimestamp"] = Timestamp(Now);
            meta.Remove("generation");
            if (type.HasGeneration)
            {
                meta["generation"] = 1;
            }

            meta.Remove("resourceVersion");
            meta.Remove("deletionTimestamp");
            meta.Remove("deletionGracePeriodSeconds");
            BeforeCommit(type, next, null);
        }

        if (dryRun)
        {
            return new WriteResult(StoredObject.From(next, live?.ResourceVersion ?? 0), live is null, Changed: true);
        }

        var rv = Store.NextResourceVersion();
        meta["resourceVersion"] = rv.ToString(CultureInfo.InvariantCulture);
        var stored = StoredObject.From(next, rv);
        Store.Put(type.StorageKey, stored, created: live is null);
        if (countAsWrite)
        {
            Interlocked.Increment(ref _writes);
        }

        AfterCommit(type, next);
        ObjectWritten?.Invoke(type, stored, next);
        return new WriteResult(stored, live is null, Changed: true);
    }

    /// <summary>True when anything outside metadata and status differs: the rule for bumping generation.</summary>
    private static bool SpecChanged(JsonObject before, JsonObject after)
    {
        foreach (var (key, value) in after)
        {
            if (key is "metadata" or "status")
            {
                continue;
            }

            if (!before.TryGetPropertyValue(key, out var old) || !JsonNode.DeepEquals(old, value))
            {
                return true;
            }
        }

        return before.Any(p => p.Key is not ("metadata" or "status") && !after.ContainsKey(p.Key));
    }

    internal static JsonObject Metadata(JsonObject obj)
    {
        if (obj["metadata"] is JsonObject meta)
        {
            return meta;
        }

        meta = [];
        obj["metadata"] = meta;
        return meta;
    }
}
