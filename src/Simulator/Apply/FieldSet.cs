using System.Text;
using System.Text.Json.Nodes;

namespace FleetFunctions.Simulator.Apply;

/// <summary>
/// A set of field paths stored as a trie, the in-memory form of a FieldsV1 document. Each node knows
/// whether the path leading to it is itself a member (the <c>.</c> entry when it also has children).
/// Instances are mutable while being built; the set operations return new sets and never share nodes
/// with their inputs.
/// </summary>
internal sealed class FieldSet
{
    private Dictionary<PathElement, FieldSet>? children;

    /// <summary>Whether the path that leads to this node is in the set (unused on the root).</summary>
    public bool IsMember { get; private set; }

    /// <summary>True when no path at all is in the set.</summary>
    public bool IsEmpty => !IsMember && (children is null || children.Count == 0);

    public int ChildCount => children?.Count ?? 0;

    public IEnumerable<KeyValuePair<PathElement, FieldSet>> Children =>
        children ?? (IEnumerable<KeyValuePair<PathElement, FieldSet>>)[];

    public void Insert(ReadOnlySpan<PathElement> path)
    {
        var node = this;
        foreach (var element in path)
        {
            node = node.GetOrAddChild(element);
        }

        node.IsMember = true;
    }

    public void MarkMember() => IsMember = true;

    public FieldSet GetOrAddChild(PathElement element)
    {
        children ??= [];
        if (!children.TryGetValue(element, out var child))
        {
            child = new FieldSet();
            children.Add(element, child);
        }

        return child;
    }

    public FieldSet? GetChild(PathElement element) =>
        children is not null && children.TryGetValue(element, out var child) ? child : null;

    /// <summary>Removes the member at <paramref name="path"/> (not its descendants); prunes empty nodes.</summary>
    public void RemoveMember(ReadOnlySpan<PathElement> path)
    {
        if (path.IsEmpty)
        {
            IsMember = false;
            return;
        }

        var child = GetChild(path[0]);
        if (child is null)
        {
            return;
        }

        child.RemoveMember(path[1..]);
        if (child.IsEmpty)
        {
            children!.Remove(path[0]);
        }
    }

    /// <summary>Removes <paramref name="element"/> and everything under it.</summary>
    public void RemoveSubtree(PathElement element) => children?.Remove(element);

    public FieldSet Clone()
    {
        var copy = new FieldSet { IsMember = IsMember };
        if (children is not null)
        {
            copy.children = new Dictionary<PathElement, FieldSet>(children.Count);
            foreach (var (element, child) in children)
            {
                copy.children.Add(element, child.Clone());
            }
        }

        return copy;
    }

    /// <summary>Adds every member of <paramref name="other"/> to this set.</summary>
    public void UnionWith(FieldSet other)
    {
        IsMember |= other.IsMember;
        if (other.children is null)
        {
            return;
        }

        foreach (var (element, otherChild) in other.children)
        {
            GetOrAddChild(element).UnionWith(otherChild);
        }
    }

    /// <summary>Removes every member of <paramref name="other"/> from this set; returns whether anything was removed.</summary>
    public bool ExceptWith(FieldSet other)
    {
        var changed = false;
        if (other.IsMember && IsMember)
        {
            IsMember = false;
            changed = true;
        }

        if (children is null || other.children is null)
        {
            return changed;
        }

        List<PathElement>? emptied = null;
        foreach (var (element, otherChild) in other.children)
        {
            if (children.TryGetValue(element, out var child) && child.ExceptWith(otherChild))
            {
                changed = true;
                if (child.IsEmpty)
                {
                    (emptied ??= []).Add(element);
                }
            }
        }

        if (emptied is not null)
        {
            foreach (var element in emptied)
            {
                children.Remove(element);
            }
        }

        return changed;
    }

    /// <summary>The members of this set that are also in <paramref name="other"/>.</summary>
    public FieldSet Intersect(FieldSet other)
    {
        var result = new FieldSet { IsMember = IsMember && other.IsMember };
        if (children is null || other.children is null)
        {
            return result;
        }

        var (small, large) = children.Count <= other.children.Count ? (children, other.children) : (other.children, children);
        foreach (var (element, child) in small)
        {
            if (large.TryGetValue(element, out var otherChild))
            {
                var common = child.Intersect(otherChild);
                if (!common.IsEmpty)
                {
                    result.children ??= [];
                    result.children.Add(element, common);
                }
            }
        }

        return result;
    }

    /// <summary>Whether every member of this set is also in <paramref name="other"/>.</summary>
    public bool IsSubsetOf(FieldSet other)
    {
        if (IsMember && !other.IsMember)
        {
            return false;
        }

        if (children is null)
        {
            return true;
        }

        foreach (var (element, child) in children)
        {
            if (other.children is null || !other.children.TryGetValue(element, out var otherChild))
            {
                return false;
            }

            if (!child.IsSubsetOf(otherChild))
            {
                return false;
            }
        }

        return true;
    }

    public bool SetEquals(FieldSet other)
    {
        if (IsMember != other.IsMember || ChildCount != other.ChildCount)
        {
            return false;
        }

        if (children is null)
        {
            return true;
        }

        foreach (var (element, child) in children)
        {
            if (other.children is null || !other.children.TryGetValue(element, out var otherChild) || !child.SetEquals(otherChild))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Every member path in sorted order, formatted as the API server prints it (<c>.spec.replicas</c>).</summary>
    public List<string> ToDisplayPaths()
    {
        var paths = new List<string>();
        CollectDisplayPaths(new StringBuilder(), paths);
        return paths;
    }

    private void CollectDisplayPaths(StringBuilder prefix, List<string> paths)
    {
        if (IsMember)
        {
            paths.Add(prefix.ToString());
        }

        foreach (var (element, child) in SortedChildren())
        {
            var length = prefix.Length;
            element.AppendDisplay(prefix);
            child.CollectDisplayPaths(prefix, paths);
            prefix.Length = length;
        }
    }

    /// <summary>The FieldsV1 document for this set (children sorted as structured-merge-diff writes them).</summary>
    public JsonObject ToFieldsV1()
    {
        var result = new JsonObject();
        if (IsMember && children is { Count: > 0 })
        {
            result.Add(".", new JsonObject());
        }

        foreach (var (element, child) in SortedChildren())
        {
            result.Add(element.ToFieldsV1(), child.ToFieldsV1());
        }

        return result;
    }

    /// <summary>Reads a FieldsV1 document; unknown keys are ignored, as an API server ignores what it cannot parse.</summary>
    public static FieldSet FromFieldsV1(JsonObject? document)
    {
        var set = new FieldSet();
        if (document is not null)
        {
            set.ReadChildren(document);
        }

        return set;
    }

    private void ReadChildren(JsonObject document)
    {
        foreach (var (key, value) in document)
        {
            if (key == ".")
            {
                IsMember = true;
                continue;
            }

            if (PathElement.ParseFieldsV1(key) is not { } element)
            {
                continue;
            }

            var child = GetOrAddChild(element);
            if (value is JsonObject nested && nested.Count > 0)
            {
                child.ReadChildren(nested);
            }
            else
            {
                child.IsMember = true;
            }
        }
    }

    private List<KeyValuePair<PathElement, FieldSet>> SortedChildren()
    {
        var list = children is null ? [] : new List<KeyValuePair<PathElement, FieldSet>>(children);
        if (list.Count > 1)
        {
            list.Sort(static (a, b) => a.Key.CompareTo(b.Key));
        }

        return list;
    }
}
