using System.Text.Json.Nodes;
using FleetFunctions.Simulator.Resources;
using FleetFunctions.Simulator.Serialization;

namespace FleetFunctions.Simulator.Api;

/// <summary>What the API server itself does on writes: mutating admission, stored form, Service defaults, namespace phase, CRD establishment.</summary>
internal sealed partial class ClusterBackend
{
    private volatile Action<JsonObject>? _mutatingAdmission;

    /// <summary>A mutating admission step given every object written, before its stored form (<see cref="SimulatedCluster.SetMutatingAdmission"/>).</summary>
    public Action<JsonObject>? MutatingAdmission
    {
        get => _mutatingAdmission;
        set => _mutatingAdmission = value;
    }

    /// <summary>
    /// The stored form of built-in kinds (<see cref="StoredForm"/>) and server-populated fields, set before the no-op
    /// comparison so they never count as a change.
    /// </summary>
    private void BeforeCommit(ResourceType type, JsonObject next, JsonObject? live)
    {
        MutatingAdmission?.Invoke(next);
        if (BuiltInResources.Typed.Contains(type.StorageKey))
        {
            StoredForm.Apply(type.Group, type.Kind, next);
        }

        if (type.Group.Length == 0 && type.Kind == "Service")
        {
            DefaultService(next, live);
        }
        else if (type == BuiltInResources.Namespace)
        {
            next["spec"] = new JsonObject { ["finalizers"] = new JsonArray("kubernetes") };
            next["status"] = new JsonObject { ["phase"] = Metadata(next).ContainsKey("deletionTimestamp") ? "Terminating" : "Active" };
            var labels = Metadata(next)["labels"] as JsonObject ?? [];
            labels["kubernetes.io/metadata.name"] = Metadata(next)["name"]?.DeepClone();
            Metadata(next)["labels"] = labels;
        }
        else if (type == BuiltInResources.CustomResourceDefinition)
        {
            var (versions, error) = ResourceRegistry.FromCrd(next);
            var name = Metadata(next)["name"]?.ToString() ?? "";
            if (error is not null)
            {
                var colon = error.IndexOf(": ", StringComparison.Ordinal);
                var cause = colon > 0
                    ? new StatusCause("FieldValueInvalid", error[(colon + 2)..], error[..colon])
                    : new StatusCause("FieldValueInvalid", error, "");
                throw ApiException.Invalid(type, name, [cause]);
            }

            var previous = next["status"]?["conditions"] as JsonArray;
            var since = previous?.FirstOrDefault()?["lastTransitionTime"]?.DeepClone() ?? Timestamp(Now);
            next["status"] = new JsonObject
            {
                ["acceptedNames"] = next["spec"]!["names"]!.DeepClone(),
                ["conditions"] = new JsonArray(
                    Condition("NamesAccepted", "NoConflicts", "no conflicts found", since.DeepClone()),
                    Condition("Established", "InitialNamesAccepted", "the initial names have been accepted", since.DeepClone())),
                ["storedVersions"] = new JsonArray(versions
                    .Where(v => (next["spec"]!["versions"] as JsonArray)!.Any(s => s?["name"]?.ToString() == v.Version && s?["storage"]?.GetValue<bool>() == true))
                    .Select(v => (JsonNode)JsonValue.Create(v.Version)).DefaultIfEmpty(JsonValue.Create(versions[0].Version)).ToArray()),
            };
        }
    }

    private void AfterCommit(ResourceType type, JsonObject committed)
    {
        if (type == BuiltInResources.CustomResourceDefinition)
        {
            var (versions, _) = ResourceRegistry.FromCrd(committed);
            Registry.SetCustomResource(committed["metadata"]!["name"]!.ToString(), versions);
        }
    }

    private void AfterDelete(ResourceType type, JsonObject deleted)
    {
        if (type == BuiltInResources.CustomResourceDefinition)
        {
            Registry.RemoveCustomResource(deleted["metadata"]?["name"]?.ToString() ?? "");
        }
    }

    /// <summary>Service defaults and a cluster IP from 10.96.0.0/12 that stays with the Service, like kube-apiserver's.</summary>
    private void DefaultService(JsonObject service, JsonObject? live)
    {
        if (service["spec"] is not JsonObject spec)
        {
            return;
        }

        var serviceType = spec["type"]?.ToString() ?? "ClusterIP";
        spec["type"] = serviceType;
        spec["sessionAffinity"] ??= "None";
        foreach (var port in spec["ports"] as JsonArray ?? [])
        {
            if (port is JsonObject p)
            {
                p["protocol"] ??= "TCP";
                p["targetPort"] ??= p["port"]?.DeepClone();
            }
        }

        if (serviceType == "ExternalName")
        {
            return;
        }

        if (spec["clusterIP"]?.ToString() is { Length: > 0 } wanted)
        {
            // kube-apiserver's NormalizeClusterIPs: a changed clusterIP with unchanged (or no) clusterIPs means clusterIPs = [clusterIP]
            var liveIp = live?["spec"]?["clusterIP"]?.ToString();
            if (wanted != liveIp && (spec["clusterIPs"] is null || JsonNode.DeepEquals(spec["clusterIPs"], live?["spec"]?["clusterIPs"])))
            {
                spec["clusterIPs"] = new JsonArray(wanted);
            }

            return;
        }

        var ip = live?["spec"]?["clusterIP"]?.ToString() is { Length: > 0 } kept ? kept : AllocateServiceIp();
        spec["clusterIP"] = ip;
        spec["clusterIPs"] = new JsonArray(ip);
        spec["ipFamilies"] ??= new JsonArray("IPv4");
        spec["ipFamilyPolicy"] ??= "SingleStack";
    }

    private string AllocateServiceIp()
    {
        var n = _serviceIps++;
        return $"10.96.{(n / 250) % 256}.{(n % 250) + 2}";
    }

    private static JsonObject Condition(string type, string reason, string message, JsonNode? since) => new()
    {
        ["type"] = type,
        ["status"] = "True",
        ["lastTransitionTime"] = since,
        ["reason"] = reason,
        ["message"] = message,
    };
}
