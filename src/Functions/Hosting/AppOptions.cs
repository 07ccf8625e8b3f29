using System.Security.Cryptography.X509Certificates;
using Azure.Identity;
using FleetFunctions.Core.Fleet;
using FleetFunctions.Core.Rendering;
using FleetFunctions.Core.Sources;
using FleetFunctions.Core.Storage;
using FleetFunctions.Functions.Triggers;
using Microsoft.Extensions.Configuration;

namespace FleetFunctions.Functions.Hosting;

/// <summary>
/// The app's settings, read from configuration: environment variables (App Settings in Azure) named
/// <c>FLEETFUNCTIONS_&lt;Key&gt;</c>, and command-line <c>--Key=value</c>. Validated once at start-up with errors
/// that name the setting.
/// </summary>
public sealed record AppOptions
{
    /// <summary>
    /// Azure Storage connection string: <c>FLEETFUNCTIONS_Storage</c>, else the Functions host's <c>AzureWebJobsStorage</c>.
    /// Null when the account is reached with a managed identity (<see cref="StorageAccountName"/>).
    /// </summary>
    public string? StorageConnectionString { get; init; }

    /// <summary>
    /// Account reached with an Entra ID identity instead of a key, as the Functions host's identity-based connections
    /// do: <c>AzureWebJobsStorage__accountName</c> (or <c>FLEETFUNCTIONS_Storage__accountName</c>).
    /// </summary>
    public string? StorageAccountName { get; init; }

    /// <summary>Client id of the user-assigned managed identity for <see cref="StorageAccountName"/> (<c>…__clientId</c>); null: the default credential chain.</summary>
    public string? StorageClientId { get; init; }

    /// <summary>Standalone listen URL (default <c>http://127.0.0.1:7071</c>). Ignored as a custom handler.</summary>
    public string Urls { get; init; } = "http://127.0.0.1:7071";

    /// <summary>Port given by the Functions host (<c>FUNCTIONS_CUSTOMHANDLER_PORT</c>); null when standalone.</summary>
    public int? CustomHandlerPort { get; init; }

    /// <summary>Key for the status API when standalone (<c>x-api-key</c> header or <c>code</c> query, like a function key). Null disables the check.</summary>
    public string? ApiKey { get; init; }

    /// <summary>Largest webhook body accepted; larger ones get 413 (default 5 MiB).</summary>
    public long WebhookMaxBodyBytes { get; init; } = 5 * 1024 * 1024;

    /// <summary>Folder with one file per secret (mounted secrets); secrets are also read from <c>FLEETFUNCTIONS_SECRET_*</c>.</summary>
    public string? SecretsDirectory { get; init; }

    /// <summary>Public base URL used in status links (default: the request's own scheme and host).</summary>
    public Uri? PublicBaseUrl { get; init; }

    /// <summary>Clone URL of the platform repository holding GitSource, Cluster and ClusterFleet resources (and policies).</summary>
    public required string PlatformRepository { get; init; }

    /// <summary>Branch of the platform repository to follow (default <c>main</c>).</summary>
    public string PlatformBranch { get; init; } = "main";

    /// <summary>Folder of the platform repository with the resources (default: the root).</summary>
    public string PlatformPath { get; init; } = ".";

    /// <summary>
    /// Name of the secret (in the secret store, like a GitSource's <c>secretRef</c>) holding the platform repository's
    /// credentials: a token, or <c>user:password</c>. Null: the repository is fetched without credentials.
    /// </summary>
    public string? PlatformRepositorySecret { get; init; }

    /// <summary>
    /// The GitHub App installation the platform repository is fetched as (<c>FLEETFUNCTIONS_PlatformGitHubAppId</c>,
    /// <c>FLEETFUNCTIONS_PlatformGitHubAppInstallationId</c>, optional <c>FLEETFUNCTIONS_PlatformGitHubAppBaseUrl</c>);
    /// <see cref="PlatformRepositorySecret"/> then names the App's private key.
    /// </summary>
    public GitHubAppSpec? PlatformGitHubApp { get; init; }

