using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace FleetFunctions.Core.Policy;

/// <summary>Kyverno's condition operator semantics (pkg/engine/variables/operator), value by value.</summary>
internal static class ConditionOperators
{
    public static bool Evaluate(ConditionOperator op, JsonNode? key, JsonNode? value) => op switch
    {
        ConditionOperator.Equals => AreEqual(key, value),
        ConditionOperator.NotEquals => !AreEqual(key, value),
        ConditionOperator.In => In(key, value, all: true, negate: false),
        ConditionOperator.NotIn => In(key, value, all: true, negate: true),
        ConditionOperator.AnyIn => AnyIn(key, value, notIn: false),
        ConditionOperator.AnyNotIn => AnyIn(key, value, notIn: true),
        ConditionOperator.AllIn => AllIn(key, value, notIn: false),
        ConditionOperator.AllNotIn => AllIn(key, value, notIn: true),
        ConditionOperator.GreaterThan => Numeric(key, value, c => c > 0),
        ConditionOperator.GreaterThanOrEquals => Numeric(key, value, c => c >= 0),
        ConditionOperator.LessThan => Numeric(key, value, c => c < 0),
        ConditionOperator.LessThanOrEquals => Numeric(key, value, c => c <= 0),
        ConditionOperator.DurationGreaterThan => DurationCompare(key, value, c => c > 0),
        ConditionOperator.DurationGreaterThanOrEquals => DurationCompare(key, value, c => c >= 0),
        ConditionOperator.DurationLessThan => DurationCompare(key, value, c => c < 0),
        ConditionOperator.DurationLessThanOrEquals => DurationCompare(key, value, c => c <= 0),
        _ => false,
    };

