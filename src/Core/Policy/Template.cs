using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace FleetFunctions.Core.Policy;

/// <summary>
/// A string holding Kyverno variables (<c>{{ request.object.metadata.name }}</c>), compiled once. A string that is
/// exactly one variable yields the variable's JSON value; otherwise values are interpolated (strings as-is,
/// everything else as JSON). Nested variables are resolved innermost first, as Kyverno does.
/// </summary>
internal sealed partial class Template
{
    private readonly string _text;
    private readonly string? _single;
    private readonly JmesQuery? _singleExpression;

    private Template(string text)
    {
        _text = text;
        var m = SingleVariable().Match(text);
        if (m.Success)
        {
            _single = Strip(text);
            if (Jmes.TryParse(_single, out _))
            {
                _singleExpression = Jmes.Parse(_single);
            }
        }
    }

    /// <summary>The source text.</summary>
    public string Text => _text;

    /// <summary>Compiles <paramref name="text"/>, or returns null when it holds no variable.</summary>
    public static Template? Compile(string text) =>
        text.Contains("{{", StringComparison.Ordinal) && Variables().IsMatch(text) ? new Template(text) : null;

    /// <summary>Checks that every expression parses; returns the first error.</summary>
    public string? Check()
    {
        foreach (Match m in Variables().Matches(_text))
        {
            var inner = Strip(m.Groups[2].Value);
            if (!inner.Contains("{{", StringComparison.Ordinal) && inner != "@" && !Jmes.TryParse(inner, out var error))
            {
                return error;
            }
        }

        return null;
    }

    /// <summary>Resolves the variables against <paramref name="context"/>.</summary>
    /// <exception cref="PolicyEvaluationException">An expression fails.</exception>
    public JsonNode? Evaluate(EvalContext context)
    {
        if (_singleExpression is not null && !context.IsDelete)
        {
            return JmesValue.ToReadOnlyNode(context.Query(_singleExpression));
        }

        return EvaluateDynamic(context);
    }

    private JsonNode? EvaluateDynamic(EvalContext context)
    {
        var value = _text;
        var matches = Variables().Matches(value);
        while (matches.Count > 0)
        {
            var original = value;
            foreach (Match m in matches)
            {
                var prefix = m.Groups[1].Value;
                var variable = m.Groups[2].Value;
                var expression = Strip(variable);
                if (context.IsDelete)
                {
                    expression = expression.Replace("request.object", "request.oldObject", StringComparison.Ordinal);
                }

                var result = context.Query(Jmes.Parse(expression));
                if (original == variable)
                {
                    return JmesValue.ToReadOnlyNode(result);
                }

                var replacement = result as string ?? JmesValue.ToJson(result);
                var index = value.IndexOf(prefix + variable, StringComparison.Ordinal);
                if (index >= 0)
                {
                    value = string.Concat(value.AsSpan(0, index), prefix, replacement, value.AsSpan(index + prefix.Length + variable.Length));
                }
            }

            matches = Variables().Matches(value);
        }

        value = EscapedVariables().Replace(value, e => e.Value[1..]);
        return JsonValue.Create(value);
    }

    private static string Strip(string variable) =>
        variable.Replace("{{", "", StringComparison.Ordinal).Replace("}}", "", StringComparison.Ordinal).Trim();

    [GeneratedRegex(@"(^|[^\\])(\{\{(?:\{[^{}]*\}|[^{}])*\}\})")]
    private static partial Regex Variables();

    [GeneratedRegex(@"^\{\{(?:\{[^{}]*\}|[^{}])*\}\}$")]
    private static partial Regex SingleVariable();

    [GeneratedRegex(@"\\\{\{(\{[^{}]*\}|[^{}])*\}\}")]
    private static partial Regex EscapedVariables();
}

/// <summary>
/// Any JSON value of a policy (condition keys and values, pattern leaves, context values) with the variables in
/// its strings compiled; constant values cost nothing to evaluate.
/// </summary>
internal sealed class JsonTemplate
{
    private readonly JsonNode? _constant;
    private readonly Template? _template;
    private readonly bool _nested;

    private JsonTemplate(JsonNode? constant, Template? template, bool nested)
    {
        _constant = constant;
        _template = template;
        _nested = nested;
    }

    public static JsonTemplate Compile(JsonNode? node)
    {
        if (JsonUtil.AsString(node) is { } s)
        {
            var template = Template.Compile(s);
            return new JsonTemplate(node, template, false);
        }

        return new JsonTemplate(node, null, node is JsonObject or JsonArray && HasVariables(node));
    }

    private static bool HasVariables(JsonNode? node) => node switch
    {
        JsonObject o => o.Any(p => p.Key.Contains("{{", StringComparison.Ordinal) || HasVariables(p.Value)),
        JsonArray a => a.Any(HasVariables),
        _ => JsonUtil.AsString(node) is { } s && Template.Compile(s) is not null,
    };

    public IEnumerable<string> Errors()
    {
        if (_template?.Check() is { } error)
        {
            yield return error;
        }
    }

    /// <summary>The value with variables substituted. Constant values are shared: do not attach or mutate them.</summary>
    public JsonNode? Evaluate(EvalContext context)
    {
        if (_template is not null)
        {
            return _template.Evaluate(context);
        }

        return _nested ? Substitute(_constant, context) : _constant;
    }

    internal static JsonNode? Substitute(JsonNode? node, EvalContext context)
    {
        switch (node)
        {
            case JsonObject o:
                var copy = new JsonObject();
                foreach (var (key, value) in o)
                {
                    var k = Template.Compile(key) is { } kt ? JsonUtil.Sprint(kt.Evaluate(context)) : key;
                    copy[k] = Substitute(value, context);
                }

                return copy;
            case JsonArray a:
                var array = new JsonArray();
                foreach (var item in a)
                {
                    array.Add(Substitute(item, context));
                }

                return array;
            default:
                if (JsonUtil.AsString(node) is { } s && Template.Compile(s) is { } t)
                {
                    return t.Evaluate(context)?.DeepClone();
                }

                return node?.DeepClone();
        }
    }
}
