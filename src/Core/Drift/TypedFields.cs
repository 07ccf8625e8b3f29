using System.Text.Json;
using System.Text.Json.Nodes;
using k8s.Models;

namespace FleetFunctions.Core.Drift;

/// <summary>
/// The fields of built-in objects that kube-apiserver rewrites when it decodes them into their Go types and encodes them
/// back: resource quantities (canonical form) and non-pointer <c>omitempty</c> scalars (a zero value is not stored).
/// Fields are named by the field that encloses them (for list items: the list's field) and their own name. One table
/// for both sides: the drift check (ServerForm) and the simulator's stored form, which links this file.
/// </summary>
internal static class TypedFields
{
    /// <summary>Maps whose values are quantities, by field name.</summary>
    public static readonly HashSet<string> QuantityMaps = new(StringComparer.Ordinal)
    {
        "limits", "requests", "hard", "capacity", "allocatable", "overhead", "podFixed",
        "default", "defaultRequest", "min", "max", "maxLimitRequestRatio",
    };

    /// <summary>Single quantities: (enclosing field, field).</summary>
    public static readonly HashSet<(string Parent, string Field)> Quantities =
    [
        ("emptyDir", "sizeLimit"), ("target", "averageValue"), ("target", "value"),
    ];

    /// <summary>Non-pointer <c>omitempty</c> scalars: (enclosing field, field). Pointers (runAsUser, automountServiceAccountToken, ...) keep their zero.</summary>
    public static readonly HashSet<(string Parent, string Field)> OmitEmpty =
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

    /// <summary>Whether <paramref name="field"/> (inside <paramref name="parent"/>) holds a resource quantity.</summary>
    public static bool IsQuantity(string parent, string field) => QuantityMaps.Contains(parent) || Quantities.Contains((parent, field));

    /// <summary>Whether <paramref name="value"/> is the zero value of an omitempty field (false, 0, empty string).</summary>
    public static bool IsZero(JsonValue value) => value.GetValueKind() switch
    {
        JsonValueKind.False => true,
        JsonValueKind.Number => value.TryGetValue<decimal>(out var number) ? number == 0 : value.ToJsonString() == "0",
        JsonValueKind.String => value.GetValue<string>().Length == 0,
        _ => false,
    };

    /// <summary>The quantity <paramref name="value"/> holds (<c>0.5</c>, <c>"500m"</c>), or null when it holds none; resource quantities are never negative.</summary>
    public static ResourceQuantity? Quantity(JsonValue value)
    {
        var text = value.GetValueKind() switch
        {
            JsonValueKind.String => value.GetValue<string>(),
            JsonValueKind.Number => value.ToJsonString(),
            _ => null,
        };
        if (string.IsNullOrWhiteSpace(text) || text.StartsWith('-'))
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
