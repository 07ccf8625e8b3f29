using System.Text.Json;
using System.Text.Json.Nodes;

namespace FleetFunctions.Core.Drift;

/// <summary>
/// Who set the drifted fields of a live object: the field managers whose <c>managedFields</c> entries hold one of the
/// paths <see cref="FieldDiff"/> reported (<c>.spec.replicas</c>, <c>.spec.template.spec.containers[name="web"].image</c>),
/// or a field enclosing it that is owned whole (an atomic list or map). Keys with dots (label keys) are matched against
/// the entries, longest first.
/// </summary>
internal static class FieldOwners
{
    /// <summary>The managers other than <paramref name="self"/> that own one of <paramref name="paths"/> in <paramref name="live"/>, in managedFields order.</summary>
    public static IReadOnlyList<string> Of(JsonObject live, IReadOnlyList<string> paths, string self)
    {
        if (paths.Count == 0 || live["metadata"]?["managedFields"] is not JsonArray entries)
        {
            return [];
        }

        var owners = new List<string>();
        foreach (var entry in entries.OfType<JsonObject>())
        {
            if (entry["manager"]?.GetValueKind() == JsonValueKind.String && entry["manager"]!.GetValue<string>() is var manager
                && manager != self && !owners.Contains(manager)
                && entry["fieldsV1"] is JsonObject fields && paths.Any(p => Owns(fields, p)))
            {
                owners.Add(manager);
            }
        }

        return owners;
    }

    private static bool Owns(JsonObject node, string path)
    {
        var rest = path.AsSpan();
        while (rest.Length > 0)
        {
            if (node.Count == 0)
            {
                // a leaf before the path ends: the manager owns the enclosing value whole
                return true;
            }

            JsonObject? next;
            if (rest[0] == '.')
            {
                rest = rest[1..];
                next = Member(node, rest, out var length);
                rest = rest[length..];
            }
            else if (rest[0] == '[' && rest.IndexOf(']') is var close and > 0)
            {
                var segment = rest[1..close].ToString();
                rest = rest[(close + 1)..];
                var equals = segment.IndexOf('=', StringComparison.Ordinal);
                if (equals < 0)
                {
                    // a position in an atomic list: owned with the list, and the list was not a leaf
                    return false;
                }

                next = Item(node, segment[..equals], segment[(equals + 1)..]);
            }
            else
            {
                return false;
            }

            if (next is null)
            {
                return false;
            }

            node = next;
        }

        return true;
    }

    /// <summary>The member <c>f:key</c> of <paramref name="node"/> where key is the longest prefix of <paramref name="rest"/> up to a <c>.</c> or <c>[</c> that is one; <paramref name="length"/>: the key's.</summary>
    private static JsonObject? Member(JsonObject node, ReadOnlySpan<char> rest, out int length)
    {
        for (length = rest.Length; length > 0; length = rest[..length].LastIndexOfAny('.', '['))
        {
            if (node["f:" + rest[..length].ToString()] is JsonObject member)
            {
                return member;
            }
        }

        length = 0;
        return null;
    }

    /// <summary>The list item <c>k:{...}</c> of <paramref name="node"/> whose key <paramref name="key"/> has <paramref name="value"/> (JSON).</summary>
    private static JsonObject? Item(JsonObject node, string key, string value)
    {
        JsonNode? wanted;
        try
        {
            wanted = JsonNode.Parse(value);
        }
        catch (JsonException)
        {
            // a key value FieldDiff printed unescaped (a quote inside): not matched
            return null;
        }

        foreach (var (name, item) in node)
        {
            if (name.StartsWith("k:", StringComparison.Ordinal) && item is JsonObject itemNode
                && JsonNode.Parse(name[2..]) is JsonObject keys && JsonNode.DeepEquals(keys[key], wanted))
            {
                return itemNode;
            }
        }

        return null;
    }
}
