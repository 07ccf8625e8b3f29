using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace FleetFunctions.Core.Drift;

/// <summary>
/// Compares a desired object (what Git sets) with the live one, field by field, looking only at fields
/// Git sets: fields added by the server or by other managers, and <c>status</c>, are never differences.
/// Lists of objects are matched by their merge key (name, containerPort, port, mountPath, ...), other lists
/// by position. Paths use the API server's notation: <c>.spec.template.spec.containers[name="app"].image</c>.
/// </summary>
public static class FieldDiff
{
    private static readonly string[] s_mergeKeys = ["name", "containerPort", "port", "mountPath", "devicePath", "ip", "topologyKey", "type", "key"];
    private static readonly HashSet<string> s_ignoredMetadata = new(StringComparer.Ordinal)
    {
        "creationTimestamp", "resourceVersion", "uid", "generation", "managedFields", "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds",
    };

    /// <summary>Paths of fields set in <paramref name="desired"/> that are missing from or different in <paramref name="live"/>; empty when live matches.</summary>
    public static IReadOnlyList<string> Compare(JsonObject desired, JsonObject live)
    {
        ArgumentNullException.ThrowIfNull(desired);
        ArgumentNullException.ThrowIfNull(live);
        var paths = new List<string>();
        foreach (var (key, value) in desired)
        {
            if (key is "status" or "apiVersion" or "kind")
            {
                continue;
            }

            if (key == "metadata" && value is JsonObject metadata)
            {
                var liveMetadata = live["metadata"] as JsonObject;
                foreach (var (mk, mv) in metadata)
                {
                    if (!s_ignoredMetadata.Contains(mk))
                    {
                        CompareNode(mv, liveMetadata?[mk], liveMetadata?.ContainsKey(mk) == true, $".metadata.{mk}", paths);
                    }
                }

                continue;
            }

            CompareNode(value, live[key], live.ContainsKey(key), "." + key, paths);
        }

        return paths;
    }

    private static void CompareNode(JsonNode? desired, JsonNode? live, bool liveHasKey, string path, List<string> paths)
    {
        switch (desired)
        {
            case null:
                // A null in Git means "unset"; nothing to compare.
                return;
            case JsonObject obj:
                if (live is not JsonObject liveObj)
                {
                    if (obj.Count > 0 || (!liveHasKey && live is not null))
                    {
                        paths.Add(path);
                    }

                    return;
                }

                foreach (var (key, value) in obj)
                {
                    CompareNode(value, liveObj[key], liveObj.ContainsKey(key), $"{path}.{key}", paths);
                }

                return;
            case JsonArray array:
                CompareArray(array, live as JsonArray, path, paths);
                return;
            default:
                if (!liveHasKey || !ScalarEquals((JsonValue)desired, live))
                {
                    paths.Add(path);
                }

                return;
        }
    }

    private static void CompareArray(JsonArray desired, JsonArray? live, string path, List<string> paths)
    {
        if (live is null)
        {
            if (desired.Count > 0)
            {
                paths.Add(path);
            }

            return;
        }

        var mergeKey = MergeKey(desired);
        if (mergeKey is null)
        {
            // Atomic list (scalars or objects without a merge key): must be equal element by element.
            if (desired.Count != live.Count)
            {
                paths.Add(path);
                return;
            }

            for (var i = 0; i < desired.Count; i++)
            {
                var before = paths.Count;
                CompareNode(desired[i], live[i], true, $"{path}[{i}]", paths);
                if (paths.Count > before)
                {
                    return;
                }
            }

            return;
        }

        foreach (var item in desired.OfType<JsonObject>())
        {
            var keyValue = item[mergeKey];
            var match = live.OfType<JsonObject>().FirstOrDefault(l => keyValue is JsonValue kv && ScalarEquals(kv, l[mergeKey]));
            var itemPath = $"{path}[{mergeKey}={Format(keyValue)}]";
            if (match is null)
            {
                paths.Add(itemPath);
                continue;
            }

            foreach (var (key, value) in item)
            {
                CompareNode(value, match[key], match.ContainsKey(key), $"{itemPath}.{key}", paths);
            }
        }
    }

    private static string? MergeKey(JsonArray array)
    {
        if (array.Count == 0 || array.Any(i => i is not JsonObject))
        {
            return null;
        }

        foreach (var key in s_mergeKeys)
        {
            var values = array.Select(i => ((JsonObject)i!)[key]).ToList();
            if (values.All(v => v is JsonValue) && values.Select(v => v!.ToJsonString()).Distinct(StringComparer.Ordinal).Count() == values.Count)
            {
                return key;
            }
        }

        return null;
    }

    private static bool ScalarEquals(JsonValue desired, JsonNode? live)
    {
        if (live is not JsonValue liveValue)
        {
            return false;
        }

        var dk = desired.GetValueKind();
        var lk = liveValue.GetValueKind();
        if (dk == JsonValueKind.Number && lk == JsonValueKind.Number)
        {
            return Text(desired) == Text(liveValue);
        }

        return Text(desired) == Text(liveValue) && (dk == lk || dk is JsonValueKind.Number || lk is JsonValueKind.Number);
    }

    private static string Text(JsonValue value) => value.GetValueKind() switch
    {
        JsonValueKind.String => value.GetValue<string>(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        JsonValueKind.Number => decimal.TryParse(value.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var number)
            ? number.ToString("G29", CultureInfo.InvariantCulture)
            : value.ToJsonString(),
        _ => value.ToJsonString(),
    };

    private static string Format(JsonNode? value) => value is JsonValue v && v.GetValueKind() == JsonValueKind.String ? $"\"{v.GetValue<string>()}\"" : value?.ToJsonString() ?? "null";
}
