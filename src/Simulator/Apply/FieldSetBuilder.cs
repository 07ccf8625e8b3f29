using System.Text.Json.Nodes;

namespace FleetFunctions.Simulator.Apply;

/// <summary>
/// The set of fields an applied configuration specifies, as structured-merge-diff computes it: every
/// scalar, atomic object and atomic list as a leaf; associative-list and set items as members
/// themselves (hence <c>.</c> next to their fields); empty objects and nulls as leaves. Objects themselves
/// are not members: every object field is treated as a named field of a struct, as with a typed schema
/// (structured-merge-diff marks members for keys of schema-less maps, which built-in kinds do not use).
/// Validates the configuration on the way (keys present, no duplicates).
/// </summary>
internal sealed class FieldSetBuilder
{
    private readonly List<PathElement> path = new(16);
    private List<string>? problems;

    /// <summary>
    /// Builds the field set of <paramref name="value"/>; throws <see cref="FieldManagerException"/> naming
    /// every invalid list item, worded as structured-merge-diff does (<c>errors:</c> and one line each when
    /// there are several).
    /// </summary>
    public static FieldSet Build(JsonObject value, TypeSchema schema)
    {
        var set = new FieldSet();
        var builder = new FieldSetBuilder();
        builder.Collect(set, value, schema);
        if (builder.problems is { } problems)
        {
            throw new FieldManagerException(problems.Count == 1 ? problems[0] : "errors:\n  " + string.Join("\n  ", problems));
        }

        return set;
    }

    private void CollectChild(FieldSet parent, PathElement element, JsonNode? value, TypeSchema schema, bool member)
    {
        var node = parent.GetOrAddChild(element);
        path.Add(element);
        Collect(node, value, schema);
        path.RemoveAt(path.Count - 1);
        if (member)
        {
            node.MarkMember();
        }

        if (node.IsEmpty)
        {
            parent.RemoveSubtree(element);
        }
    }

    private void Collect(FieldSet node, JsonNode? value, TypeSchema schema)
    {
        switch (value)
        {
            case JsonObject obj:
                if (schema.Atomic || obj.Count == 0)
                {
                    node.MarkMember();
                    return;
                }

                foreach (var (name, child) in obj)
                {
                    CollectChild(node, PathElement.Field(name), child, schema.Field(name), member: false);
                }

                return;
            case JsonArray list:
                if (schema.ListType == ListType.Atomic)
                {
                    node.MarkMember();
                    return;
                }

                HashSet<PathElement>? seen = list.Count > 1 ? new HashSet<PathElement>(list.Count) : null;
                for (var i = 0; i < list.Count; i++)
                {
                    var item = list[i];
                    if (ListItems.TryElement(schema, item, out var problem) is not { } element)
                    {
                        (problems ??= []).Add($"{Here()}: element {i}: {problem}");
                        continue;
                    }

                    if (seen is not null && !seen.Add(element))
                    {
                        var display = new System.Text.StringBuilder();
                        element.AppendDisplay(display);
                        (problems ??= []).Add($"{Here()}: duplicate entries for key {display}");
                        continue;
                    }

                    CollectChild(node, element, item, schema.Items, member: true);
                }

                return;
            default:
                node.MarkMember();
                return;
        }
    }

    private string Here() => ListItems.Display(path);
}
