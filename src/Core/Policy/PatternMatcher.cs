using System.Text;
using System.Text.Json.Nodes;

namespace FleetFunctions.Core.Policy;

/// <summary>Outcome of matching one pattern (Kyverno's <c>validate.MatchPattern</c>).</summary>
internal enum PatternStatus
{
    Pass,
    Fail,
    Skip,
    Error,
}

internal readonly record struct PatternOutcome(PatternStatus Status, string Path, string Message);

/// <summary>A pattern mismatch; the flags mirror the anchor error texts Kyverno's messages accumulate.</summary>
internal sealed record PatternFailure(string Message, string Path, bool Conditional, bool Global, bool Negation)
{
    public bool IsSkip => Conditional || Global;
}

/// <summary>
/// Matches a resource against a compiled pattern with Kyverno's semantics: anchors first (conditional, existence,
/// negation), then keys with nested anchors, then the rest; conditional and global anchor mismatches skip;
/// arrays of maps apply the pattern to every element, elements whose conditions do not hold are skipped.
/// </summary>
internal sealed class PatternMatcher
{
    private readonly EvalContext? _context;
    private readonly List<string> _path = new(16);
    private Dictionary<string, bool>? _anchorMap;

    private PatternMatcher(EvalContext? context)
    {
        _context = context;
    }

    public static PatternOutcome Match(JsonNode? resource, PatternNode pattern, EvalContext? context)
    {
        var matcher = new PatternMatcher(context);
        var failure = matcher.Validate(resource, pattern);
        if (failure is null)
        {
            return new PatternOutcome(PatternStatus.Pass, "", "");
        }

        if (failure.IsSkip)
        {
            return new PatternOutcome(PatternStatus.Skip, "", failure.Message);
        }

        if (failure.Negation)
        {
            return new PatternOutcome(PatternStatus.Fail, failure.Path, failure.Message);
        }

        if (matcher._anchorMap is { } map && map.Any(p => !p.Value && PatternNode.ParseKey(p.Key).Kind != AnchorKind.Negation))
        {
            return new PatternOutcome(PatternStatus.Error, "", failure.Message);
        }

        return failure.Path.Length == 0
            ? new PatternOutcome(PatternStatus.Error, "", failure.Message)
            : new PatternOutcome(PatternStatus.Fail, failure.Path, failure.Message);
    }

    private string CurrentPath()
    {
        var sb = new StringBuilder("/");
        foreach (var segment in _path)
        {
            sb.Append(segment).Append('/');
        }

        return sb.ToString();
    }

    private PatternFailure Fail(string message, string? path = null) => new(message, path ?? CurrentPath(), false, false, false);

    private PatternFailure? Validate(JsonNode? resource, PatternNode pattern)
    {
        switch (pattern)
        {
            case MapPattern map:
                if (resource is not JsonObject obj)
                {
                    var p = CurrentPath();
                    return Fail($"pattern and resource have different structures. Path: {p}. Expected map, found {Describe(resource)}", p);
                }

                if (map.TracksAnchors)
                {
                    TrackAnchors(map, obj);
                }

                return ValidateMap(obj, map);
            case ArrayPattern array:
                if (resource is not JsonArray resourceArray)
                {
                    var p = CurrentPath();
                    return Fail($"validation rule failed at path {p}, resource does not satisfy the expected overlay pattern", p);
                }

                return ValidateArray(resourceArray, array);
            case LeafPattern leaf:
                var value = leaf.Value;
                if (leaf.Template is not null)
                {
                    if (_context is null)
                    {
                        return Fail($"variable {leaf.Template.Text} cannot be resolved here", "");
                    }

                    value = leaf.Template.Evaluate(_context);
                    if (value is JsonObject or JsonArray)
                    {
                        return Validate(resource, PatternNode.Compile(value));
                    }
                }

                if (resource is JsonArray items)
                {
                    foreach (var item in items)
                    {
                        if (!ValuePattern.Validate(item, value))
                        {
                            var p = CurrentPath();
                            return Fail($"resource value '{JsonUtil.Sprint(resource)}' does not match '{JsonUtil.Sprint(value)}' at path {p}", p);
                        }
                    }

                    return null;
                }

                if (!ValuePattern.Validate(resource, value))
                {
                    var p = CurrentPath();
                    return Fail($"resource value '{JsonUtil.Sprint(resource)}' does not match '{JsonUtil.Sprint(value)}' at path {p}", p);
                }

                return null;
            default:
                return Fail("pattern contains unknown type");
        }
    }

    private static string Describe(JsonNode? node) => JsonUtil.Kind(node) switch
    {
        GoKind.Map => "map",
        GoKind.Slice => "array",
        GoKind.Null => "null",
        GoKind.String => "string",
        GoKind.Bool => "bool",
        _ => "number",
    };

    private void TrackAnchors(MapPattern map, JsonObject resource)
    {
        _anchorMap ??= new Dictionary<string, bool>(StringComparer.Ordinal);
        foreach (var entry in map.Anchors)
        {
            if (_anchorMap.TryGetValue(entry.RawKey, out var seen) && seen)
            {
                continue;
            }

            _anchorMap[entry.RawKey] = resource.ContainsKey(entry.Key);
        }
    }

    private PatternFailure? ValidateMap(JsonObject resource, MapPattern map)
    {
        foreach (var entry in map.Anchors)
        {
            var failure = Handle(entry, resource);
            if (failure is not null)
            {
                return failure;
            }
        }

        foreach (var entry in map.Resources)
        {
            var failure = entry.WildcardKey ? HandleWildcard(entry, resource) : Handle(entry, resource);
            if (failure is not null)
            {
                return failure;
            }
        }

        return null;
    }

