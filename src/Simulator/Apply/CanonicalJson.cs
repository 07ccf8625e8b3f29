using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace FleetFunctions.Simulator.Apply;

/// <summary>
/// JSON helpers with the semantics structured-merge-diff gives values: compact serialization with Go's
/// escaping (used in <c>k:</c> and <c>v:</c> path elements), numeric equality across representations
/// (1 equals 1.0), and the total order used to sort path elements.
/// </summary>
internal static class CanonicalJson
{
    public static string Write(JsonNode? node)
    {
        var builder = new StringBuilder(16);
        Write(builder, node);
        return builder.ToString();
    }

    public static void Write(StringBuilder builder, JsonNode? node)
    {
        switch (node)
        {
            case null:
                builder.Append("null");
                return;
            case JsonObject obj:
                var names = new List<string>(obj.Count);
                foreach (var (name, _) in obj)
                {
                    names.Add(name);
                }

                names.Sort(StringComparer.Ordinal);
                builder.Append('{');
                for (var i = 0; i < names.Count; i++)
                {
                    if (i > 0)
                    {
                        builder.Append(',');
                    }

                    WriteString(builder, names[i]);
                    builder.Append(':');
                    Write(builder, obj[names[i]]);
                }

                builder.Append('}');
                return;
            case JsonArray array:
                builder.Append('[');
                for (var i = 0; i < array.Count; i++)
                {
                    if (i > 0)
                    {
                        builder.Append(',');
                    }

                    Write(builder, array[i]);
                }

                builder.Append(']');
                return;
        }

        var kind = node.GetValueKind();
        switch (kind)
        {
            case JsonValueKind.String:
                WriteString(builder, node.GetValue<string>());
                return;
            case JsonValueKind.True:
                builder.Append("true");
                return;
            case JsonValueKind.False:
                builder.Append("false");
                return;
            case JsonValueKind.Number:
                WriteNumber(builder, node);
                return;
            default:
                builder.Append("null");
                return;
        }
    }