    /// <summary>
    /// The platform repository's SSH host keys (<c>FLEETFUNCTIONS_PlatformRepositoryKnownHosts</c>: known_hosts lines, or
    /// the path of a known_hosts file); required when <see cref="PlatformRepository"/> is an SSH URL, whose private key
    /// <see cref="PlatformRepositorySecret"/> then names.
    /// </summary>
    public string? PlatformKnownHosts { get; init; }

    /// <summary>
    /// Name of the secret (in the secret store) holding FleetFunctions' sealing key and certificate as PEM
    /// (<c>fleetfunctions sealing-key new</c> makes one): SealedSecrets in Git are sealed for it and re-sealed for each
    /// cluster. Read at each use, so a rotated secret needs no restart.
    /// </summary>
    public string SealingKeySecret { get; init; } = "sealing-key";

    /// <summary>
    /// CA certificates trusted for HTTPS Git remotes besides the system's (<c>FLEETFUNCTIONS_GitCaCertificates</c>: PEM
    /// text, or the path of a PEM file), for a self-hosted Git server with a private CA.
    /// </summary>
    public X509Certificate2Collection GitCertificateAuthorities { get; init; } = [];

    /// <summary>Durable task hub name: prefixes the engine's tables and queues (default <c>fleethub</c>).</summary>
    public string TaskHub { get; init; } = "fleethub";

