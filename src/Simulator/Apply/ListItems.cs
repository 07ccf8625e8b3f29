using System.Text;
using System.Text.Json.Nodes;

namespace FleetFunctions.Simulator.Apply;

/// <summary>Identifies the items of granular lists (associative lists and sets) by path element.</summary>
internal static class ListItems
{
    /// <summary>
    /// The path element of <paramref name="item"/> in a list with <paramref name="schema"/>, or null when the
    /// item cannot be identified (an associative-list item that omits a key without default, or is no object).
    /// </summary>
    public static PathElement? TryElement(TypeSchema schema, JsonNode? item, out string? problem)
    {
        problem = null;
        if (schema.ListType == ListType.Set)
        {
            return PathElement.SetItem(item);
        }

        if (item is not JsonObject obj)
        {
            problem = "associative list with keys has an element that is not a map";
            return null;
        }

        var fields = new KeyValuePair<string, JsonNode?>[schema.Keys.Length];
        for (var i = 0; i < fields.Length; i++)
        {
            var key = schema.Keys[i];
            if (obj.TryGetPropertyValue(key, out var value) && value is not null)
            {
                fields[i] = new KeyValuePair<string, JsonNode?>(key, value);
            }
            else if (schema.KeyDefaults is not null && schema.KeyDefaults.TryGetValue(key, out var fallback))
            {
                fields[i] = new KeyValuePair<string, JsonNode?>(key, fallback);
            }
            else
            {
                problem = $"associative list with keys has an element that omits key field \"{key}\" (and doesn't have default value)";
                return null;
            }
        }

        return PathElement.Keyed(fields);
    }

    /// <summary>
    /// Indexes a list of a live object: items in order with their elements, first occurrence wins, items
    /// that cannot be identified are skipped (a stored object is taken as it is).
    /// </summary>
    public static (List<KeyValuePair<PathElement, JsonNode?>> Order, Dictionary<PathElement, JsonNode?> ByElement) IndexLenient(
        TypeSchema schema,
        JsonArray? list)
    {
        var count = list?.Count ?? 0;
        var order = new List<KeyValuePair<PathElement, JsonNode?>>(count);
        var byElement = new Dictionary<PathElement, JsonNode?>(count);
        for (var i = 0; i < count; i++)
        {
            var item = list![i];
            if (TryElement(schema, item, out _) is { } element && byElement.TryAdd(element, item))
            {
                order.Add(new KeyValuePair<PathElement, JsonNode?>(element, item));
            }
        }

        return (order, byElement);
    }

    /// <summary>Formats a path as the API server prints it, e.g. <c>.spec.template.spec.containers[name="app"]</c>.</summary>
    public static string Display(IReadOnlyList<PathElement> path)
    {
        var builder = new StringBuilder();
        foreach (var element in path)
        {
            element.AppendDisplay(builder);
        }

        return builder.ToString();
    }
}
