namespace FleetFunctions.Core.Fleet;

/// <summary>Operators of a label selector requirement, as in Kubernetes.</summary>
public enum SelectorOperator
{
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

/// <summary>One <c>matchExpressions</c> entry.</summary>
public sealed record SelectorRequirement(string Key, SelectorOperator Operator, IReadOnlyList<string> Values);

/// <summary>A Kubernetes label selector: every <c>matchLabels</c> pair and every expression must hold.</summary>
public sealed record LabelSelector(IReadOnlyDictionary<string, string> MatchLabels, IReadOnlyList<SelectorRequirement> MatchExpressions)
{
    /// <summary>The empty selector, which matches everything.</summary>
    public static LabelSelector Everything { get; } = new(new Dictionary<string, string>(), []);

    public bool Matches(IReadOnlyDictionary<string, string> labels)
    {
        foreach (var (key, value) in MatchLabels)
        {
            if (!labels.TryGetValue(key, out var actual) || actual != value)
            {
                return false;
            }
        }

        foreach (var requirement in MatchExpressions)
        {
            var present = labels.TryGetValue(requirement.Key, out var actual);
            var holds = requirement.Operator switch
            {
                SelectorOperator.In => present && requirement.Values.Contains(actual!, StringComparer.Ordinal),
                SelectorOperator.NotIn => !present || !requirement.Values.Contains(actual!, StringComparer.Ordinal),
                SelectorOperator.Exists => present,
                _ => !present,
            };
            if (!holds)
            {
                return false;
            }
        }

        return true;
    }

    public override string ToString()
    {
        var parts = MatchLabels.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}")
            .Concat(MatchExpressions.Select(e => e.Operator switch
            {
                SelectorOperator.In => $"{e.Key} in ({string.Join(",", e.Values)})",
                SelectorOperator.NotIn => $"{e.Key} notin ({string.Join(",", e.Values)})",
                SelectorOperator.Exists => e.Key,
                _ => $"!{e.Key}",
            }));
        var text = string.Join(",", parts);
        return text.Length == 0 ? "<everything>" : text;
    }
}
