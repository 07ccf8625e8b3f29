using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace FleetFunctions.Simulator.Apply;

/// <summary>The four kinds of step in a field path, in the order structured-merge-diff sorts them.</summary>
internal enum PathElementKind : byte
{
    /// <summary>A struct field or map key: <c>f:name</c>.</summary>
    Field = 0,

    /// <summary>An associative-list item, by its key fields: <c>k:{"name":"app"}</c>.</summary>
    Key = 1,

    /// <summary>A set-list item, by its value: <c>v:"finalizer"</c>.</summary>
    Value = 2,

    /// <summary>A list item by position: <c>i:0</c>.</summary>
    Index = 3,
}

/// <summary>
/// One step of a field path. Equality and hashing use the canonical FieldsV1 text, so two elements built
/// from structurally equal JSON (1 and 1.0, keys in any order) are equal. Ordering follows
/// structured-merge-diff: fields, then keys, then values, then indices.
/// </summary>
internal readonly struct PathElement : IEquatable<PathElement>, IComparable<PathElement>
{
    private readonly KeyFields? keyFields;
    private readonly JsonNode? value;
    private readonly int index;

    private PathElement(PathElementKind kind, string text, KeyFields? keyFields, JsonNode? value, int index)
    {
        Kind = kind;
        Text = text;
        this.keyFields = keyFields;
        this.value = value;
        this.index = index;
    }

    public PathElementKind Kind { get; }

    /// <summary>The text after the <c>f:</c>/<c>k:</c>/<c>v:</c>/<c>i:</c> prefix: the field name, key JSON, value JSON or index.</summary>
    public string Text { get; }

    /// <summary>The field name, for <see cref="PathElementKind.Field"/>.</summary>
    public string Name => Text;

    public static PathElement Field(string name) => new(PathElementKind.Field, name, null, null, 0);

    public static PathElement AtIndex(int index) =>
        new(PathElementKind.Index, index.ToString(CultureInfo.InvariantCulture), null, null, index);

    /// <summary>A set item. <paramref name="item"/> is not copied; callers must not mutate it afterwards.</summary>
    public static PathElement SetItem(JsonNode? item) =>
        new(PathElementKind.Value, CanonicalJson.Write(item), null, item, 0);

    /// <summary>An associative-list item; <paramref name="fields"/> must be sorted by name (ordinal).</summary>
    public static PathElement Keyed(KeyValuePair<string, JsonNode?>[] fields)
    {
        var builder = new StringBuilder(32);
        builder.Append('{');
        for (var i = 0; i < fields.Length; i++)
        {
            if (i > 0)
            {
                builder.Append(',');
            }

            CanonicalJson.WriteString(builder, fields[i].Key);
            builder.Append(':');
            CanonicalJson.Write(builder, fields[i].Value);
        }

        builder.Append('}');
        var text = builder.ToString();
        return new PathElement(PathElementKind.Key, text, new KeyFields(text, fields), null, 0);
    }

    /// <summary>Parses one FieldsV1 key such as <c>f:spec</c> or <c>k:{"name":"app"}</c>; null when it is not one.</summary>
    public static PathElement? ParseFieldsV1(string text)
    {
        if (text.Length < 2 || text[1] != ':')
        {
            return null;
        }

        var body = text[2..];
        switch (text[0])
        {
            case 'f':
                return Field(body);
            case 'i':
                return int.TryParse(body, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) ? AtIndex(i) : null;
            case 'v':
                return TryParseJson(body, out var node) ? SetItem(node) : null;
            case 'k':
                // The API server writes key JSON canonically (fields sorted, compact), so the text identifies
                // the item as it is; the fields are parsed only to sort or print the element.
                return body.Length > 1 && body[0] == '{' && body[^1] == '}'
                    ? new PathElement(PathElementKind.Key, body, new KeyFields(body, null), null, 0)
                    : null;
            default:
                return null;
        }
    }

    /// <summary>The FieldsV1 key: <c>f:name</c>, <c>k:{...}</c>, <c>v:...</c> or <c>i:n</c>.</summary>
    public string ToFieldsV1() => Kind switch
    {
        PathElementKind.Field => "f:" + Text,
        PathElementKind.Key => "k:" + Text,
        PathElementKind.Value => "v:" + Text,
        _ => "i:" + Text,
    };

    /// <summary>Appends the element as the API server prints paths: <c>.name</c>, <c>[name="app"]</c>, <c>[=value]</c>, <c>[0]</c>.</summary>
    public void AppendDisplay(StringBuilder builder)
    {
        switch (Kind)
        {
            case PathElementKind.Field:
                builder.Append('.').Append(Text);
                break;
            case PathElementKind.Key:
                builder.Append('[');
                var fields = keyFields!.Fields;
                for (var i = 0; i < fields.Length; i++)
                {
                    if (i > 0)
                    {
                        builder.Append(',');
                    }

                    builder.Append(fields[i].Key).Append('=');
                    CanonicalJson.Write(builder, fields[i].Value);
                }

                builder.Append(']');
                break;
            case PathElementKind.Value:
                builder.Append("[=").Append(Text).Append(']');
                break;
            default:
                builder.Append('[').Append(Text).Append(']');
                break;
        }
    }

    public bool Equals(PathElement other) => Kind == other.Kind && string.Equals(Text, other.Text, StringComparison.Ordinal);

    public override bool Equals(object? obj) => obj is PathElement other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(Kind, StringComparer.Ordinal.GetHashCode(Text));

    public int CompareTo(PathElement other)
    {
        if (Kind != other.Kind)
        {
            return Kind < other.Kind ? -1 : 1;
        }

        switch (Kind)
        {
            case PathElementKind.Field:
                return string.CompareOrdinal(Text, other.Text);
            case PathElementKind.Index:
                return index.CompareTo(other.index);
            case PathElementKind.Value:
                return CanonicalJson.Compare(value, other.value);
            default:
                var left = keyFields!.Fields;
                var right = other.keyFields!.Fields;
                for (var i = 0; ; i++)
                {
                    if (i >= left.Length || i >= right.Length)
                    {
                        return left.Length.CompareTo(right.Length);
                    }

                    var byName = string.CompareOrdinal(left[i].Key, right[i].Key);
                    if (byName != 0)
                    {
                        return byName;
                    }

                    var byValue = CanonicalJson.Compare(left[i].Value, right[i].Value);
                    if (byValue != 0)
                    {
                        return byValue;
                    }
                }
        }
    }

    public override string ToString() => ToFieldsV1();

    public static bool operator ==(PathElement left, PathElement right) => left.Equals(right);

    public static bool operator !=(PathElement left, PathElement right) => !left.Equals(right);

    public static bool operator <(PathElement left, PathElement right) => left.CompareTo(right) < 0;

    public static bool operator >(PathElement left, PathElement right) => left.CompareTo(right) > 0;

    public static bool operator <=(PathElement left, PathElement right) => left.CompareTo(right) <= 0;

    public static bool operator >=(PathElement left, PathElement right) => left.CompareTo(right) >= 0;

    /// <summary>The key fields of a <c>k:</c> element, parsed from its text on first use.</summary>
    private sealed class KeyFields(string text, KeyValuePair<string, JsonNode?>[]? fields)
    {
        private KeyValuePair<string, JsonNode?>[]? fields = fields;

        public KeyValuePair<string, JsonNode?>[] Fields => fields ??= Parse(text);

        private static KeyValuePair<string, JsonNode?>[] Parse(string text)
        {
            if (!TryParseJson(text, out var node) || node is not JsonObject obj)
            {
                return [];
            }

            var parsed = new KeyValuePair<string, JsonNode?>[obj.Count];
            var n = 0;
            foreach (var (name, value) in obj)
            {
                parsed[n++] = new KeyValuePair<string, JsonNode?>(name, value);
            }

            Array.Sort(parsed, static (a, b) => string.CompareOrdinal(a.Key, b.Key));
            return parsed;
        }
    }

    private static bool TryParseJson(string text, out JsonNode? node)
    {
        try
        {
            node = JsonNode.Parse(text);
            return true;
        }
        catch (JsonException)
        {
            node = null;
            return false;
        }
    }
}