    // ---- Equals ----
    private static bool AreEqual(JsonNode? key, JsonNode? value)
    {
        switch (JsonUtil.Kind(key))
        {
            case GoKind.Bool:
                return JsonUtil.TryGetBool(value, out var vb) && JsonUtil.TryGetBool(key, out var kb) && kb == vb;
            case GoKind.Int:
                {
                    var k = JsonUtil.GetLong(key!);
                    return JsonUtil.Kind(value) switch
                    {
                        GoKind.Int => JsonUtil.GetLong(value!) == k,
                        GoKind.Float => JsonUtil.GetDouble(value!) is var d && d == Math.Truncate(d) && (long)d == k,
                        GoKind.String => long.TryParse(JsonUtil.AsString(value), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l) && l == k,
                        _ => false,
                    };
                }

            case GoKind.Float:
                {
                    var k = JsonUtil.GetDouble(key!);
                    return JsonUtil.Kind(value) switch
                    {
                        GoKind.Int => k == Math.Truncate(k) && JsonUtil.GetLong(value!) == (long)k,
                        GoKind.Float => JsonUtil.GetDouble(value!) == k,
                        GoKind.String => double.TryParse(JsonUtil.AsString(value), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d == k,
                        _ => false,
                    };
                }

            case GoKind.String:
                {
                    var k = JsonUtil.AsString(key)!;
                    if (TryDurations(key, value, out var kd, out var vd))
                    {
                        return kd == vd;
                    }

                    if (JsonUtil.AsString(value) is { } vs)
                    {
                        if (Quantity.TryParse(k, out var kq) && Quantity.TryParse(vs, out var vq))
                        {
                            return kq.CompareTo(vq) == 0;
                        }

                        return Wildcard.Match(vs, k);
                    }

                    return false;
                }

            case GoKind.Map or GoKind.Slice:
                return JsonUtil.DeepEquals(key, value);
            default:
                return false;
        }
    }

    // ---- In / NotIn (deprecated) ----
    private static bool In(JsonNode? key, JsonNode? value, bool all, bool negate)
    {
        if (key is JsonArray keys)
        {
            var (invalid, values) = ValueSet(value);
            if (invalid)
            {
                return false;
            }

            var strings = keys.Select(JsonUtil.Sprint).ToList();
            var subset = strings.All(k => values!.Any(v => k == v));
            return negate ? !subset : subset;
        }

        if (ScalarString(key) is not { } s)
        {
            return false;
        }

        var (bad, exists) = KeyExists(s, value, ranges: false);
        return !bad && (negate ? !exists : exists);
    }

    // ---- AnyIn / AnyNotIn ----
    private static bool AnyIn(JsonNode? key, JsonNode? value, bool notIn)
    {
        if (key is JsonArray keys)
        {
            var strings = keys.Select(JsonUtil.Sprint).ToList();
            if (JsonUtil.AsString(value) is { } single && IsRange(single, out var lo, out var hi, out var negated))
            {
                return notIn
                    ? strings.Any(k => !InRange(k, lo, hi, negated))
                    : strings.Any(k => InRange(k, lo, hi, negated));
            }

            if (JsonUtil.AsString(value) is { } one && strings.Count == 1 && strings[0] == one)
            {
                return !notIn;
            }

            var (invalid, values) = ValueSet(value);
            if (invalid)
            {
                return false;
            }

            return notIn
                ? strings.Any(k => !values!.Any(v => WildMatch(k, v)))
                : strings.Any(k => values!.Any(v => WildMatch(k, v)));
        }

        if (ScalarString(key) is not { } s)
        {
            return false;
        }

        var (bad, exists) = KeyExists(s, value, ranges: true);
        return !bad && (notIn ? !exists : exists);
    }

    // ---- AllIn / AllNotIn ----
    private static bool AllIn(JsonNode? key, JsonNode? value, bool notIn)
    {
        if (key is JsonArray keys)
        {
            var strings = keys.Select(JsonUtil.Sprint).ToList();
            if (JsonUtil.AsString(value) is { } single && IsRange(single, out var lo, out var hi, out var negated))
            {
                return notIn
                    ? strings.All(k => !InRange(k, lo, hi, negated))
                    : strings.All(k => InRange(k, lo, hi, negated));
            }

            var (invalid, values) = ValueSet(value);
            if (invalid)
            {
                return false;
            }

            return notIn
                ? strings.All(k => !values!.Any(v => WildMatch(k, v)))
                : strings.All(k => values!.Any(v => WildMatch(k, v)));
        }

        if (ScalarString(key) is not { } s)
        {
            return false;
        }

        var (bad, exists) = KeyExists(s, value, ranges: true);
        return !bad && (notIn ? !exists : exists);
    }

    private static bool WildMatch(string a, string b) => Wildcard.Match(a, b) || Wildcard.Match(b, a);

    private static string? ScalarString(JsonNode? key) => JsonUtil.Kind(key) switch
    {
        GoKind.String or GoKind.Int or GoKind.Float or GoKind.Bool => JsonUtil.Sprint(key),
        _ => null,
    };

    private static (bool Invalid, List<string>? Values) ValueSet(JsonNode? value)
    {
        switch (value)
        {
            case JsonArray array:
                return (false, array.Select(JsonUtil.Sprint).ToList());
            default:
                if (JsonUtil.AsString(value) is { } s)
                {
                    try
                    {
                        var parsed = JsonSerializer.Deserialize<List<string>>(s);
                        return parsed is null ? (true, null) : (false, parsed);
                    }
                    catch (JsonException)
                    {
                        return (false, [s]);
                    }
                }

                return (true, null);
        }
    }

    private static (bool Invalid, bool Exists) KeyExists(string key, JsonNode? value, bool ranges)
    {
        switch (value)
        {
            case JsonArray array:
                foreach (var item in array)
                {
                    var v = JsonUtil.Sprint(item);
                    if (WildMatch(v, key))
                    {
                        return (false, true);
                    }
                }

                return (false, false);
            default:
                if (JsonUtil.AsString(value) is not { } s)
                {
                    return (true, false);
                }

                if (Wildcard.Match(s, key))
                {
                    return (false, true);
                }

                if (ranges && IsRange(s, out var lo, out var hi, out var negated))
                {
                    return (false, InRange(key, lo, hi, negated));
                }

                try
                {
                    var parsed = JsonSerializer.Deserialize<List<string>>(s);
                    return (false, parsed?.Contains(key) == true);
                }
                catch (JsonException)
                {
                    return (true, false);
                }
        }
    }

    private static bool IsRange(string text, out string lo, out string hi, out bool negated)
    {
        lo = hi = "";
        negated = false;
        var m = ValuePattern.NotInRangeRegex().Match(text);
        if (m.Success)
        {
            negated = true;
        }
        else
        {
            m = ValuePattern.InRangeRegex().Match(text);
        }

        if (!m.Success)
        {
            return false;
        }

        lo = m.Groups[1].Value;
        hi = m.Groups[2].Value;
        return true;
    }

    private static bool InRange(string key, string lo, string hi, bool negated)
    {
        bool inside;
        if (double.TryParse(key, NumberStyles.Float, CultureInfo.InvariantCulture, out var k)
            && double.TryParse(lo, NumberStyles.Float, CultureInfo.InvariantCulture, out var l)
            && double.TryParse(hi, NumberStyles.Float, CultureInfo.InvariantCulture, out var h))
        {
            inside = k >= l && k <= h;
        }
        else if (Quantity.TryParse(key, out var kq) && Quantity.TryParse(lo, out var lq) && Quantity.TryParse(hi, out var hq))
        {
            inside = kq.CompareTo(lq) >= 0 && kq.CompareTo(hq) <= 0;
        }
        else
        {
            return false;
        }

        return negated ? !inside : inside;
    }

    // ---- GreaterThan & co ----
    private static bool Numeric(JsonNode? key, JsonNode? value, Func<int, bool> accept)
    {
        switch (JsonUtil.Kind(key))
        {
            case GoKind.Int or GoKind.Float:
                return CompareNumberWith(JsonUtil.GetDouble(key!), value, accept);
            case GoKind.String:
                var k = JsonUtil.AsString(key)!;
                if (TryDurations(key, value, out var kd, out var vd))
                {
                    return accept(kd.CompareTo(vd));
                }

                if (JsonUtil.AsString(value) is { } vs && Quantity.TryParse(k, out var kq) && Quantity.TryParse(vs, out var vq))
                {
                    return accept(kq.CompareTo(vq));
                }

                if (double.TryParse(k, NumberStyles.Float, CultureInfo.InvariantCulture, out var kf))
                {
                    return CompareNumberWith(kf, value, accept);
                }

                return false;
            default:
                return false;
        }
    }

    private static bool CompareNumberWith(double key, JsonNode? value, Func<int, bool> accept)
    {
        switch (JsonUtil.Kind(value))
        {
            case GoKind.Int or GoKind.Float:
                return accept(key.CompareTo(JsonUtil.GetDouble(value!)));
            case GoKind.String:
                var s = JsonUtil.AsString(value)!;
                if (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d))
                {
                    return accept(key.CompareTo(d));
                }

                if (Quantity.TryParse(s, out var q))
                {
                    return accept(key.CompareTo(q.ToDouble()));
                }

                return false;
            default:
                return false;
        }
    }

    private static bool TryDurations(JsonNode? key, JsonNode? value, out long keyNanos, out long valueNanos)
    {
        keyNanos = valueNanos = 0;
        var ks = JsonUtil.AsString(key);
        var vs = JsonUtil.AsString(value);
        if (ks is null && vs is null)
        {
            return false;
        }

        return TryDuration(key, out keyNanos, requireString: true) && TryDuration(value, out valueNanos, requireString: false)
            || TryDuration(key, out keyNanos, requireString: false) && TryDuration(value, out valueNanos, requireString: true);
    }

    private static bool TryDuration(JsonNode? node, out long nanos, bool requireString)
    {
        nanos = 0;
        switch (JsonUtil.Kind(node))
        {
            case GoKind.String:
                return GoDuration.TryParse(JsonUtil.AsString(node), out nanos);
            case GoKind.Int or GoKind.Float when !requireString:
                nanos = (long)(JsonUtil.GetDouble(node!) * 1_000_000_000d);
                return true;
            default:
                return false;
        }
    }

    private static bool DurationCompare(JsonNode? key, JsonNode? value, Func<int, bool> accept) =>
        TryDuration(key, out var k, requireString: false) && TryDuration(value, out var v, requireString: false) && accept(k.CompareTo(v));
}
