using System.Globalization;
using System.Text.RegularExpressions;
using System.Text.Json.Nodes;

namespace FleetFunctions.Core.Policy;

/// <summary>Evaluates one validate rule (context, preconditions, deny / pattern / anyPattern / foreach) like Kyverno's validator.</summary>
internal static class RuleEvaluator
{
    /// <param name="exceptions">PolicyExceptions that name this rule and match the resource; their conditions are checked here.</param>
    public static RuleOutcome Evaluate(CompiledPolicy policy, CompiledRule rule, EvalContext context, IReadOnlyList<CompiledException>? exceptions = null)
    {
        var checkpoint = context.Checkpoint();
        try
        {
            if (context.PolicyContext.RuleValues.TryGetValue($"{policy.Name}/{rule.SourceName}", out var values)
                || context.PolicyContext.RuleValues.TryGetValue($"{policy.Name}/{rule.Name}", out values))
            {
                foreach (var (name, value) in values)
                {
                    context.Set(name, JmesValue.FromNode(value));
                }
            }

            if (rule.CelPreconditions?.Evaluate(rule.Name, context) is { } unmet)
            {
                return unmet;
            }

            var outcome = Validate(rule.Name, rule.Context, rule.Preconditions, rule.Validation, context, context.Resource, 0, values, exceptions ?? []);
            return outcome.Status == RuleStatus.Pass && outcome.Message.Length == 0 ? RuleOutcome.Pass(rule.PassMessage) : outcome;
        }
        catch (PolicyEvaluationException ex)
        {
            return RuleOutcome.Error(ex.Message);
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or FormatException or OverflowException or RegexMatchTimeoutException or UnknownVariableException)
        {
            // One odd object must not abort the validation of a whole commit: report the rule as errored.
            return RuleOutcome.Error($"rule {rule.Name} could not be evaluated: {ex.Message}");
        }
        finally
        {
            context.Restore(checkpoint);
        }
    }

    private static RuleOutcome Validate(
        string ruleName,
        IReadOnlyList<ContextEntry> entries,
        IReadOnlyList<ConditionBlock> preconditions,
        ValidationSpec validation,
        EvalContext context,
        JsonNode target,
        int nesting,
        IReadOnlyDictionary<string, JsonNode?>? ruleValues,
        IReadOnlyList<CompiledException> exceptions)
    {
        try
        {
            LoadContext(entries, context, ruleValues);
        }
        catch (PolicyEvaluationException ex)
        {
            return RuleOutcome.Error($"failed to load context: {ex.Message}");
        }

        if (preconditions.Count > 0)
        {
            bool passed;
            string why;
            try
            {
                passed = ConditionBlock.EvaluateAll(preconditions, context, out why);
            }
            catch (PolicyEvaluationException ex)
            {
                return RuleOutcome.Error($"failed to evaluate preconditions: {ex.Message}");
            }

            if (!passed)
            {
                return RuleOutcome.Skip(why.Length > 0 ? "preconditions not met: " + why : "preconditions not met");
            }
        }

        // As Kyverno: exceptions are looked at once the rule applies (matched, preconditions met).
        var excepted = exceptions.Where(e => ExceptionApplies(e, context)).ToList();
        if (validation.PodSecurity is not null)
        {
            // Exceptions that bring Pod Security exclusions narrow the checks; one without them skips the rule.
            return excepted.Count > 0 && excepted.Any(e => e.PodSecurity.Count == 0)
                ? CompiledException.Skipped(excepted)
                : validation.PodSecurity.Evaluate(ruleName, context.Resource, context.IsDelete, excepted);
        }

        if (excepted.Count > 0)
        {
            return CompiledException.Skipped(excepted);
        }

        if (validation.Cel is not null)
        {
            return validation.Cel.Evaluate(ruleName, context);
        }

        if (validation.Unsupported is not null)
        {
            return RuleOutcome.Error(validation.Unsupported);
        }

        if (validation.Deny is not null)
        {
            bool deny;
            try
            {
                deny = ConditionBlock.EvaluateAll(validation.Deny, context, out _);
            }
            catch (PolicyEvaluationException ex)
            {
                return RuleOutcome.Error($"failed to check deny conditions: {ex.Message}");
            }

            var message = Message(validation, context);
            return deny
                ? RuleOutcome.Fail(message.Length > 0 ? message : $"validation error: rule {ruleName} failed")
                : RuleOutcome.Pass();
        }

        if (validation.Pattern is not null || validation.AnyPattern is not null)
        {
            return ValidatePatterns(ruleName, validation, context, target);
        }

        if (validation.ForEach is not null)
        {
            return ValidateForEach(ruleName, validation, context, target, nesting, ruleValues);
        }

        return RuleOutcome.Error($"rule {ruleName}: nothing to validate");
    }

