using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using FleetFunctions.Core.Manifests;
using k8s;
using k8s.Exceptions;

namespace FleetFunctions.Core.Clusters;

/// <summary>
/// Unstructured access to one cluster through KubernetesClient's configuration, TLS and authentication:
/// get, server-side apply, delete, and discovery of resource names. Requests are bounded by
/// <see cref="ClusterClientOptions.MaxConcurrentRequestsPerCluster"/>; a request the API server throttles is sent again
/// after the wait it asks for (<see cref="ClusterClientOptions.ThrottledRetries"/>). Counts requests and writes.
/// Thread-safe.
/// </summary>
public sealed partial class ClusterClient : IDisposable
{
    private static readonly MediaTypeHeaderValue s_applyPatch = new("application/apply-patch+yaml");
    private readonly Kubernetes _kubernetes;
    private readonly HttpMessageInvoker _http;
    private readonly SemaphoreSlim _gate;
    private readonly ClusterClientOptions _options;
    private readonly ConcurrentDictionary<string, Task<IReadOnlyDictionary<string, ResourceInfo>?>> _discovery = new(StringComparer.Ordinal);
    private long _requests;
    private long _writes;

    /// <exception cref="ClusterUnreachableException">The kubeconfig cannot be read or used (missing file, unknown context or user, bad certificate data).</exception>
    internal ClusterClient(ClusterConnection connection, ClusterClientOptions options)
    {
        Connection = connection.Validate();
        _options = options;
        // KubernetesClient builds the TLS/authentication pipeline; a pass-through handler placed in it gives
        // access to that pipeline for unstructured requests.
        var entry = new PipelineEntryHandler();
        try
        {
            var config = connection.KubeconfigPath is not null
                ? KubernetesClientConfiguration.BuildConfigFromConfigFile(connection.KubeconfigPath, connection.Context)
                : new KubernetesClientConfiguration
                {
                    Host = connection.Server!.ToString(),
                    AccessToken = connection.Token,
                    SkipTlsVerify = connection.SkipTlsVerify,
                    SslCaCerts = connection.CertificateAuthorityData is { } ca ? ClusterConnection.ReadCertificateAuthorityData(ca) : null,
                };
            config.HttpClientTimeout = options.RequestTimeout;
            _kubernetes = new Kubernetes(config, entry);
        }
        catch (Exception e) when (e is KubeConfigException or IOException or UnauthorizedAccessException or FormatException
            or System.Security.Cryptography.CryptographicException or YamlDotNet.Core.YamlException)
        {
            entry.Dispose();
            var (source, fix) = connection.KubeconfigPath is not null
                ? (CredentialsSource(), FixHint())
                : ("the Cluster's spec.caData", "spec.caData: base64 of the PEM CA certificate (a kubeconfig's certificate-authority-data)");
            throw new ClusterUnreachableException(Name, $"{Name}: cannot build a client from {source}: {e.Message.TrimEnd('.')}; fix {fix}.", e);
        }

        _http = new HttpMessageInvoker(entry, disposeHandler: false);
        Server = _kubernetes.BaseUri;
        _gate = new SemaphoreSlim(options.MaxConcurrentRequestsPerCluster, options.MaxConcurrentRequestsPerCluster);
    }

    public ClusterConnection Connection { get; }

    public string Name => Connection.Name;

    public Uri Server { get; }

    public string FieldManager => _options.FieldManager;

    /// <summary>Requests sent by this client so far.</summary>
    public long RequestCount => Interlocked.Read(ref _requests);

    /// <summary>Writes (non-dry-run apply, delete) sent by this client so far.</summary>
    public long WriteCount => Interlocked.Read(ref _writes);

