using System.Text.Json.Nodes;

namespace FleetFunctions.Core.Policy.Testing;

/// <summary>A Kyverno CLI <c>Values</c> file: global values, per-policy rule and resource values, namespace labels.</summary>
public sealed class KyvernoValues
{
    private readonly Dictionary<string, JsonNode?> _global = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Policy, string Resource), Dictionary<string, JsonNode?>> _resources = [];
    private readonly Dictionary<string, Dictionary<string, IReadOnlyDictionary<string, JsonNode?>>> _rules = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IReadOnlyDictionary<string, string>> _namespaces = new(StringComparer.Ordinal);

    /// <summary>No values.</summary>
    public static KyvernoValues Empty { get; } = new();

    /// <summary>Reads a values file.</summary>
    public static KyvernoValues Load(string path)
    {
        var values = new KyvernoValues();
        if (YamlDocuments.ParseFile(path).FirstOrDefault()?.Root is not JsonObject doc)
        {
            return values;
        }

        Copy(doc["globalValues"], values._global);
        if (doc["policies"] is JsonArray policies)
        {
            foreach (var policy in policies.OfType<JsonObject>())
            {
                var name = JsonUtil.GetString(policy, "name") ?? "";
                if (policy["resources"] is JsonArray resources)
                {
                    foreach (var resource in resources.OfType<JsonObject>())
                    {
                        var map = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
                        Copy(resource["values"], map);
                        values._resources[(name, JsonUtil.GetString(resource, "name") ?? "")] = map;
                    }
                }

                if (policy["rules"] is JsonArray rules)
                {
                    var byRule = new Dictionary<string, IReadOnlyDictionary<string, JsonNode?>>(StringComparer.Ordinal);
                    foreach (var rule in rules.OfType<JsonObject>())
                    {
                        var map = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
                        Copy(rule["values"], map);
                        byRule[$"{name}/{JsonUtil.GetString(rule, "name")}"] = map;
                    }

                    values._rules[name] = byRule;
                }
            }
        }

        if (doc["namespaceSelector"] is JsonArray selectors)
        {
            foreach (var ns in selectors.OfType<JsonObject>())
            {
                var labels = ns["labels"] is JsonObject l ? l.ToDictionary(p => p.Key, p => JsonUtil.Sprint(p.Value)) : [];
                values._namespaces[JsonUtil.GetString(ns, "name") ?? ""] = labels;
            }
        }

        return values;
    }

    private static void Copy(JsonNode? source, Dictionary<string, JsonNode?> target)
    {
        if (source is JsonObject obj)
        {
            foreach (var (key, value) in obj)
            {
                target[key] = value?.DeepClone();
            }
        }
    }

    /// <summary>The engine context for one policy applied to one resource.</summary>
    public PolicyContext ContextFor(string policy, string resourceName, string? resourceNamespace)
    {
        var merged = new Dictionary<string, JsonNode?>(_global, StringComparer.Ordinal);
        if (_resources.TryGetValue((policy, resourceName), out var own)
            || (resourceNamespace is not null && _resources.TryGetValue((policy, $"{resourceNamespace}/{resourceName}"), out own)))
        {
            foreach (var (key, value) in own)
            {
                merged[key] = value;
            }
        }

        var operation = JsonUtil.AsString(merged.GetValueOrDefault("request.operation"))?.ToUpperInvariant() switch
        {
            "UPDATE" => AdmissionOperation.Update,
            "DELETE" => AdmissionOperation.Delete,
            "CONNECT" => AdmissionOperation.Connect,
            _ => AdmissionOperation.Create,
        };
        return new PolicyContext
        {
            Operation = operation,
            Values = merged,
            RuleValues = _rules.TryGetValue(policy, out var rules) ? rules : new Dictionary<string, IReadOnlyDictionary<string, JsonNode?>>(),
            NamespaceLabels = _namespaces,
        };
    }
}