    /// <summary>Whether <paramref name="exception"/>'s conditions hold; one whose conditions cannot be evaluated does not apply.</summary>
    private static bool ExceptionApplies(CompiledException exception, EvalContext context)
    {
        if (exception.Conditions.Count == 0)
        {
            return true;
        }

        try
        {
            return ConditionBlock.EvaluateAll(exception.Conditions, context, out _);
        }
        catch (Exception ex) when (ex is PolicyEvaluationException or UnknownVariableException)
        {
            return false;
        }
    }

    private static string Message(ValidationSpec validation, EvalContext context)
    {
        if (validation.MessageTemplate is null)
        {
            return validation.Message ?? "";
        }

        try
        {
            var value = validation.MessageTemplate.Evaluate(context);
            return JsonUtil.AsString(value) ?? JsonUtil.Marshal(value);
        }
        catch (PolicyEvaluationException)
        {
            return validation.Message ?? "";
        }
    }

    private static RuleOutcome ValidatePatterns(string ruleName, ValidationSpec validation, EvalContext context, JsonNode target)
    {
        if (validation.Pattern is not null)
        {
            var outcome = PatternMatcher.Match(target, validation.Pattern, context);
            return outcome.Status switch
            {
                PatternStatus.Pass => RuleOutcome.Pass(),
                PatternStatus.Skip => RuleOutcome.Skip(outcome.Message),
                PatternStatus.Error => RuleOutcome.Error(ErrorMessage(validation, context, ruleName, outcome.Message)),
                _ => RuleOutcome.Fail(FailMessage(validation, context, $"rule {ruleName} failed at path {outcome.Path}")),
            };
        }

        var failed = new List<string>();
        var skipped = new List<string>();
        for (var i = 0; i < validation.AnyPattern!.Count; i++)
        {
            var outcome = PatternMatcher.Match(target, validation.AnyPattern[i], context);
            switch (outcome.Status)
            {
                case PatternStatus.Pass:
                    return RuleOutcome.Pass($"validation rule '{ruleName}' anyPattern[{i}] passed.");
                case PatternStatus.Skip:
                    skipped.Add($"rule {ruleName}[{i}] skipped: {outcome.Message}");
                    break;
                case PatternStatus.Error:
                    failed.Add($"rule {ruleName}[{i}] failed: {outcome.Message}");
                    break;
                default:
                    failed.Add($"rule {ruleName}[{i}] failed at path {outcome.Path}");
                    break;
            }
        }

        if (skipped.Count > 0 && failed.Count == 0)
        {
            return RuleOutcome.Skip(string.Join(" ", skipped));
        }

        return RuleOutcome.Fail(FailMessage(validation, context, string.Join(" ", failed)));
    }

    private static string FailMessage(ValidationSpec validation, EvalContext context, string detail)
    {
        var message = Message(validation, context).TrimEnd();
        return message.Length > 0 ? $"validation error: {message.TrimEnd('.')}. {detail}" : $"validation error: {detail}";
    }

    private static string ErrorMessage(ValidationSpec validation, EvalContext context, string ruleName, string detail) =>
        $"{FailMessage(validation, context, $"rule {ruleName} failed")}: {detail}";

    private static RuleOutcome ValidateForEach(
        string ruleName,
        ValidationSpec parent,
        EvalContext context,
        JsonNode target,
        int nesting,
        IReadOnlyDictionary<string, JsonNode?>? ruleValues)
    {
        var applied = 0;
        foreach (var declared in parent.ForEach!)
        {
            // A step without its own message reports the rule's message, evaluated with the element in scope.
            var step = declared.Validation.Message is null && parent.Message is not null
                ? declared with { Validation = declared.Validation with { Message = parent.Message, MessageTemplate = parent.MessageTemplate } }
                : declared;
            object? list;
            try
            {
                var expression = step.ListTemplate is null ? step.List : JsonUtil.AsString(step.ListTemplate.Evaluate(context)) ?? step.List;
                list = context.Query(expression);
            }
            catch (PolicyEvaluationException)
            {
                continue;
            }

            IReadOnlyList<object?> elements = JmesValue.TypeOf(list) == JmesValue.Type.Array ? JmesValue.Items(list) : [list];
            var (outcome, count) = ValidateElements(ruleName, step, elements, context, target, nesting, ruleValues);
            if (outcome.Status != RuleStatus.Pass)
            {
                return outcome;
            }

            applied += count;
        }

        return applied == 0 ? RuleOutcome.Skip("rule skipped") : RuleOutcome.Pass();
    }

