using System.Text.Json.Nodes;
using FleetFunctions.Simulator.Patching;
using FleetFunctions.Simulator.Resources;
using FleetFunctions.Simulator.Store;

namespace FleetFunctions.Simulator.Api;

/// <summary>The write verbs: create, update (PUT), merge/JSON/strategic patch (delete: ClusterBackend.Delete.cs).</summary>
internal sealed partial class ClusterBackend
{
    private const string StatusSubresource = "status";

    public WriteResult Create(ResourceType type, string ns, JsonObject body, WriteOptions options)
    {
        var name = CheckIdentity(type, ns, null, body);
        var meta = Metadata(body);
        foreach (var field in (ReadOnlySpan<string>)["uid", "resourceVersion", "creationTimestamp", "generation", "managedFields", "deletionTimestamp"])
        {
            meta.Remove(field);
        }

        if (type.HasStatus)
        {
            body.Remove("status");
        }

        lock (Store.Sync)
        {
            AdmitCreate(type, ns, name);
            if (Store.Get(type.StorageKey, ns, name) is not null)
            {
                throw ApiException.AlreadyExists(type, name);
            }

            var tracked = _fieldManager.Update(null, body, options.Manager, Now);
            return Commit(type, null, null, tracked, options.DryRun);
        }
    }

    public WriteResult Replace(ResourceType type, string ns, string name, JsonObject body, string? subresource, WriteOptions options)
    {
        CheckIdentity(type, ns, name, body);
        lock (Store.Sync)
        {
            var live = Store.Get(type.StorageKey, ns, name) ?? throw ApiException.NotFound(type, name);
            var liveJson = live.ToJsonObject();
            CheckPrecondition(type, name, live, body);
            var next = Restrict(type, liveJson, body, subresource);
            return UpdateTracked(type, live, liveJson, next, subresource, options);
        }
    }

    public WriteResult Patch(ResourceType type, string ns, string name, string contentType, JsonNode? patch, string? subresource, WriteOptions options)
    {
        lock (Store.Sync)
        {
            var live = Store.Get(type.StorageKey, ns, name) ?? throw ApiException.NotFound(type, name);
            var liveJson = live.ToJsonObject();
            var patched = contentType switch
            {
                PatchTypes.Json => JsonPatch.Apply(live.ToJsonObject(), patch as JsonArray
                    ?? throw ApiException.BadRequest("json patch: the body must be a JSON array of operations")),
                PatchTypes.Merge => MergePatch.Apply(live.ToJsonObject(), patch),
                PatchTypes.Strategic => StrategicMergePatch.Apply(live.ToJsonObject(), patch),
                _ => throw ApiException.UnsupportedMediaType(contentType),
            } as JsonObject ?? throw ApiException.BadRequest("the patch must produce a JSON object");
            CheckPrecondition(type, name, live, patched);
            if (patched["apiVersion"]?.ToString() != type.ApiVersion && patched["apiVersion"]?.ToString() != liveJson["apiVersion"]?.ToString()
                || patched["kind"]?.ToString() != type.Kind)
            {
                throw ApiException.BadRequest($"{type.GroupResource} \"{name}\": a patch must not change apiVersion or kind");
            }

            var meta = Metadata(patched);
            meta["name"] = name;
            if (type.Namespaced)
            {
                meta["namespace"] = ns;
            }

            var next = Restrict(type, liveJson, patched, subresource);
            return UpdateTracked(type, live, liveJson, next, subresource, options);
        }
    }

    /// <summary>
    /// A controller's status write (simulated workloads): replaces <c>status</c> if the object still exists at
    /// <paramref name="generation"/>. Not counted as a client write; no field manager entry.
    /// </summary>
    public void WriteStatus(ResourceType type, string ns, string name, long generation, Func<JsonObject, JsonObject> status)
    {
        // optimistic like server-side apply: the status is computed outside the cluster lock, committed if the
        // object is still the one it was computed from, recomputed otherwise
        while (true)
        {
            if (Store.Get(type.StorageKey, ns, name) is not { } live)
            {
                return;
            }

            var liveJson = live.ToJsonObject();
            if ((liveJson["metadata"]?["generation"]?.GetValue<long>() ?? 1) != generation)
            {
                return;
            }

            var next = live.ToJsonObject();
            next["status"] = status(next);
            lock (Store.Sync)
            {
                if (ReferenceEquals(Store.Get(type.StorageKey, ns, name), live))
                {
                    Commit(type, live, liveJson, next, dryRun: false, countAsWrite: false);
                    return;
                }
            }
        }
    }

