using System.Runtime.InteropServices;
using System.Text.Json.Nodes;

namespace FleetFunctions.Simulator.Apply;

/// <summary>What changed between two versions of an object, as field sets (structured-merge-diff's <c>Comparison</c>).</summary>
internal sealed class Comparison
{
    /// <summary>Fields present only in the new object; includes objects, lists and items that did not exist before.</summary>
    public FieldSet Added { get; } = new();

    /// <summary>Leaves (scalars, atomic objects and lists) present in both with different values.</summary>
    public FieldSet Modified { get; } = new();

    /// <summary>Fields present only in the old object.</summary>
    public FieldSet Removed { get; } = new();

    public bool IsSame => Added.IsEmpty && Modified.IsEmpty && Removed.IsEmpty;

    /// <summary>Added and modified fields together: what a writer takes ownership of.</summary>
    public FieldSet Changed()
    {
        var changed = Added.Clone();
        changed.UnionWith(Modified);
        return changed;
    }

    /// <summary>Drops the subtree under the top-level field <paramref name="name"/> from all three sets.</summary>
    public void ExcludeTopLevel(PathElement name)
    {
        Added.RemoveSubtree(name);
        Modified.RemoveSubtree(name);
        Removed.RemoveSubtree(name);
    }

    /// <summary>Keeps only the subtree under the top-level field <paramref name="name"/> in all three sets.</summary>
    public void KeepOnlyTopLevel(PathElement name)
    {
        foreach (var set in new[] { Added, Modified, Removed })
        {
            foreach (var element in set.Children.Select(c => c.Key).Where(e => e != name).ToList())
            {
                set.RemoveSubtree(element);
            }
        }
    }
}

/// <summary>Computes a <see cref="Comparison"/> by walking two objects with their schema.</summary>
internal sealed class StructuredCompare
{
    private readonly List<PathElement> path = new(16);
    private readonly Comparison result = new();

    /// <summary>
    /// Compares <paramref name="before"/> and <paramref name="after"/>. A top-level field missing from
    /// <paramref name="before"/> is compared against its value in <paramref name="emptyObject"/> when that
    /// has one: the API server's objects always carry their non-pointer structs (<c>spec</c>, <c>status</c>),
    /// so those are never new.
    /// </summary>
    public static Comparison Compare(JsonObject? before, JsonObject after, TypeSchema schema, JsonObject? emptyObject = null)
    {
        var walker = new StructuredCompare();
        walker.CompareObjects(before, after, schema, emptyObject);
        return walker.result;
    }

    private void CompareValues(JsonNode? lhs, bool lhsPresent, JsonNode? rhs, bool rhsPresent, TypeSchema schema)
    {
        // Decide the shape from whichever side has one; null is compatible with any shape.
        var lhsShape = Shape(lhs);
        var rhsShape = Shape(rhs);
        var shape = rhsShape != ValueShape.Null ? rhsShape : lhsShape;
        if (lhsShape != ValueShape.Null && rhsShape != ValueShape.Null && lhsShape != rhsShape)
        {
            Leaf(lhs, lhsPresent, rhs, rhsPresent);
            return;
        }

        switch (shape)
        {
            case ValueShape.Object:
                var lhsObject = lhs as JsonObject;
                var rhsObject = rhs as JsonObject;
                if (schema.Atomic || ((lhsObject?.Count ?? 0) == 0 && (rhsObject?.Count ?? 0) == 0))
                {
                    Leaf(lhs, lhsPresent, rhs, rhsPresent);
                    return;
                }

                CompareObjects(lhsObject, rhsObject, schema);
                Container(lhsPresent, rhsPresent);
                return;
            case ValueShape.List:
                var lhsList = lhs as JsonArray;
                var rhsList = rhs as JsonArray;
                if (schema.ListType == ListType.Atomic || ((lhsList?.Count ?? 0) == 0 && (rhsList?.Count ?? 0) == 0))
                {
                    Leaf(lhs, lhsPresent, rhs, rhsPresent);
                    return;
                }

                CompareLists(lhsList, rhsList, schema);
                Container(lhsPresent, rhsPresent);
                return;
            default:
                Leaf(lhs, lhsPresent, rhs, rhsPresent);
                return;
        }
    }

    private void CompareObjects(JsonObject? lhs, JsonObject? rhs, TypeSchema schema, JsonObject? emptyObject = null)
    {
        if (lhs is not null)
        {
            foreach (var (name, lhsValue) in lhs)
            {
                JsonNode? rhsValue = null;
                var rhsPresent = rhs is not null && rhs.TryGetPropertyValue(name, out rhsValue);
                Descend(PathElement.Field(name), lhsValue, true, rhsValue, rhsPresent, schema.Field(name));
            }
        }

        if (rhs is not null)
        {
            foreach (var (name, rhsValue) in rhs)
            {
                if (lhs is null || !lhs.ContainsKey(name))
                {
                    JsonNode? empty = null;
                    var present = emptyObject is not null && emptyObject.TryGetPropertyValue(name, out empty);
                    Descend(PathElement.Field(name), empty, present, rhsValue, true, schema.Field(name));
                }
            }
        }
    }

    private void CompareLists(JsonArray? lhs, JsonArray? rhs, TypeSchema schema)
    {
        var (lhsOrder, lhsItems) = ListItems.IndexLenient(schema, lhs);
        var (rhsOrder, rhsItems) = ListItems.IndexLenient(schema, rhs);
        foreach (var (element, lhsItem) in lhsOrder)
        {
            var rhsPresent = rhsItems.TryGetValue(element, out var rhsItem);
            Descend(element, lhsItem, true, rhsItem, rhsPresent, schema.Items);
        }

        foreach (var (element, rhsItem) in rhsOrder)
        {
            if (!lhsItems.ContainsKey(element))
            {
                Descend(element, null, false, rhsItem, true, schema.Items);
            }
        }
    }

    private void Descend(PathElement element, JsonNode? lhs, bool lhsPresent, JsonNode? rhs, bool rhsPresent, TypeSchema schema)
    {
        path.Add(element);
        CompareValues(lhs, lhsPresent, rhs, rhsPresent, schema);
        path.RemoveAt(path.Count - 1);
    }

    private void Leaf(JsonNode? lhs, bool lhsPresent, JsonNode? rhs, bool rhsPresent)
    {
        if (!lhsPresent)
        {
            result.Added.Insert(CollectionsMarshal.AsSpan(path));
        }
        else if (!rhsPresent)
        {
            result.Removed.Insert(CollectionsMarshal.AsSpan(path));
        }
        else if (!CanonicalJson.Equal(lhs, rhs))
        {
            result.Modified.Insert(CollectionsMarshal.AsSpan(path));
        }
    }

    private void Container(bool lhsPresent, bool rhsPresent)
    {
        if (!lhsPresent)
        {
            result.Added.Insert(CollectionsMarshal.AsSpan(path));
        }
        else if (!rhsPresent)
        {
            result.Removed.Insert(CollectionsMarshal.AsSpan(path));
        }
    }

    private static ValueShape Shape(JsonNode? node) => node switch
    {
        JsonObject => ValueShape.Object,
        JsonArray => ValueShape.List,
        null => ValueShape.Null,
        _ => ValueShape.Scalar,
    };

    private enum ValueShape
    {
        Null,
        Scalar,
        Object,
        List,
    }
}
