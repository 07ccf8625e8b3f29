using System.Text.Json.Nodes;

namespace FleetFunctions.Core.Policy;

/// <summary>A loaded and compiled Kyverno <c>ClusterPolicy</c> or <c>Policy</c>.</summary>
public sealed class CompiledPolicy
{
    internal CompiledPolicy(string name, string? ns, string sourceFile, int line, FailureAction action, bool applyOne,
        IReadOnlyList<CompiledRule> rules, IReadOnlyList<FailureActionOverride> overrides)
    {
        Name = name;
        Namespace = ns;
        SourceFile = sourceFile;
        Line = line;
        DefaultAction = action;
        ApplyOne = applyOne;
        Rules = rules;
        Overrides = overrides;
    }

    /// <summary><c>metadata.name</c>.</summary>
    public string Name { get; }

    /// <summary>The namespace of a namespaced <c>Policy</c>; null for a <c>ClusterPolicy</c>.</summary>
    public string? Namespace { get; }

    /// <summary>The file the policy came from.</summary>
    public string SourceFile { get; }

    /// <summary>Line of the policy document in <see cref="SourceFile"/>.</summary>
    public int Line { get; }

    /// <summary><c>spec.validationFailureAction</c> (Audit when unset).</summary>
    public FailureAction DefaultAction { get; }

    /// <summary>Names of the validate rules, autogen copies included.</summary>
    public IEnumerable<string> RuleNames => Rules.Select(r => r.Name);

    internal bool ApplyOne { get; }

    internal IReadOnlyList<CompiledRule> Rules { get; }

    /// <summary><c>spec.validationFailureActionOverrides</c>.</summary>
    internal IReadOnlyList<FailureActionOverride> Overrides { get; }

    /// <summary>The name reports use: <c>namespace/name</c> for a namespaced Policy.</summary>
    public string ReportName => Namespace is null ? Name : $"{Namespace}/{Name}";
}

internal sealed record CompiledRule(
    string Name,
    string SourceName,
    MatchBlock Match,
    MatchBlock? Exclude,
    IReadOnlyList<ContextEntry> Context,
    IReadOnlyList<ConditionBlock> Preconditions,
    ValidationSpec Validation,
    FailureAction? Action,
    IReadOnlyList<FailureActionOverride> Overrides,
    CelPreconditions? CelPreconditions)
{
    /// <summary>Kyverno's message for a passing rule.</summary>
    public string PassMessage { get; } = $"validation rule '{Name}' passed.";
}

/// <summary>
/// An entry of <c>spec.validationFailureActionOverrides</c> or a rule's <c>validate.failureActionOverrides</c>, applied as
/// Kyverno's engine response does: with <c>namespaces</c> given, the resource's namespace must match one of them
/// (wildcards) and, when <c>namespaceSelector</c> is given too, the namespace's labels must match it as well; without
/// <c>namespaces</c>, the selector alone decides, and an entry with neither applies everywhere. An empty
/// <c>namespaces</c> list matches nothing.
/// </summary>
internal sealed record FailureActionOverride(FailureAction Action, IReadOnlyList<string>? Namespaces, LabelSelector? NamespaceSelector)
{
    /// <summary>The action of the first entry that applies to a resource in <paramref name="ns"/> ("" when cluster-scoped).</summary>
    public static FailureAction? First(IReadOnlyList<FailureActionOverride> overrides, string ns, PolicyContext context)
    {
        foreach (var entry in overrides)
        {
            if (entry.Applies(ns, context))
            {
                return entry.Action;
            }
        }

        return null;
    }

    private bool Applies(string ns, PolicyContext context)
    {
        if (Namespaces is not null && !Namespaces.Any(n => Wildcard.Match(n, ns)))
        {
            return false;
        }

        // Kyverno reads the labels of the resource's namespace; a cluster-scoped resource (a Namespace too) has none.
        return NamespaceSelector is null
            || ResourceMatcher.SelectorMatches(NamespaceSelector, context.NamespaceLabels.TryGetValue(ns, out var labels) ? labels : new Dictionary<string, string>());
    }
}

/// <summary>What a validate rule (or a foreach step) checks.</summary>
internal sealed record ValidationSpec(
    Template? MessageTemplate,
    string? Message,
    PatternNode? Pattern,
    IReadOnlyList<PatternNode>? AnyPattern,
    IReadOnlyList<ConditionBlock>? Deny,
    IReadOnlyList<ForEachSpec>? ForEach,
    PodSecurityRule? PodSecurity,
    CelRule? Cel,
    string? Unsupported);

internal sealed record ForEachSpec(
    string List,
    Template? ListTemplate,
    bool? ElementScope,
    IReadOnlyList<ContextEntry> Context,
    IReadOnlyList<ConditionBlock> Preconditions,
    ValidationSpec Validation);

internal enum ContextEntryKind
{
    Variable,
    ApiCall,
    ConfigMap,
    ImageRegistry,
    GlobalReference,
}

internal sealed record ContextEntry(string Name, ContextEntryKind Kind, JsonTemplate? Value, Template? JmesPath, string? JmesPathText, JsonTemplate? Default);

/// <summary>match/exclude: <c>any</c>, <c>all</c>, or the legacy single block.</summary>
internal sealed record MatchBlock(IReadOnlyList<ResourceFilter>? Any, IReadOnlyList<ResourceFilter>? All, ResourceFilter? Legacy);

internal sealed record KindSpec(string? Group, string? Version, string Kind, string? Subresource);

internal sealed record LabelSelector(IReadOnlyDictionary<string, string> MatchLabels, IReadOnlyList<(string Key, string Operator, IReadOnlyList<string> Values)> Expressions);

internal sealed record ResourceFilter(
    IReadOnlyList<KindSpec> Kinds,
    IReadOnlyList<string> Names,
    IReadOnlyList<string> Namespaces,
    IReadOnlyDictionary<string, string> Annotations,
    LabelSelector? Selector,
    LabelSelector? NamespaceSelector,
    IReadOnlyList<string> Operations,
    IReadOnlyList<string> Roles,
    IReadOnlyList<string> ClusterRoles,
    IReadOnlyList<JsonNode> Subjects)
{
    public bool HasResourceDescription => Kinds.Count > 0 || Names.Count > 0 || Namespaces.Count > 0 || Annotations.Count > 0
        || Selector is not null || NamespaceSelector is not null || Operations.Count > 0;

    public bool HasUserInfo => Roles.Count > 0 || ClusterRoles.Count > 0 || Subjects.Count > 0;
}
