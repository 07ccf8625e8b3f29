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
/// What the API server rewrites or drops when it stores a built-in object is not a difference (<see cref="ServerForm"/>):
/// a zero value of an omitempty field or an empty map it does not store, a quantity in another form of the same value,
/// a Secret's <c>stringData</c> entry found base64-encoded in <c>data</c>.
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

    /// <summary>
    /// The difference reported first for a live object being deleted (metadata.deletionTimestamp set): whatever its fields,
    /// it is on its way out, so it is not what Git wants.
    /// </summary>
    public const string BeingDeletedMarker = "(being deleted)";

    /// <summary>
    /// Paths of fields set in <paramref name="desired"/> that are missing from or different in <paramref name="live"/>, after
    /// <see cref="BeingDeletedMarker"/> when live is being deleted; empty when live matches.
    /// </summary>
    public static IReadOnlyList<string> Compare(JsonObject desired, JsonObject live)
    {
        ArgumentNullException.ThrowIfNull(desired);
        ArgumentNullException.ThrowIfNull(live);
        var apiVersion = desired["apiVersion"]?.GetValueKind() == JsonValueKind.String ? desired["apiVersion"]!.GetValue<string>() : null;
        var kind = desired["kind"]?.GetValueKind() == JsonValueKind.String ? desired["kind"]!.GetValue<string>() : string.Empty;
        var walk = new Walk(ServerForm.IsTyped(apiVersion), kind);
        if (live["metadata"] is JsonObject { } liveMeta && liveMeta["deletionTimestamp"] is JsonValue)
        {
            walk.Paths.Add(BeingDeletedMarker);
        }

        var stringData = walk.Typed && kind == "Secret" && apiVersion == "v1" ? desired["stringData"] as JsonObject : null;
        foreach (var (key, value) in desired)
        {
            if (key is "status" or "apiVersion" or "kind")
            {
                continue;
            }

            if (stringData is not null && key is "stringData" or "data")
            {
                CompareSecretData(key, value, stringData, live["data"] as JsonObject, walk);
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
                        CompareNode(mv, liveMetadata?[mk], liveMetadata?.ContainsKey(mk) == true, walk, "metadata", mk);
                        walk.Pop();
                    }
                }

                walk.Pop();
                continue;
            }

            walk.Push("." + key);
            CompareNode(value, live[key], live.ContainsKey(key), walk, string.Empty, key);
            walk.Pop();
        }

        return walk.Paths;
    }

    /// <summary>
    /// A Secret's data and stringData as the API server stores them: stringData entries merged into data (base64),
    /// winning over a data entry of the same key; stringData itself is never stored.
    /// </summary>
    private static void CompareSecretData(string key, JsonNode? desired, JsonObject stringData, JsonObject? liveData, Walk walk)
    {
        if (desired is not JsonObject entries)
        {
            return;
        }

        walk.Push("." + key);
        foreach (var (name, value) in entries)
        {
            walk.Push(".", name);
            if (key == "stringData")
            {
                if (value is JsonValue text && !ServerForm.StringDataEquals(text, liveData?[name]))
                {
                    walk.Differs();
                }
            }
            else if (!stringData.ContainsKey(name))
            {
                CompareNode(value, liveData?[name], liveData?.ContainsKey(name) == true, walk, key, name);
            }

            walk.Pop();
        }

        walk.Pop();
    }

    /// <summary>Compares <paramref name="desired"/>, the value of <paramref name="field"/> in <paramref name="parent"/> (for list items: the list's field), with <paramref name="live"/>.</summary>
    private static void CompareNode(JsonNode? desired, JsonNode? live, bool liveHasKey, Walk walk, string parent, string field)
    {
        switch (desired)
        {
            case null:
                // A null in Git means "unset"; nothing to compare.
                return;
            case JsonObject obj:
                if (live is not JsonObject liveObj)
                {
                    // an empty object is missing when the live object lacks the key (emptyDir: {} replaced by hostPath),
                    // unless it is a map the server does not store when empty
                    if (obj.Count > 0 || (!liveHasKey && !(walk.Typed && ServerForm.IsOmittedEmptyMap(walk.Kind, field))))
                    {
                        walk.Differs();
                    }

                    return;
                }

                foreach (var (key, value) in obj)
                {
                    walk.Push(".", key);
                    CompareNode(value, liveObj[key], liveObj.ContainsKey(key), walk, field, key);
                    walk.Pop();
                }

                return;
            case JsonArray array:
                CompareArray(array, live as JsonArray, walk, parent, field);
                return;
            default:
                var scalar = (JsonValue)desired;
                if (!liveHasKey)
                {
                    if (!(walk.Typed && ServerForm.IsOmittedZero(walk.Kind, parent, field, scalar)))
                    {
                        walk.Differs();
                    }
                }
                else if (!ScalarEquals(scalar, live)
                    && !(walk.Typed && TypedFields.IsQuantity(walk.Kind, parent, field) && live is JsonValue liveValue && ServerForm.QuantityEquals(scalar, liveValue)))
                {
                    walk.Differs();
                }

                return;
        }
    }

    private static void CompareArray(JsonArray desired, JsonArray? live, Walk walk, string parent, string field)
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
                CompareNode(desired[i], live[i], true, walk, parent, field);
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
                CompareNode(value, match[key], match.ContainsKey(key), walk, field, key);
                walk.Pop();
            }

            walk.Pop();
        }
    }

    /// <summary>The path being compared, as segments; a path string is built only for a difference.</summary>
    private sealed class Walk(bool typed, string kind)
    {
        private readonly List<string> _segments = [];
        private readonly Stack<int> _pushed = new();

        public List<string> Paths { get; } = [];

        /// <summary>Whether the object is stored through Go types (<see cref="ServerForm.IsTyped"/>).</summary>
        public bool Typed { get; } = typed;

        public string Kind { get; } = kind;

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
