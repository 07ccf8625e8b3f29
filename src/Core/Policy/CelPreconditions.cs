using System.Text.Json.Nodes;
using Cel;

namespace FleetFunctions.Core.Policy;

/// <summary>
/// A rule's <c>celPreconditions</c>: named CEL expressions (Kubernetes match conditions) that must all be true for the
/// rule to apply. They see what <c>validate.cel</c> sees (<c>object</c>, <c>oldObject</c>, <c>request</c>,
/// <c>namespaceObject</c>); one that is false skips the rule, as Kyverno does before loading context or looking at
/// exceptions. Each expression is compiled when the policy loads.
/// </summary>
internal sealed class CelPreconditions
{
    private readonly IReadOnlyList<(string Name, string Text, CelProgramDelegate Program)> _conditions;

    private CelPreconditions(IReadOnlyList<(string, string, CelProgramDelegate)> conditions) => _conditions = conditions;

    /// <summary>The compiled list, or null when the rule has none.</summary>
    /// <exception cref="PolicyLoadException">The list is malformed or an expression does not compile.</exception>
    public static CelPreconditions? Compile(JsonNode? node, string where)
    {
        where += " celPreconditions";
        switch (node)
        {
            case null:
                return null;
            case not JsonArray:
                throw new PolicyLoadException($"{where}: expected a list of name and expression");
        }

        var conditions = new List<(string, string, CelProgramDelegate)>();
        var list = (JsonArray)node;
        for (var i = 0; i < list.Count; i++)
        {
            var at = $"{where}[{i}]";
            var name = JsonUtil.GetString(list[i], "name") is { Length: > 0 } n ? n : throw new PolicyLoadException($"{at}.name is required");
            var text = JsonUtil.GetString(list[i], "expression");
            conditions.Add((name, text ?? string.Empty, CelRule.CompileExpression(text, $"{at}.expression")));
        }

        return conditions.Count == 0 ? null : new CelPreconditions(conditions);
    }

    /// <summary>Null when every condition holds; otherwise the outcome of the rule: skip on a false one, error on one that cannot be evaluated.</summary>
    public RuleOutcome? Evaluate(string ruleName, EvalContext context)
    {
        var scope = CelRule.Scope(context);
        foreach (var (name, text, program) in _conditions)
        {
            object? result;
            try
            {
                result = program(scope);
            }
            catch (CelException ex)
            {
                return RuleOutcome.Error($"rule {ruleName}: celPreconditions '{name}' ({text}) could not be evaluated: {ex.Message}");
            }

            if (result is not bool holds)
            {
                return RuleOutcome.Error($"rule {ruleName}: celPreconditions '{name}' ({text}) did not give a bool");
            }

            if (!holds)
            {
                return RuleOutcome.Skip($"cel preconditions not met: {name}");
            }
        }

        return null;
    }
}