    /// <summary>
    /// Standalone: how long an engine queue message taken by a worker stays hidden from others (renewed while its work
    /// runs), so work held by a worker that died resumes after at most this long (default 2 minutes).
    /// </summary>
    public TimeSpan EngineVisibilityTimeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Finished rollouts (and other engine instances) are purged this long after their last update (default 30 days,
    /// <c>720h</c>); null keeps them until purged through the Durable API (<c>FLEETFUNCTIONS_RolloutRetention=0</c>).
    /// Each fleet's per-commit outcome rows (which <c>dependsOn</c> reads) are kept as long, and at least a day.
    /// </summary>
    public TimeSpan? RolloutRetention { get; init; } = TimeSpan.FromDays(30);

    /// <summary>
    /// Reconcile history entries are deleted this long after the reconcile (default 30 days, <c>720h</c>); null keeps
    /// them (<c>FLEETFUNCTIONS_ReconcileHistoryRetention=0</c>).
    /// </summary>
    public TimeSpan? ReconcileHistoryRetention { get; init; } = TimeSpan.FromDays(30);

    /// <summary>
    /// Drift events are deleted this long after they were detected (default 30 days, <c>720h</c>); null keeps them
    /// (<c>FLEETFUNCTIONS_DriftEventRetention=0</c>). Each cluster's latest drift state is always kept.
    /// </summary>
    public TimeSpan? DriftEventRetention { get; init; } = TimeSpan.FromDays(30);

    /// <summary>
    /// Finished webhook delivery records are deleted this long after they were received (default 30 days, <c>720h</c>);
    /// null keeps them (<c>FLEETFUNCTIONS_WebhookDeliveryRetention=0</c>).
    /// </summary>
    public TimeSpan? WebhookDeliveryRetention { get; init; } = TimeSpan.FromDays(30);

    /// <summary>Prometheus for canary analysis; without it canary analysis is inconclusive and canaries roll back.</summary>
    public Uri? PrometheusUrl { get; init; }

    /// <summary>
    /// The kubectl (or kustomize) binary that renders kustomize overlays (<c>FLEETFUNCTIONS_KUBECTL</c>, or
    /// <c>--KUBECTL=</c>); default <see cref="RenderOptions.DefaultKustomizeCommand"/>.
    /// </summary>
    public string KustomizeCommand { get; init; } = RenderOptions.DefaultKustomizeCommand();

    /// <summary>Where Git clones and rendered manifests are cached (default: a folder under the temp directory).</summary>
    public string CacheDirectory { get; init; } = Path.Combine(Path.GetTempPath(), "fleetfunctions");

    /// <summary>Watch mode (<c>FLEETFUNCTIONS_DriftWatch=true</c>, standalone only): long-lived watches catch drift within a second.</summary>
    public bool DriftWatch { get; init; }

    /// <summary>
    /// Stop when the process that started the app exits (<c>FLEETFUNCTIONS_ExitWithParent</c>; Linux). On by default
    /// behind the Functions host, whose killed instance must not leave its custom handler running; off standalone.
    /// </summary>
    public bool ExitWithParent { get; init; }

    /// <summary>(cluster, fleet) pairs the drift sweep checks at once (<c>FLEETFUNCTIONS_DriftSweepConcurrency</c>, default 8).</summary>
    public int DriftSweepConcurrency { get; init; } = 8;

    public bool IsCustomHandler => CustomHandlerPort is not null;

    /// <summary>The storage account from the connection string, else from the account name and a managed identity.</summary>
    public StorageAccount CreateStorageAccount()
    {
        if (StorageConnectionString is { Length: > 0 } connectionString)
        {
            return StorageAccount.FromConnectionString(connectionString);
        }

        if (StorageAccountName is { Length: > 0 } account)
        {
            var credential = new DefaultAzureCredential(new DefaultAzureCredentialOptions { ManagedIdentityClientId = StorageClientId });
            return StorageAccount.FromIdentity(account, credential);
        }

        throw new InvalidOperationException(
            "no Azure Storage: set FLEETFUNCTIONS_Storage (a connection string) or AzureWebJobsStorage__accountName (a managed identity with data roles on the account)");
    }

    public static AppOptions From(IConfiguration configuration)
    {
        var errors = new List<string>();
        var storage = Blank(configuration["FLEETFUNCTIONS_Storage"]) ?? Blank(configuration["Storage"]) ?? Blank(configuration["AzureWebJobsStorage"]);
        var storageAccount = Blank(configuration["FLEETFUNCTIONS_Storage:accountName"]) ?? Blank(configuration["AzureWebJobsStorage:accountName"]);
        var storageClientId = Blank(configuration["FLEETFUNCTIONS_Storage:clientId"]) ?? Blank(configuration["AzureWebJobsStorage:clientId"]);
        if (storage is null && storageAccount is null)
        {
            errors.Add("no Azure Storage: set FLEETFUNCTIONS_Storage (or AzureWebJobsStorage) to a connection string, or AzureWebJobsStorage__accountName "
                + "(with AzureWebJobsStorage__clientId for a user-assigned identity) to use a managed identity; for local runs start Azurite (scripts/demo.sh does)");
        }
        else if (storage is null && storageAccount is { } name && (name.Length is < 3 or > 24 || !name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c))))
        {
            errors.Add($"AzureWebJobsStorage__accountName '{name}' is not a storage account name: 3-24 lower-case letters and digits");
        }

        int? port = null;
        if (configuration["FUNCTIONS_CUSTOMHANDLER_PORT"] is { Length: > 0 } portText)
        {
            if (int.TryParse(portText, out var p) && p is > 0 and < 65536)
            {
                port = p;
            }
            else
            {
                errors.Add($"FUNCTIONS_CUSTOMHANDLER_PORT '{portText}' is not a port number");
            }

            // The host binds the queue and timer triggers itself and skips a function whose %Setting% is unset: rollouts
            // would stay Pending and the sweeps never run. Refuse to start instead.
            var unset = FunctionCatalog.BoundSettings.Where(b => Blank(configuration[b.Setting]) is null).ToList();
            if (unset.Count > 0)
            {
                errors.Add("behind the Functions host (FUNCTIONS_CUSTOMHANDLER_PORT is set) function.json binds app settings the host reads itself, "
                    + "and it does not load a function whose setting is missing; set "
                    + string.Join(", ", unset.Select(b => $"{b.Setting} (for {string.Join(", ", b.Functions)})"))
                    + " as app settings, as infra/bicep/main.bicep does");
            }
        }

