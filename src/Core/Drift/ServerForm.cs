using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace FleetFunctions.Core.Drift;

/// <summary>
/// What a Kubernetes API server does to the fields of a built-in object when it decodes it into its Go type and
/// encodes it back, so that <see cref="FieldDiff"/> does not take it for drift: zero values of non-pointer
/// <c>omitempty</c> fields and empty maps are dropped, resource quantities take their canonical form
/// (<c>0.5</c> → <c>"500m"</c>), a Secret's <c>stringData</c> is merged into <c>data</c>. Fields are named by the field
/// that encloses them (for list items: the list's field) and their own name. Custom resources are stored as sent, so
/// none of this applies to them.
/// </summary>
internal static class ServerForm
{
    /// <summary>Other <c>map[string]…</c> fields with <c>omitempty</c>: an empty one is not stored.</summary>
    private static readonly HashSet<string> s_maps = new(StringComparer.Ordinal)
    {
        "labels", "annotations", "data", "binaryData", "nodeSelector", "matchLabels", "parameters",
    };

    /// <summary>
    /// Whether objects of <paramref name="apiVersion"/> are stored through Go types: the core group and the groups
    /// without a dot (apps, batch, autoscaling, policy), and node.k8s.io (RuntimeClass overhead).
    /// </summary>
    public static bool IsTyped(string? apiVersion)
    {
        var slash = apiVersion?.IndexOf('/') ?? -1;
        if (apiVersion is null || slash < 0)
        {
            return true;
        }

        var group = apiVersion.AsSpan(0, slash);
        return !group.Contains('.') || group.SequenceEqual("node.k8s.io");
    }

    /// <summary>Whether a missing <paramref name="field"/> is what the server stores for <paramref name="desired"/>: the zero value of an omitempty field.</summary>
    public static bool IsOmittedZero(string parent, string field, JsonValue desired) => TypedFields.OmitEmpty.Contains((parent, field)) && TypedFields.IsZero(desired);

    /// <summary>Whether a missing <paramref name="field"/> is what the server stores for an empty map (a Service's selector is a map, a workload's a LabelSelector).</summary>
    public static bool IsOmittedEmptyMap(string kind, string field) =>
        s_maps.Contains(field) || TypedFields.QuantityMaps.Contains(field) || (field == "selector" && kind == "Service");

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
