using System.Text.Json.Nodes;
using FleetFunctions.Core.Policy.Testing;

namespace FleetFunctions.Core.Policy;

/// <summary>Result of checking a set of manifests: one report per object, violations flattened.</summary>
public sealed record PolicyCheckResult(IReadOnlyList<PolicyReport> Reports)
{
    /// <summary>Every violation of every object.</summary>
    public IReadOnlyList<Violation> Violations { get; } = Reports.SelectMany(r => r.Violations).ToList();

    /// <summary>True when an Enforce rule failed: nothing must be applied.</summary>
    public bool Blocked => Violations.Any(v => v.Action == FailureAction.Enforce);
}

/// <summary>Checks manifest files (multi-document YAML, <c>kind: List</c> unwrapped) against a policy set.</summary>
public static class PolicyChecker
{
    /// <summary>Validates every object in the given files or folders (<c>*.yaml</c>, <c>*.yml</c>, <c>*.json</c>, recursively).</summary>
    /// <param name="values">Optional Kyverno values (operation, namespace labels, context entry values).</param>
    public static PolicyCheckResult CheckPaths(PolicySet policies, IEnumerable<string> manifestPaths, KyvernoValues? values = null)
    {
        var objects = new List<(JsonObject Resource, string Source)>();
        foreach (var file in ExpandFiles(manifestPaths))
        {
            foreach (var document in YamlDocuments.ParseFile(file))
            {
                foreach (var obj in Unwrap(document.Root))
                {
                    objects.Add((obj, $"{file}:{document.Line}"));
                }
            }
        }

        return Check(policies, objects, values);
    }

    /// <summary>Validates objects already parsed; <c>Source</c> is reported in violations.</summary>
    public static PolicyCheckResult Check(PolicySet policies, IEnumerable<(JsonObject Resource, string Source)> objects, KyvernoValues? values = null)
    {
        var reports = new List<PolicyReport>();
        foreach (var (resource, source) in objects)
        {
            if (PolicySet.IsPolicy(resource))
            {
                continue;
            }

            if (values is null)
            {
                reports.Add(PolicyEngine.Validate(policies, resource, PolicyContext.Default, source));
                continue;
            }

            var name = JsonUtil.GetString(resource, "metadata", "name") ?? "";
            var ns = JsonUtil.GetString(resource, "metadata", "namespace");
            var results = new List<RuleResult>();
            var violations = new List<Violation>();
            foreach (var policy in policies.Policies)
            {
                var report = PolicyEngine.Validate(policies.Only(policy.ReportName), resource, values.ContextFor(policy.Name, name, ns), source);
                results.AddRange(report.Results);
                violations.AddRange(report.Violations);
            }

            reports.Add(new PolicyReport(PolicyEngine.ResourceId(resource), results, violations));
        }

        return new PolicyCheckResult(reports);
    }

    private static IEnumerable<JsonObject> Unwrap(JsonNode? node)
    {
        if (node is not JsonObject obj || JsonUtil.GetString(obj, "kind") is null)
        {
            yield break;
        }

        if (JsonUtil.GetString(obj, "kind")!.EndsWith("List", StringComparison.Ordinal) && obj["items"] is JsonArray items)
        {
            foreach (var item in items.OfType<JsonObject>())
            {
                yield return (JsonObject)item.DeepClone();
            }

            yield break;
        }

        yield return obj;
    }

    private static IEnumerable<string> ExpandFiles(IEnumerable<string> paths)
    {
        foreach (var path in paths)
        {
            if (Directory.Exists(path))
            {
                foreach (var file in Directory.EnumerateFiles(path, "*.*", SearchOption.AllDirectories)
                    .Where(f => f.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".yml", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
                    .Order(StringComparer.Ordinal))
                {
                    yield return file;
                }
            }
            else if (File.Exists(path))
            {
                yield return path;
            }
            else
            {
                throw new FileNotFoundException($"{path}: no such manifest file or directory", path);
            }
        }
    }
}
