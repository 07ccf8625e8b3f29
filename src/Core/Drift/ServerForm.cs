using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using k8s.Models;

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
    /// <summary>Maps whose values are quantities, by field name; also maps dropped when empty.</summary>
    private static readonly HashSet<string> s_quantityMaps = new(StringComparer.Ordinal)
    {
        "limits", "requests", "hard", "capacity", "allocatable", "overhead", "podFixed",
        "default", "defaultRequest", "min", "max", "maxLimitRequestRatio",
    };

    /// <summary>Single quantities: (enclosing field, field).</summary>
    private static readonly HashSet<(string Parent, string Field)> s_quantities =
    [
        ("emptyDir", "sizeLimit"), ("target", "averageValue"), ("target", "value"),
    ];

    /// <summary>Other <c>map[string]…</c> fields with <c>omitempty</c>: an empty one is not stored.</summary>
    private static readonly HashSet<string> s_maps = new(StringComparer.Ordinal)
    {
        "labels", "annotations", "data", "binaryData", "nodeSelector", "matchLabels", "parameters",
    };

    /// <summary>Non-pointer <c>omitempty</c> scalars: (enclosing field, field). Pointers (runAsUser, automountServiceAccountToken, ...) keep their zero.</summary>
    private static readonly HashSet<(string Parent, string Field)> s_omitEmpty =
    [
        ("volumeMounts", "readOnly"), ("volumeMounts", "subPath"), ("volumeMounts", "subPathExpr"),
        ("env", "value"), ("tolerations", "value"),
        ("livenessProbe", "initialDelaySeconds"), ("readinessProbe", "initialDelaySeconds"), ("startupProbe", "initialDelaySeconds"),
        ("containers", "stdin"), ("containers", "stdinOnce"), ("containers", "tty"), ("containers", "workingDir"),
        ("initContainers", "stdin"), ("initContainers", "stdinOnce"), ("initContainers", "tty"), ("initContainers", "workingDir"),
        ("ports", "hostPort"), ("ports", "nodePort"),
        ("spec", "hostNetwork"), ("spec", "hostPID"), ("spec", "hostIPC"), ("spec", "minReadySeconds"), ("spec", "paused"),
        ("spec", "publishNotReadyAddresses"), ("spec", "nodeName"), ("spec", "serviceAccountName"),
        ("persistentVolumeClaim", "readOnly"), ("nfs", "readOnly"), ("csi", "readOnly"),
    ];

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
    public static bool IsOmittedZero(string parent, string field, JsonValue desired) =>
        s_omitEmpty.Contains((parent, field)) && desired.GetValueKind() switch
        {
            JsonValueKind.False => true,
            JsonValueKind.Number => desired.TryGetValue<decimal>(out var number) ? number == 0 : desired.ToJsonString() == "0",
            JsonValueKind.String => desired.GetValue<string>().Length == 0,
            _ => false,
        };

    /// <summary>Whether a missing <paramref name="field"/> is what the server stores for an empty map (a Service's selector is a map, a workload's a LabelSelector).</summary>
    public static bool IsOmittedEmptyMap(string kind, string field) =>
        s_maps.Contains(field) || s_quantityMaps.Contains(field) || (field == "selector" && kind == "Service");

    /// <summary>Whether <paramref name="field"/> holds a resource quantity.</summary>
    public static bool IsQuantity(string parent, string field) => s_quantityMaps.Contains(parent) || s_quantities.Contains((parent, field));

    /// <summary>Whether two quantities have the same value (<c>0.5</c>, <c>"500m"</c>); false when either is not a quantity.</summary>
    public static bool QuantityEquals(JsonValue desired, JsonValue live) =>
        Quantity(desired) is { } d && Quantity(live) is { } l && d.Equals(l);

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

    private static ResourceQuantity? Quantity(JsonValue value)
    {
        var text = value.GetValueKind() switch
        {
            JsonValueKind.String => value.GetValue<string>(),
            JsonValueKind.Number => value.ToJsonString(),
            _ => null,
        };
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        try
        {
            return new ResourceQuantity(text);
        }
        catch (Exception e) when (e is FormatException or OverflowException or ArgumentException)
        {
            return null;
        }
    }
}
