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
/// env <c>value: ""</c>, a PriorityClass's <c>globalDefault: false</c>, a CRD's <c>preserveUnknownFields: false</c> or
/// <c>nullable: false</c> in its schemas) are dropped. The values of a CRD's schemas (<c>default</c>, <c>example</c>,
/// <c>enum</c>) are JSON kept verbatim. Custom resources are stored as sent.
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

        Visit(kind, string.Empty, obj, keysAreNames: false);
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

    /// <summary>
    /// The members of <paramref name="obj"/>, the value of <paramref name="field"/> (for list items: the list's field;
    /// <c>""</c> at the top). <paramref name="keysAreNames"/>: a CRD schema's map of names to schemas (properties, ...),
    /// whose keys are names of the user's choosing, not schema fields.
    /// </summary>
    private static void Visit(string kind, string field, JsonObject obj, bool keysAreNames)
    {
        var definition = kind == TypedFields.Definition;
        foreach (var (key, value) in obj.ToList())
        {
            if (field.Length == 0 && key is "metadata" or "apiVersion" or "kind")
            {
                continue;
            }

            if (value is JsonValue scalar)
            {
                if (keysAreNames)
                {
                    continue;
                }

                if (TypedFields.IsOmitEmpty(kind, field, key) && TypedFields.IsZero(scalar))
                {
                    obj.Remove(key);
                }
                else if (TypedFields.IsQuantity(kind, field, key) && TypedFields.Quantity(scalar) is { } quantity)
                {
                    obj[key] = quantity.CanonicalizeString();
                }
            }
            else if (!(definition && !keysAreNames && TypedFields.SchemaValues.Contains(key)))
            {
                VisitValue(kind, key, value, definition && !keysAreNames && TypedFields.SchemaNameMaps.Contains(key));
            }
        }
    }

    private static void VisitValue(string kind, string field, JsonNode? node, bool keysAreNames)
    {
        switch (node)
        {
            case JsonObject obj:
                Visit(kind, field, obj, keysAreNames);
                return;
            case JsonArray array:
                foreach (var item in array)
                {
                    VisitValue(kind, field, item, keysAreNames: false);
                }

                return;
        }
    }
}
