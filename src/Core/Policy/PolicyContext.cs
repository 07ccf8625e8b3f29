using System.Text.Json.Nodes;

namespace FleetFunctions.Core.Policy;

/// <summary>The admission operation a resource is validated for (Kyverno's <c>request.operation</c>).</summary>
public enum AdmissionOperation
{
    Create,
    Update,
    Delete,
    Connect,
}

/// <summary>
/// What the engine knows besides the resource: the operation, the labels of namespaces (for
/// <c>namespaceSelector</c>), and values for variables and context entries (<c>apiCall</c>/<c>configMap</c>
/// entries are never looked up live: their values come from here).
/// </summary>
public sealed record PolicyContext
{
    /// <summary>A CREATE with no values.</summary>
    public static PolicyContext Default { get; } = new();

    /// <summary><c>request.operation</c>; a value <c>request.operation</c> in <see cref="Values"/> wins.</summary>
    public AdmissionOperation Operation { get; init; } = AdmissionOperation.Create;

    /// <summary>Labels per namespace name, for <c>namespaceSelector</c> in match/exclude.</summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> NamespaceLabels { get; init; } =
        new Dictionary<string, IReadOnlyDictionary<string, string>>();

    /// <summary>
    /// Variables by dotted name (<c>request.operation</c>, <c>dictionary.data.allowed</c>, a context entry name...),
    /// visible to every rule.
    /// </summary>
    public IReadOnlyDictionary<string, JsonNode?> Values { get; init; } = new Dictionary<string, JsonNode?>();

    /// <summary>Variables for one rule only, keyed by <c>policy/rule</c> (the rule's own name, not its autogen copy).</summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, JsonNode?>> RuleValues { get; init; } =
        new Dictionary<string, IReadOnlyDictionary<string, JsonNode?>>();

    /// <summary>The previous state of the object for UPDATE; when null an UPDATE sees the object itself.</summary>
    public JsonObject? OldResource { get; init; }

    /// <summary>Requesting user (<c>system:serviceaccount:ns:name</c> fills <c>serviceAccountName</c>).</summary>
    public string? UserName { get; init; }

    /// <summary>Roles of the requesting user, for <c>roles</c> in match/exclude.</summary>
    public IReadOnlyList<string> Roles { get; init; } = [];

    /// <summary>Cluster roles of the requesting user, for <c>clusterRoles</c> in match/exclude.</summary>
    public IReadOnlyList<string> ClusterRoles { get; init; } = [];

    /// <summary>
    /// Which kinds are cluster-scoped. When set, objects are evaluated where the API server puts them: a namespaced
    /// kind without <c>metadata.namespace</c> in <c>default</c> (for match/exclude, namespaced <c>Policy</c>,
    /// failure-action overrides, <c>request.namespace</c> and reported names), a cluster-scoped kind without a
    /// namespace. Null (the default): objects are evaluated with the namespace they carry.
    /// </summary>
    public ResourceScopes? Scopes { get; init; }

    /// <summary>Report failures of Audit rules as <see cref="RuleStatus.Warn"/> (Kyverno's <c>--audit-warn</c>).</summary>
    public bool AuditAsWarn { get; init; }
}

/// <summary>Outcome of one rule on one resource, as in a Kyverno PolicyReport.</summary>
public enum RuleStatus
{
    Pass,
    Fail,
    Warn,
    Error,
    Skip,
}

/// <summary>What a failing rule does: block (Enforce) or only report (Audit).</summary>
public enum FailureAction
{
    Audit,
    Enforce,
}

/// <summary>Result of one rule (autogen copies carry their generated name) on one resource.</summary>
public sealed record RuleResult(string Policy, string Rule, RuleStatus Status, string Message, FailureAction Action);

/// <summary>A failed rule, ready to show to an operator.</summary>
/// <param name="Resource"><c>Kind/namespace/name</c> (<c>Kind/name</c> for cluster-scoped objects).</param>
public sealed record Violation(string Policy, string Rule, string Resource, string? SourceFile, string Message, FailureAction Action);

/// <summary>Every rule result for one resource.</summary>
public sealed record PolicyReport(string Resource, IReadOnlyList<RuleResult> Results, IReadOnlyList<Violation> Violations)
{
    /// <summary>True when an Enforce rule failed or errored: the resource must not be applied.</summary>
    public bool Blocked => Violations.Any(v => v.Action == FailureAction.Enforce);

    /// <summary>Results with the given status.</summary>
    public IEnumerable<RuleResult> With(RuleStatus status) => Results.Where(r => r.Status == status);
}
