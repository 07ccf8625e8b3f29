using System.Text.Json;
using System.Text.Json.Nodes;

namespace FleetFunctions.Core.Policy;

/// <summary>
/// A resource as an admission webhook receives it, which is what Kyverno validates: the API server has decoded the
/// object into its typed form, so an object property whose value is an explicit null (<c>securityContext:</c> with
/// nothing after it, common in Helm output) is gone. Nulls inside arrays stay. The caller's object is never
/// changed: a copy is made only when there is something to drop.
/// </summary>
internal static class AdmissionView
{
    /// <summary><paramref name="resource"/> itself, or a copy without its null-valued object properties (recursively).</summary>
    public static JsonObject Of(JsonObject resource) => HasNullProperty(resource) ? (JsonObject)WithoutNullProperties(resource)! : resource;

    private static bool IsNull(JsonNode? node) => node is null || (node is JsonValue value && value.GetValueKind() == JsonValueKind.Null);

    private static bool HasNullProperty(JsonNode? node) => node switch
    {
        JsonObject o => o.Any(p => IsNull(p.Value) || HasNullProperty(p.Value)),
        JsonArray a => a.Any(HasNullProperty),
        _ => false,
    };

    private static JsonNode? WithoutNullProperties(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                var copy = new JsonObject();
                foreach (var (key, value) in o)
                {
                    if (!IsNull(value))
                    {
                        copy[key] = WithoutNullProperties(value);
                    }
                }

                return copy;
            case JsonArray a:
                return new JsonArray([.. a.Select(WithoutNullProperties)]);
            default:
                return node?.DeepClone();
        }
    }
}
