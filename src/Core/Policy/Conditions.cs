using System.Text.Json.Nodes;

namespace FleetFunctions.Core.Policy;

/// <summary>Operators of Kyverno conditions (preconditions and <c>deny.conditions</c>).</summary>
internal enum ConditionOperator
{
    Equals,
    NotEquals,
    In,
    NotIn,
    AnyIn,
    AllIn,
    AnyNotIn,
    AllNotIn,
    GreaterThan,
    GreaterThanOrEquals,
    LessThan,
    LessThanOrEquals,
    DurationGreaterThan,
    DurationGreaterThanOrEquals,
    DurationLessThan,
    DurationLessThanOrEquals,
}

/// <summary>One compiled condition: key, operator, value (variables substituted at evaluation).</summary>
internal sealed class Condition(JsonTemplate key, ConditionOperator op, JsonTemplate value, Template? message, string? rawMessage)
{
    public static ConditionOperator ParseOperator(string text, string where) => text.ToLowerInvariant() switch
    {
        "equal" or "equals" => ConditionOperator.Equals,
        "notequal" or "notequals" => ConditionOperator.NotEquals,
        "in" => ConditionOperator.In,
        "notin" => ConditionOperator.NotIn,
        "anyin" => ConditionOperator.AnyIn,
        "allin" => ConditionOperator.AllIn,
        "anynotin" => ConditionOperator.AnyNotIn,
        "allnotin" => ConditionOperator.AllNotIn,
        "greaterthan" => ConditionOperator.GreaterThan,
        "greaterthanorequals" => ConditionOperator.GreaterThanOrEquals,
        "lessthan" => ConditionOperator.LessThan,
        "lessthanorequals" => ConditionOperator.LessThanOrEquals,
        "durationgreaterthan" => ConditionOperator.DurationGreaterThan,
        "durationgreaterthanorequals" => ConditionOperator.DurationGreaterThanOrEquals,
        "durationlessthan" => ConditionOperator.DurationLessThan,
        "durationlessthanorequals" => ConditionOperator.DurationLessThanOrEquals,
        _ => throw new PolicyLoadException($"{where}: unknown condition operator '{text}' (expected Equals, NotEquals, AnyIn, AllIn, AnyNotIn, AllNotIn, In, NotIn, GreaterThan(OrEquals), LessThan(OrEquals) or a Duration* variant)"),
    };

    public IEnumerable<string> Errors() => key.Errors().Concat(value.Errors()).Concat(message?.Check() is { } e ? [e] : []);

    /// <summary>Evaluates the condition; the message is the condition's own message when it is false.</summary>
    public bool Evaluate(EvalContext context, out string? failedMessage)
    {
        var k = key.Evaluate(context);
        var v = value.Evaluate(context);
        var result = ConditionOperators.Evaluate(op, k, v);
        failedMessage = null;
        if (!result && rawMessage is not null)
        {
            failedMessage = message is null ? rawMessage : JsonUtil.AsString(SafeEvaluate(message, context)) ?? rawMessage;
        }

        return result;
    }

    private static JsonNode? SafeEvaluate(Template template, EvalContext context)
    {
        try
        {
            return template.Evaluate(context);
        }
        catch (PolicyEvaluationException)
        {
            return JsonValue.Create(template.Text);
        }
    }
}

/// <summary><c>any</c>/<c>all</c> blocks; a list of blocks is their conjunction.</summary>
internal sealed class ConditionBlock(IReadOnlyList<Condition> any, IReadOnlyList<Condition> all)
{
    public IReadOnlyList<Condition> Any { get; } = any;

    public IReadOnlyList<Condition> All { get; } = all;

    public IEnumerable<string> Errors() => Any.Concat(All).SelectMany(c => c.Errors());

    /// <summary>True when one <c>any</c> condition holds (or there are none) and every <c>all</c> condition holds.</summary>
    public bool Evaluate(EvalContext context, List<string> messages)
    {
        var anyResult = Any.Count == 0;
        var anyMessages = new List<string>();
        foreach (var c in Any)
        {
            if (c.Evaluate(context, out var m))
            {
                anyResult = true;
                break;
            }

            if (m is not null)
            {
                anyMessages.Add(m);
            }
        }

        if (!anyResult)
        {
            messages.AddRange(anyMessages);
        }

        var allResult = true;
        foreach (var c in All)
        {
            if (!c.Evaluate(context, out var m))
            {
                allResult = false;
                if (m is not null)
                {
                    messages.Add(m);
                }

                break;
            }
        }

        return anyResult && allResult;
    }

    /// <summary>Evaluates a list of blocks: all must hold.</summary>
    public static bool EvaluateAll(IReadOnlyList<ConditionBlock> blocks, EvalContext context, out string message)
    {
        var messages = new List<string>();
        var result = true;
        foreach (var block in blocks)
        {
            if (!block.Evaluate(context, messages))
            {
                result = false;
                break;
            }
        }

        message = string.Join("; ", messages);
        return result;
    }
}
