using System.Text.Json.Nodes;

namespace FleetFunctions.Core.Policy;

/// <summary>
/// A Kyverno <c>PolicyException</c> (<c>kyverno.io/v2</c>, <c>v2beta1</c>, <c>v2alpha1</c>): the rules it exempts
/// (<c>exceptions[].policyName</c> and <c>ruleNames</c>, wildcards allowed; a namespaced Policy is <c>namespace/name</c>,
/// autogen rules are exempt only when named), the resources it applies to (<c>match</c>, and <c>conditions</c> on the
/// resource), and Pod Security exclusions for <c>validate.podSecurity</c> rules.
/// </summary>
internal sealed record CompiledException(
    string Name,
    string? Namespace,
    string SourceFile,
    int Line,
    IReadOnlyList<(string Policy, IReadOnlyList<string> Rules)> Exceptions,
    MatchBlock Match,
    IReadOnlyList<ConditionBlock> Conditions,
    IReadOnlyList<PodSecurityExclusion> PodSecurity)
{
    /// <summary><c>namespace/name</c>, as Kyverno names an exception in results.</summary>
    public string Key => Namespace is null ? Name : $"{Namespace}/{Name}";

    /// <summary>The outcome of a rule <paramref name="exceptions"/> exempt, as Kyverno reports it.</summary>
    public static RuleOutcome Skipped(IReadOnlyList<CompiledException> exceptions) =>
        RuleOutcome.Skip($"rule is skipped due to policy exception{(exceptions.Count == 1 ? "" : "s")} {string.Join(", ", exceptions.Select(e => e.Key))}");

    /// <summary>Whether this exception names <paramref name="rule"/> of <paramref name="policy"/>.</summary>
    public bool Covers(CompiledPolicy policy, CompiledRule rule) =>
        Exceptions.Any(e => Wildcard.Match(e.Policy, policy.ReportName) && e.Rules.Any(r => Wildcard.Match(r, rule.Name)));
}

public sealed partial class PolicySet
{
    /// <summary>True for a Kyverno <c>PolicyException</c> document.</summary>
    public static bool IsPolicyException(JsonObject document) =>
        JsonUtil.GetString(document, "kind") == "PolicyException"
        && (JsonUtil.GetString(document, "apiVersion") ?? "") is "kyverno.io/v2" or "kyverno.io/v2beta1" or "kyverno.io/v2alpha1";

    private static CompiledException CompileException(JsonObject document, string path, int line)
    {
        var name = JsonUtil.GetString(document, "metadata", "name");
        var where = $"{path}:{line}: PolicyException";
        if (string.IsNullOrEmpty(name))
        {
            throw new PolicyLoadException($"{where}: metadata.name is required");
        }

        where = $"{where} {name}";
        if (document["spec"] is not JsonObject spec)
        {
            throw new PolicyLoadException($"{where}: spec is required");
        }

        if (spec["exceptions"] is not JsonArray { Count: > 0 } list)
        {
            throw new PolicyLoadException($"{where}: spec.exceptions is required: a list of policyName and ruleNames");
        }

        var exceptions = new List<(string, IReadOnlyList<string>)>();
        for (var i = 0; i < list.Count; i++)
        {
            var at = $"{where}: spec.exceptions[{i}]";
            var policy = JsonUtil.GetString(list[i], "policyName") is { Length: > 0 } p ? p
                : throw new PolicyLoadException($"{at}.policyName is required: an exception requires a policy name (namespace/name for a namespaced Policy)");
            var rules = Strings(JsonUtil.Get(list[i], "ruleNames"));
            if (rules.Count == 0)
            {
                throw new PolicyLoadException($"{at}.ruleNames is required: the rules of {policy} to exempt (autogen-<rule> for Pod controllers, or a wildcard)");
            }

            exceptions.Add((policy, rules));
        }

        if (spec["match"] is not JsonObject match || (match["any"] is null && match["all"] is null))
        {
            throw new PolicyLoadException($"{where}: spec.match needs any or all resource filters (an exception without them matches nothing)");
        }

        if (match["any"] is not null && match["all"] is not null)
        {
            throw new PolicyLoadException($"{where}: spec.match: can't specify any and all together");
        }

        var background = !JsonUtil.TryGetBool(spec["background"], out var b) || b;
        var filters = (match["any"] as JsonArray ?? match["all"] as JsonArray ?? []).OfType<JsonObject>().ToList();
        if (background && filters.Any(f => f["roles"] is not null || f["clusterRoles"] is not null || f["subjects"] is not null))
        {
            throw new PolicyLoadException($"{where}: spec.match: usage of user info (roles, clusterRoles, subjects) is forbidden unless spec.background is false");
        }

        var podSecurity = spec["podSecurity"] switch
        {
            null => [],
            JsonArray entries => entries.Select((e, i) => PodSecurityRule.CompileExclusion(e, level: null, $"{where}: spec.podSecurity[{i}]")).ToList(),
            _ => throw new PolicyLoadException($"{where}: spec.podSecurity: expected a list of exclusions (controlName, images, restrictedField, values)"),
        };

        return new CompiledException(
            name,
            JsonUtil.GetString(document, "metadata", "namespace"),
            path,
            line,
            exceptions,
            CompileMatch(match, $"{where}: spec.match"),
            CompileConditionList(spec["conditions"], $"{where}: spec.conditions"),
            podSecurity);
    }
}
