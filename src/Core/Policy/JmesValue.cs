using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace FleetFunctions.Core.Policy;

/// <summary>
/// Values inside the JMESPath evaluator: <c>null</c>, <see cref="bool"/>, <see cref="long"/> or <see cref="double"/>,
/// <see cref="string"/>, borrowed <see cref="JsonObject"/>/<see cref="JsonArray"/> nodes of the resource (never
/// copied, never attached elsewhere), and arrays/objects the evaluator builds (<see cref="List{T}"/>,
/// <see cref="Dictionary{TKey,TValue}"/>).
/// </summary>
internal static class JmesValue
{
    public enum Type
    {
        Null,
        Boolean,
        Number,
        String,
        Array,
        Object,
    }

    /// <summary>Reads a node as an evaluator value (scalars unwrapped, containers borrowed).</summary>
    public static object? FromNode(JsonNode? node)
    {
        switch (node)
        {
            case null:
                return null;
            case JsonObject or JsonArray:
                return node;
            default:
                var v = (JsonValue)node;
                switch (v.GetValueKind())
                {
                    case JsonValueKind.String: return v.GetValue<string>();
                    case JsonValueKind.True: return true;
                    case JsonValueKind.False: return false;
                    case JsonValueKind.Number:
                        return JsonUtil.Kind(v) == GoKind.Int ? JsonUtil.GetLong(v) : JsonUtil.GetDouble(v);
                    default: return null;
                }
        }
    }

    /// <summary>Turns a value into a node that can be stored anywhere (borrowed nodes with a parent are copied).</summary>
    public static JsonNode? ToNode(object? value) => value switch
    {
        null => null,
        bool b => JsonValue.Create(b),
        long l => JsonValue.Create(l),
        int i => JsonValue.Create((long)i),
        double d => JsonValue.Create(d),
        string s => JsonValue.Create(s),
        JsonNode n => n.DeepClone(),
        List<object?> list => new JsonArray([.. list.Select(ToNode)]),
        Dictionary<string, object?> map => ToObject(map),
        _ => throw new PolicyEvaluationException($"unexpected JMESPath value {value.GetType().Name}"),
    };

    /// <summary>Like <see cref="ToNode"/> but returns borrowed nodes as they are (read-only use only).</summary>
    public static JsonNode? ToReadOnlyNode(object? value) => value is JsonNode n ? n : ToNode(value);

    private static JsonObject ToObject(Dictionary<string, object?> map)
    {
        var o = new JsonObject();
        foreach (var (k, v) in map)
        {
            o[k] = ToNode(v);
        }

        return o;
    }

    public static Type TypeOf(object? value) => value switch
    {
        null => Type.Null,
        bool => Type.Boolean,
        long or double or int => Type.Number,
        string => Type.String,
        JsonArray or List<object?> => Type.Array,
        JsonObject or Dictionary<string, object?> => Type.Object,
        JsonValue v => TypeOf(FromNode(v)),
        _ => Type.Null,
    };

    public static string TypeName(object? value) => TypeOf(value) switch
    {
        Type.Null => "null",
        Type.Boolean => "boolean",
        Type.Number => "number",
        Type.String => "string",
        Type.Array => "array",
        _ => "object",
    };

    public static double ToDouble(object? value) => value switch
    {
        long l => l,
        int i => i,
        double d => d,
        _ => double.NaN,
    };

    /// <summary>Items of an array value (borrowed or built).</summary>
    public static IReadOnlyList<object?> Items(object? value) => value switch
    {
        List<object?> list => list,
        JsonArray array => new ArrayView(array),
        _ => [],
    };

    /// <summary>Properties of an object value.</summary>
    public static IEnumerable<KeyValuePair<string, object?>> Properties(object? value) => value switch
    {
        Dictionary<string, object?> map => map,
        JsonObject obj => obj.Select(p => new KeyValuePair<string, object?>(p.Key, FromNode(p.Value))),
        _ => [],
    };

    public static object? Field(object? value, string name) => value switch
    {
        JsonObject obj => obj.TryGetPropertyValue(name, out var child) ? FromNode(child) : null,
        Dictionary<string, object?> map => map.GetValueOrDefault(name),
        _ => null,
    };

    public static int Count(object? value) => value switch
    {
        JsonArray a => a.Count,
        List<object?> l => l.Count,
        JsonObject o => o.Count,
        Dictionary<string, object?> m => m.Count,
        string s => new StringInfo(s).LengthInTextElements,
        _ => 0,
    };

    /// <summary>JMESPath falsiness: null, false, empty string, empty array, empty object.</summary>
    public static bool IsFalse(object? value) => value switch
    {
        null => true,
        bool b => !b,
        string s => s.Length == 0,
        JsonArray or List<object?> or JsonObject or Dictionary<string, object?> => Count(value) == 0,
        _ => false,
    };

    public static bool DeepEquals(object? a, object? b)
    {
        var ta = TypeOf(a);
        if (ta != TypeOf(b))
        {
            return false;
        }

        switch (ta)
        {
            case Type.Null: return true;
            case Type.Boolean: return (bool)a! == (bool)b!;
            case Type.Number: return ToDouble(a) == ToDouble(b);
            case Type.String: return (string)a! == (string)b!;
            case Type.Array:
                var ia = Items(a);
                var ib = Items(b);
                if (ia.Count != ib.Count)
                {
                    return false;
                }

                for (var i = 0; i < ia.Count; i++)
                {
                    if (!DeepEquals(ia[i], ib[i]))
                    {
                        return false;
                    }
                }

                return true;
            default:
                var pa = Properties(a).ToList();
                var pb = Properties(b).ToDictionary(p => p.Key, p => p.Value);
                return pa.Count == pb.Count && pa.All(p => pb.TryGetValue(p.Key, out var other) && DeepEquals(p.Value, other));
        }
    }

    /// <summary>Compact JSON (Go's json.Marshal shape: object keys sorted).</summary>
    public static string ToJson(object? value) => JsonUtil.Marshal(ToReadOnlyNode(value));

    private sealed class ArrayView(JsonArray array) : IReadOnlyList<object?>
    {
        public object? this[int index] => FromNode(array[index]);

        public int Count => array.Count;

        public IEnumerator<object?> GetEnumerator()
        {
            foreach (var item in array)
            {
                yield return FromNode(item);
            }
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
