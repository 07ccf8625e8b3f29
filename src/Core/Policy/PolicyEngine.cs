using System.Text.Json.Nodes;

namespace FleetFunctions.Core.Policy;

/// <summary>
/// Validates resources against a <see cref="PolicySet"/> with Kyverno's semantics. Stateless and thread-safe:
/// call it in parallel for different resources.
/// </summary>
public static class PolicyEngine
{
    /// <summary>
    /// Runs every matching validate rule of <paramref name="policies"/> on <paramref name="resource"/> as admission
    /// would see it (<see cref="AdmissionView"/>): explicit nulls of object properties do not count as fields, and
    /// with <see cref="PolicyContext.Scopes"/> an object lacking a namespace is evaluated where it will land.
    /// </summary>
    /// <param name="sourceFile">Where the resource came from (reported in violations).</param>
    public static PolicyReport Validate(PolicySet policies, JsonObject resource, PolicyContext? context = null, string? sourceFile = null)
    {
        ArgumentNullException.ThrowIfNull(policies);
        ArgumentNullException.ThrowIfNull(resource);
        context ??= PolicyContext.Default;
        resource = AdmissionView.Of(resource, context.Scopes);
        if (context.OldResource is { } oldResource)
        {
            context = context with { OldResource = AdmissionView.Of(oldResource, context.Scopes) };
        }

        var id = ResourceId(resource);
        var results = new List<RuleResult>();
        var violations = new List<Violation>();
        var eval = new EvalContext(resource, context);
        var ns = JsonUtil.GetString(resource, "metadata", "namespace") ?? "";
        foreach (var policy in policies.Policies)
        {
            if (policy.Namespace is not null && policy.Namespace != ns)
            {
                continue;
            }

            foreach (var rule in policy.Rules)
            {
                if (!ResourceMatcher.Matches(rule, resource, context, eval.Operation))
                {
                    continue;
                }

                var exceptions = policies.Exceptions.Count == 0 ? [] : policies.Exceptions
                    .Where(e => e.Covers(policy, rule) && ResourceMatcher.MatchesBlock(e.Match, resource, context, eval.Operation)).ToList();
                var outcome = RuleEvaluator.Evaluate(policy, rule, eval, exceptions);
                var action = ActionFor(policy, rule, ns, context);
                var status = outcome.Status;
                if (status == RuleStatus.Fail && action == FailureAction.Audit && context.AuditAsWarn)
                {
                    status = RuleStatus.Warn;
                }

                results.Add(new RuleResult(policy.ReportName, rule.Name, status, outcome.Message, action));
                if (outcome.Status is RuleStatus.Fail or RuleStatus.Error)
                {
                    violations.Add(new Violation(policy.ReportName, rule.Name, id, sourceFile, outcome.Message, action));
                }

                if (policy.ApplyOne && outcome.Status is RuleStatus.Pass or RuleStatus.Fail)
                {
                    break;
                }
            }
        }

        return new PolicyReport(id, results, violations);
    }

    /// <summary><c>Kind/namespace/name</c>, or <c>Kind/name</c> for cluster-scoped objects.</summary>
    public static string ResourceId(JsonObject resource)
    {
        var kind = JsonUtil.GetString(resource, "kind") ?? "?";
        var name = JsonUtil.GetString(resource, "metadata", "name") ?? JsonUtil.GetString(resource, "metadata", "generateName") ?? "?";
        var ns = JsonUtil.GetString(resource, "metadata", "namespace");
        return string.IsNullOrEmpty(ns) ? $"{kind}/{name}" : $"{kind}/{ns}/{name}";
    }

    /// <summary>
    /// Kyverno's order: the rule's <c>validate.failureActionOverrides</c>, its <c>validate.failureAction</c>, the
    /// policy's <c>validationFailureActionOverrides</c>, then <c>validationFailureAction</c>.
    /// </summary>
    private static FailureAction ActionFor(CompiledPolicy policy, CompiledRule rule, string ns, PolicyContext context) =>
        FailureActionOverride.First(rule.Overrides, ns, context)
        ?? rule.Action
        ?? FailureActionOverride.First(policy.Overrides, ns, context)
        ?? policy.DefaultAction;
}

internal readonly record struct RuleOutcome(RuleStatus Status, string Message)
{
    public static RuleOutcome Pass(string message = "") => new(RuleStatus.Pass, message);

    public static RuleOutcome Skip(string message) => new(RuleStatus.Skip, message);

    public static RuleOutcome Fail(string message) => new(RuleStatus.Fail, message);

    public static RuleOutcome Error(string message) => new(RuleStatus.Error, message);
}
