namespace FleetFunctions.Core.Fleet;

/// <summary>Where a resource was declared in the platform repository.</summary>
public sealed record ResourceOrigin(string File, int Line)
{
    public override string ToString() => $"{File}:{Line}";
}

/// <summary>A reference by name to a secret held by the credentials store (never the secret itself).</summary>
public sealed record SecretReference(string Name);

/// <summary><c>GitSource</c>: a repository and the branch that fleets follow.</summary>
/// <param name="Name">metadata.name.</param>
/// <param name="Url">Clone URL: https://, ssh:// (or scp-like <c>git@host:org/repo.git</c>), file://, or a local path.</param>
/// <param name="Branch">Branch to follow (default <c>main</c>).</param>
/// <param name="SecretRef">Credentials for fetching (token or basic auth; an SSH private key for an SSH URL), if the repository is private.</param>
/// <param name="WebhookSecretRef">Shared secret that signs webhook deliveries for this repository.</param>
/// <param name="GitHubApp">Fetch as a GitHub App installation; <paramref name="SecretRef"/> then holds the App's private key.</param>
/// <param name="KnownHosts">The SSH server's host keys (<c>known_hosts</c> lines), required for an SSH URL.</param>
public sealed record GitSource(
    string Name,
    string Url,
    string Branch,
    SecretReference? SecretRef,
    SecretReference? WebhookSecretRef,
    ResourceOrigin Origin,
    GitHubAppSpec? GitHubApp = null,
    string? KnownHosts = null);

/// <summary><c>GitSource.spec.githubApp</c>: the GitHub App installation a private repository is fetched as.</summary>
/// <param name="BaseUrl">GitHub's REST API (GitHub Enterprise Server: <c>https://HOST/api/v3</c>); null for github.com.</param>
public sealed record GitHubAppSpec(long AppId, long InstallationId, string? BaseUrl)
{
    /// <summary>An App or installation ID: a positive number, as GitHub shows it.</summary>
    public static bool TryParseId(string? text, out long id) =>
        long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out id) && id > 0;

    /// <summary>A usable <see cref="BaseUrl"/>: an absolute http(s) URL.</summary>
    public static bool IsApiUrl(string text) => Uri.TryCreate(text, UriKind.Absolute, out var api) && api.Scheme is "https" or "http";
}

/// <summary>Where a cluster's kubeconfig lives, for clusters addressed through a kubeconfig context.</summary>
public sealed record KubeconfigReference(string Path, string? Context);

/// <summary><c>Cluster</c>: one Kubernetes cluster of the fleet.</summary>
/// <param name="Server">API server URL (absent when <paramref name="Kubeconfig"/> names it).</param>
/// <param name="CredentialsRef">Bearer token for <paramref name="Server"/> in the credentials store.</param>
/// <param name="Region">Region label used by fleet filters, wave planning and path templates.</param>
/// <param name="Capabilities">Features the cluster offers (e.g. gpu, arm64); fleets may require some.</param>
/// <param name="SealingCertificate">PEM certificate that sealed secrets are re-sealed with for this cluster.</param>
/// <param name="CaData">Base64 PEM of the CA that signed <paramref name="Server"/>'s certificate (a kubeconfig's certificate-authority-data).</param>
/// <param name="InsecureSkipTlsVerify">Do not verify <paramref name="Server"/>'s certificate (test clusters only).</param>
/// <param name="AzureIdentity">Authenticate with an Entra ID token of the app's managed identity instead of <paramref name="CredentialsRef"/>.</param>
public sealed record Cluster(
    string Name,
    IReadOnlyDictionary<string, string> Labels,
    string? Server,
    SecretReference? CredentialsRef,
    KubeconfigReference? Kubeconfig,
    string Region,
    IReadOnlyList<string> Capabilities,
    string? SealingCertificate,
    ResourceOrigin Origin,
    string? CaData = null,
    bool InsecureSkipTlsVerify = false,
    AzureIdentitySpec? AzureIdentity = null);

/// <summary>
/// <c>Cluster.spec.azureIdentity</c>: authenticate to the API server with a Microsoft Entra ID token of the app's
/// managed identity (an AKS cluster with Entra ID integration and Azure RBAC), instead of a stored token.
/// </summary>
/// <param name="ClientId">A user-assigned identity's client ID; null: the app's default identity.</param>
/// <param name="Scope">The token's scope; default the AKS Entra ID server application's.</param>
public sealed record AzureIdentitySpec(string? ClientId, string Scope)
{
    /// <summary>The scope of tokens for AKS API servers (the well-known AKS Entra ID server application).</summary>
    public const string AksScope = "6dae42f8-4368-4678-94ff-3960e28e3630/.default";
}

/// <summary>The manifests a fleet deploys: a path in a <see cref="GitSource"/>.</summary>
/// <param name="Path">
/// Directory in the repository (plain YAML or a kustomization). May contain <c>${cluster.name}</c>,
/// <c>${cluster.region}</c> and <c>${cluster.labels.KEY}</c>, so one fleet can point each cluster at its own overlay.
/// </param>
public sealed record FleetSource(string GitSource, string Path);

/// <summary>How a rollout proceeds.</summary>
public enum RolloutStrategy
{
    /// <summary>Every selected cluster at once.</summary>
    AllAtOnce,