        var maxBody = 5L * 1024 * 1024;
        if (Get(configuration, "WebhookMaxBodyBytes") is { } maxText && !(long.TryParse(maxText, out maxBody) && maxBody > 0))
        {
            errors.Add($"FLEETFUNCTIONS_WebhookMaxBodyBytes '{maxText}' must be a positive number of bytes");
        }

        Uri? publicBase = null;
        if (Get(configuration, "PublicBaseUrl") is { } baseText && !Uri.TryCreate(baseText.TrimEnd('/') + "/", UriKind.Absolute, out publicBase))
        {
            errors.Add($"FLEETFUNCTIONS_PublicBaseUrl '{baseText}' is not an absolute URL");
        }

        var platformRepository = Get(configuration, "PlatformRepository");
        if (platformRepository is null)
        {
            errors.Add("no platform repository: set FLEETFUNCTIONS_PlatformRepository to the clone URL (or local path) of the repository with the GitSource, Cluster and ClusterFleet resources");
        }

        var gitAuthorities = GitCertificateAuthoritiesOf(Get(configuration, "GitCaCertificates"), errors);
        var platformApp = PlatformGitHubAppOf(configuration, errors);
        var platformKnownHosts = PlatformKnownHostsOf(Get(configuration, "PlatformRepositoryKnownHosts"), platformRepository, errors);

        var visibility = TimeSpan.FromMinutes(2);
        if (Get(configuration, "EngineVisibilityTimeout") is { } visibilityText && !(Core.GoDuration.TryParseTimeSpan(visibilityText, out visibility) && visibility >= TimeSpan.FromSeconds(2)))
        {
            errors.Add($"FLEETFUNCTIONS_EngineVisibilityTimeout '{visibilityText}' must be a duration of at least 2s, such as 30s or 2m");
        }

        var retention = Retention(configuration, "RolloutRetention", "0 to keep finished rollouts until purged through the API", errors);
        var historyRetention = Retention(configuration, "ReconcileHistoryRetention", "0 to keep every entry", errors);
        var deliveryRetention = Retention(configuration, "WebhookDeliveryRetention", "0 to keep every delivery record", errors);
        var driftRetention = Retention(configuration, "DriftEventRetention", "0 to keep every drift event", errors);

        Uri? prometheus = null;
        if (Get(configuration, "PrometheusUrl") is { } prometheusText && !Uri.TryCreate(prometheusText.TrimEnd('/') + "/", UriKind.Absolute, out prometheus))
        {
            errors.Add($"FLEETFUNCTIONS_PrometheusUrl '{prometheusText}' is not an absolute URL");
        }

        var driftWatch = false;
        if (Get(configuration, "DriftWatch") is { } watchText && !bool.TryParse(watchText, out driftWatch))
        {
            errors.Add($"FLEETFUNCTIONS_DriftWatch '{watchText}' must be true or false");
        }

        var exitWithParent = configuration["FUNCTIONS_CUSTOMHANDLER_PORT"] is { Length: > 0 };
        if (Get(configuration, "ExitWithParent") is { } exitText && !bool.TryParse(exitText, out exitWithParent))
        {
            errors.Add($"FLEETFUNCTIONS_ExitWithParent '{exitText}' must be true or false");
        }

        var driftConcurrency = 8;
        if (Get(configuration, "DriftSweepConcurrency") is { } concurrencyText && !(int.TryParse(concurrencyText, out driftConcurrency) && driftConcurrency is >= 1 and <= 256))
        {
            errors.Add($"FLEETFUNCTIONS_DriftSweepConcurrency '{concurrencyText}' must be a number from 1 to 256");
        }

        if (errors.Count > 0)
        {
            throw new InvalidOperationException("invalid configuration:" + Environment.NewLine + "  " + string.Join(Environment.NewLine + "  ", errors));
        }