    /// <summary>The live object, or null when it does not exist.</summary>
    public async Task<JsonObject?> GetAsync(ResourceInfo resource, string ns, string name, CancellationToken cancellationToken = default)
    {
        var reference = new ObjectReference(resource.Group, resource.Kind, ns, name);
        using var response = await SendAsync(HttpMethod.Get, ObjectPath(resource, ns, name), null, reference, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        return await ReadObjectAsync(response, reference, cancellationToken);
    }

    /// <summary>Server-side apply of <paramref name="obj"/> as <see cref="FieldManager"/>; returns the object the server stored (or would store, on dry run).</summary>
    /// <exception cref="FieldConflictException">Other managers own fields this apply sets and <paramref name="force"/> is false.</exception>
    /// <exception cref="ImmutableFieldException">An immutable field changed.</exception>
    public Task<JsonObject> ApplyAsync(ResourceInfo resource, JsonObject obj, bool force = false, bool dryRun = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(obj);
        return ApplyAsync(resource, obj.StringAt("metadata.namespace") ?? string.Empty, obj.StringAt("metadata.name") ?? string.Empty, System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(obj), force, dryRun, cancellationToken);
    }

    /// <summary>
    /// Server-side apply of a rendered object (its JSON is serialised once, however many clusters it goes to) that reads
    /// the server's answer with <paramref name="read"/> while its pooled buffer is alive: <paramref name="read"/> must not
    /// keep the object it is given.
    /// </summary>
    /// <exception cref="FieldConflictException">Other managers own fields this apply sets and <paramref name="force"/> is false.</exception>
    /// <exception cref="ImmutableFieldException">An immutable field changed.</exception>
    public async Task<T> ApplyAsync<T>(ResourceInfo resource, ManifestObject obj, bool force, Func<JsonObject, T> read, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(obj);
        ArgumentNullException.ThrowIfNull(read);
        var reference = new ObjectReference(resource.Group, resource.Kind, obj.Namespace, obj.Name);
        using var response = await SendApplyAsync(resource, reference, obj.Utf8Json, force, dryRun: false, cancellationToken);
        await EnsureSuccessAsync(response, reference, cancellationToken);
        using var document = await ReadDocumentAsync(response, reference, cancellationToken);
        return document.RootElement.ValueKind == System.Text.Json.JsonValueKind.Object && JsonObject.Create(document.RootElement) is { } answer
            ? read(answer)
            : throw new KubernetesApiException($"{reference.On(Name)}: the API server answered without an object.", Name, reference, response.StatusCode, "BadResponse");
    }

    private async Task<JsonObject> ApplyAsync(ResourceInfo resource, string ns, string name, ReadOnlyMemory<byte> body, bool force, bool dryRun, CancellationToken cancellationToken)
    {
        var reference = new ObjectReference(resource.Group, resource.Kind, ns, name);
        using var response = await SendApplyAsync(resource, reference, body, force, dryRun, cancellationToken);
        return await ReadObjectAsync(response, reference, cancellationToken);
    }

    private Task<HttpResponseMessage> SendApplyAsync(ResourceInfo resource, ObjectReference reference, ReadOnlyMemory<byte> body, bool force, bool dryRun, CancellationToken cancellationToken)
    {
        var query = $"?fieldManager={Uri.EscapeDataString(_options.FieldManager)}&force={(force ? "true" : "false")}{(dryRun ? "&dryRun=All" : string.Empty)}";
        return SendAsync(HttpMethod.Patch, ObjectPath(resource, reference.Namespace, reference.Name) + query, () => new ReadOnlyMemoryContent(body) { Headers = { ContentType = s_applyPatch } }, reference, cancellationToken, isWrite: !dryRun);
    }

    /// <summary>
    /// Deletes an object with <paramref name="propagation"/> for its dependents. Returns null when it is gone (or already
    /// was), else the object as the API server keeps it: marked for deletion (<c>metadata.deletionTimestamp</c>) until its
    /// finalizers are released.
    /// </summary>
    public async Task<JsonObject?> DeleteAsync(
        ResourceInfo resource, string ns, string name, DeletePropagation propagation = DeletePropagation.Background, CancellationToken cancellationToken = default)
    {
        var reference = new ObjectReference(resource.Group, resource.Kind, ns, name);
        var body = $"{{\"kind\":\"DeleteOptions\",\"apiVersion\":\"v1\",\"propagationPolicy\":\"{propagation}\"}}";
        using var response = await SendAsync(HttpMethod.Delete, ObjectPath(resource, ns, name), () => new StringContent(body, Encoding.UTF8, "application/json"), reference, cancellationToken, isWrite: true);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        // kube-apiserver answers a Status when the object went at once, the object itself when its finalizers keep it
        var answer = await ReadObjectAsync(response, reference, cancellationToken);
        return answer.GetString("kind") == "Status" || answer.StringAt("metadata.deletionTimestamp") is null ? null : answer;
    }

    public void Dispose()
    {
        _http.Dispose();
        _kubernetes.Dispose();
        _gate.Dispose();
    }

    internal static string ObjectPath(ResourceInfo resource, string ns, string name)
    {
        var prefix = resource.Group.Length == 0 ? $"/api/{resource.Version}" : $"/apis/{resource.Group}/{resource.Version}";
        var scope = resource.Namespaced ? $"/namespaces/{Uri.EscapeDataString(ns)}" : string.Empty;
        return $"{prefix}{scope}/{resource.Plural}/{Uri.EscapeDataString(name)}";
    }

    /// <summary>
    /// Sends a request; one answered 429, or 5xx with <c>Retry-After</c>, is sent again after the wait the server asks
    /// (capped), up to <see cref="ClusterClientOptions.ThrottledRetries"/> times. <paramref name="content"/> makes the body of each attempt.
    /// </summary>
    private async Task<HttpResponseMessage> SendAsync(
        HttpMethod method, string pathAndQuery, Func<HttpContent>? content, ObjectReference? reference, CancellationToken cancellationToken, bool isWrite = false)
    {
        // Keep any path prefix of the server URL (API servers behind proxies: https://proxy/k8s/clusters/c-1).
        var uri = new Uri(Server.ToString().TrimEnd('/') + "/" + pathAndQuery.TrimStart('/'));
        for (var retries = 0; ; retries++)
        {
            var response = await SendOnceAsync(method, uri, content?.Invoke(), reference, isWrite, cancellationToken);
            if (retries == _options.ThrottledRetries || RetryDelay(response) is not { } delay)
            {
                return response;
            }

            // Waited out without holding one of the cluster's request slots.
            response.Dispose();
            await Task.Delay(delay, cancellationToken);
        }
    }

    private async Task<HttpResponseMessage> SendOnceAsync(HttpMethod method, Uri uri, HttpContent? content, ObjectReference? reference, bool isWrite, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, uri);
        request.Content = content;
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        await AuthenticateAsync(request, reference, cancellationToken);
        await _gate.WaitAsync(cancellationToken);
        try
        {
            Interlocked.Increment(ref _requests);
            if (isWrite)
            {
                Interlocked.Increment(ref _writes);
            }

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_options.RequestTimeout);
            return await _http.SendAsync(request, timeout.Token);
        }
        catch (HttpRequestException e)
        {
            throw Unreachable(reference, e);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw Unreachable(reference, e);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// The wait before sending again a request answered 429 (API Priority and Fairness; one second when it says nothing),
    /// or 5xx with <c>Retry-After</c> (an API server starting or shutting down), capped at <see cref="ClusterClientOptions.MaxRetryAfter"/>;
    /// null for any other answer.
    /// </summary>
    private TimeSpan? RetryDelay(HttpResponseMessage response)
    {
        var asked = response.Headers.RetryAfter switch
        {
            { Delta: { } delta } => delta,
            { Date: { } date } => date - DateTimeOffset.UtcNow,
            _ => (TimeSpan?)null,
        };
        var delay = response.StatusCode switch
        {
            HttpStatusCode.TooManyRequests => asked ?? TimeSpan.FromSeconds(1),
            >= HttpStatusCode.InternalServerError => asked,
            _ => null,
        };
        return delay is { } d ? TimeSpan.FromTicks(Math.Clamp(d.Ticks, 0, _options.MaxRetryAfter.Ticks)) : null;
    }

    /// <summary>Adds the credentials (bearer token, exec plugin, token file) to <paramref name="request"/>.</summary>
    /// <exception cref="ClusterUnreachableException">They cannot be had or used; the message names the cluster and where its credentials come from.</exception>
    private async Task AuthenticateAsync(HttpRequestMessage request, ObjectReference? reference, CancellationToken cancellationToken)
    {
        if (_kubernetes.Credentials is not { } credentials)
        {
            return;
        }

        try
        {
            await credentials.ProcessHttpRequestAsync(request, cancellationToken);
        }
        catch (Exception e) when (e is FormatException or KubeConfigException or IOException or UnauthorizedAccessException or System.ComponentModel.Win32Exception)
        {
            // A token with a line break or NUL in it (FormatException: not a header value), an exec plugin that failed or
            // is not installed, an unreadable token file: not the API server's answer, but nothing reaches it either.
            throw new ClusterUnreachableException(Name,
                $"{(reference is { } at ? at.On(Name) : Name)}: cannot authenticate to the API server at {Server} with {CredentialsSource()}: {e.Message.TrimEnd('.')}; fix {FixHint()}.", e);
        }
    }

    /// <summary>Where this client's credentials come from, for messages.</summary>
    private string CredentialsSource() => Connection.KubeconfigPath is { } path
        ? $"kubeconfig {path} (context {Connection.Context ?? "current"})"
        : "the Cluster's token";

    /// <summary>What to fix when the credentials cannot be used, for messages.</summary>
    private string FixHint() => Connection.KubeconfigPath is not null
        ? "the file, or the Cluster's spec.kubeconfig (path and context); the context's user needs a usable token, token file, client certificate or exec plugin"
        : "the secret its credentialsRef names (one line, no line breaks inside), or its azureIdentity";

    private ClusterUnreachableException Unreachable(ObjectReference? reference, Exception e)
    {
        if (e is HttpRequestException { InnerException: System.Security.Authentication.AuthenticationException tls })
        {
            return new ClusterUnreachableException(Name,
                $"{(reference is { } at ? at.On(Name) : Name)}: the API server at {Server} presented a certificate the controller does not trust ({tls.Message}); " +
                "give the cluster's CA as spec.caData on the Cluster (a kubeconfig's certificate-authority-data), or use a kubeconfig.", e);
        }

        var what = e switch
        {
            OperationCanceledException => $"no answer within {_options.RequestTimeout.TotalSeconds:0}s",
            HttpRequestException { InnerException: SocketException s } => s.SocketErrorCode == SocketError.ConnectionRefused ? "connection refused" : s.Message,
            _ => e.Message,
        };
        var subject = reference is { } r ? r.On(Name) : Name;
        return new ClusterUnreachableException(Name, $"{subject}: cluster unreachable at {Server} ({what}); check that the API server is up and reachable from the controller, and the Cluster's server URL.", e);
    }

    private async Task<JsonObject> ReadObjectAsync(HttpResponseMessage response, ObjectReference reference, CancellationToken cancellationToken)
    {
        await EnsureSuccessAsync(response, reference, cancellationToken);
        return await ReadNodeAsync(response, reference, cancellationToken) as JsonObject
            ?? throw new KubernetesApiException($"{reference.On(Name)}: the API server answered without an object.", Name, reference, response.StatusCode, "BadResponse");
    }

    private async Task EnsureSuccessAsync(HttpResponseMessage response, ObjectReference? reference, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var body = await ReadBodyAsync(response, reference, (content, ct) => content.ReadAsStringAsync(ct), cancellationToken);
        throw KubernetesStatus.ToException(Name, reference, response.StatusCode, body);
    }

    /// <summary>The body as a JSON document (compact: for pages and answers read once).</summary>
    private Task<System.Text.Json.JsonDocument> ReadDocumentAsync(HttpResponseMessage response, ObjectReference? reference, CancellationToken cancellationToken) =>
        ReadBodyAsync(response, reference, async (content, ct) => await System.Text.Json.JsonDocument.ParseAsync(await content.ReadAsStreamAsync(ct), cancellationToken: ct), cancellationToken);

    /// <summary>The body as a JSON node.</summary>
    private Task<JsonNode?> ReadNodeAsync(HttpResponseMessage response, ObjectReference? reference, CancellationToken cancellationToken) =>
        ReadBodyAsync(response, reference, async (content, ct) => await JsonNode.ParseAsync(await content.ReadAsStreamAsync(ct), cancellationToken: ct), cancellationToken);

    /// <summary>
    /// Reads the body of <paramref name="response"/> with <paramref name="read"/> within the request timeout, as the headers
    /// were: <see cref="SendAsync"/> returns once the headers arrive, and a connection that dies silently after them (an API
    /// server gone mid-LIST) would otherwise hold the reader, and the reconcile or sweep behind it, forever.
    /// </summary>
    /// <exception cref="ClusterUnreachableException">The body did not arrive in time, or the connection broke while it was read.</exception>
    private async Task<T> ReadBodyAsync<T>(HttpResponseMessage response, ObjectReference? reference, Func<HttpContent, CancellationToken, Task<T>> read, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.RequestTimeout);
        try
        {
            return await read(response.Content, timeout.Token);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw Unreachable(reference, new TimeoutException($"the answer's body stopped arriving: not complete within {_options.RequestTimeout.TotalSeconds:0}s", e));
        }
        catch (Exception e) when (e is IOException or HttpRequestException)
        {
            throw Unreachable(reference, e);
        }
    }

    /// <summary>Pass-through handler: its inner handler is KubernetesClient's configured transport.</summary>
    private sealed class PipelineEntryHandler : DelegatingHandler;
}
