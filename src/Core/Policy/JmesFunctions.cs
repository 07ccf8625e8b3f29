using System.Globalization;

namespace FleetFunctions.Core.Policy;

/// <summary>A JMESPath function: arity and an implementation over evaluator values.</summary>
internal sealed class JmesFunction(string name, int minArgs, int maxArgs, Func<object?[], JContext, object?> body)
{
    public string Name { get; } = name;

    public int MinArgs { get; } = minArgs;

    public int MaxArgs { get; } = maxArgs;

    public object? Invoke(object?[] args, JContext ctx)
    {
        if (args.Length < MinArgs || args.Length > MaxArgs)
        {
            throw new PolicyEvaluationException($"function {Name}() takes {(MinArgs == MaxArgs ? MinArgs.ToString(CultureInfo.InvariantCulture) : $"{MinArgs}-{(MaxArgs == int.MaxValue ? "n" : MaxArgs.ToString(CultureInfo.InvariantCulture))}")} arguments, got {args.Length}");
        }

        return body(args, ctx);
    }
}

/// <summary>Standard JMESPath functions plus Kyverno's (see <see cref="KyvernoFunctions"/>).</summary>
internal static class JmesFunctions
{
    private static readonly Dictionary<string, JmesFunction> s_functions = Build();

    public static IEnumerable<JmesFunction> All => s_functions.Values;

    public static JmesFunction Get(string name) =>
        s_functions.TryGetValue(name, out var f) ? f : throw new PolicyEvaluationException($"unknown JMESPath function {name}()");

    private static Dictionary<string, JmesFunction> Build()
    {
        var map = new Dictionary<string, JmesFunction>(StringComparer.Ordinal);
        foreach (var f in Standard().Concat(KyvernoFunctions.All()))
        {
            map[f.Name] = f;
        }

        return map;
    }

    internal static string Str(object?[] a, int i, string fn) =>
        a[i] as string ?? throw new PolicyEvaluationException($"function {fn}() expects a string as argument {i + 1}, got {JmesValue.TypeName(a[i])}");

    internal static double Num(object?[] a, int i, string fn) =>
        JmesValue.TypeOf(a[i]) == JmesValue.Type.Number ? JmesValue.ToDouble(a[i]) : throw new PolicyEvaluationException($"function {fn}() expects a number as argument {i + 1}, got {JmesValue.TypeName(a[i])}");

    internal static IReadOnlyList<object?> Arr(object?[] a, int i, string fn) =>
        JmesValue.TypeOf(a[i]) == JmesValue.Type.Array ? JmesValue.Items(a[i]) : throw new PolicyEvaluationException($"function {fn}() expects an array as argument {i + 1}, got {JmesValue.TypeName(a[i])}");

    internal static ExpressionRefNode Ref(object?[] a, int i, string fn) =>
        a[i] as ExpressionRefNode ?? throw new PolicyEvaluationException($"function {fn}() expects an expression (&...) as argument {i + 1}");

    private static int CompareSortable(object? x, object? y, string fn)
    {
        var tx = JmesValue.TypeOf(x);
        if (tx != JmesValue.TypeOf(y) || tx is not (JmesValue.Type.Number or JmesValue.Type.String))
        {
            throw new PolicyEvaluationException($"function {fn}() can only compare numbers or strings of one type");
        }

        return tx == JmesValue.Type.Number ? JmesValue.ToDouble(x).CompareTo(JmesValue.ToDouble(y)) : string.CompareOrdinal((string)x!, (string)y!);
    }

