using System.Text.Json.Nodes;

namespace FleetFunctions.Simulator.Apply;

/// <summary>
/// Merges an applied configuration into an object, field by field, as structured-merge-diff's
/// <c>Merge</c> does: the configuration wins on every leaf it specifies, granular objects merge per
/// field, associative lists and sets merge per item (the configuration's order wins for items it
/// names, live items it does not name keep their relative place), atomic objects and lists are
/// replaced. Nothing is removed here; removal of fields the applier stopped applying is pruning.
/// </summary>
internal static class StructuredMerge
{
    /// <summary>Merges <paramref name="config"/> into <paramref name="target"/>, which is modified; <paramref name="config"/> is not.</summary>
    public static void MergeInto(JsonObject target, JsonObject config, TypeSchema schema)
    {
        foreach (var (name, rhs) in config)
        {
            var present = target.TryGetPropertyValue(name, out var lhs);
            var merged = Merge(present ? lhs : null, rhs, schema.Field(name));
            if (merged is null)
            {
                if (present)
                {
                    target.Remove(name);
                }
            }
            else if (!ReferenceEquals(merged, lhs))
            {
                target[name] = merged;
            }
        }
    }

    /// <summary>
    /// The merge of <paramref name="lhs"/> (owned by the caller, may be changed in place and returned) and
    /// <paramref name="rhs"/> (never changed; copied where used). Null means the field is absent afterwards.
    /// </summary>
    private static JsonNode? Merge(JsonNode? lhs, JsonNode? rhs, TypeSchema schema)
    {
        switch (rhs)
        {
            case JsonObject rhsObject:
                if (schema.Atomic || lhs is not JsonObject lhsObject || (lhsObject.Count == 0 && rhsObject.Count == 0))
                {
                    return rhsObject.DeepClone();
                }

                MergeInto(lhsObject, rhsObject, schema);
                return lhsObject;
            case JsonArray rhsList:
                if (schema.ListType == ListType.Atomic || lhs is not JsonArray lhsList || (lhsList.Count == 0 && rhsList.Count == 0))
                {
                    return rhsList.DeepClone();
                }

                return MergeList(lhsList, rhsList, schema);
            case null:
                // An explicit null keeps a non-empty granular object or list (structured-merge-diff merges
                // into it), and otherwise leaves the field unset.
                return lhs is JsonObject { Count: > 0 } || lhs is JsonArray { Count: > 0 } ? lhs : null;
            default:
                return rhs.DeepClone();
        }
    }

    private static JsonArray MergeList(JsonArray lhs, JsonArray rhs, TypeSchema schema)
    {
        // Live lists may hold items with the same key or without their key (written by updates, which do not
        // validate keys): such items stay as they are unless the configuration names their key, which then
        // replaces all items with that key.
        var lhsOrder = new List<KeyValuePair<PathElement, JsonNode?>>(lhs.Count);
        var lhsItems = new Dictionary<PathElement, JsonNode?>(lhs.Count);
        HashSet<PathElement>? duplicated = null;
        for (var i = 0; i < lhs.Count; i++)
        {
            var item = lhs[i];

            // An item without a usable key stays where it is: its position never matches a configuration item.
            var element = ListItems.TryElement(schema, item, out _) ?? PathElement.AtIndex(i);
            if (!lhsItems.TryAdd(element, item))
            {
                (duplicated ??= []).Add(element);
            }

            lhsOrder.Add(new KeyValuePair<PathElement, JsonNode?>(element, item));
        }

        var (rhsOrder, rhsItems) = ListItems.IndexLenient(schema, rhs);

        // Detach the live items so they can move into the merged list.
        lhs.Clear();

        var shared = new Queue<PathElement>();
        foreach (var (element, _) in rhsOrder)
        {
            if (lhsItems.ContainsKey(element))
            {
                shared.Enqueue(element);
            }
        }

        PathElement? nextShared = shared.Count > 0 ? shared.Dequeue() : null;
        var emitted = new HashSet<PathElement>(lhsOrder.Count + rhsOrder.Count);
        var result = new JsonArray();
        int l = 0, r = 0;
        while (l < lhsOrder.Count || r < rhsOrder.Count)
        {
            if (l < lhsOrder.Count && emitted.Contains(lhsOrder[l].Key) && !IsKeptDuplicate(lhsOrder[l].Key))
            {
                l++;
                continue;
            }

            if (l < lhsOrder.Count && r < rhsOrder.Count)
            {
                var element = lhsOrder[l].Key;
                if (element == rhsOrder[r].Key)
                {
                    Emit(element, lhsOrder[l].Value, present: true, rhsOrder[r].Value);
                    l++;
                    r++;
                    nextShared = shared.Count > 0 ? shared.Dequeue() : null;
                    continue;
                }

                if (rhsItems.ContainsKey(element) && nextShared is { } wanted && wanted != element)
                {
                    // A shared item, but not the next one in the configuration's order: it comes later.
                    l++;
                    continue;
                }
            }

            if (l < lhsOrder.Count && !rhsItems.ContainsKey(lhsOrder[l].Key))
            {
                var (element, item) = lhsOrder[l];
                emitted.Add(element);
                result.Add(item);
                l++;
                continue;
            }

            if (r < rhsOrder.Count)
            {
                var (element, item) = rhsOrder[r];
                var present = lhsItems.TryGetValue(element, out var live);
                Emit(element, live, present, item);
                r++;
                if (nextShared == element)
                {
                    nextShared = shared.Count > 0 ? shared.Dequeue() : null;
                }
            }
            else
            {
                // Only shared live items that were already emitted remain.
                l++;
            }
        }

        return result;

        void Emit(PathElement element, JsonNode? live, bool present, JsonNode? applied)
        {
            if (!emitted.Add(element))
            {
                return;
            }

            var replaceAll = duplicated is not null && duplicated.Contains(element);
            var merged = Merge(present && !replaceAll ? live : null, applied, schema.Items);
            result.Add(merged ?? (present && !replaceAll ? live : null));
        }

        bool IsKeptDuplicate(PathElement element) =>
            duplicated is not null && duplicated.Contains(element) && !rhsItems.ContainsKey(element);
    }
}
