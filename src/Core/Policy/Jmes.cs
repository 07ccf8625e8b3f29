using System.Collections.Concurrent;
using DevLab.JmesPath;

namespace FleetFunctions.Core.Policy;

/// <summary>
/// JMESPath: parsed by JmesPath.Net (with every standard and Kyverno function declared), compiled once into a
/// <see cref="JmesQuery"/> and cached by text.
/// </summary>
internal static class Jmes
{
    private static readonly JmesPath s_parser = CreateParser();
    private static readonly ConcurrentDictionary<string, JmesQuery> s_cache = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, string> s_errors = new(StringComparer.Ordinal);

    private static JmesPath CreateParser()
    {
        var jp = new JmesPath();
        KyvernoFunctions.Declare(jp.FunctionRepository);
        return jp;
    }

    /// <summary>Parses and compiles (once) a JMESPath expression.</summary>
    /// <exception cref="PolicyEvaluationException">The expression is not valid JMESPath.</exception>
    public static JmesQuery Parse(string expression)
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
            DevLab.JmesPath.Expressions.JmesPathExpression parsed;
            lock (s_parser)
            {
                parsed = s_parser.Parse(expression);
            }

            return s_cache.GetOrAdd(expression, JmesQuery.Compile(expression, parsed));
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
}
