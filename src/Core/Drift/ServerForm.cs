using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace FleetFunctions.Core.Drift;

/// <summary>
/// What a Kubernetes API server does to the fields of a built-in object when it decodes it into its Go type and
/// encodes it back, so that <see cref="FieldDiff"/> does not take it for drift: zero values of non-pointer
/// <c>omitempty</c> fields and empty maps are dropped, resource quantities take their canonical form
/// (<c>0.5</c> → <c>"500m"</c>), a Secret's <c>stringData</c> is merged into <c>data</c>. Fields are named by the field
/// that encloses them (for list items: the list's field) and their own name (<see cref="TypedFields"/>). Every built-in
/// group is stored that way, CRDs included; custom resources are stored as sent, so none of this applies to them. A
/// CRD's schema fields are known by name alone: a zero one missing live is taken as dropped even inside a
/// <c>default</c> or <c>example</c> value (stored verbatim), where it can only hide a drift nobody makes.
/// </summary>
internal static class ServerForm
{
    /// <summary>Other <c>map[string]…</c> fields with <c>omitempty</c>: an empty one is not stored.</summary>
    private static readonly HashSet<string> s_maps = new(StringComparer.Ordinal)
    {
        "labels", "annotations", "data", "binaryData", "nodeSelector", "matchLabels", "parameters",
    };

    /// <summary>
    /// Whether objects of <paramref name="apiVersion"/> are stored through Go types: the core group, the groups without a
    /// dot (apps, batch, autoscaling, policy) and every built-in group with one (<see cref="TypedFields.BuiltInGroups"/>).
    /// </summary>
    public static bool IsTyped(string? apiVersion)
    {
        var slash = apiVersion?.IndexOf('/') ?? -1;
        return apiVersion is null || slash < 0 || TypedFields.IsBuiltIn(apiVersion[..slash]);
    }

    /// <summary>Whether a missing <paramref name="field"/> is what the server stores for <paramref name="desired"/>: the zero value of an omitempty field.</summary>
    public static bool IsOmittedZero(string kind, string parent, string field, JsonValue desired) => TypedFields.IsOmitEmpty(kind, parent, field) && TypedFields.IsZero(desired);

    /// <summary>
    /// Whether a missing <paramref name="field"/> is what the server stores for an empty map (a Service's selector is a map,
    /// a workload's a LabelSelector; a CRD has metadata maps and its schemas' name maps, no others).
    /// </summary>
    public static bool IsOmittedEmptyMap(string kind, string field) => kind == TypedFields.Definition
        ? field is "labels" or "annotations" || TypedFields.SchemaNameMaps.Contains(field)
        : s_maps.Contains(field) || TypedFields.QuantityMaps.Contains(field) || (field == "selector" && kind == "Service");

    /// <summary>Whether two quantities have the same value (<c>0.5</c>, <c>"500m"</c>); false when either is not a quantity.</summary>
    public static bool QuantityEquals(JsonValue desired, JsonValue live) =>
        TypedFields.Quantity(desired) is { } d && TypedFields.Quantity(live) is { } l && d.Equals(l);

    /// <summary>Whether the live <c>data</c> value (base64) holds <paramref name="stringData"/>, as the server stores a stringData entry.</summary>
    public static bool StringDataEquals(JsonValue stringData, JsonNode? liveData)
    {
        if (liveData is not JsonValue live || live.GetValueKind() != JsonValueKind.String)
        {
            return false;
        }

        var text = stringData.GetValueKind() == JsonValueKind.String ? stringData.GetValue<string>() : stringData.ToJsonString();
        var expected = Encoding.UTF8.GetBytes(text);
        var encoded = live.GetValue<string>();
        var decoded = new byte[(encoded.Length * 3 / 4) + 3];
        return Convert.TryFromBase64String(encoded, decoded, out var written) && decoded.AsSpan(0, written).SequenceEqual(expected);
    }
}