    private static (RuleOutcome Outcome, int Applied) ValidateElements(
        string ruleName,
        ForEachSpec step,
        IReadOnlyList<object?> elements,
        EvalContext context,
        JsonNode target,
        int nesting,
        IReadOnlyDictionary<string, JsonNode?>? ruleValues)
    {
        var applied = 0;
        for (var index = 0; index < elements.Count; index++)
        {
            var element = elements[index];
            if (element is null)
            {
                continue;
            }

            var checkpoint = context.Checkpoint();
            RuleOutcome outcome;
            try
            {
                var nest = nesting.ToString(CultureInfo.InvariantCulture);
                context.Set("element", element);
                context.Set("element" + nest, element);
                context.Set("elementIndex", (long)index);
                context.Set("elementIndex" + nest, (long)index);
                var elementNode = JmesValue.ToReadOnlyNode(element);
                var scoped = (step.ElementScope ?? true) && elementNode is JsonObject;
                outcome = Validate(ruleName, step.Context, step.Preconditions, step.Validation, context, scoped ? elementNode! : target, nesting + 1, ruleValues, []);
            }
            finally
            {
                context.Restore(checkpoint);
            }

            switch (outcome.Status)
            {
                case RuleStatus.Skip:
                    continue;
                case RuleStatus.Error:
                    if (index < elements.Count - 1)
                    {
                        continue;
                    }

                    return (RuleOutcome.Error($"validation failure: {outcome.Message}"), applied);
                case RuleStatus.Fail:
                    return (RuleOutcome.Fail(outcome.Message), applied);
            }

            applied++;
        }

        return (RuleOutcome.Pass(), applied);
    }

    private static void LoadContext(IReadOnlyList<ContextEntry> entries, EvalContext context, IReadOnlyDictionary<string, JsonNode?>? ruleValues)
    {
        foreach (var entry in entries)
        {
            if (ruleValues is not null && ruleValues.Keys.Any(k => k == entry.Name || k.StartsWith(entry.Name + ".", StringComparison.Ordinal)))
            {
                continue;
            }

            if (context.HasSuppliedValue(entry.Name))
            {
                continue;
            }

            switch (entry.Kind)
            {
                case ContextEntryKind.Variable:
                    context.Set(entry.Name, EvaluateVariable(entry, context));
                    break;
                default:
                    var kind = entry.Kind switch
                    {
                        ContextEntryKind.ApiCall => "apiCall",
                        ContextEntryKind.ConfigMap => "configMap",
                        ContextEntryKind.ImageRegistry => "imageRegistry",
                        _ => "globalReference",
                    };
                    throw new PolicyEvaluationException(
                        $"context entry '{entry.Name}' ({kind}) needs a value: live lookups are not made, supply it as a value named '{entry.Name}' (values file: policies[].rules[].values or globalValues)");
            }
        }
    }

    private static object? EvaluateVariable(ContextEntry entry, EvalContext context)
    {
        object? result = JmesValue.FromNode(entry.Value?.Evaluate(context));
        if (entry.JmesPathText is not null)
        {
            var expression = Template.Compile(entry.JmesPathText) is { } t && entry.JmesPathText.Contains("{{", StringComparison.Ordinal)
                ? JsonUtil.AsString(t.Evaluate(context)) ?? entry.JmesPathText
                : entry.JmesPathText;
            if (entry.Value is not null)
            {
                result = Jmes.Parse(expression).EvaluateOn(result, context);
            }
            else
            {
                result = context.Query(expression);
            }
        }

        if (result is null && entry.Default is not null)
        {
            result = JmesValue.FromNode(entry.Default.Evaluate(context));
        }

        if (result is null && entry.Default is null)
        {
            throw new PolicyEvaluationException($"variable '{entry.Name}' evaluated to null and has no default");
        }

        return result;
    }
}
