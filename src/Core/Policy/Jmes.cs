using System.Collections.Concurrent;
using DevLab.JmesPath;
using DevLab.JmesPath.Expressions;
using Newtonsoft.Json.Linq;

namespace FleetFunctions.Core.Policy;

/// <summary>JMESPath (JmesPath.Net) with Kyverno's extra functions; parsed expressions are cached.</summary>
internal static class Jmes
{
    private static readonly JmesPath s_parser = CreateParser();
    private static readonly ConcurrentDictionary<string, JmesPathExpression> s_cache = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, string> s_errors = new(StringComparer.Ordinal);

    private static JmesPath CreateParser()
    {
        var jp = new JmesPath();
        KyvernoFunctions.Register(jp.FunctionRepository);
        return jp;
    }

    /// <summary>Parses (once) a JMESPath expression.</summary>
    /// <exception cref="PolicyEvaluationException">The expression is not valid JMESPath.</exception>
    public static JmesPathExpression Parse(string expression)
    {
        if (s_cache.TryGetValue(expression, out var cached))
        {
            return cached;
        }

        if (s_errors.TryGetValue(expression, out var error))
        {
            throw new PolicyEvaluationException(error);
        }

        if (s_cache.Count > 50_000)
        {
            s_cache.Clear();
        }

        try
        {
            JmesPathExpression parsed;
            lock (s_parser)
            {
                parsed = s_parser.Parse(expression);
            }

            return s_cache.GetOrAdd(expression, parsed);
        }
        catch (Exception ex) when (ex is not PolicyEvaluationException)
        {
            var message = $"invalid JMESPath expression '{expression}': {ex.Message}";
            if (s_errors.Count < 10_000)
            {
                s_errors[expression] = message;
            }

            throw new PolicyEvaluationException(message, ex);
        }
    }

    /// <summary>True when the expression parses.</summary>
    public static bool TryParse(string expression, out string? error)
    {
        try
        {
            Parse(expression);
            error = null;
            return true;
        }
        catch (PolicyEvaluationException ex)
        {
            error = ex.Message;
            return false;
        }
    }

    /// <summary>Evaluates a parsed expression against a root token.</summary>
    public static JToken? Evaluate(JmesPathExpression expression, JToken root, string text)
    {
        try
        {
            var result = expression.Transform(new JmesPathArgument(root));
            return result.AsJToken();
        }
        catch (PolicyEvaluationException)
        {
            throw;
        }
        catch (Exception ex)
        {
            throw new PolicyEvaluationException($"JMESPath query '{text}' failed: {ex.Message}", ex);
        }
    }
}
