using System.Collections.Frozen;

namespace FleetFunctions.Simulator.Selectors;

/// <summary>
/// A parsed label selector in the string form of the list API (<c>a=b,c!=d,e in (x,y),f notin (z),g,!h</c>).
/// All requirements must hold.
/// </summary>
internal sealed class LabelSelector
{
    public static readonly LabelSelector Everything = new([]);

    private readonly IReadOnlyList<Requirement> _requirements;

    private LabelSelector(IReadOnlyList<Requirement> requirements) => _requirements = requirements;

    private enum Operator
    {
        Equals,
        NotEquals,
        In,
        NotIn,
        Exists,
        DoesNotExist,
    }

    public bool Matches(IReadOnlyDictionary<string, string> labels)
    {
        foreach (var r in _requirements)
        {
            var has = labels.TryGetValue(r.Key, out var value);
            var ok = r.Op switch
            {
                Operator.Equals => has && value == r.Values[0],
                Operator.NotEquals => !has || value != r.Values[0],
                Operator.In => has && r.Values.Contains(value!),
                Operator.NotIn => !has || !r.Values.Contains(value!),
                Operator.Exists => has,
                Operator.DoesNotExist => !has,
                _ => false,
            };
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Parses a selector; throws <see cref="FormatException"/> naming the bad term.</summary>
    public static LabelSelector Parse(string? selector)
    {
        if (string.IsNullOrWhiteSpace(selector))
        {
            return Everything;
        }

        var requirements = new List<Requirement>();
        foreach (var term in SplitTerms(selector))
        {
            requirements.Add(ParseTerm(term.Trim(), selector));
        }

        return new LabelSelector(requirements);
    }

    private static IEnumerable<string> SplitTerms(string selector)
    {
        var depth = 0;
        var start = 0;
        for (var i = 0; i < selector.Length; i++)
        {
            switch (selector[i])
            {
                case '(':
                    depth++;
                    break;
                case ')':
                    depth--;
                    break;
                case ',' when depth == 0:
                    yield return selector[start..i];
                    start = i + 1;
                    break;
            }
        }

        yield return selector[start..];
    }

    private static Requirement ParseTerm(string term, string selector)
    {
        if (term.Length == 0)
        {
            throw new FormatException($"label selector \"{selector}\": empty requirement");
        }

        if (term[0] == '!')
        {
            return new Requirement(ValidKey(term[1..].Trim(), selector), Operator.DoesNotExist, []);
        }

        var parts = term.Split(' ', 2, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 2 && (parts[1].StartsWith("in", StringComparison.Ordinal) || parts[1].StartsWith("notin", StringComparison.Ordinal)))
        {
            var notIn = parts[1].StartsWith("notin", StringComparison.Ordinal);
            var rest = parts[1][(notIn ? 5 : 2)..].Trim();
            if (rest.Length < 2 || rest[0] != '(' || rest[^1] != ')')
            {
                throw new FormatException($"label selector \"{selector}\": expected (values) after '{(notIn ? "notin" : "in")}' in \"{term}\"");
            }

            var values = rest[1..^1].Split(',', StringSplitOptions.TrimEntries).ToFrozenSet(StringComparer.Ordinal);
            return new Requirement(ValidKey(parts[0], selector), notIn ? Operator.NotIn : Operator.In, [.. values]);
        }

        foreach (var (token, op) in (ReadOnlySpan<(string, Operator)>)[("!=", Operator.NotEquals), ("==", Operator.Equals), ("=", Operator.Equals)])
        {
            var at = term.IndexOf(token, StringComparison.Ordinal);
            if (at > 0)
            {
                return new Requirement(ValidKey(term[..at].Trim(), selector), op, [term[(at + token.Length)..].Trim()]);
            }
        }

        return new Requirement(ValidKey(term, selector), Operator.Exists, []);
    }

    private static string ValidKey(string key, string selector)
    {
        if (key.Length == 0 || key.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '/')))
        {
            throw new FormatException($"label selector \"{selector}\": invalid label key \"{key}\"");
        }

        return key;
    }

    private sealed record Requirement(string Key, Operator Op, string[] Values);
}