    /// <summary>Waves of clusters, with soak time and a failure budget between them.</summary>
    Progressive,

    /// <summary>Canary clusters first, judged by metrics, then promotion to the rest.</summary>
    Canary,
}

/// <summary>What a failed wave or failed analysis does.</summary>
public enum FailureAction
{
    /// <summary>Re-apply the fleet's last good commit to every cluster the rollout touched.</summary>
    Rollback,

    /// <summary>Stop and wait for an operator to approve (continue) or abort (roll back).</summary>
    Pause,
}

/// <summary>How an analysis metric that returns no samples is judged.</summary>
public enum NoDataPolicy
{
    /// <summary>Counts against <see cref="AnalysisSpec.InconclusiveLimit"/> (the default: silence is not success).</summary>
    Inconclusive,

    /// <summary>Counts as a failed measurement.</summary>
    Fail,

    /// <summary>Counts as a passed measurement (for error counters that are absent while nothing fails).</summary>
    Pass,
}

/// <summary>One wave: an explicit selector, or a count or a percentage of the clusters not yet planned.</summary>
public sealed record WaveSpec(string? Name, LabelSelector? Selector, int? Count, int? Percent);

/// <summary>Progressive rollout settings.</summary>
/// <param name="MaxFailures">Clusters that may fail in one wave before the rollout stops (default 0).</param>
public sealed record ProgressiveSpec(IReadOnlyList<WaveSpec> Waves, TimeSpan Soak, int MaxFailures, FailureAction OnFailure);

/// <summary>One Prometheus measurement with its accepted range (inclusive).</summary>
/// <param name="Query">
/// PromQL. <c>${cluster}</c> is replaced by each canary cluster's name (the query then runs once per
/// cluster), <c>${clusters}</c> by a regex alternation of all of them, <c>${fleet}</c> by the fleet name.
/// </param>
public sealed record MetricSpec(string Name, string Query, double? Min, double? Max);

/// <summary>Canary analysis: <see cref="Iterations"/> measurements, <see cref="Interval"/> apart.</summary>
/// <param name="FailureLimit">Failed iterations tolerated before the canary fails (default 0).</param>
/// <param name="InconclusiveLimit">Inconclusive iterations tolerated (default 0: a query that keeps failing fails the canary).</param>
public sealed record AnalysisSpec(
    TimeSpan Interval,
    int Iterations,
    int FailureLimit,
    int InconclusiveLimit,
    NoDataPolicy NoData,
    IReadOnlyList<MetricSpec> Metrics);

/// <summary>Manual approval gate after a successful canary analysis; no decision within <see cref="Timeout"/> aborts.</summary>
public sealed record ApprovalSpec(TimeSpan Timeout);

/// <summary>Canary rollout settings.</summary>
public sealed record CanarySpec(
    LabelSelector Selector,
    AnalysisSpec Analysis,
    ApprovalSpec? Approval,
    RolloutStrategy Promotion,
    ProgressiveSpec? PromotionProgressive,
    FailureAction OnFailure);

/// <summary><c>ClusterFleet.spec.rollout</c>.</summary>
/// <param name="MaxParallel">Clusters reconciled at once within a wave (default 10).</param>
public sealed record RolloutSpec(RolloutStrategy Strategy, ProgressiveSpec? Progressive, CanarySpec? Canary, int MaxParallel);

/// <summary><c>ClusterFleet</c>: what to deploy, where, and how to roll it out.</summary>
/// <param name="Regions">When not empty, only clusters in these regions.</param>
/// <param name="Capabilities">Capabilities every selected cluster must offer.</param>
/// <param name="AllowEmpty">Lets a render with zero objects prune everything (default false).</param>
/// <param name="Force">Take ownership of fields other field managers own (default false).</param>
/// <param name="Recreate">Delete and recreate objects whose immutable fields changed (default false).</param>
/// <param name="PolicySet">Directory of Kyverno policies in the platform repository, checked before anything is applied.</param>
/// <param name="DependsOn">Fleets that must have rolled out the same commit successfully first.</param>
/// <param name="Suspend">Pause: pushes start no rollouts (they are refused), drift is recorded but not healed, and fleets that depend on this one fail fast.</param>
public sealed record ClusterFleet(
    string Name,
    FleetSource Source,
    LabelSelector ClusterSelector,
    IReadOnlyList<string> Regions,
    IReadOnlyList<string> Capabilities,
    RolloutSpec Rollout,
    TimeSpan HealthTimeout,
    bool Prune,
    bool AllowEmpty,
    bool SelfHeal,
    bool Force,
    bool Recreate,
    string? PolicySet,
    IReadOnlyList<string> DependsOn,
    ResourceOrigin Origin,
    bool Suspend = false)
{
    /// <summary>True when <paramref name="cluster"/> belongs to this fleet.</summary>
    public bool Selects(Cluster cluster) =>
        ClusterSelector.Matches(cluster.Labels)
        && (Regions.Count == 0 || Regions.Contains(cluster.Region, StringComparer.Ordinal))
        && Capabilities.All(c => cluster.Capabilities.Contains(c, StringComparer.Ordinal));
}
