using System.Text.Json.Nodes;

namespace FleetFunctions.Simulator.Apply;

/// <summary>
/// Removes from a merged object what an applier stopped applying, as structured-merge-diff's prune does:
/// a field or item goes when the applier's previous set had it, and no manager (the applier's new set
/// included) owns it or anything below it. Named fields count as owned when something below them is;
/// items of associative lists and sets only when owned themselves. Objects and lists emptied by the
/// removal are removed too, as the typed API server drops empty optional fields.
/// </summary>
internal static class Pruner
{
    /// <summary>Prunes <paramref name="merged"/> in place.</summary>
    /// <param name="merged">The merged object, changed in place.</param>
    /// <param name="lastApplied">The applier's previous set.</param>
    /// <param name="owners">Every manager's set, the applier's new one included.</param>
    /// <param name="schema">The object's schema.</param>
    public static void Prune(JsonObject merged, FieldSet lastApplied, List<FieldSet> owners, TypeSchema schema) =>
        PruneObject(merged, lastApplied, new Owners(owners), schema);

    private static void PruneObject(JsonObject obj, FieldSet last, Owners owned, TypeSchema schema)
    {
        List<string>? remove = null;
        foreach (var (element, lastChild) in last.Children)
        {
            if (element.Kind != PathElementKind.Field || !obj.TryGetPropertyValue(element.Name, out var value))
            {
                continue;
            }

            var ownedChild = owned.Child(element);
            if (IsMember(lastChild, named: true) && !IsMember(ownedChild, named: true))
            {
                (remove ??= []).Add(element.Name);
            }
            else if (lastChild.ChildCount > 0 && PruneBelow(value, lastChild, ownedChild, schema.Field(element.Name)))
            {
                (remove ??= []).Add(element.Name);
            }
        }

        if (remove is not null)
        {
            foreach (var name in remove)
            {
                obj.Remove(name);
            }
        }
    }

    private static void PruneList(JsonArray list, FieldSet last, Owners owned, TypeSchema schema)
    {
        if (schema.ListType == ListType.Atomic)
        {
            return;
        }

        HashSet<int>? remove = null;
        Dictionary<PathElement, int>? positions = null;
        foreach (var (element, lastChild) in last.Children)
        {
            positions ??= Positions(list, schema);
            if (!positions.TryGetValue(element, out var index))
            {
                continue;
            }

            var ownedChild = owned.Child(element);
            if (IsMember(lastChild, named: false) && !IsMember(ownedChild, named: false))
            {
                (remove ??= []).Add(index);
            }
            else if (lastChild.ChildCount > 0 && PruneBelow(list[index], lastChild, ownedChild, schema.Items))
            {
                (remove ??= []).Add(index);
            }
        }

        if (remove is null)
        {
            return;
        }

        var kept = new List<JsonNode?>(list.Count - remove.Count);
        for (var i = 0; i < list.Count; i++)
        {
            if (!remove.Contains(i))
            {
                kept.Add(list[i]);
            }
        }

        list.Clear();
        foreach (var item in kept)
        {
            list.Add(item);
        }
    }

    /// <summary>Prunes inside <paramref name="value"/>; true when it was non-empty and pruning emptied it.</summary>
    private static bool PruneBelow(JsonNode? value, FieldSet last, Owners owned, TypeSchema schema)
    {
        switch (value)
        {
            case JsonObject { Count: > 0 } obj when !schema.Atomic:
                PruneObject(obj, last, owned, schema);
                return obj.Count == 0;
            case JsonArray { Count: > 0 } list:
                PruneList(list, last, owned, schema);
                return list.Count == 0;
            default:
                return false;
        }
    }

    private static bool IsMember(FieldSet? node, bool named) =>
        node is not null && (node.IsMember || (named && node.ChildCount > 0));

    private static bool IsMember(Owners owners, bool named)
    {
        foreach (var node in owners.Nodes)
        {
            if (IsMember(node, named))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The nodes of all owners' sets at the same path (owners without the path are left out).</summary>
    private readonly struct Owners(List<FieldSet> nodes)
    {
        public List<FieldSet> Nodes { get; } = nodes;

        public Owners Child(PathElement element)
        {
            var children = new List<FieldSet>(Nodes.Count);
            foreach (var node in Nodes)
            {
                if (node.GetChild(element) is { } child)
                {
                    children.Add(child);
                }
            }

            return new Owners(children);
        }
    }

    private static Dictionary<PathElement, int> Positions(JsonArray list, TypeSchema schema)
    {
        var positions = new Dictionary<PathElement, int>(list.Count);
        for (var i = 0; i < list.Count; i++)
        {
            if (ListItems.TryElement(schema, list[i], out _) is { } element)
            {
                positions.TryAdd(element, i);
            }
        }

        return positions;
    }
}
