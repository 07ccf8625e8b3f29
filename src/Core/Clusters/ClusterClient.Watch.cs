using System.Globalization;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using k8s;
using System.Threading.Channels;
using k8s.Exceptions;
using k8s.Models;

namespace FleetFunctions.Core.Clusters;

/// <summary>One watch event: its type and the identity and resource version of the object (BOOKMARK: only the version).</summary>
public sealed record WatchedObject(WatchEventType Type, string? Namespace, string? Name, string? ResourceVersion);

public sealed partial class ClusterClient
{
    /// <summary>
    /// Watches every object of <paramref name="resource"/> in the cluster (all namespaces) through KubernetesClient's
    /// watch reader, with bookmarks. Without <paramref name="resourceVersion"/> the server first sends ADDED for what
    /// exists; with one it replays what happened after it. The stream ends when the server closes it
    /// (<paramref name="timeout"/>); an ERROR event is yielded as <see cref="WatchEventType.Error"/> (usually an expired version).
    /// Watches are long-lived and do not count against <see cref="ClusterClientOptions.MaxConcurrentRequestsPerCluster"/>.
    /// </summary>
    /// <exception cref="ClusterUnreachableException">The API server cannot be reached.</exception>
    /// <exception cref="KubernetesApiException">The server refused the watch (410 Gone: the version expired; start again without one).</exception>
    public async IAsyncEnumerable<WatchedObject> WatchAsync(
        ResourceInfo resource, string? resourceVersion, TimeSpan timeout, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(resource);
        var prefix = resource.Group.Length == 0 ? $"/api/{resource.Version}" : $"/apis/{resource.Group}/{resource.Version}";
        var query = $"?watch=1&allowWatchBookmarks=true&timeoutSeconds={Math.Max(1, (int)timeout.TotalSeconds).ToString(CultureInfo.InvariantCulture)}"
            + (resourceVersion is { Length: > 0 } rv ? "&resourceVersion=" + Uri.EscapeDataString(rv) : string.Empty);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(Server.ToString().TrimEnd('/') + prefix + "/" + resource.Plural + query));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        await AuthenticateAsync(request, null, cancellationToken);

        Interlocked.Increment(ref _requests);
        HttpResponseMessage response;
        using (var connect = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            // The server must answer (headers) within the request timeout; the stream itself may then stay open.
            connect.CancelAfter(_options.RequestTimeout);
            try
            {
                response = await _http.SendAsync(request, connect.Token);
            }
            catch (HttpRequestException e)
            {
                throw Unreachable(null, e);
            }
            catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
            {
                throw Unreachable(null, e);
            }
        }

        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                var body = await ReadBodyAsync(response, null, (content, ct) => content.ReadAsStringAsync(ct), cancellationToken);
                throw KubernetesStatus.ToException(Name, null, response.StatusCode, body);
            }

            var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
            var events = Channel.CreateUnbounded<WatchedObject>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
            Exception? failure = null;
            using var watcher = new Watcher<WatchedItem>(
                () => Task.FromResult<TextReader>(new StreamReader(stream)),
                (type, item) => events.Writer.TryWrite(new WatchedObject(type, item?.Metadata?.NamespaceProperty, item?.Metadata?.Name, item?.Metadata?.ResourceVersion)),
                e =>
                {
                    failure = e;
                    events.Writer.TryComplete();
                },
                () => events.Writer.TryComplete());
            await foreach (var e in events.Reader.ReadAllAsync(cancellationToken))
            {
                yield return e;
            }

            if (failure is KubernetesException)
            {
                // KubernetesClient turns an ERROR event (a Status, usually 410 Expired) into an exception.
                yield return new WatchedObject(WatchEventType.Error, null, null, null);
            }
            else if (failure is HttpRequestException or IOException && !cancellationToken.IsCancellationRequested)
            {
                // The connection broke mid-stream (server gone): the caller reconnects.
                throw Unreachable(null, failure);
            }
        }
    }
}

/// <summary>What a watch reads of each object: its identity (any kind).</summary>
internal sealed class WatchedItem : IKubernetesObject<V1ObjectMeta>
{
    public string ApiVersion { get; set; } = string.Empty;

    public string Kind { get; set; } = string.Empty;

    public V1ObjectMeta Metadata { get; set; } = new();
}
