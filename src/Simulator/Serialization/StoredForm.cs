using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FleetFunctions.Core.Drift;

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
                        if (TypedFields.OmitEmpty.Contains((field, key)) && TypedFields.IsZero(scalar))
                        {
                            obj.Remove(key);
                        }
                        else if (TypedFields.IsQuantity(field, key) && TypedFields.Quantity(scalar) is { } quantity)
                        {
                            obj[key] = quantity.CanonicalizeString();
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
}
