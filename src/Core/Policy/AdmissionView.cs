using System.Text.Json;
using System.Text.Json.Nodes;
using FleetFunctions.Core.Manifests;

namespace FleetFunctions.Core.Policy;

/// <summary>
/// A resource as an admission webhook receives it, which is what Kyverno validates: the API server has decoded the
/// object into its typed form, so an object property whose value is an explicit null (<c>securityContext:</c> with
/// nothing after it, common in Helm output) is gone; nulls inside arrays stay. Given the kinds' scopes, it has
/// also placed the object: a namespaced kind without a namespace is in <c>default</c>, a cluster-scoped kind has
/// none. The caller's object is never changed: a copy is made only when there is something to change.
/// </summary>
internal static class AdmissionView
{
    /// <summary>
    /// <paramref name="resource"/> itself, or a copy without its null-valued object properties (recursively) and, when
    /// <paramref name="scopes"/> is given, with the namespace the API server gives it.
    /// </summary>
    public static JsonObject Of(JsonObject resource, ResourceScopes? scopes)
    {
        var view = HasNullProperty(resource) ? (JsonObject)WithoutNullProperties(resource)! : resource;
        if (scopes is null)
        {
            return view;
        }

        var ns = JsonUtil.GetString(view, "metadata", "namespace") ?? string.Empty;
        var group = ObjectReference.SplitApiVersion(JsonUtil.GetString(view, "apiVersion") ?? string.Empty).Group;
        var namespaced = scopes.IsNamespaced(group, JsonUtil.GetString(view, "kind") ?? string.Empty);
        if (namespaced == (ns.Length > 0))
        {
            return view;
        }

        var copy = ReferenceEquals(view, resource) ? (JsonObject)resource.DeepClone() : view;
        if (copy["metadata"] is not JsonObject metadata)
        {
            copy["metadata"] = metadata = new JsonObject();
        }

        if (namespaced)
        {
            metadata["namespace"] = "default";
        }
        else
        {
            metadata.Remove("namespace");
        }

        return copy;
    }

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
