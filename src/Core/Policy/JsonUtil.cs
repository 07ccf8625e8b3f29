using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace FleetFunctions.Core.Policy;

/// <summary>How a JSON value behaves in Kyverno's Go code (int64 vs float64 matters to comparisons).</summary>
internal enum GoKind
{
    Null,
    Bool,
    Int,
    Float,
    String,
    Map,
    Slice,
}

/// <summary>Number helpers: whole numbers are held as <see cref="long"/>, like Kubernetes' unstructured objects.</summary>
internal static class Numbers
{
    public static JsonValue Create(double value) =>
        value == Math.Floor(value) && Math.Abs(value) < 9.2e18 && !double.IsInfinity(value)
            ? JsonValue.Create((long)value)
            : JsonValue.Create(value);

    /// <summary>Go's <c>%v</c> of a float64 (shortest representation, exponent beyond 21 digits).</summary>
    public static string FormatFloat(double value)
    {
        if (double.IsNaN(value))
        {
            return "NaN";
        }

        if (double.IsInfinity(value))
        {
            return value > 0 ? "+Inf" : "-Inf";
        }

        var r = value.ToString("R", CultureInfo.InvariantCulture);
        if (!r.Contains('E', StringComparison.Ordinal))
        {
            return r;
        }

        var e = value.ToString("0.################e+00", CultureInfo.InvariantCulture);
        return e;
    }
}

/// <summary>JSON helpers shared by the engine: Go-like typing, equality, printing.</summary>
internal static class JsonUtil
{
    public static GoKind Kind(JsonNode? node)
    {
        switch (node)
        {
            case null:
                return GoKind.Null;
            case JsonObject:
                return GoKind.Map;
            case JsonArray:
                return GoKind.Slice;
            case JsonValue value:
                switch (value.GetValueKind())
                {
                    case JsonValueKind.String: return GoKind.String;
                    case JsonValueKind.True or JsonValueKind.False: return GoKind.Bool;
                    case JsonValueKind.Number: return value.TryGetValue<long>(out _) || IsIntegral(value) ? GoKind.Int : GoKind.Float;
                    case JsonValueKind.Null: return GoKind.Null;
                    default: return GoKind.Null;
                }

            default:
                return GoKind.Null;
        }
    }

    private static bool IsIntegral(JsonValue value)
    {
        if (value.TryGetValue<int>(out _) || value.TryGetValue<ulong>(out _))
        {
            return true;
        }

        if (value.TryGetValue<JsonElement>(out var element))
        {
            return element.TryGetInt64(out _);
        }

        return false;
    }

    public static bool IsNull(JsonNode? node) => node is null || (node is JsonValue v && v.GetValueKind() == JsonValueKind.Null);

    public static string? AsString(JsonNode? node) =>
        node is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;

    public static bool TryGetBool(JsonNode? node, out bool value)
    {
        value = false;
        if (node is JsonValue v && v.GetValueKind() is JsonValueKind.True or JsonValueKind.False)
        {
            value = v.GetValueKind() == JsonValueKind.True;
            return true;
        }

        return false;
    }

    public static long GetLong(JsonNode node)
    {
        var v = (JsonValue)node;
        if (v.TryGetValue<long>(out var l))
        {
            return l;
        }

        if (v.TryGetValue<int>(out var i))
        {
            return i;
        }

        if (v.TryGetValue<JsonElement>(out var e) && e.TryGetInt64(out l))
        {
            return l;
        }

        return (long)GetDouble(node);
    }

    public static double GetDouble(JsonNode node)
    {
        var v = (JsonValue)node;
        if (v.TryGetValue<double>(out var d))
        {
            return d;
        }

        if (v.TryGetValue<long>(out var l))
        {
            return l;
        }

        if (v.TryGetValue<int>(out var i))
        {
            return i;
        }

        if (v.TryGetValue<JsonElement>(out var e))
        {
            return e.GetDouble();
        }

        return double.Parse(v.ToJsonString(), CultureInfo.InvariantCulture);
    }

