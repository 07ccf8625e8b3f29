using System.Text.Json.Nodes;

namespace FleetFunctions.Core.Policy.Testing;

/// <summary>One expected result of a <c>kyverno-test.yaml</c> (one per listed resource).</summary>
public sealed record ExpectedResult(string Policy, string Rule, string Kind, string Resource, string Result);

/// <summary>
/// A Kyverno CLI test file (<c>cli.kyverno.io/v1alpha1</c> <c>Test</c>, or the older unversioned layout): policies,
/// resources, optional PolicyException files and values file, and the expected results. Paths are relative to the test file's folder.
/// </summary>
public sealed record KyvernoTestCase(
    string Path,
    string Name,
    IReadOnlyList<string> Policies,
    IReadOnlyList<string> Resources,
    string? Variables,
    IReadOnlyList<ExpectedResult> Results)
{
    /// <summary>The <c>exceptions</c> files: PolicyExceptions considered with the policies.</summary>
    public IReadOnlyList<string> Exceptions { get; init; } = [];

    /// <summary>File names <c>kyverno test</c> looks for.</summary>
    public static readonly IReadOnlyList<string> FileNames = ["kyverno-test.yaml", "kyverno-test.yml"];

    /// <summary>Every test file under <paramref name="directory"/> (or the file itself), sorted by path.</summary>
    public static IReadOnlyList<string> Discover(string directory)
    {
        if (File.Exists(directory))
        {
            return [System.IO.Path.GetFullPath(directory)];
        }

        if (!Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"{directory}: no such directory");
        }

        var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.None, IgnoreInaccessible = true };
        return Directory.EnumerateFiles(directory, "*", options)
            .Where(f => FileNames.Contains(System.IO.Path.GetFileName(f), StringComparer.Ordinal))
            .Select(System.IO.Path.GetFullPath)
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>Reads a test file.</summary>
    /// <exception cref="PolicyLoadException">The file is not a test (the message names <c>path:line</c>).</exception>
    public static KyvernoTestCase Load(string path)
    {
        var documents = YamlDocuments.ParseFile(path);
        var doc = documents.FirstOrDefault()?.Root as JsonObject
            ?? throw new PolicyLoadException($"{path}:1: empty test file");
        var line = documents[0].Line;
        var name = JsonUtil.GetString(doc, "metadata", "name") ?? JsonUtil.GetString(doc, "name") ?? System.IO.Path.GetFileName(System.IO.Path.GetDirectoryName(path)) ?? path;
        var baseDir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!;
        string Resolve(string p) => System.IO.Path.GetFullPath(System.IO.Path.Combine(baseDir, p));
        var policies = Strings(doc["policies"]).Select(Resolve).ToList();
        var resources = Strings(doc["resources"]).Select(Resolve).ToList();
        if (policies.Count == 0)
        {
            throw new PolicyLoadException($"{path}:{line}: test '{name}' lists no policies");
        }

        var variables = JsonUtil.GetString(doc, "variables") is { Length: > 0 } v ? Resolve(v) : null;
        var results = new List<ExpectedResult>();
        if (doc["results"] is JsonArray list)
        {
            foreach (var item in list.OfType<JsonObject>())
            {
                var policy = JsonUtil.GetString(item, "policy") ?? throw new PolicyLoadException($"{path}:{line}: a result has no policy");
                var rule = JsonUtil.GetString(item, "rule") ?? "";
                var kind = JsonUtil.GetString(item, "kind") ?? "";
                var result = (JsonUtil.GetString(item, "result") ?? JsonUtil.GetString(item, "status") ?? "").ToLowerInvariant();
                var names = Strings(item["resources"]);
                if (JsonUtil.GetString(item, "resource") is { } single)
                {
                    names.Add(single);
                }

                var ns = JsonUtil.GetString(item, "namespace");
                foreach (var resourceName in names)
                {
                    var qualified = ns is not null && !resourceName.Contains('/', StringComparison.Ordinal) ? $"{ns}/{resourceName}" : resourceName;
                    results.Add(new ExpectedResult(policy, rule, kind, qualified, result));
                }
            }
        }

        return new KyvernoTestCase(path, name, policies, resources, variables, results) { Exceptions = [.. Strings(doc["exceptions"]).Select(Resolve)] };
    }

    private static List<string> Strings(JsonNode? node) =>
        node is JsonArray array ? array.Select(i => JsonUtil.AsString(i) ?? "").Where(s => s.Length > 0).ToList() : [];
}
