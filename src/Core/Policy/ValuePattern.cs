using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace FleetFunctions.Core.Policy;

/// <summary>Comparison operator at the start of a string pattern (<c>&gt;=10</c>, <c>!foo*</c>, <c>1-5</c>).</summary>
internal enum PatternOperator
{
    Equal,
    NotEqual,
    More,
    MoreEqual,
    Less,
    LessEqual,
    InRange,
    NotInRange,
}

/// <summary>
/// A compiled string pattern: alternatives split on <c>|</c>, each a conjunction split on <c>&amp;</c>,
/// each term an operator and an operand (wildcards, quantities, Go durations, ranges).
/// </summary>
internal sealed partial class ValuePattern
{
    private static readonly ConcurrentDictionary<string, ValuePattern> s_cache = new(StringComparer.Ordinal);

    private readonly string _raw;
    private readonly Term[][] _alternatives;

    private ValuePattern(string raw)
    {
        _raw = raw;
        _alternatives = raw.Split('|')
            .Select(alt => alt.Trim(' ').Split('&').Select(t => Term.Parse(t.Trim(' '))).ToArray())
            .ToArray();
    }

    public static ValuePattern Get(string raw)
    {
        if (s_cache.TryGetValue(raw, out var cached))
        {
            return cached;
        }

        if (s_cache.Count > 20_000)
        {
            s_cache.Clear();
        }

        return s_cache.GetOrAdd(raw, static r => new ValuePattern(r));
    }

    /// <summary>Kyverno's <c>pattern.Validate</c> for any pattern value.</summary>
    public static bool Validate(JsonNode? value, JsonNode? pattern)
    {
        switch (JsonUtil.Kind(pattern))
        {
            case GoKind.Bool:
                return JsonUtil.TryGetBool(value, out var vb) && JsonUtil.TryGetBool(pattern, out var pb) && vb == pb;
            case GoKind.Int:
                return ValidateInt(value, JsonUtil.GetLong(pattern!));
            case GoKind.Float:
                return ValidateFloat(value, JsonUtil.GetDouble(pattern!));
            case GoKind.Null:
                return ValidateNil(value);
            case GoKind.Map:
                return value is JsonObject;
            case GoKind.String:
                return Get(JsonUtil.AsString(pattern)!).Matches(value);
            default:
                return false;
        }
    }

    private static bool ValidateInt(JsonNode? value, long pattern)
    {
        switch (JsonUtil.Kind(value))
        {
            case GoKind.Int: return JsonUtil.GetLong(value!) == pattern;
            case GoKind.Float:
                var d = JsonUtil.GetDouble(value!);
                return d == Math.Truncate(d) && (long)d == pattern;
            case GoKind.String:
                return long.TryParse(JsonUtil.AsString(value), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l) && l == pattern;
            default: return false;
        }
    }