    /// <summary>
    /// An ordinary update: ownership goes to the writing manager, unless nothing changed, in which case
    /// nothing is written and the resourceVersion stays.
    /// </summary>
    private WriteResult UpdateTracked(ResourceType type, StoredObject live, JsonObject liveJson, JsonObject next, string? subresource, WriteOptions options)
    {
        var meta = Metadata(next);
        meta["managedFields"] = liveJson["metadata"]?["managedFields"]?.DeepClone();
        if (meta["managedFields"] is null)
        {
            meta.Remove("managedFields");
        }

        foreach (var field in (ReadOnlySpan<string>)["uid", "creationTimestamp", "resourceVersion", "generation"])
        {
            meta[field] = liveJson["metadata"]?[field]?.DeepClone();
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

        var tracked = _fieldManager.Update(liveJson, next, options.Manager, Now, subresource);
        return Commit(type, live, liveJson, tracked, options.DryRun);
    }

    /// <summary>Status subresource semantics: main-resource writes keep live status, status writes change only status.</summary>
    private static JsonObject Restrict(ResourceType type, JsonObject liveJson, JsonObject next, string? subresource)
    {
        if (subresource == StatusSubresource)
        {
            var result = (JsonObject)liveJson.DeepClone();
            result["status"] = next["status"]?.DeepClone();
            if (result["status"] is null)
            {
                result.Remove("status");
            }

            return result;
        }

        if (type.HasStatus)
        {
            next["status"] = liveJson["status"]?.DeepClone();
            if (next["status"] is null)
            {
                next.Remove("status");
            }
        }

        return next;
    }

    private static void CheckPrecondition(ResourceType type, string name, StoredObject live, JsonObject body)
    {
        var wanted = body["metadata"]?["resourceVersion"]?.ToString();
        if (!string.IsNullOrEmpty(wanted) && wanted != live.ResourceVersion.ToString(System.Globalization.CultureInfo.InvariantCulture))
        {
            throw ApiException.Conflict(type, name, "the object has been modified; please apply your changes to the latest version and try again");
        }
    }

    /// <summary>
    /// What kube-apiserver checks before a create: the namespace exists and is not being terminated (NamespaceLifecycle
    /// admission), and a custom resource's CRD is not being deleted.
    /// </summary>
    private void AdmitCreate(ResourceType type, string ns, string name)
    {
        if (type.Namespaced)
        {
            var owner = Store.Get(BuiltInResources.Namespace.StorageKey, "", ns) ?? throw ApiException.NamespaceNotFound(ns);
            if (owner.Deleting)
            {
                throw ApiException.NamespaceTerminating(type, name, ns);
            }
        }

        if (Store.Get(BuiltInResources.CustomResourceDefinition.StorageKey, "", type.StorageKey) is { Deleting: true })
        {
            throw new ApiException(405, "MethodNotAllowed", "create not allowed while custom resource definition is terminating", group: type.Group, kind: type.Plural);
        }
    }

    /// <summary>
    /// Validates apiVersion, kind, name and namespace of a body against the request; fills in the namespace
    /// and a generated name. Returns the object's name.
    /// </summary>
    private static string CheckIdentity(ResourceType type, string ns, string? urlName, JsonObject body)
    {
        var meta = Metadata(body);
        var causes = new List<StatusCause>();
        var apiVersion = body["apiVersion"]?.ToString();
        var kind = body["kind"]?.ToString();
        if (string.IsNullOrEmpty(apiVersion) && string.IsNullOrEmpty(kind))
        {
            // like kube-apiserver, a body without type information takes the endpoint's
            body["apiVersion"] = apiVersion = type.ApiVersion;
            body["kind"] = kind = type.Kind;
        }

        if (apiVersion != type.ApiVersion)
        {
            causes.Add(new StatusCause("FieldValueInvalid", $"Invalid value: \"{apiVersion}\": must be {type.ApiVersion}", "apiVersion"));
        }

        if (kind != type.Kind)
        {
            causes.Add(new StatusCause("FieldValueInvalid", $"Invalid value: \"{kind}\": must be {type.Kind}", "kind"));
        }

        var name = meta["name"]?.ToString();
        if (string.IsNullOrEmpty(name) && urlName is null && meta["generateName"]?.ToString() is { Length: > 0 } prefix)
        {
            name = prefix + Guid.NewGuid().ToString("N")[..5];
            meta["name"] = name;
        }

        if (string.IsNullOrEmpty(name))
        {
            causes.Add(new StatusCause("FieldValueRequired", "Required value: name or generateName is required", "metadata.name"));
        }
        else if (name.Any(c => c is '/' or '%' || char.IsWhiteSpace(c)) || name is "." or "..")
        {
            causes.Add(new StatusCause("FieldValueInvalid", $"Invalid value: \"{name}\": may not contain '/', '%' or whitespace", "metadata.name"));
        }

        if (causes.Count > 0)
        {
            throw ApiException.Invalid(type, name ?? urlName ?? "", causes);
        }

        if (urlName is not null && name != urlName)
        {
            throw ApiException.BadRequest($"the name of the object ({name}) does not match the name on the URL ({urlName})");
        }

        var bodyNs = meta["namespace"]?.ToString();
        if (type.Namespaced)
        {
            if (!string.IsNullOrEmpty(bodyNs) && bodyNs != ns)
            {
                throw ApiException.BadRequest("the namespace of the provided object does not match the namespace sent on the request");
            }

            meta["namespace"] = ns;
        }
        else
        {
            meta.Remove("namespace");
        }

        return name!;
    }
}
