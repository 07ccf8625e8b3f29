using System.Text.Json;
using System.Text.Json.Nodes;

namespace FleetFunctions.Core.Manifests;

/// <summary>Small helpers for reading the unstructured object model.</summary>
public static class JsonNodeExtensions
{
    /// <summary>The string value of a property, or null when absent or not a string.</summary>
    public static string? GetString(this JsonObject obj, string property) =>
        obj[property] is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;

    /// <summary>Split dotted paths: callers pass a small set of literal paths, read for every object.</summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, string[]> s_paths = new(StringComparer.Ordinal);

    /// <summary>Follows a dotted path of object properties (<c>status.observedGeneration</c>).</summary>
    public static JsonNode? At(this JsonNode? node, string dottedPath)
    {
        ArgumentNullException.ThrowIfNull(dottedPath);
        var segments = s_paths.Count < 1024 ? s_paths.GetOrAdd(dottedPath, p => p.Split('.')) : dottedPath.Split('.');
        foreach (var segment in segments)
        {
            if (node is not JsonObject obj)
            {
                return null;
            }

            node = obj[segment];
        }

        return node;
    }

    /// <summary>An integer at a dotted path, or null.</summary>
    public static long? Int64At(this JsonNode? node, string dottedPath) =>
        node.At(dottedPath) is JsonValue value && value.GetValueKind() == JsonValueKind.Number
            ? value.TryGetValue<JsonElement>(out var element) ? (element.TryGetInt64(out var fromElement) ? fromElement : null)
            : value.TryGetValue<long>(out var direct) ? direct
            : long.TryParse(value.ToJsonString(), System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : null
            : null;

    /// <summary>A string at a dotted path, or null.</summary>
    public static string? StringAt(this JsonNode? node, string dottedPath) =>
        node.At(dottedPath) is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;
}