    private static bool ValidateFloat(JsonNode? value, double pattern)
    {
        switch (JsonUtil.Kind(value))
        {
            case GoKind.Int: return pattern == Math.Truncate(pattern) && JsonUtil.GetLong(value!) == (long)pattern;
            case GoKind.Float: return JsonUtil.GetDouble(value!) == pattern;
            case GoKind.String:
                return double.TryParse(JsonUtil.AsString(value), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d == pattern;
            default: return false;
        }
    }

    private static bool ValidateNil(JsonNode? value) => JsonUtil.Kind(value) switch
    {
        GoKind.Null => true,
        GoKind.Float => JsonUtil.GetDouble(value!) == 0,
        GoKind.Int => JsonUtil.GetLong(value!) == 0,
        GoKind.String => JsonUtil.AsString(value)!.Length == 0,
        GoKind.Bool => JsonUtil.TryGetBool(value, out var b) && !b,
        _ => false,
    };

    /// <summary>True when <paramref name="value"/> satisfies this pattern.</summary>
    public bool Matches(JsonNode? value)
    {
        if (JsonUtil.Kind(value) == GoKind.String && JsonUtil.AsString(value) == _raw)
        {
            return true;
        }

        foreach (var conjunction in _alternatives)
        {
            var all = true;
            foreach (var term in conjunction)
            {
                if (!term.Matches(value))
                {
                    all = false;
                    break;
                }
            }

            if (all)
            {
                return true;
            }
        }

        return false;
    }

    [GeneratedRegex(@"^([-|\+]?\d+(?:\.\d+)?[A-Za-z]*)-([-|\+]?\d+(?:\.\d+)?[A-Za-z]*)$")]
    internal static partial Regex InRangeRegex();

    [GeneratedRegex(@"^([-|\+]?\d+(?:\.\d+)?[A-Za-z]*)!-([-|\+]?\d+(?:\.\d+)?[A-Za-z]*)$")]
    internal static partial Regex NotInRangeRegex();

    internal static PatternOperator OperatorOf(string pattern)
    {
        if (pattern.Length < 2)
        {
            return PatternOperator.Equal;
        }

        if (pattern.StartsWith(">=", StringComparison.Ordinal))
        {
            return PatternOperator.MoreEqual;
        }

        if (pattern.StartsWith("<=", StringComparison.Ordinal))
        {
            return PatternOperator.LessEqual;
        }

        return pattern[0] switch
        {
            '>' => PatternOperator.More,
            '<' => PatternOperator.Less,
            '!' => PatternOperator.NotEqual,
            _ when NotInRangeRegex().IsMatch(pattern) => PatternOperator.NotInRange,
            _ when InRangeRegex().IsMatch(pattern) => PatternOperator.InRange,
            _ => PatternOperator.Equal,
        };
    }

    /// <summary>One operator and operand with its operand pre-parsed as duration and quantity.</summary>
    private sealed class Term
    {
        private PatternOperator _op;
        private string _operand = "";
        private bool _isDuration;
        private long _duration;
        private bool _isQuantity;
        private Quantity _quantity;
        private Term? _left;
        private Term? _right;

        public static Term Parse(string text)
        {
            var term = new Term { _op = OperatorOf(text) };
            if (term._op is PatternOperator.InRange or PatternOperator.NotInRange)
            {
                var m = (term._op == PatternOperator.InRange ? InRangeRegex() : NotInRangeRegex()).Match(text);
                var (lo, hi) = term._op == PatternOperator.InRange ? (">= ", "<= ") : ("< ", "> ");
                term._left = Parse(lo + m.Groups[1].Value);
                term._right = Parse(hi + m.Groups[2].Value);
                return term;
            }

            var prefix = term._op switch
            {
                PatternOperator.MoreEqual or PatternOperator.LessEqual => 2,
                PatternOperator.More or PatternOperator.Less or PatternOperator.NotEqual => 1,
                _ => 0,
            };
            term._operand = text[prefix..].Trim();
            term._isDuration = GoDuration.TryParse(term._operand, out term._duration);
            term._isQuantity = Quantity.TryParse(term._operand, out term._quantity);
            return term;
        }

        public bool Matches(JsonNode? value)
        {
            if (_op == PatternOperator.InRange)
            {
                return _left!.Matches(value) && _right!.Matches(value);
            }

            if (_op == PatternOperator.NotInRange)
            {
                return _left!.Matches(value) || _right!.Matches(value);
            }

            var asNumber = NumberToString(value);
            if (_isDuration && asNumber is not null && GoDuration.TryParse(asNumber, out var d))
            {
                return Compare(d.CompareTo(_duration));
            }

            if (_isQuantity && asNumber is not null && Quantity.TryParse(asNumber, out var q))
            {
                return Compare(q.CompareTo(_quantity));
            }

            if (_op is not (PatternOperator.Equal or PatternOperator.NotEqual))
            {
                return false;
            }

            string? text = JsonUtil.Kind(value) switch
            {
                GoKind.Float => JsonUtil.GetDouble(value!).ToString("0.################E+00", CultureInfo.InvariantCulture),
                GoKind.Int => JsonUtil.GetLong(value!).ToString(CultureInfo.InvariantCulture),
                GoKind.String => JsonUtil.AsString(value),
                GoKind.Bool => JsonUtil.TryGetBool(value, out var b) && b ? "true" : "false",
                _ => null,
            };
            if (text is null)
            {
                return false;
            }

            var match = Wildcard.Match(_operand, text);
            return _op == PatternOperator.NotEqual ? !match : match;
        }

        private bool Compare(int cmp) => _op switch
        {
            PatternOperator.Equal => cmp == 0,
            PatternOperator.NotEqual => cmp != 0,
            PatternOperator.More => cmp > 0,
            PatternOperator.Less => cmp < 0,
            PatternOperator.MoreEqual => cmp >= 0,
            PatternOperator.LessEqual => cmp <= 0,
            _ => false,
        };

        private static string? NumberToString(JsonNode? value) => JsonUtil.Kind(value) switch
        {
            GoKind.Null => "0",
            GoKind.String => JsonUtil.AsString(value),
            GoKind.Float => JsonUtil.GetDouble(value!).ToString("F6", CultureInfo.InvariantCulture),
            GoKind.Int => JsonUtil.GetLong(value!).ToString(CultureInfo.InvariantCulture),
            _ => null,
        };
    }
}