    /// <summary>A JSON string literal escaped as Go's encoding/json does (HTML characters escaped, non-ASCII kept).</summary>
    public static void WriteString(StringBuilder builder, string value)
    {
        builder.Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"':
                    builder.Append("\\\"");
                    break;
                case '\\':
                    builder.Append("\\\\");
                    break;
                case '\n':
                    builder.Append("\\n");
                    break;
                case '\r':
                    builder.Append("\\r");
                    break;
                case '\t':
                    builder.Append("\\t");
                    break;
                case '<' or '>' or '&' or '\u2028' or '\u2029' or < ' ':
                    builder.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    break;
                default:
                    builder.Append(c);
                    break;
            }
        }

        builder.Append('"');
    }

    /// <summary>
    /// Structural equality as <see cref="JsonNode.DeepEquals"/> defines it (object properties in any order,
    /// list items in order, numbers by value so 1 equals 1.0), with fast paths for scalars.
    /// </summary>
    public static bool Equal(JsonNode? left, JsonNode? right)
    {
        switch (left)
        {
            case null:
                return right is null || (right is JsonValue && right.GetValueKind() == JsonValueKind.Null);
            case JsonObject leftObject:
                if (right is not JsonObject rightObject || leftObject.Count != rightObject.Count)
                {
                    return false;
                }

                foreach (var (name, value) in leftObject)
                {
                    if (!rightObject.TryGetPropertyValue(name, out var other) || !Equal(value, other))
                    {
                        return false;
                    }
                }

                return true;
            case JsonArray leftArray:
                if (right is not JsonArray rightArray || leftArray.Count != rightArray.Count)
                {
                    return false;
                }

                for (var i = 0; i < leftArray.Count; i++)
                {
                    if (!Equal(leftArray[i], rightArray[i]))
                    {
                        return false;
                    }
                }

                return true;
            default:
                return right is JsonValue rightValue ? ValuesEqual((JsonValue)left, rightValue) : right is null && left.GetValueKind() == JsonValueKind.Null;
        }
    }

    private static bool ValuesEqual(JsonValue left, JsonValue right)
    {
        var kind = left.GetValueKind();
        if (kind != right.GetValueKind())
        {
            return false;
        }

        switch (kind)
        {
            case JsonValueKind.String:
                var leftIsElement = left.TryGetValue<JsonElement>(out var leftElement);
                var rightIsElement = right.TryGetValue<JsonElement>(out var rightElement);
                if (leftIsElement && rightIsElement)
                {
                    return JsonElement.DeepEquals(leftElement, rightElement);
                }

                if (leftIsElement)
                {
                    return right.TryGetValue<string>(out var r) ? leftElement.ValueEquals(r) : JsonNode.DeepEquals(left, right);
                }

                if (rightIsElement)
                {
                    return left.TryGetValue<string>(out var l) ? rightElement.ValueEquals(l) : JsonNode.DeepEquals(left, right);
                }

                return left.TryGetValue<string>(out var ls) && right.TryGetValue<string>(out var rs)
                    ? string.Equals(ls, rs, StringComparison.Ordinal)
                    : JsonNode.DeepEquals(left, right);
            case JsonValueKind.Number:
                if (left.TryGetValue<long>(out var leftLong) && right.TryGetValue<long>(out var rightLong))
                {
                    return leftLong == rightLong;
                }

                return JsonNode.DeepEquals(left, right);
            default:
                return true;
        }
    }

    /// <summary>The total order of structured-merge-diff values: numbers, strings, booleans, lists, maps, then null.</summary>
    public static int Compare(JsonNode? left, JsonNode? right)
    {
        var leftRank = Rank(left);
        var rightRank = Rank(right);
        if (leftRank != rightRank)
        {
            return leftRank.CompareTo(rightRank);
        }

        switch (leftRank)
        {
            case 0:
                return ToDouble(left!).CompareTo(ToDouble(right!));
            case 1:
                return string.CompareOrdinal(left!.GetValue<string>(), right!.GetValue<string>());
            case 2:
                return (left!.GetValueKind() == JsonValueKind.True).CompareTo(right!.GetValueKind() == JsonValueKind.True);
            case 3:
                var la = (JsonArray)left!;
                var ra = (JsonArray)right!;
                for (var i = 0; i < la.Count && i < ra.Count; i++)
                {
                    var c = Compare(la[i], ra[i]);
                    if (c != 0)
                    {
                        return c;
                    }
                }

                return la.Count.CompareTo(ra.Count);
            case 4:
                return string.CompareOrdinal(Write(left), Write(right));
            default:
                return 0;
        }
    }

    private static int Rank(JsonNode? node) => node switch
    {
        null => 5,
        JsonArray => 3,
        JsonObject => 4,
        _ => node.GetValueKind() switch
        {
            JsonValueKind.Number => 0,
            JsonValueKind.String => 1,
            JsonValueKind.True or JsonValueKind.False => 2,
            _ => 5,
        },
    };

    private static void WriteNumber(StringBuilder builder, JsonNode node)
    {
        var value = (JsonValue)node;
        if (value.TryGetValue<long>(out var integer))
        {
            builder.Append(integer.ToString(CultureInfo.InvariantCulture));
            return;
        }

        var number = ToDouble(node);
        if (Math.Abs(number) < 9.2e18 && Math.Floor(number) == number)
        {
            builder.Append(((long)number).ToString(CultureInfo.InvariantCulture));
        }
        else
        {
            builder.Append(number.ToString("R", CultureInfo.InvariantCulture));
        }
    }

    private static double ToDouble(JsonNode node)
    {
        var value = (JsonValue)node;
        if (value.TryGetValue<double>(out var d))
        {
            return d;
        }

        if (value.TryGetValue<long>(out var l))
        {
            return l;
        }

        if (value.TryGetValue<int>(out var i))
        {
            return i;
        }

        if (value.TryGetValue<decimal>(out var m))
        {
            return (double)m;
        }

        return double.Parse(node.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture);
    }
}