        return new AppOptions
        {
            StorageConnectionString = storage,
            StorageAccountName = storage is null ? storageAccount : null,
            StorageClientId = storage is null ? storageClientId : null,
            Urls = Get(configuration, "Urls") ?? "http://127.0.0.1:7071",
            CustomHandlerPort = port,
            ApiKey = Get(configuration, "ApiKey"),
            WebhookMaxBodyBytes = maxBody,
            SecretsDirectory = Get(configuration, "SecretsDirectory"),
            PublicBaseUrl = publicBase,
            PlatformRepository = platformRepository!,
            PlatformBranch = Get(configuration, "PlatformBranch") ?? "main",
            PlatformPath = Get(configuration, "PlatformPath") ?? ".",
            PlatformRepositorySecret = Get(configuration, "PlatformRepositorySecret"),
            PlatformGitHubApp = platformApp,
            PlatformKnownHosts = platformKnownHosts,
            SealingKeySecret = Get(configuration, "SealingKeySecret") ?? "sealing-key",
            GitCertificateAuthorities = gitAuthorities,
            TaskHub = Get(configuration, "TaskHub") ?? "fleethub",
            EngineVisibilityTimeout = visibility,
            RolloutRetention = retention,
            ReconcileHistoryRetention = historyRetention,
            WebhookDeliveryRetention = deliveryRetention,
            DriftEventRetention = driftRetention,
            PrometheusUrl = prometheus,
            KustomizeCommand = Get(configuration, "KUBECTL") ?? RenderOptions.DefaultKustomizeCommand(),
            CacheDirectory = Get(configuration, "CacheDirectory") ?? Path.Combine(Path.GetTempPath(), "fleetfunctions"),
            DriftWatch = driftWatch,
            ExitWithParent = exitWithParent,
            DriftSweepConcurrency = driftConcurrency,
        };
    }

    /// <summary>The GitHub App of the platform repository: both IDs or neither, and its key's secret.</summary>
    private static GitHubAppSpec? PlatformGitHubAppOf(IConfiguration configuration, List<string> errors)
    {
        var appText = Get(configuration, "PlatformGitHubAppId");
        var installationText = Get(configuration, "PlatformGitHubAppInstallationId");
        var baseUrl = Get(configuration, "PlatformGitHubAppBaseUrl");
        if (appText is null && installationText is null)
        {
            if (baseUrl is not null)
            {
                errors.Add("FLEETFUNCTIONS_PlatformGitHubAppBaseUrl is set without FLEETFUNCTIONS_PlatformGitHubAppId and FLEETFUNCTIONS_PlatformGitHubAppInstallationId");
            }

            return null;
        }

        var ok = true;
        long appId = 0, installationId = 0;
        foreach (var (setting, text, assign) in new (string, string?, Action<long>)[]
        {
            ("FLEETFUNCTIONS_PlatformGitHubAppId", appText, v => appId = v),
            ("FLEETFUNCTIONS_PlatformGitHubAppInstallationId", installationText, v => installationId = v),
        })
        {
            if (GitHubAppSpec.TryParseId(text, out var value))
            {
                assign(value);
            }
            else
            {
                errors.Add(text is null
                    ? $"{setting} is required with the other FLEETFUNCTIONS_PlatformGitHubApp* settings"
                    : $"{setting} '{text}' must be a positive number (from the App's settings page, or the installation's URL)");
                ok = false;
            }
        }

        if (baseUrl is not null && !GitHubAppSpec.IsApiUrl(baseUrl))
        {
            errors.Add($"FLEETFUNCTIONS_PlatformGitHubAppBaseUrl '{baseUrl}' is not an http(s) URL; give GitHub Enterprise Server's REST API, e.g. https://github.example.com/api/v3");
            ok = false;
        }

        if (Get(configuration, "PlatformRepositorySecret") is null)
        {
            errors.Add($"{GitRepositories.PlatformSecretSetting} must name the secret holding the GitHub App's private key (PEM) when FLEETFUNCTIONS_PlatformGitHubAppId is set");
            ok = false;
        }

        return ok ? new GitHubAppSpec(appId, installationId, baseUrl) : null;
    }

    /// <summary>
    /// The app's Azure credential for clusters with <c>azureIdentity</c>: the user-assigned identity
    /// <paramref name="clientId"/>, or else the default chain (managed identity, preferring the storage identity's client
    /// ID when one is set; workload identity; environment; Azure CLI for local runs).
    /// </summary>
    public Azure.Core.TokenCredential AzureCredential(string? clientId) =>
        clientId is not null
            ? new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(clientId))
            : new DefaultAzureCredential(new DefaultAzureCredentialOptions { ManagedIdentityClientId = StorageClientId, ExcludeInteractiveBrowserCredential = true });

    /// <summary>The known hosts of <c>FLEETFUNCTIONS_PlatformRepositoryKnownHosts</c>: known_hosts lines, or the path of a file with them.</summary>
    private static string? PlatformKnownHostsOf(string? value, string? repository, List<string> errors)
    {
        const string Setting = GitRepositories.PlatformKnownHostsSetting;
        var ssh = repository is not null && GitRepositories.IsSshUrl(repository);
        if (value is null)
        {
            if (ssh)
            {
                errors.Add($"{Setting} is required for the SSH platform repository '{repository}': the server's host keys as known_hosts lines (or a file with them), e.g. from 'ssh-keyscan -p PORT HOST' once you have checked the fingerprints");
            }

            return null;
        }

        if (!ssh)
        {
            errors.Add($"{Setting} is set but FLEETFUNCTIONS_PlatformRepository '{repository}' is not an SSH URL (ssh://... or user@host:path); remove it");
            return null;
        }

        if (File.Exists(value))
        {
            return File.ReadAllText(value);
        }

        // known_hosts lines always have host, key type and key, separated by spaces.
        if (!value.Contains(' ', StringComparison.Ordinal))
        {
            errors.Add($"{Setting}: '{value}' is neither known_hosts lines nor an existing file");
            return null;
        }

        return value;
    }

    /// <summary>The CA certificates of <c>FLEETFUNCTIONS_GitCaCertificates</c>: PEM text, or the path of a PEM file.</summary>
    private static X509Certificate2Collection GitCertificateAuthoritiesOf(string? value, List<string> errors)
    {
        if (value is null)
        {
            return [];
        }

        const string Setting = GitRepositories.CaSetting;
        var pem = value;
        if (!value.Contains("-----BEGIN", StringComparison.Ordinal))
        {
            if (!File.Exists(value))
            {
                errors.Add($"{Setting}: '{value}' is neither PEM text nor an existing file; give the CA certificates as PEM, or the path of a PEM file");
                return [];
            }

            pem = File.ReadAllText(value);
        }

        try
        {
            return GitCacheOptions.ReadCertificateAuthorities(pem, Setting);
        }
        catch (ArgumentException e)
        {
            errors.Add(e.Message);
            return [];
        }
    }

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    /// <summary>A retention setting: a duration of at least an hour (default 30 days), or 0 for none.</summary>
    private static TimeSpan? Retention(IConfiguration configuration, string name, string zeroMeans, List<string> errors)
    {
        if (Get(configuration, name) is not { } text)
        {
            return TimeSpan.FromDays(30);
        }

        if (text.Trim() == "0")
        {
            return null;
        }

        if (Core.GoDuration.TryParseTimeSpan(text, out var parsed) && parsed >= TimeSpan.FromHours(1))
        {
            return parsed;
        }

        errors.Add($"FLEETFUNCTIONS_{name} '{text}' must be a duration of at least 1h, such as 720h (30 days), or {zeroMeans}");
        return null;
    }

    /// <summary>The prefix of the app's settings as environment variables (<c>FLEETFUNCTIONS_TaskHub</c>); arguments may leave it out.</summary>
    public const string SettingPrefix = "FLEETFUNCTIONS_";

    private static string? Get(IConfiguration configuration, string key) =>
        configuration[SettingPrefix + key] is { Length: > 0 } prefixed ? prefixed
        : configuration[key] is { Length: > 0 } plain ? plain
        : null;
}
