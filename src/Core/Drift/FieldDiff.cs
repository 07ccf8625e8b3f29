using System.Globalization;
using System.Runtime.CompilerServices;
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
    /// <summary>Merge keys of desired lists, computed once per list (rendered objects are compared with many clusters).</summary>
    private static readonly ConditionalWeakTable<JsonArray, StrongBox<string?>> s_mergeKeys = new();
    private static readonly string[] s_mergeKeyCandidates = ["name", "containerPort", "port", "mountPath", "devicePath", "ip", "topologyKey", "type", "key"];
    private static readonly HashSet<string> s_ignoredMetadata = new(StringComparer.Ordinal)
    {
        "creationTimestamp", "resourceVersion", "uid", "generation", "managedFields", "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds",
    };

    /// <summary>Paths of fields set in <paramref name="desired"/> that are missing from or different in <paramref name="live"/>; empty when live matches.</summary>
    public static IReadOnlyList<string> Compare(JsonObject desired, JsonObject live)
    {
        ArgumentNullException.ThrowIfNull(desired);
        ArgumentNullException.ThrowIfNull(live);
        var walk = new Walk();
        foreach (var (key, value) in desired)
        {
            if (key is "status" or "apiVersion" or "kind")
            {
                continue;
            }

            if (key == "metadata" && value is JsonObject metadata)
            {
                var liveMetadata = live["metadata"] as JsonObject;
                walk.Push(".metadata");
                foreach (var (mk, mv) in metadata)
                {
                    if (!s_ignoredMetadata.Contains(mk))
                    {
                        walk.Push("." + mk);
                        CompareNode(mv, liveMetadata?[mk], liveMetadata?.ContainsKey(mk) == true, walk);
                        walk.Pop();
                    }
                }

                walk.Pop();
                continue;
            }

            walk.Push("." + key);
            CompareNode(value, live[key], live.ContainsKey(key), walk);
            walk.Pop();
        }

        return walk.Paths;
    }

    private static void CompareNode(JsonNode? desired, JsonNode? live, bool liveHasKey, Walk walk)
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
                        walk.Differs();
                    }

                    return;
                }

                foreach (var (key, value) in obj)
                {
                    walk.Push(".", key);
                    CompareNode(value, liveObj[key], liveObj.ContainsKey(key), walk);
                    walk.Pop();
                }

                return;
            case JsonArray array:
                CompareArray(array, live as JsonArray, walk);
                return;
            default:
                if (!liveHasKey || !ScalarEquals((JsonValue)desired, live))
                {
                    walk.Differs();
                }

                return;
        }
    }

    private static void CompareArray(JsonArray desired, JsonArray? live, Walk walk)
    {
        if (live is null)
        {
            if (desired.Count > 0)
            {
                walk.Differs();
            }

            return;
        }

        var mergeKey = s_mergeKeys.GetValue(desired, d => new StrongBox<string?>(MergeKey(d))).Value;
        if (mergeKey is null)
        {
            // Atomic list (scalars or objects without a merge key): must be equal element by element.
            if (desired.Count != live.Count)
            {
                walk.Differs();
                return;
            }

            for (var i = 0; i < desired.Count; i++)
            {
                var before = walk.Paths.Count;
                walk.Push(string.Create(CultureInfo.InvariantCulture, $"[{i}]"));
                CompareNode(desired[i], live[i], true, walk);
                walk.Pop();
                if (walk.Paths.Count > before)
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
            walk.Push($"[{mergeKey}={Format(keyValue)}]");
            if (match is null)
            {
                walk.Differs();
                walk.Pop();
                continue;
            }

            foreach (var (key, value) in item)
            {
                walk.Push(".", key);
                CompareNode(value, match[key], match.ContainsKey(key), walk);
                walk.Pop();
            }

            walk.Pop();
        }
    }

    /// <summary>The path being compared, as segments; a path string is built only for a difference.</summary>
    private sealed class Walk
    {
        private readonly List<string> _segments = [];
        private readonly Stack<int> _pushed = new();

        public List<string> Paths { get; } = [];

        public void Push(string segment)
        {
            _segments.Add(segment);
            _pushed.Push(1);
        }

        public void Push(string separator, string key)
        {
            _segments.Add(separator);
            _segments.Add(key);
            _pushed.Push(2);
        }

        public void Pop() => _segments.RemoveRange(_segments.Count - _pushed.Peek(), _pushed.Pop());

        public void Differs() => Paths.Add(string.Concat(_segments));
    }

    private static string? MergeKey(JsonArray array)
    {
        if (array.Count == 0 || array.Any(i => i is not JsonObject))
        {
            return null;
        }

        foreach (var key in s_mergeKeyCandidates)
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
        if (dk == JsonValueKind.String && lk == JsonValueKind.String)
        {
            // without copying a string out of the live object's buffer
            var text = desired.GetValue<string>();
            return liveValue.TryGetValue<JsonElement>(out var element) ? element.ValueEquals(text) : liveValue.GetValue<string>() == text;
        }

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
