using System.Text;
using System.Text.Json.Nodes;

namespace FleetFunctions.Core.Policy.Testing;

/// <summary>One checked expectation: what the test file expected and what the engine produced.</summary>
public sealed record TestRow(int Id, string Policy, string Rule, string Resource, string Expected, string Actual, bool Ok, string Reason);

/// <summary>The outcome of one test file.</summary>
public sealed record TestCaseResult(string Path, string Name, IReadOnlyList<TestRow> Rows, string? Error)
{
    /// <summary>True when the file loaded and every expectation held.</summary>
    public bool Passed => Error is null && Rows.All(r => r.Ok);
}

/// <summary>
/// Runs Kyverno CLI test files (<c>kyverno test</c>) against this engine and scores them as Kyverno's CLI does:
/// a result's rule also matches the rule's <c>autogen-</c> and <c>autogen-cronjob-</c> copies, and a resource no
/// rule applied to meets an expected <c>skip</c>.
/// </summary>
public static class KyvernoTestRunner
{
    /// <summary>Runs every test file found under <paramref name="directory"/>.</summary>
    public static IReadOnlyList<TestCaseResult> RunDirectory(string directory) =>
        KyvernoTestCase.Discover(directory).Select(Run).ToList();

    /// <summary>Runs one test file; load problems are reported in <see cref="TestCaseResult.Error"/>.</summary>
    public static TestCaseResult Run(string testFile)
    {
        KyvernoTestCase test;
        try
        {
            test = KyvernoTestCase.Load(testFile);
        }
        catch (Exception ex) when (ex is PolicyLoadException or IOException)
        {
            return new TestCaseResult(testFile, Path.GetFileName(testFile), [], ex.Message);
        }

        try
        {
            return Run(test);
        }
        catch (Exception ex) when (ex is PolicyLoadException or IOException)
        {
            return new TestCaseResult(testFile, test.Name, [], ex.Message);
        }
    }

    /// <summary>Runs a loaded test.</summary>
    public static TestCaseResult Run(KyvernoTestCase test)
    {
        var policies = PolicySet.LoadPaths([.. test.Policies, .. test.Exceptions]);
        var values = test.Variables is null ? KyvernoValues.Empty : KyvernoValues.Load(test.Variables);
        var resources = new List<JsonObject>();
        foreach (var file in test.Resources)
        {
            foreach (var document in YamlDocuments.ParseFile(file))
            {
                if (document.Root is JsonObject obj)
                {
                    if (JsonUtil.GetString(obj, "kind") == "List" && obj["items"] is JsonArray items)
                    {
                        resources.AddRange(items.OfType<JsonObject>().Select(i => (JsonObject)i.DeepClone()));
                    }
                    else if (JsonUtil.GetString(obj, "kind") is not null)
                    {
                        resources.Add(obj);
                    }
                }
            }
        }

        var actual = new List<(JsonObject Resource, RuleResult Result)>();
        foreach (var resource in resources)
        {
            var name = JsonUtil.GetString(resource, "metadata", "name") ?? "";
            var ns = JsonUtil.GetString(resource, "metadata", "namespace");
            foreach (var policy in policies.Policies)
            {
                var context = values.ContextFor(policy.Name, name, ns);
                var report = PolicyEngine.Validate(policies.Only(policy.ReportName), resource, context);
                actual.AddRange(report.Results.Select(r => (resource, r)));
            }
        }

        var rows = new List<TestRow>();
        foreach (var expected in test.Results)
        {
            rows.Add(Check(rows.Count + 1, expected, resources, actual));
        }

        return new TestCaseResult(test.Path, test.Name, rows, null);
    }

    private static bool ResourceMatches(JsonObject resource, string kind, string expected)
    {
        if (kind.Length > 0 && JsonUtil.GetString(resource, "kind") != kind)
        {
            return false;
        }

        var name = JsonUtil.GetString(resource, "metadata", "name");
        var slash = expected.LastIndexOf('/');
        if (slash < 0)
        {
            return name == expected;
        }

        var ns = JsonUtil.GetString(resource, "metadata", "namespace") ?? "";
        return name == expected[(slash + 1)..] && ns == expected[..slash];
    }

    private static TestRow Check(int id, ExpectedResult expected, List<JsonObject> resources, List<(JsonObject Resource, RuleResult Result)> actual)
    {
        var ruleNames = new[] { expected.Rule, "autogen-" + expected.Rule, "autogen-cronjob-" + expected.Rule };
        var resourceLabel = $"{(expected.Kind.Length > 0 ? expected.Kind + "/" : "")}{expected.Resource}";
        if (!resources.Any(r => ResourceMatches(r, expected.Kind, expected.Resource)))
        {
            var ok = expected.Result == "skip";
            return new TestRow(id, expected.Policy, expected.Rule, resourceLabel, expected.Result, "not found", ok, ok ? "Ok" : "resource not found in the test's resources");
        }

        var match = actual.FirstOrDefault(a =>
            ResourceMatches(a.Resource, expected.Kind, expected.Resource)
            && (a.Result.Policy == expected.Policy || a.Result.Policy.EndsWith("/" + expected.Policy, StringComparison.Ordinal))
            && (expected.Rule.Length == 0 || ruleNames.Contains(a.Result.Rule, StringComparer.Ordinal)));
        if (match.Result is null)
        {
            var ok = expected.Result == "skip";
            return new TestRow(id, expected.Policy, expected.Rule, resourceLabel, expected.Result, "no result", ok, ok ? "Ok" : "no rule of the policy applied to the resource");
        }

        var status = match.Result.Status.ToString().ToLowerInvariant();
        var pass = status == expected.Result;
        return new TestRow(id, expected.Policy, match.Result.Rule, resourceLabel, expected.Result, status, pass, pass ? "Ok" : $"Want {expected.Result}, got {status}: {match.Result.Message}");
    }

    /// <summary>Renders one test's rows as a text table (the shape of <c>kyverno test</c>'s output).</summary>
    public static string FormatTable(TestCaseResult result, bool failuresOnly = false)
    {
        var sb = new StringBuilder();
        sb.Append("Loading test  ( ").Append(result.Path).Append(" ) ...").AppendLine();
        if (result.Error is not null)
        {
            sb.Append("  Error: ").AppendLine(result.Error);
            return sb.ToString();
        }

        var rows = result.Rows.Where(r => !failuresOnly || !r.Ok).ToList();
        var header = new[] { "ID", "POLICY", "RULE", "RESOURCE", "RESULT", "REASON" };
        var cells = rows.Select(r => new[] { r.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), r.Policy, r.Rule, r.Resource, r.Ok ? "Pass" : "Fail", r.Reason }).ToList();
        var widths = header.Select((h, i) => Math.Min(80, Math.Max(h.Length, cells.Count == 0 ? 0 : cells.Max(c => c[i].Length)))).ToArray();
        void Line(string[] row) => sb.Append("  │ ").AppendJoin(" │ ", row.Select((c, i) => (c.Length > widths[i] ? c[..(widths[i] - 1)] + "…" : c).PadRight(widths[i]))).AppendLine(" │");
        Line(header);
        sb.Append("  ├─").AppendJoin("─┼─", widths.Select(w => new string('─', w))).AppendLine("─┤");
        foreach (var row in cells)
        {
            Line(row);
        }

        var passed = result.Rows.Count(r => r.Ok);
        sb.Append("  Test Summary: ").Append(passed).Append(" tests passed and ").Append(result.Rows.Count - passed).AppendLine(" tests failed");
        return sb.ToString();
    }
}