    private PatternFailure? HandleWildcard(PatternEntry entry, JsonObject resource)
    {
        var any = false;
        foreach (var (key, _) in resource)
        {
            if (Wildcard.Match(entry.Key, key))
            {
                any = true;
                var failure = Handle(entry with { Key = key, RawKey = key }, resource);
                if (failure is not null)
                {
                    return failure;
                }
            }
        }

        return any || entry.Kind == AnchorKind.Equality ? null : Handle(entry, resource);
    }

    private PatternFailure? Child(JsonNode? value, PatternNode pattern, string key)
    {
        _path.Add(key);
        try
        {
            return Validate(value, pattern);
        }
        finally
        {
            _path.RemoveAt(_path.Count - 1);
        }
    }

    private PatternFailure? Handle(PatternEntry entry, JsonObject resource)
    {
        switch (entry.Kind)
        {
            case AnchorKind.Condition:
                {
                    if (resource.TryGetPropertyValue(entry.Key, out var value))
                    {
                        var inner = Child(value, entry.Value, entry.Key);
                        return inner is null ? null : inner with { Message = "conditional anchor mismatch: " + inner.Message, Conditional = true };
                    }

                    _path.Add(entry.Key);
                    var p = CurrentPath();
                    _path.RemoveAt(_path.Count - 1);
                    return new PatternFailure("conditional anchor mismatch: conditional anchor key doesn't exist in the resource", p, true, false, false);
                }

            case AnchorKind.Global:
                {
                    if (resource.TryGetPropertyValue(entry.Key, out var value))
                    {
                        var inner = Child(value, entry.Value, entry.Key);
                        return inner is null ? null : inner with { Message = "global anchor mismatch: " + inner.Message, Global = true };
                    }

                    return null;
                }

            case AnchorKind.Equality:
                return resource.TryGetPropertyValue(entry.Key, out var eq) ? Child(eq, entry.Value, entry.Key) : null;
            case AnchorKind.Negation:
                {
                    if (!resource.ContainsKey(entry.Key))
                    {
                        return null;
                    }

                    _path.Add(entry.Key);
                    var p = CurrentPath();
                    _path.RemoveAt(_path.Count - 1);
                    return new PatternFailure($"negation anchor matched in resource: {p} is not allowed", p, false, false, true);
                }

            case AnchorKind.Existence:
                return HandleExistence(entry, resource);
            default:
                {
                    var key = entry.Kind == AnchorKind.AddIfNotPresent ? entry.RawKey : entry.Key;
                    resource.TryGetPropertyValue(key, out var value);
                    if (entry.Value is LeafPattern { IsStar: true })
                    {
                        return JsonUtil.IsNull(value) ? Fail($"{CurrentPath()}{key} not found") : null;
                    }

                    return Child(value, entry.Value, key);
                }
        }
    }

    private PatternFailure? HandleExistence(PatternEntry entry, JsonObject resource)
    {
        if (!resource.TryGetPropertyValue(entry.Key, out var value))
        {
            return null;
        }

        _path.Add(entry.Key);
        try
        {
            if (value is not JsonArray list)
            {
                return Fail($"invalid resource type {Describe(value)}: Existence ^ () anchor can be used only on list/array type resource");
            }

            if (entry.Value is not ArrayPattern patterns)
            {
                return Fail("invalid pattern type: Pattern has to be of list to compare against resource");
            }

            foreach (var item in patterns.Items)
            {
                if (item is not MapPattern)
                {
                    return Fail("invalid pattern type: Pattern has to be of type map to compare against items in resource");
                }

                var found = false;
                for (var i = 0; i < list.Count && !found; i++)
                {
                    found = Child(list[i], item, i.ToString(System.Globalization.CultureInfo.InvariantCulture)) is null;
                }

                if (!found)
                {
                    return Fail($"existence anchor validation failed at path {CurrentPath()}");
                }
            }

            return null;
        }
        finally
        {
            _path.RemoveAt(_path.Count - 1);
        }
    }

    private PatternFailure? ValidateArray(JsonArray resource, ArrayPattern pattern)
    {
        if (pattern.Items.Length == 0)
        {
            return Fail("pattern Array empty");
        }

        switch (pattern.Items[0])
        {
            case MapPattern map:
                return ValidateElements(resource, i => map, resource.Count);
            case LeafPattern leaf:
                return Validate(resource, leaf);
            default:
                if (resource.Count < pattern.Items.Length)
                {
                    return Fail($"validate Array failed, array length mismatch, resource Array len is {resource.Count} and pattern Array len is {pattern.Items.Length}", "");
                }

                return ValidateElements(resource, i => pattern.Items[i], pattern.Items.Length);
        }
    }

    private PatternFailure? ValidateElements(JsonArray resource, Func<int, PatternNode> patternAt, int count)
    {
        var applied = 0;
        List<PatternFailure>? skipped = null;
        for (var i = 0; i < count; i++)
        {
            var failure = Child(resource[i], patternAt(i), i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            if (failure is null)
            {
                applied++;
                continue;
            }

            if (failure.IsSkip)
            {
                (skipped ??= []).Add(failure);
                continue;
            }

            return failure;
        }

        if (applied == 0 && skipped is { Count: > 0 })
        {
            return new PatternFailure(
                string.Join("; ", skipped.Select(s => s.Message)),
                CurrentPath(),
                skipped.Any(s => s.Conditional),
                skipped.Any(s => s.Global),
                skipped.Any(s => s.Negation));
        }

        return null;
    }
}
