using System.Collections.Concurrent;

namespace FleetFunctions.Core.Clusters;

/// <summary>
/// Builds and caches one <see cref="ClusterClient"/> per cluster from the credentials provider. A changed
/// connection (rotated token, new server) or a rewritten kubeconfig file (new token or certificate in place) replaces
/// the cached client; the replaced one keeps working for whoever still holds it for
/// <see cref="ClusterClientOptions.ReplacedClientLifetime"/>, then is disposed. Thread-safe.
/// </summary>
public sealed class ClusterClientFactory : IDisposable
{
    private readonly IClusterCredentialsProvider _credentials;
    private readonly ClusterClientOptions _options;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, Cached> _clients = new(StringComparer.Ordinal);
    private readonly Queue<(ClusterClient Client, DateTimeOffset DisposeAt)> _replaced = new();

    public ClusterClientFactory(IClusterCredentialsProvider credentials, ClusterClientOptions? options = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(credentials);
        _credentials = credentials;
        _options = (options ?? new ClusterClientOptions()).Validate();
        _time = time ?? TimeProvider.System;
    }

    /// <summary>The client for <paramref name="cluster"/>.</summary>
    /// <exception cref="ClusterUnreachableException">No client can be built from the cluster's kubeconfig; the message names the file and what to fix.</exception>
    public async ValueTask<ClusterClient> GetClientAsync(string cluster, CancellationToken cancellationToken = default)
    {
        var connection = await _credentials.GetConnectionAsync(cluster, cancellationToken);
        DisposeReplaced();

        // Stamped before the client reads the file: a write while it is built is seen at the next call.
        var file = FileStamp.Of(connection.KubeconfigPath);
        Cached? created = null;
        while (true)
        {
            if (_clients.TryGetValue(cluster, out var current))
            {
                if (current.Connection == connection && current.File == file)
                {
                    created?.Client.Dispose();
                    return current.Client;
                }

                created ??= new Cached(connection, file, new ClusterClient(connection, _options));
                if (_clients.TryUpdate(cluster, created, current))
                {
                    lock (_replaced)
                    {
                        _replaced.Enqueue((current.Client, _time.GetUtcNow() + _options.ReplacedClientLifetime));
                    }

                    return created.Client;
                }
            }
            else
            {
                created ??= new Cached(connection, file, new ClusterClient(connection, _options));
                if (_clients.TryAdd(cluster, created))
                {
                    return created.Client;
                }
            }
        }
    }

    public void Dispose()
    {
        foreach (var cached in _clients.Values)
        {
            cached.Client.Dispose();
        }

        _clients.Clear();
        lock (_replaced)
        {
            while (_replaced.TryDequeue(out var replaced))
            {
                replaced.Client.Dispose();
            }
        }
    }

    /// <summary>Disposes the replaced clients whose time is up (they are queued in the order they were replaced).</summary>
    private void DisposeReplaced()
    {
        var now = _time.GetUtcNow();
        lock (_replaced)
        {
            while (_replaced.TryPeek(out var replaced) && replaced.DisposeAt <= now)
            {
                _replaced.Dequeue().Client.Dispose();
            }
        }
    }

    private sealed record Cached(ClusterConnection Connection, FileStamp? File, ClusterClient Client);

    /// <summary>When a file was last written and its size: a rewritten kubeconfig (new token, rotated certificate) gives another stamp.</summary>
    private sealed record FileStamp(DateTime LastWriteUtc, long Length)
    {
        public static FileStamp? Of(string? path)
        {
            if (path is null)
            {
                return null;
            }

            var info = new FileInfo(path);
            return info.Exists ? new FileStamp(info.LastWriteTimeUtc, info.Length) : null;
        }
    }
}