    /// <summary>Go's <c>fmt.Sprint</c> of a JSON value.</summary>
    public static string Sprint(JsonNode? node) => Kind(node) switch
    {
        GoKind.Null => "<nil>",
        GoKind.Bool => TryGetBool(node, out var b) && b ? "true" : "false",
        GoKind.Int => GetLong(node!).ToString(CultureInfo.InvariantCulture),
        GoKind.Float => Numbers.FormatFloat(GetDouble(node!)),
        GoKind.String => AsString(node)!,
        GoKind.Slice => "[" + string.Join(" ", ((JsonArray)node!).Select(Sprint)) + "]",
        _ => "map[" + string.Join(" ", ((JsonObject)node!).OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Key + ":" + Sprint(p.Value))) + "]",
    };

    /// <summary>Go's <c>json.Marshal</c>: compact, object keys sorted.</summary>
    public static string Marshal(JsonNode? node)
    {
        var sb = new StringBuilder();
        Write(sb, node);
        return sb.ToString();
    }

    private static void Write(StringBuilder sb, JsonNode? node)
    {
        switch (Kind(node))
        {
            case GoKind.Map:
                sb.Append('{');
                var first = true;
                foreach (var (key, value) in ((JsonObject)node!).OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    if (!first)
                    {
                        sb.Append(',');
                    }

                    first = false;
                    sb.Append(JsonSerializer.Serialize(key)).Append(':');
                    Write(sb, value);
                }

                sb.Append('}');
                break;
            case GoKind.Slice:
                sb.Append('[');
                var i = 0;
                foreach (var item in (JsonArray)node!)
                {
                    if (i++ > 0)
                    {
                        sb.Append(',');
                    }

                    Write(sb, item);
                }

                sb.Append(']');
                break;
            case GoKind.Null:
                sb.Append("null");
                break;
            case GoKind.Float:
                sb.Append(GetDouble(node!).ToString("R", CultureInfo.InvariantCulture));
                break;
            case GoKind.Int:
                sb.Append(GetLong(node!).ToString(CultureInfo.InvariantCulture));
                break;
            case GoKind.String:
                sb.Append(JsonSerializer.Serialize(AsString(node)));
                break;
            default:
                sb.Append(TryGetBool(node, out var b) && b ? "true" : "false");
                break;
        }
    }

    /// <summary>Go's <c>reflect.DeepEqual</c> on decoded JSON (int64 and float64 differ).</summary>
    public static bool DeepEquals(JsonNode? a, JsonNode? b)
    {
        var ka = Kind(a);
        var kb = Kind(b);
        if (ka != kb)
        {
            return false;
        }

        switch (ka)
        {
            case GoKind.Null: return true;
            case GoKind.Bool: return TryGetBool(a, out var x) && TryGetBool(b, out var y) && x == y;
            case GoKind.Int: return GetLong(a!) == GetLong(b!);
            case GoKind.Float: return GetDouble(a!).Equals(GetDouble(b!));
            case GoKind.String: return AsString(a) == AsString(b);
            case GoKind.Slice:
                var sa = (JsonArray)a!;
                var sb = (JsonArray)b!;
                if (sa.Count != sb.Count)
                {
                    return false;
                }

                for (var i = 0; i < sa.Count; i++)
                {
                    if (!DeepEquals(sa[i], sb[i]))
                    {
                        return false;
                    }
                }

                return true;
            default:
                var oa = (JsonObject)a!;
                var ob = (JsonObject)b!;
                if (oa.Count != ob.Count)
                {
                    return false;
                }

                foreach (var (key, value) in oa)
                {
                    if (!ob.TryGetPropertyValue(key, out var other) || !DeepEquals(value, other))
                    {
                        return false;
                    }
                }

                return true;
        }
    }

    /// <summary>Reads <c>a.b.c</c> from an object, null when any step is missing.</summary>
    public static JsonNode? Get(JsonNode? node, params string[] path)
    {
        foreach (var step in path)
        {
            if (node is not JsonObject obj || !obj.TryGetPropertyValue(step, out node))
            {
                return null;
            }
        }

        return node;
    }

    public static string? GetString(JsonNode? node, params string[] path) => AsString(Get(node, path));
}
