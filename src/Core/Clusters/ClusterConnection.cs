namespace FleetFunctions.Core.Clusters;

/// <summary>
/// How to reach one cluster: a server URL with a bearer token, or a kubeconfig file with a context.
/// <see cref="ToString"/> never prints the token.
/// </summary>
public sealed record ClusterConnection
{
    /// <summary>The cluster's name in the fleet (used in every message about it).</summary>
    public required string Name { get; init; }

    /// <summary>API server URL (with <see cref="Token"/>); ignored when <see cref="KubeconfigPath"/> is set.</summary>
    public Uri? Server { get; init; }

    /// <summary>Bearer token for <see cref="Server"/>.</summary>
    public string? Token { get; init; }

    /// <summary>Base64 PEM of the API server's CA (HTTPS servers with a private CA).</summary>
    public string? CertificateAuthorityData { get; init; }

    /// <summary>The certificates of <see cref="CertificateAuthorityData"/>-style base64 PEM (empty when it holds none).</summary>
    /// <exception cref="FormatException">Not base64.</exception>
    /// <exception cref="System.Security.Cryptography.CryptographicException">A certificate block cannot be read.</exception>
    public static System.Security.Cryptography.X509Certificates.X509Certificate2Collection ReadCertificateAuthorityData(string base64Pem)
    {
        var collection = new System.Security.Cryptography.X509Certificates.X509Certificate2Collection();
        collection.ImportFromPem(System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(base64Pem)));
        return collection;
    }

    /// <summary>Accept any server certificate (test clusters only).</summary>
    public bool SkipTlsVerify { get; init; }

    /// <summary>A kubeconfig file; with <see cref="Context"/> (default: its current context).</summary>
    public string? KubeconfigPath { get; init; }

    /// <summary>The kubeconfig context to use.</summary>
    public string? Context { get; init; }

    /// <summary>A connection by server URL and bearer token.</summary>
    public static ClusterConnection FromToken(string name, Uri server, string token) => new() { Name = name, Server = server, Token = token };

    /// <summary>A connection by kubeconfig file and context.</summary>
    public static ClusterConnection FromKubeconfig(string name, string path, string? context = null) => new() { Name = name, KubeconfigPath = path, Context = context };

    /// <summary>Throws when neither a server nor a kubeconfig is given.</summary>
    public ClusterConnection Validate()
    {
        if (KubeconfigPath is null && Server is null)
        {
            throw new ArgumentException($"cluster {Name}: give a server URL and token, or a kubeconfig file; check the Cluster's credentials.");
        }

        return this;
    }

    public override string ToString() =>
        KubeconfigPath is not null
            ? $"{Name} (kubeconfig {KubeconfigPath}, context {Context ?? "current"})"
            : $"{Name} ({Server}, token {(Token is null ? "none" : "***")})";
}

/// <summary>
/// Supplies connections for clusters by name. Implementations may read a secret store; they must be
/// thread-safe. Returning a different connection (a rotated token) makes the factory build a new client.
/// </summary>
public interface IClusterCredentialsProvider
{
    /// <summary>The connection for <paramref name="cluster"/>.</summary>
    /// <exception cref="KeyNotFoundException">The cluster is unknown.</exception>
    ValueTask<ClusterConnection> GetConnectionAsync(string cluster, CancellationToken cancellationToken = default);
}

/// <summary>Connections held in memory (tests, the simulator, a host that loads Cluster resources).</summary>
public sealed class StaticCredentialsProvider : IClusterCredentialsProvider
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, ClusterConnection> _connections = new(StringComparer.Ordinal);

    public StaticCredentialsProvider(IEnumerable<ClusterConnection>? connections = null)
    {
        foreach (var connection in connections ?? [])
        {
            Set(connection);
        }
    }

    /// <summary>Adds or replaces a connection.</summary>
    public void Set(ClusterConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        _connections[connection.Name] = connection.Validate();
    }

    public ValueTask<ClusterConnection> GetConnectionAsync(string cluster, CancellationToken cancellationToken = default) =>
        _connections.TryGetValue(cluster, out var connection)
            ? ValueTask.FromResult(connection)
            : throw new KeyNotFoundException($"cluster {cluster}: no credentials known; register the Cluster and its credentials.");
}

/// <summary>Every context of one kubeconfig file is a cluster of the same name.</summary>
public sealed class KubeconfigCredentialsProvider(string path) : IClusterCredentialsProvider
{
    public ValueTask<ClusterConnection> GetConnectionAsync(string cluster, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(ClusterConnection.FromKubeconfig(cluster, path, cluster));
}
