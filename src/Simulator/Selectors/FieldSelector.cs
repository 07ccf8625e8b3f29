using FleetFunctions.Simulator.Store;

namespace FleetFunctions.Simulator.Selectors;

/// <summary>A field selector restricted to what every kind supports: metadata.name and metadata.namespace.</summary>
internal sealed class FieldSelector
{
    public static readonly FieldSelector Everything = new([]);

    private readonly IReadOnlyList<(string Field, bool Equal, string Value)> _terms;

    private FieldSelector(IReadOnlyList<(string Field, bool Equal, string Value)> terms) => _terms = terms;

    public bool Matches(StoredObject obj)
    {
        foreach (var (field, equal, value) in _terms)
        {
            var actual = field == "metadata.name" ? obj.Name : obj.Namespace;
            if ((actual == value) != equal)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Parses <c>metadata.name=x,metadata.namespace!=y</c>; throws <see cref="FormatException"/> otherwise.</summary>
    public static FieldSelector Parse(string? selector)
    {
        if (string.IsNullOrWhiteSpace(selector))
        {
            return Everything;
        }

        var terms = new List<(string, bool, string)>();
        foreach (var raw in selector.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var notEqual = raw.IndexOf("!=", StringComparison.Ordinal);
            var equal = raw.IndexOf('=');
            var (field, isEqual, value) = notEqual > 0
                ? (raw[..notEqual], false, raw[(notEqual + 2)..])
                : equal > 0 ? (raw[..equal], true, raw[(equal + 1)..].TrimStart('=')) : throw new FormatException($"field selector \"{selector}\": invalid term \"{raw}\"");
            field = field.Trim();
            if (field is not ("metadata.name" or "metadata.namespace"))
            {
                throw new FormatException($"field label not supported: {field}");
            }

            terms.Add((field, isEqual, value.Trim()));
        }

        return new FieldSelector(terms);
    }
}
