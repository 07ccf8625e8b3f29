using System.Collections.Frozen;
using System.Text.Json.Nodes;

namespace FleetFunctions.Simulator.Apply;

/// <summary>How the items of a list are identified when merging, as declared by <c>x-kubernetes-list-type</c>.</summary>
internal enum ListType
{
    /// <summary>Replaced as a whole (<c>atomic</c>); also the rule for any list the schema does not know.</summary>
    Atomic,

    /// <summary>Items identified by key fields (<c>map</c>, <c>x-kubernetes-list-map-keys</c>).</summary>
    Map,

    /// <summary>Scalar items identified by their value (<c>set</c>).</summary>
    Set,
}

/// <summary>
/// The part of a Kubernetes OpenAPI schema that structured merge needs: which objects are atomic, which
/// lists are associative (and by which keys, with their defaults) or sets. Anything not described is
/// "deduced" as structured-merge-diff does for unknown types: objects merge field by field, lists are
/// atomic, scalars are leaves. Instances are immutable once built.
/// </summary>
internal sealed class TypeSchema
{
    /// <summary>The schema of anything not described: granular objects, atomic lists.</summary>
    public static readonly TypeSchema Deduced = new();

    private FrozenDictionary<string, TypeSchema>? fields;

    /// <summary>Known fields of an object; others are <see cref="Deduced"/>.</summary>
    public FrozenDictionary<string, TypeSchema>? Fields => fields;

    /// <summary>The whole object or list is one leaf: replaced, owned and compared as a unit.</summary>
    public bool Atomic { get; private init; }

    public ListType ListType { get; private init; } = ListType.Atomic;

    /// <summary>Key field names of an associative list, sorted ordinally (the order of <c>k:</c> JSON).</summary>
    public string[] Keys { get; private init; } = [];

    /// <summary>Defaults of key fields that may be omitted (container port protocol defaults to TCP).</summary>
    public FrozenDictionary<string, JsonNode>? KeyDefaults { get; private init; }

    /// <summary>The schema of list items.</summary>
    public TypeSchema Items { get; private init; } = null!;

    /// <summary>The schema of field <paramref name="name"/> of this object.</summary>
    public TypeSchema Field(string name)
    {
        if (fields is not null && fields.TryGetValue(name, out var field))
        {
            return field;
        }

        return Deduced;
    }

    /// <summary>An object with the given known fields; unknown fields are deduced.</summary>
    public static TypeSchema Struct(params (string Name, TypeSchema Schema)[] members)
    {
        var schema = new TypeSchema();
        schema.fields = members.ToFrozenDictionary(m => m.Name, m => m.Schema, StringComparer.Ordinal);
        return schema;
    }

    /// <summary>An object replaced and owned as a whole (<c>x-kubernetes-map-type: atomic</c>).</summary>
    public static TypeSchema AtomicStruct() => new() { Atomic = true };

    /// <summary>A list replaced as a whole.</summary>
    public static TypeSchema AtomicList() => new() { Atomic = true, ListType = ListType.Atomic, Items = Deduced };

    /// <summary>A list of scalars merged as a set.</summary>
    public static TypeSchema SetList() => new() { ListType = ListType.Set, Items = Deduced };

    /// <summary>An associative list keyed by <paramref name="keys"/>; a key written <c>name=default</c> has a default string value.</summary>
    public static TypeSchema ListMap(TypeSchema items, params string[] keys)
    {
        var names = new List<string>(keys.Length);
        Dictionary<string, JsonNode>? defaults = null;
        foreach (var key in keys)
        {
            var separator = key.IndexOf('=', StringComparison.Ordinal);
            if (separator < 0)
            {
                names.Add(key);
                continue;
            }

            var name = key[..separator];
            names.Add(name);
            (defaults ??= new Dictionary<string, JsonNode>(StringComparer.Ordinal))[name] = JsonValue.Create(key[(separator + 1)..]);
        }

        names.Sort(StringComparer.Ordinal);
        return new TypeSchema
        {
            ListType = ListType.Map,
            Keys = [.. names],
            KeyDefaults = defaults?.ToFrozenDictionary(StringComparer.Ordinal),
            Items = items,
        };
    }

    /// <summary>An associative list of objects with no further known structure.</summary>
    public static TypeSchema ListMap(params string[] keys) => ListMap(Deduced, keys);
}
