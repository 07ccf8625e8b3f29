using System.Collections.Concurrent;

namespace FleetFunctions.Core.Clusters;

/// <summary>
/// Builds and caches one <see cref="ClusterClient"/> per cluster from the credentials provider. A changed
/// connection (rotated token, new server) replaces the cached client. Thread-safe.
/// </summary>
public sealed class ClusterClientFactory : IDisposable
{
    private readonly IClusterCredentialsProvider _credentials;
    private readonly ClusterClientOptions _options;
    private readonly ConcurrentDictionary<string, ClusterClient> _clients = new(StringComparer.Ordinal);

    public ClusterClientFactory(IClusterCredentialsProvider credentials, ClusterClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(credentials);
        _credentials = credentials;
        _options = (options ?? new ClusterClientOptions()).Validate();
    }

    /// <summary>The client for <paramref name="cluster"/>.</summary>
    public async ValueTask<ClusterClient> GetClientAsync(string cluster, CancellationToken cancellationToken = default)
    {
        var connection = await _credentials.GetConnectionAsync(cluster, cancellationToken);
        if (_clients.TryGetValue(cluster, out var existing) && existing.Connection == connection)
        {
            return existing;
        }

        var created = new ClusterClient(connection, _options);
        var stored = _clients.AddOrUpdate(cluster, created, (_, old) => old.Connection == connection ? old : created);
        if (!ReferenceEquals(stored, created))
        {
            created.Dispose();
        }

        return stored;
    }

    public void Dispose()
    {
        foreach (var client in _clients.Values)
        {
            client.Dispose();
        }

        _clients.Clear();
    }
}
