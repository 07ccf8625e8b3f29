namespace FleetFunctions.Simulator.Resources;

/// <summary>
/// One served resource: the group/version/kind/plural of a built-in kind or of a custom resource version.
/// Objects are stored per <see cref="StorageKey"/> (plural.group), whatever version they were written with.
/// </summary>
internal sealed record ResourceType(
    string Group,
    string Version,
    string Kind,
    string Plural,
    bool Namespaced,
    bool HasStatus = false,
    IReadOnlyList<string>? ShortNames = null,
    IReadOnlyList<string>? Categories = null)
{
    /// <summary>The verbs every simulated resource supports.</summary>
    public static readonly IReadOnlyList<string> Verbs =
        ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

    /// <summary>
    /// Whether objects carry metadata.generation: kinds with a spec the controllers act on. Core, RBAC and
    /// other plain-data kinds have none, as in Kubernetes.
    /// </summary>
    public bool HasGeneration =>
        Group is not ("" or "rbac.authorization.k8s.io" or "coordination.k8s.io" or "storage.k8s.io" or "scheduling.k8s.io");

    public string ApiVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";

    public string Singular => Kind.ToLowerInvariant();

    public string ListKind => Kind + "List";

    /// <summary>Version-independent key under which objects of this resource are stored.</summary>
    public string StorageKey => Group.Length == 0 ? Plural : $"{Plural}.{Group}";

    /// <summary>Human-readable name for errors, e.g. <c>deployments.apps</c>.</summary>
    public string GroupResource => StorageKey;
}
