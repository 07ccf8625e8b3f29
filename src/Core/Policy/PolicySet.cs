using System.Text.Json.Nodes;

namespace FleetFunctions.Core.Policy;

/// <summary>
/// Compiled Kyverno policies (<c>ClusterPolicy</c>/<c>Policy</c>, <c>kyverno.io/v1</c> and <c>v2beta1</c>) and
/// <c>PolicyException</c>s: patterns parsed, JMESPath expressions parsed, autogen rules for Pod controllers generated.
/// Immutable and thread-safe; load once, validate many resources.
/// </summary>
public sealed partial class PolicySet
{
    private PolicySet(IReadOnlyList<CompiledPolicy> policies, IReadOnlyList<CompiledException> exceptions)
    {
        Policies = policies;
        Exceptions = exceptions;
    }

    /// <summary>The policies in load order.</summary>
    public IReadOnlyList<CompiledPolicy> Policies { get; }

    /// <summary>How many <c>PolicyException</c>s were loaded.</summary>
    public int ExceptionCount => Exceptions.Count;

    internal IReadOnlyList<CompiledException> Exceptions { get; }

    /// <summary>An empty set (validates nothing).</summary>
    public static PolicySet Empty { get; } = new([], []);

    /// <summary>
    /// Loads every <c>ClusterPolicy</c>, <c>Policy</c> and <c>PolicyException</c> document from the given YAML texts;
    /// other documents are ignored. Non-validate rules (mutate, generate, verifyImages) are ignored too.
    /// </summary>
    /// <exception cref="PolicyLoadException">A policy is invalid; the message names <c>file:line</c>, the policy and the rule.</exception>
    public static PolicySet Load(IEnumerable<(string SourcePath, string Yaml)> sources)
    {
        var policies = new List<CompiledPolicy>();
        var exceptions = new List<CompiledException>();
        foreach (var (path, yaml) in sources)
        {
            foreach (var document in YamlDocuments.Parse(path, yaml))
            {
                if (document.Root is JsonObject obj && IsPolicy(obj))
                {
                    policies.Add(Compile(obj, path, document.Line));
                }
                else if (document.Root is JsonObject candidate && IsPolicyException(candidate))
                {
                    exceptions.Add(CompileException(candidate, path, document.Line));
                }
            }
        }

        return new PolicySet(policies, exceptions);
    }

    /// <summary>Loads policy files, or every <c>*.yaml</c>/<c>*.yml</c> file under directories, recursively.</summary>
    public static PolicySet LoadPaths(IEnumerable<string> paths)
    {
        var files = new List<string>();
        foreach (var path in paths)
        {
            if (Directory.Exists(path))
            {
                files.AddRange(Directory.EnumerateFiles(path, "*.*", SearchOption.AllDirectories)
                    .Where(f => f.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".yml", StringComparison.OrdinalIgnoreCase))
                    .Order(StringComparer.Ordinal));
            }
            else if (File.Exists(path))
            {
                files.Add(path);
            }
            else
            {
                throw new PolicyLoadException($"{path}: no such policy file or directory");
            }
        }

        return Load(files.Select(f => (f, File.ReadAllText(f))));
    }

    /// <summary>A set holding only the named policies (<c>name</c> or <c>namespace/name</c>).</summary>
    public PolicySet Only(params string[] names) =>
        new(Policies.Where(p => names.Contains(p.Name, StringComparer.Ordinal) || names.Contains(p.ReportName, StringComparer.Ordinal)).ToList(), Exceptions);

    /// <summary>True for a Kyverno <c>ClusterPolicy</c> or <c>Policy</c> document.</summary>
    public static bool IsPolicy(JsonObject document) =>
        JsonUtil.GetString(document, "kind") is "ClusterPolicy" or "Policy"
        && (JsonUtil.GetString(document, "apiVersion") ?? "").StartsWith("kyverno.io/", StringComparison.Ordinal);
}
