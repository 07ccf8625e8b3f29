using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace FleetFunctions.Core.Policy;

/// <summary>Kyverno anchors on pattern keys.</summary>
internal enum AnchorKind
{
    None,
    Condition,
    Global,
    Equality,
    Negation,
    Existence,
    AddIfNotPresent,
}

/// <summary>A compiled validate pattern: maps with anchors sorted as Kyverno evaluates them, leaves pre-parsed.</summary>
internal abstract partial class PatternNode
{
    /// <summary>True when this node (or a descendant) has anchor keys; Kyverno evaluates such keys first.</summary>
    public abstract bool HasAnchors { get; }

    public static PatternNode Compile(JsonNode? node) => node switch
    {
        JsonObject o => MapPattern.Create(o),
        JsonArray a => new ArrayPattern([.. a.Select(Compile)]),
        _ => new LeafPattern(node),
    };

    public static (AnchorKind Kind, string Key) ParseKey(string raw)
    {
        var m = AnchorRegex().Match(raw);
        if (!m.Success)
        {
            return (AnchorKind.None, raw);
        }

        var kind = m.Groups[1].Value switch
        {
            "" => AnchorKind.Condition,
            "<" => AnchorKind.Global,
            "=" => AnchorKind.Equality,
            "X" => AnchorKind.Negation,
            "^" => AnchorKind.Existence,
            _ => AnchorKind.AddIfNotPresent,
        };
        return (kind, m.Groups[2].Value);
    }

    [GeneratedRegex(@"^([+<=X^])?\((.+)\)$")]
    private static partial Regex AnchorRegex();
}

internal sealed record PatternEntry(string RawKey, AnchorKind Kind, string Key, PatternNode Value, bool WildcardKey);

internal sealed class MapPattern : PatternNode
{
    private MapPattern(PatternEntry[] anchors, PatternEntry[] resources, bool hasAnchors, bool tracksAnchors)
    {
        Anchors = anchors;
        Resources = resources;
        HasAnchors = hasAnchors;
        TracksAnchors = tracksAnchors;
    }

    /// <summary>Conditional, existence and negation keys, sorted, evaluated first.</summary>
    public PatternEntry[] Anchors { get; }

    /// <summary>Other keys: global anchors and keys with nested anchors first (reverse sorted), then the rest sorted.</summary>
    public PatternEntry[] Resources { get; }

    public override bool HasAnchors { get; }

    /// <summary>Has keys Kyverno records in its anchor map (conditional, existence, negation).</summary>
    public bool TracksAnchors { get; }

    public static MapPattern Create(JsonObject obj)
    {
        var entries = obj.Select(p =>
        {
            var (kind, key) = ParseKey(p.Key);
            var value = Compile(p.Value);
            var wildcard = kind is AnchorKind.None or AnchorKind.Equality && Wildcard.Contains(key);
            return new PatternEntry(p.Key, kind, key, value, wildcard);
        }).OrderBy(e => e.RawKey, StringComparer.Ordinal).ToList();

        var anchors = entries.Where(e => e.Kind is AnchorKind.Condition or AnchorKind.Existence or AnchorKind.Negation).ToArray();
        var rest = entries.Where(e => e.Kind is not (AnchorKind.Condition or AnchorKind.Existence or AnchorKind.Negation)).ToList();
        var front = new LinkedList<PatternEntry>();
        foreach (var e in rest)
        {
            if (e.Kind == AnchorKind.Global || e.Value.HasAnchors)
            {
                front.AddFirst(e);
            }
            else
            {
                front.AddLast(e);
            }
        }

        var hasAnchors = entries.Any(e => e.Kind != AnchorKind.None || e.Value.HasAnchors);
        return new MapPattern(anchors, [.. front], hasAnchors, anchors.Length > 0);
    }
}

internal sealed class ArrayPattern(PatternNode[] items) : PatternNode
{
    public PatternNode[] Items { get; } = items;

    public override bool HasAnchors { get; } = items.Any(i => i.HasAnchors);
}

internal sealed class LeafPattern : PatternNode
{
    public LeafPattern(JsonNode? value)
    {
        Value = value;
        if (JsonUtil.AsString(value) is { } s)
        {
            Template = Template.Compile(s);
            IsStar = s == "*";
        }
    }

    public JsonNode? Value { get; }

    public Template? Template { get; }

    public bool IsStar { get; }

    public override bool HasAnchors => false;
}
