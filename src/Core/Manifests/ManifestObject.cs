using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace FleetFunctions.Core.Manifests;

/// <summary>
/// One desired Kubernetes object as rendered from Git: the unstructured body (the same
/// <see cref="JsonObject"/> model the policy engine reads) and where it came from.
/// Treat <see cref="Object"/> as read-only; use <see cref="Clone"/> to change a copy.
/// </summary>
public sealed class ManifestObject
{
    private string? _checksum;
    private byte[]? _utf8Json;

    public ManifestObject(JsonObject obj, string source, int line = 0)
    {
        ArgumentNullException.ThrowIfNull(obj);
        Object = obj;
        Source = source;
        Line = line;
        ApiVersion = obj.GetString("apiVersion") ?? string.Empty;
        Kind = obj.GetString("kind") ?? string.Empty;
        var metadata = obj["metadata"] as JsonObject;
        Name = metadata?.GetString("name") ?? string.Empty;
        Namespace = metadata?.GetString("namespace") ?? string.Empty;
        var (group, version) = ObjectReference.SplitApiVersion(ApiVersion);
        Group = group;
        Version = version;
    }

    public JsonObject Object { get; }

    /// <summary>File (or kustomization directory) the object was rendered from, relative to the repository root.</summary>
    public string Source { get; }

    /// <summary>1-based line of the document in <see cref="Source"/>, 0 when unknown (kustomize output).</summary>
    public int Line { get; }

    public string ApiVersion { get; }

    public string Group { get; }

    public string Version { get; }

    public string Kind { get; }

    public string Name { get; }

    /// <summary>Namespace as written in Git; empty for cluster-scoped objects or when omitted.</summary>
    public string Namespace { get; }

    public ObjectReference Reference => new(Group, Kind, Namespace, Name);

    /// <summary><c>path:line</c> (or just the path) for error messages.</summary>
    public string Location => Line > 0 ? $"{Source}:{Line}" : Source;

    /// <summary>SHA-256 of the canonical JSON (keys sorted), hex. Equal objects have equal checksums.</summary>
    public string Checksum => _checksum ??= ComputeChecksum(Object);

    /// <summary>
    /// <see cref="Object"/> as UTF-8 JSON, serialised once: the body of every server-side apply of this object
    /// (a rendered commit is applied to many clusters).
    /// </summary>
    public ReadOnlyMemory<byte> Utf8Json => _utf8Json ??= JsonSerializer.SerializeToUtf8Bytes(Object);

    /// <summary>The value of a metadata annotation, or null.</summary>
    public string? GetAnnotation(string key) =>
        (Object["metadata"] as JsonObject)?["annotations"] is JsonObject annotations ? annotations.GetString(key) : null;

    /// <summary>A deep copy carrying the same source information.</summary>
    public ManifestObject Clone() => new((JsonObject)Object.DeepClone(), Source, Line);

    /// <summary>A copy with the namespace set (for namespaced kinds written without one).</summary>
    public ManifestObject WithNamespace(string ns)
    {
        var copy = (JsonObject)Object.DeepClone();
        if (copy["metadata"] is not JsonObject metadata)
        {
            metadata = new JsonObject();
            copy["metadata"] = metadata;
        }

        metadata["namespace"] = ns;
        return new ManifestObject(copy, Source, Line);
    }

    public override string ToString() => Reference.ToString();

    internal static string ComputeChecksum(JsonNode node)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(4096);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            WriteCanonical(writer, node);
        }

        return Convert.ToHexStringLower(SHA256.HashData(buffer.WrittenSpan));
    }

    private static void WriteCanonical(Utf8JsonWriter writer, JsonNode? node)
    {
        switch (node)
        {
            case null:
                writer.WriteNullValue();
                break;
            case JsonObject obj:
                writer.WriteStartObject();
                foreach (var (key, value) in obj.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    writer.WritePropertyName(key);
                    WriteCanonical(writer, value);
                }

                writer.WriteEndObject();
                break;
            case JsonArray array:
                writer.WriteStartArray();
                foreach (var item in array)
                {
                    WriteCanonical(writer, item);
                }

                writer.WriteEndArray();
                break;
            default:
                node.WriteTo(writer);
                break;
        }
    }
}
