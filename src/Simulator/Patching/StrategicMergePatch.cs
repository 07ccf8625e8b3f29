using System.Text.Json.Nodes;

namespace FleetFunctions.Simulator.Patching;

/// <summary>
/// Strategic merge patch as kubectl sends it, approximated without OpenAPI schemas: a merge patch whose
/// lists of objects merge by their well-known key (<c>name</c>, <c>mountPath</c>, <c>containerPort</c>,
/// <c>port</c>, <c>ip</c>) and honour <c>$patch: delete/replace</c>; <c>$setElementOrder</c>,
/// <c>$retainKeys</c> and <c>$deleteFromPrimitiveList</c> directives are dropped.
/// </summary>
internal static class StrategicMergePatch
{
    private static readonly string[] s_mergeKeys = ["name", "mountPath", "containerPort", "port", "ip", "type"];

    public static JsonNode? Apply(JsonNode? target, JsonNode? patch)
    {
        if (patch is not JsonObject patchObject)
        {
            return patch?.DeepClone();
        }

        if (patchObject["$patch"]?.GetValue<string>() == "replace")
        {
            var replacement = (JsonObject)patchObject.DeepClone();
            replacement.Remove("$patch");
            return replacement;
        }

        var result = target as JsonObject ?? [];
        foreach (var (key, value) in patchObject)
        {
            if (key.StartsWith('$'))
            {
                continue;
            }

            if (value is null || (value is JsonObject o && o["$patch"]?.GetValue<string>() == "delete"))
            {
                result.Remove(key);
                continue;
            }

            var existing = result[key];
            result.Remove(key);
            result[key] = value is JsonArray patchArray && existing is JsonArray liveArray
                ? MergeList(liveArray, patchArray)
                : Apply(existing, value);
        }

        return result;
    }

    private static JsonArray MergeList(JsonArray live, JsonArray patch)
    {
        var key = MergeKey(patch);
        if (key is null || live.Any(i => i is not JsonObject))
        {
            return (JsonArray)patch.DeepClone();
        }

        var result = new JsonArray(live.Select(i => i?.DeepClone()).ToArray());
        foreach (var item in patch.OfType<JsonObject>())
        {
            var id = item[key]?.ToJsonString();
            var index = result.Select((node, i) => (node, i)).FirstOrDefault(p => p.node?[key]?.ToJsonString() == id, (null, -1)).Item2;
            if (item["$patch"]?.GetValue<string>() == "delete")
            {
                if (index >= 0)
                {
                    result.RemoveAt(index);
                }

                continue;
            }

            if (index >= 0)
            {
                var merged = Apply(result[index], item);
                result.RemoveAt(index);
                result.Insert(index, merged);
            }
            else
            {
                result.Add(Apply(null, item));
            }
        }

        return result;
    }

    private static string? MergeKey(JsonArray patch)
    {
        if (patch.Count == 0 || patch.Any(i => i is not JsonObject))
        {
            return null;
        }

        return s_mergeKeys.FirstOrDefault(k => patch.All(i => i is JsonObject o && (o.ContainsKey(k) || o["$patch"] is not null)));
    }
}
