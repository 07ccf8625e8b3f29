using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using k8s.Models;

namespace FleetFunctions.Simulator.Serialization;

/// <summary>
/// What kube-apiserver's decoding of a built-in object into its Go type, and encoding it back, does to the JSON it
/// stores: a Secret's <c>stringData</c> is merged into <c>data</c> (base64; stringData wins) and never stored;
/// resource quantities take their canonical form (<c>0.5</c> → <c>"500m"</c>, <c>"1024Mi"</c> → <c>"1Gi"</c>);
/// zero values of <c>omitempty</c> fields that are not pointers (<c>readOnly: false</c>, <c>initialDelaySeconds: 0</c>,
/// env <c>value: ""</c>) are dropped. Custom resources and CRDs (whose schemas hold fields of any name) are stored as sent.
/// </summary>
internal static class StoredForm
{
    /// <summary>Maps whose values are quantities, by field name.</summary>
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

    /// <summary>Non-pointer <c>omitempty</c> fields: (enclosing field, or list field for list items; field).</summary>
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

    /// <summary>Puts <paramref name="obj"/> of a built-in kind into the form kube-apiserver stores.</summary>
    public static void Apply(string group, string kind, JsonObject obj)
    {
        if (group.Length == 0 && kind == "Secret")
        {
            MergeStringData(obj);
        }

        foreach (var (key, value) in obj.ToList())
        {
            if (key is not ("metadata" or "apiVersion" or "kind"))
            {
                Visit(key, value);
            }
        }
    }

    /// <summary>Whether <paramref name="value"/> is the zero value of an omitempty field (false, 0, empty string).</summary>
    private static bool IsZero(JsonValue value) => value.GetValueKind() switch
    {
        JsonValueKind.False => true,
        JsonValueKind.Number => value.ToJsonString() is "0" or "0.0",
        JsonValueKind.String => value.GetValue<string>().Length == 0,
        _ => false,
    };

    private static void MergeStringData(JsonObject secret)
    {
        if (secret["stringData"] is not JsonObject stringData)
        {
            secret.Remove("stringData");
            return;
        }

        if (stringData.Count > 0)
        {
            var data = secret["data"] as JsonObject ?? [];
            foreach (var (key, value) in stringData)
            {
                var text = value?.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : value?.ToJsonString() ?? string.Empty;
                data[key] = Convert.ToBase64String(Encoding.UTF8.GetBytes(text));
            }

            secret["data"] = data;
        }

        secret.Remove("stringData");
    }

    private static void Visit(string field, JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (key, value) in obj.ToList())
                {
                    if (value is JsonValue scalar)
                    {
                        if (s_omitEmpty.Contains((field, key)) && IsZero(scalar))
                        {
                            obj.Remove(key);
                        }
                        else if ((s_quantityMaps.Contains(field) || s_quantities.Contains((field, key))) && Canonical(scalar) is { } canonical)
                        {
                            obj[key] = canonical;
                        }
                    }
                    else
                    {
                        Visit(key, value);
                    }
                }

                return;
            case JsonArray array:
                foreach (var item in array)
                {
                    Visit(field, item);
                }

                return;
        }
    }

    /// <summary>The canonical text of a quantity, or null when <paramref name="value"/> is not one.</summary>
    private static string? Canonical(JsonValue value)
    {
        var text = value.GetValueKind() switch
        {
            JsonValueKind.String => value.GetValue<string>(),
            JsonValueKind.Number => value.ToJsonString(),
            _ => null,
        };
        if (string.IsNullOrEmpty(text) || text.StartsWith('-'))
        {
            // KubernetesClient mangles negative quantities; resource quantities are never negative
            return null;
        }

        try
        {
            return new ResourceQuantity(text).CanonicalizeString();
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
