using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace FleetFunctions.Core.Fleet;

/// <summary>
/// Reads one YAML mapping strictly: every field is typed, every error carries file, line and field path,
/// and fields nobody asked for are reported as unknown by <see cref="RejectUnknownFields"/> (a typo such as
/// <c>rolout</c> must not silently fall back to a default). Errors accumulate so a user sees all of them.
/// </summary>
internal sealed class StrictYamlReader
{
    private readonly YamlMappingNode _node;
    private readonly List<ResourceError> _errors;
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);

    /// <param name="line">Line of the key that introduced this mapping (or of the mapping itself at a document root).</param>
    public StrictYamlReader(string file, string path, YamlMappingNode node, List<ResourceError> errors, int? line = null)
    {
        File = file;
        Path = path;
        _node = node;
        _errors = errors;
        Line = line ?? LineOf(node);
    }

    public string File { get; }

    /// <summary>Dotted path of this mapping (empty at the document root).</summary>
    public string Path { get; }

    /// <summary>1-based line where this mapping is introduced; errors about missing fields point here.</summary>
    public int Line { get; }

    public bool Has(string key) => Find(key) is not null;

    public string? String(string key, bool required = false)
    {
        switch (Find(key))
        {
            case null:
                if (required)
                {
                    Error(key, "is required");
                }

                return null;
            case YamlScalarNode scalar when scalar.Value is not null && !IsNull(scalar):
                return scalar.Value;
            case YamlScalarNode:
                if (required)
                {
                    Error(key, "is required");
                }

                return null;
            case var other:
                ErrorAt(other, key, $"must be a string, found a {Describe(other)}");
                return null;
        }
    }

    public bool Bool(string key, bool defaultValue)
    {
        var text = String(key);
        if (text is null)
        {
            return defaultValue;
        }

        if (bool.TryParse(text, out var value))
        {
            return value;
        }

        Error(key, $"must be true or false, found '{text}'");
        return defaultValue;
    }

    public int? Int(string key, int min = int.MinValue, int max = int.MaxValue)
    {
        var text = String(key);
        if (text is null)
        {
            return null;
        }

        if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
        {
            return value;
        }

        Error(key, max == int.MaxValue
            ? $"must be a whole number of at least {min}, found '{text}'"
            : $"must be a whole number from {min} to {max}, found '{text}'");
        return null;
    }

    public double? Number(string key)
    {
        var text = String(key);
        if (text is null)
        {
            return null;
        }

        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value))
        {
            return value;
        }

        Error(key, $"must be a number, found '{text}'");
        return null;
    }

    public TimeSpan? Duration(string key, TimeSpan? min = null)
    {
        var text = String(key);
        if (text is null)
        {
            return null;
        }

        if (!GoDuration.TryParseTimeSpan(text, out var value) || value < TimeSpan.Zero)
        {
            Error(key, $"must be a duration such as 30s, 5m or 1h30m, found '{text}'");
            return null;
        }

        if (min is { } floor && value < floor)
        {
            Error(key, $"must be at least {GoDuration.Format(floor)}, found '{text}'");
            return null;
        }

        return value;
    }

    public T? Enum<T>(string key)
        where T : struct, System.Enum
    {
        var text = String(key);
        if (text is null)
        {
            return null;
        }

        foreach (var name in System.Enum.GetNames<T>())
        {
            if (string.Equals(name, text, StringComparison.Ordinal))
            {
                return System.Enum.Parse<T>(name);
            }
        }

        Error(key, $"must be one of {string.Join(", ", System.Enum.GetNames<T>())}, found '{text}'");
        return null;
    }

    public StrictYamlReader? Map(string key, bool required = false)
    {
        switch (Find(key))
        {
            case null:
                if (required)
                {
                    Error(key, "is required");
                }

                return null;
            case YamlMappingNode map:
                return new StrictYamlReader(File, Join(key), map, _errors, KeyLine(key));
            case YamlScalarNode scalar when IsNull(scalar):
                return required ? Fail() : null;
            case var other:
                ErrorAt(other, key, $"must be a mapping, found a {Describe(other)}");
                return null;
        }

        StrictYamlReader? Fail()
        {
            Error(key, "is required");
            return null;
        }
    }

    public IReadOnlyList<StrictYamlReader> MapList(string key)
    {
        if (Sequence(key) is not { } sequence)
        {
            return [];
        }

        var result = new List<StrictYamlReader>(sequence.Children.Count);
        for (var i = 0; i < sequence.Children.Count; i++)
        {
            if (sequence.Children[i] is YamlMappingNode map)
            {
                result.Add(new StrictYamlReader(File, $"{Join(key)}[{i}]", map, _errors, LineOf(map)));
            }
            else
            {
                ErrorAt(sequence.Children[i], $"{key}[{i}]", $"must be a mapping, found a {Describe(sequence.Children[i])}");
            }
        }

        return result;
    }

    public IReadOnlyList<string> StringList(string key)
    {
        if (Sequence(key) is not { } sequence)
        {
            return [];
        }

        var result = new List<string>(sequence.Children.Count);
        for (var i = 0; i < sequence.Children.Count; i++)
        {
            if (sequence.Children[i] is YamlScalarNode { Value: { } value } scalar && !IsNull(scalar))
            {
                result.Add(value);
            }
            else
            {
                ErrorAt(sequence.Children[i], $"{key}[{i}]", $"must be a string, found a {Describe(sequence.Children[i])}");
            }
        }

        return result;
    }

    public IReadOnlyDictionary<string, string> StringMap(string key)
    {
        var map = Map(key);
        if (map is null)
        {
            return new Dictionary<string, string>(StringComparer.Ordinal);
        }

        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in map._node.Children)
        {
            var name = ((YamlScalarNode)k).Value ?? string.Empty;
            map._read.Add(name);
            if (v is YamlScalarNode { Value: { } value } scalar && !IsNull(scalar))
            {
                result[name] = value;
            }
            else
            {
                map.ErrorAt(v, name, $"must be a string, found a {Describe(v)}");
            }
        }

        return result;
    }

    /// <summary>Reports an error about <paramref name="key"/> of this mapping (or the mapping itself when empty).</summary>
    public void Error(string key, string message) =>
        _errors.Add(new ResourceError(File, key.Length == 0 ? Line : KeyLine(key), Join(key), message));

    /// <summary>Reports every field of this mapping that no reader method asked for.</summary>
    public void RejectUnknownFields()
    {
        var known = _read.Order(StringComparer.Ordinal).ToList();
        foreach (var (k, v) in _node.Children)
        {
            var name = ((YamlScalarNode)k).Value ?? string.Empty;
            if (_read.Contains(name))
            {
                continue;
            }

            var suggestion = known.FirstOrDefault(candidate => IsCloseTo(candidate, name));
            var hint = suggestion is not null ? $"; did you mean '{suggestion}'?" : known.Count > 0 ? $"; known fields: {string.Join(", ", known)}" : string.Empty;
            _errors.Add(new ResourceError(File, LineOf(k), Join(name), $"unknown field{hint}"));
        }
    }

    private YamlSequenceNode? Sequence(string key)
    {
        switch (Find(key))
        {
            case null:
                return null;
            case YamlSequenceNode sequence:
                return sequence;
            case YamlScalarNode scalar when IsNull(scalar):
                return null;
            case var other:
                ErrorAt(other, key, $"must be a list, found a {Describe(other)}");
                return null;
        }
    }

    private YamlNode? Find(string key)
    {
        _read.Add(key);
        return _node.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;
    }

    /// <summary>Line of <paramref name="key"/> in this mapping, or of the mapping when the key is absent.</summary>
    private int KeyLine(string key)
    {
        foreach (var k in _node.Children.Keys)
        {
            if (k is YamlScalarNode { Value: var name } && name == key)
            {
                return LineOf(k);
            }
        }

        return Line;
    }

    private void ErrorAt(YamlNode node, string key, string message) =>
        _errors.Add(new ResourceError(File, LineOf(node), Join(key), message));

    private string Join(string key) => Path.Length == 0 ? key : key.Length == 0 ? Path : $"{Path}.{key}";

    private static int LineOf(YamlNode node) => (int)node.Start.Line;

    private static bool IsNull(YamlScalarNode scalar) =>
        scalar.Style == ScalarStyle.Plain && scalar.Value is null or "" or "~" or "null" or "Null" or "NULL";

    private static string Describe(YamlNode node) => node switch
    {
        YamlMappingNode => "mapping",
        YamlSequenceNode => "list",
        _ => "scalar",
    };

    /// <summary>True when the two names differ by at most two single-character edits (typo detection).</summary>
    private static bool IsCloseTo(string a, string b)
    {
        if (Math.Abs(a.Length - b.Length) > 2)
        {
            return false;
        }

        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = char.ToLowerInvariant(a[i - 1]) == char.ToLowerInvariant(b[j - 1]) ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length] <= 2;
    }
}