    private static IEnumerable<JmesFunction> Standard()
    {
        yield return new("abs", 1, 1, (a, _) => Math.Abs(Num(a, 0, "abs")));
        yield return new("ceil", 1, 1, (a, _) => Math.Ceiling(Num(a, 0, "ceil")));
        yield return new("floor", 1, 1, (a, _) => Math.Floor(Num(a, 0, "floor")));
        yield return new("avg", 1, 1, (a, _) => Arr(a, 0, "avg") is { Count: > 0 } l ? l.Average(JmesValue.ToDouble) : null);
        yield return new("sum", 1, 1, (a, _) => Arr(a, 0, "sum").Sum(JmesValue.ToDouble));
        yield return new("contains", 2, 2, (a, _) => a[0] is string s
            ? a[1] is string sub && s.Contains(sub, StringComparison.Ordinal)
            : Arr(a, 0, "contains").Any(i => JmesValue.DeepEquals(i, a[1])));
        yield return new("starts_with", 2, 2, (a, _) => Str(a, 0, "starts_with").StartsWith(Str(a, 1, "starts_with"), StringComparison.Ordinal));
        yield return new("ends_with", 2, 2, (a, _) => Str(a, 0, "ends_with").EndsWith(Str(a, 1, "ends_with"), StringComparison.Ordinal));
        yield return new("join", 2, 2, (a, _) => string.Join(Str(a, 0, "join"), Arr(a, 1, "join").Select(i => i as string ?? throw new PolicyEvaluationException("function join() expects an array of strings"))));
        yield return new("keys", 1, 1, (a, _) => JmesValue.TypeOf(a[0]) == JmesValue.Type.Object ? JmesValue.Properties(a[0]).Select(p => (object?)p.Key).ToList() : throw new PolicyEvaluationException($"function keys() expects an object, got {JmesValue.TypeName(a[0])}"));
        yield return new("values", 1, 1, (a, _) => JmesValue.TypeOf(a[0]) == JmesValue.Type.Object ? JmesValue.Properties(a[0]).Select(p => p.Value).ToList() : throw new PolicyEvaluationException($"function values() expects an object, got {JmesValue.TypeName(a[0])}"));
        yield return new("length", 1, 1, (a, _) => JmesValue.TypeOf(a[0]) is JmesValue.Type.String or JmesValue.Type.Array or JmesValue.Type.Object
            ? (double)JmesValue.Count(a[0])
            : throw new PolicyEvaluationException($"function length() expects a string, array or object, got {JmesValue.TypeName(a[0])}"));
        yield return new("map", 2, 2, (a, ctx) => Arr(a, 1, "map").Select(i => Ref(a, 0, "map").Apply(i, ctx)).ToList());
        yield return new("max", 1, 1, (a, _) => Arr(a, 0, "max") is { Count: > 0 } l ? l.Aggregate((x, y) => CompareSortable(x, y, "max") >= 0 ? x : y) : null);
        yield return new("min", 1, 1, (a, _) => Arr(a, 0, "min") is { Count: > 0 } l ? l.Aggregate((x, y) => CompareSortable(x, y, "min") <= 0 ? x : y) : null);
        yield return new("max_by", 2, 2, (a, ctx) => Arr(a, 0, "max_by") is { Count: > 0 } l ? l.Aggregate((x, y) => CompareSortable(Ref(a, 1, "max_by").Apply(x, ctx), Ref(a, 1, "max_by").Apply(y, ctx), "max_by") >= 0 ? x : y) : null);
        yield return new("min_by", 2, 2, (a, ctx) => Arr(a, 0, "min_by") is { Count: > 0 } l ? l.Aggregate((x, y) => CompareSortable(Ref(a, 1, "min_by").Apply(x, ctx), Ref(a, 1, "min_by").Apply(y, ctx), "min_by") <= 0 ? x : y) : null);
        yield return new("sort", 1, 1, (a, _) =>
        {
            var list = Arr(a, 0, "sort").ToList();
            list.Sort((x, y) => CompareSortable(x, y, "sort"));
            return list;
        });
        yield return new("sort_by", 2, 2, (a, ctx) =>
        {
            var e = Ref(a, 1, "sort_by");
            var list = Arr(a, 0, "sort_by").Select(i => (Item: i, Key: e.Apply(i, ctx))).ToList();
            return list.OrderBy(p => p.Key, Comparer<object?>.Create((x, y) => CompareSortable(x, y, "sort_by"))).Select(p => p.Item).ToList();
        });
        yield return new("merge", 0, int.MaxValue, (a, _) =>
        {
            var result = new Dictionary<string, object?>(StringComparer.Ordinal);
            for (var i = 0; i < a.Length; i++)
            {
                if (JmesValue.TypeOf(a[i]) != JmesValue.Type.Object)
                {
                    throw new PolicyEvaluationException($"function merge() expects objects, got {JmesValue.TypeName(a[i])}");
                }

                foreach (var (k, v) in JmesValue.Properties(a[i]))
                {
                    result[k] = v;
                }
            }

            return result;
        });
        yield return new("not_null", 1, int.MaxValue, (a, _) => a.FirstOrDefault(v => v is not null));
        yield return new("reverse", 1, 1, (a, _) => a[0] is string s ? new string([.. s.Reverse()]) : Arr(a, 0, "reverse").Reverse().ToList());
        yield return new("to_array", 1, 1, (a, _) => JmesValue.TypeOf(a[0]) == JmesValue.Type.Array ? a[0] : new List<object?> { a[0] });
        yield return new("to_string", 1, 1, (a, _) => a[0] as string ?? JmesValue.ToJson(a[0]));
        yield return new("to_number", 1, 1, (a, _) => a[0] switch
        {
            long or double => a[0],
            string s when double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
            _ => null,
        });
        yield return new("type", 1, 1, (a, _) => JmesValue.TypeName(a[0]));
        yield return new("split", 2, 3, (a, _) =>
        {
            var parts = Str(a, 0, "split").Split(Str(a, 1, "split"));
            return parts.Select(p => (object?)p).ToList();
        });
        yield return new("replace", 3, 4, (a, _) =>
        {
            var s = Str(a, 0, "replace");
            var old = Str(a, 1, "replace");
            var replacement = Str(a, 2, "replace");
            var n = a.Length > 3 ? (int)Num(a, 3, "replace") : -1;
            if (n < 0 || old.Length == 0)
            {
                return s.Replace(old, replacement, StringComparison.Ordinal);
            }

            var sb = new System.Text.StringBuilder();
            var index = 0;
            for (var count = 0; count < n; count++)
            {
                var at = s.IndexOf(old, index, StringComparison.Ordinal);
                if (at < 0)
                {
                    break;
                }

                sb.Append(s, index, at - index).Append(replacement);
                index = at + old.Length;
            }

            return sb.Append(s, index, s.Length - index).ToString();
        });
        yield return new("trim", 1, 2, (a, _) => a.Length > 1 ? Str(a, 0, "trim").Trim(Str(a, 1, "trim").ToCharArray()) : Str(a, 0, "trim").Trim());
        yield return new("trim_left", 1, 2, (a, _) => a.Length > 1 ? Str(a, 0, "trim_left").TrimStart(Str(a, 1, "trim_left").ToCharArray()) : Str(a, 0, "trim_left").TrimStart());
        yield return new("trim_right", 1, 2, (a, _) => a.Length > 1 ? Str(a, 0, "trim_right").TrimEnd(Str(a, 1, "trim_right").ToCharArray()) : Str(a, 0, "trim_right").TrimEnd());
        yield return new("lower", 1, 1, (a, _) => Str(a, 0, "lower").ToLowerInvariant());
        yield return new("upper", 1, 1, (a, _) => Str(a, 0, "upper").ToUpperInvariant());
        yield return new("find_first", 2, 4, (a, _) => IndexOf(a, "find_first", last: false));
        yield return new("find_last", 2, 4, (a, _) => IndexOf(a, "find_last", last: true));
        yield return new("pad_left", 2, 3, (a, _) => Str(a, 0, "pad_left").PadLeft((int)Num(a, 1, "pad_left"), a.Length > 2 ? Str(a, 2, "pad_left")[0] : ' '));
        yield return new("pad_right", 2, 3, (a, _) => Str(a, 0, "pad_right").PadRight((int)Num(a, 1, "pad_right"), a.Length > 2 ? Str(a, 2, "pad_right")[0] : ' '));
        yield return new("from_items", 1, 1, (a, _) => Arr(a, 0, "from_items").ToDictionary(
            i => JmesValue.Items(i) is { Count: 2 } pair && pair[0] is string k ? k : throw new PolicyEvaluationException("function from_items() expects [key, value] pairs"),
            i => JmesValue.Items(i)[1],
            StringComparer.Ordinal));
        yield return new("zip", 1, int.MaxValue, (a, _) =>
        {
            var lists = a.Select((_, i) => Arr(a, i, "zip")).ToList();
            var n = lists.Min(l => l.Count);
            return Enumerable.Range(0, n).Select(i => (object?)lists.Select(l => l[i]).ToList()).ToList();
        });
        yield return new("group_by", 2, 2, (a, ctx) =>
        {
            var e = Ref(a, 1, "group_by");
            var result = new Dictionary<string, object?>(StringComparer.Ordinal);
            foreach (var item in Arr(a, 0, "group_by"))
            {
                var key = e.Apply(item, ctx) as string ?? throw new PolicyEvaluationException("function group_by() expects string keys");
                if (!result.TryGetValue(key, out var group))
                {
                    result[key] = group = new List<object?>();
                }

                ((List<object?>)group!).Add(item);
            }

            return result;
        });
    }

    private static object? IndexOf(object?[] a, string fn, bool last)
    {
        var s = Str(a, 0, fn);
        var sub = Str(a, 1, fn);
        var start = a.Length > 2 ? Math.Max(0, (int)Num(a, 2, fn)) : 0;
        var end = a.Length > 3 ? Math.Min(s.Length, (int)Num(a, 3, fn)) : s.Length;
        if (start > end)
        {
            return null;
        }

        var window = s[start..end];
        var i = last ? window.LastIndexOf(sub, StringComparison.Ordinal) : window.IndexOf(sub, StringComparison.Ordinal);
        return i < 0 ? null : (double)(i + start);
    }
}
