using System.Text.Json;
using System.Text.Json.Nodes;
using FleetFunctions.Simulator.Serialization;

namespace FleetFunctions.Simulator.Store;

/// <summary>
/// One stored object: its serialized JSON (compact, immutable, shared with watch events and readers)
/// plus the few fields the server filters on. Replaced wholesale on every write.
/// </summary>
internal sealed class StoredObject
{
    private static readonly IReadOnlyDictionary<string, string> s_noLabels = new Dictionary<string, string>();

    private StoredObject(byte[] json, long resourceVersion, string apiVersion, string ns, string name, IReadOnlyDictionary<string, string> labels, bool deleting, bool hasFinalizers)
    {
        Deleting = deleting;
        HasFinalizers = hasFinalizers;
        ApiVersion = apiVersion;
        Json = json;
        ResourceVersion = resourceVersion;
        Namespace = ns;
        Name = name;
        Labels = labels;
        Key = KeyOf(ns, name);
    }

    public byte[] Json { get; }

    public long ResourceVersion { get; }

    /// <summary>The apiVersion the object was written with (custom resources may be read through another).</summary>
    public string ApiVersion { get; }

    /// <summary>Namespace, empty for cluster-scoped objects.</summary>
    public string Namespace { get; }

    public string Name { get; }

    public IReadOnlyDictionary<string, string> Labels { get; }

    /// <summary>True when metadata.deletionTimestamp is set: the object waits for its finalizers (or, a namespace, its content).</summary>
    public bool Deleting { get; }

    /// <summary>True when metadata.finalizers is not empty.</summary>
    public bool HasFinalizers { get; }

    /// <summary>namespace/name, or name for cluster-scoped objects.</summary>
    public string Key { get; }

    public static string KeyOf(string ns, string name) => ns.Length == 0 ? name : $"{ns}/{name}";

    /// <summary>Snapshots <paramref name="obj"/>, whose metadata.resourceVersion must already be set.</summary>
    public static StoredObject From(JsonObject obj, long resourceVersion)
    {
        var metadata = obj["metadata"] as JsonObject;
        IReadOnlyDictionary<string, string> labels = s_noLabels;
        if (metadata?["labels"] is JsonObject { Count: > 0 } l)
        {
            var copy = new Dictionary<string, string>(l.Count, StringComparer.Ordinal);
            foreach (var (key, value) in l)
            {
                if (value is JsonValue)
                {
                    copy[key] = value.ToString();
                }
            }

            labels = copy;
        }

        return new StoredObject(
            JsonSerializer.SerializeToUtf8Bytes(obj, JsonDefaults.Options),
            resourceVersion,
            obj["apiVersion"]?.ToString() ?? "",
            metadata?["namespace"]?.GetValue<string>() ?? "",
            metadata?["name"]?.GetValue<string>() ?? "",
            labels,
            metadata?["deletionTimestamp"] is not null,
            metadata?["finalizers"] is JsonArray { Count: > 0 });
    }

    /// <summary>A fresh mutable copy of the object.</summary>
    public JsonObject ToJsonObject() => JsonNode.Parse(Json)!.AsObject();
}
