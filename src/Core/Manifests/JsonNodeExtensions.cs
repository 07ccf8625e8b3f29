using System.Text.Json;
using System.Text.Json.Nodes;

namespace FleetFunctions.Core.Manifests;

/// <summary>Small helpers for reading the unstructured object model.</summary>
public static class JsonNodeExtensions
{
    /// <summary>The string value of a property, or null when absent or not a string.</summary>
    public static string? GetString(this JsonObject obj, string property) =>
        obj[property] is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;

    /// <summary>Follows a dotted path of object properties (<c>status.observedGeneration</c>).</summary>
    public static JsonNode? At(this JsonNode? node, string dottedPath)
    {
        foreach (var segment in dottedPath.Split('.'))
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
            ? long.TryParse(value.ToJsonString(), System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : null
            : null;

    /// <summary>A string at a dotted path, or null.</summary>
    public static string? StringAt(this JsonNode? node, string dottedPath) =>
        node.At(dottedPath) is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;
}
