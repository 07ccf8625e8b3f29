using System.Globalization;
using System.Text.Json.Nodes;
using FleetFunctions.Simulator.Api;
using FleetFunctions.Simulator.Hosting;
using FleetFunctions.Simulator.Metrics;
using FleetFunctions.Simulator.Workloads;
using Microsoft.AspNetCore.Http;

namespace FleetFunctions.Simulator;

/// <summary>
/// One simulated Kubernetes cluster: its API on its own loopback port, its objects, counters and faults.
/// Thread-safe.
/// </summary>
public sealed class SimulatedCluster : IAsyncDisposable
{
    private readonly ApiHandler _api;
    private readonly MetricsEndpoint _metrics;
    private readonly WorkloadController _workloads;
    private readonly SemaphoreSlim _faultGate = new(1, 1);
    private readonly SimulatorOptions _options;
    private LoopbackServer? _server;
    private ClusterFault _fault = ClusterFault.None;
    private int _throttlesLeft;

    private SimulatedCluster(string name, SimulatorOptions options)
    {
        Name = name;
        _options = options;
        Backend = new ClusterBackend(options, TimeProvider.System);
        _api = new ApiHandler(Backend);
        _workloads = new WorkloadController(Backend);
        _metrics = new MetricsEndpoint(Backend, name);
        Token = $"fleetsim-{name}-{Guid.NewGuid():N}";
    }

    public string Name { get; }

    /// <summary>The API server URL, e.g. <c>http://127.0.0.1:41234</c>.</summary>
    public Uri Server { get; private set; } = null!;

    /// <summary>The Prometheus scrape URL of this cluster's synthetic service metrics.</summary>
    public Uri MetricsUrl => new(Server, "/metrics");

    /// <summary>A bearer token for kubeconfigs; the simulator accepts any token or none.</summary>
    public string Token { get; }

    public ClusterFault Fault => Volatile.Read(ref _fault);

    /// <summary>Every API request received (metrics scrapes excluded).</summary>
    public long RequestCount => Backend.Requests;

    /// <summary>Client requests that changed state (creates, updates that changed something, deletes).</summary>
    public long WriteCount => Backend.Writes;

    /// <summary>
    /// The last client DELETE requests (at most 256), oldest first, with the propagationPolicy each asked for. There is no
    /// garbage collector: the policy decides nothing here, tests read it from this list.
    /// </summary>
    public IReadOnlyList<SimulatedDeletion> Deletions => Backend.Deletions;

    public SimulatedClusterStats Stats
    {
        get
        {
            lock (Backend.Store.Sync)
            {
                return new SimulatedClusterStats(Name, RequestCount, WriteCount, Backend.Store.ObjectCount, Backend.Store.ResourceVersion, Fault.ToString());
            }
        }
    }

    internal ClusterBackend Backend { get; }

    internal static async Task<SimulatedCluster> StartAsync(string name, SimulatorOptions options, CancellationToken cancellationToken)
    {
        var cluster = new SimulatedCluster(name, options);
        cluster._server = await LoopbackServer.StartAsync(options.BindAddress, 0, cluster.HandleAsync, cancellationToken);
        var host = options.BindAddress.Equals(System.Net.IPAddress.Any) ? "127.0.0.1" : options.BindAddress.ToString();
        cluster.Server = new Uri($"http://{host}:{cluster._server.Port.ToString(CultureInfo.InvariantCulture)}");
        return cluster;
    }

    /// <summary>Injects or clears a fault; blocks until a Down listener is closed or reopened.</summary>
    public void SetFault(ClusterFault fault) => SetFaultAsync(fault).GetAwaiter().GetResult();

    /// <summary>Injects or clears a fault. Down closes the listener; leaving Down rebinds the same port.</summary>
    public async Task SetFaultAsync(ClusterFault fault, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(fault);
        await _faultGate.WaitAsync(cancellationToken);
        try
        {
            var wasDown = _fault.Mode == ClusterFaultMode.Down;
            Volatile.Write(ref _throttlesLeft, fault.Count ?? 0);
            Volatile.Write(ref _fault, fault);
            if (fault.Mode == ClusterFaultMode.Down && !wasDown && _server is not null)
            {
                await _server.StopAsync();
                _server = null;
            }
            else if (fault.Mode != ClusterFaultMode.Down && wasDown)
            {
                _server = await LoopbackServer.StartAsync(_options.BindAddress, Server.Port, HandleAsync, cancellationToken);
            }
        }
        finally
        {
            _faultGate.Release();
        }
    }

    /// <summary>
    /// Sets (null: removes) a mutating admission step, as a Kyverno or Gatekeeper mutation webhook would run: it is given
    /// every object written (create, update, patch, server-side apply, status), after the request is merged and before the
    /// object is stored or compared with the live one, and may change it. It runs under the cluster's lock.
    /// </summary>
    public void SetMutatingAdmission(Action<JsonObject>? mutate) => Backend.MutatingAdmission = mutate;

    /// <summary>Deletes every object, namespaces and CRDs included, then recreates the default namespaces.</summary>
    public void Wipe() => Backend.Wipe();

    public void ResetCounters() => Backend.ResetCounters();

    /// <summary>
    /// Snapshot of stored objects as JSON, optionally filtered by apiVersion/kind and namespace, ordered by
    /// kind, namespace and name.
    /// </summary>
    public IReadOnlyList<JsonObject> ListObjects(string? apiVersion = null, string? kind = null, string? ns = null)
    {
        List<Store.StoredObject> objects;
        lock (Backend.Store.Sync)
        {
            objects = Backend.Store.All().Where(p => ns is null || p.Object.Namespace == ns).Select(p => p.Object).ToList();
        }

        return objects.Select(o => o.ToJsonObject())
            .Where(o => (apiVersion is null || o["apiVersion"]?.ToString() == apiVersion) && (kind is null || o["kind"]?.ToString() == kind))
            .OrderBy(o => o["kind"]?.ToString(), StringComparer.Ordinal)
            .ThenBy(o => o["metadata"]?["namespace"]?.ToString(), StringComparer.Ordinal)
            .ThenBy(o => o["metadata"]?["name"]?.ToString(), StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>One object by apiVersion, kind, namespace (null for cluster-scoped) and name; null when absent.</summary>
    public JsonObject? GetObject(string apiVersion, string kind, string? ns, string name)
    {
        var type = Backend.Registry.Current.FindKind(apiVersion, kind);
        if (type is null)
        {
            return null;
        }

        lock (Backend.Store.Sync)
        {
            return Backend.Store.Get(type.StorageKey, type.Namespaced ? ns ?? "" : "", name)?.ToJsonObject();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _workloads.Dispose();
        lock (Backend.Store.Sync)
        {
            Backend.Store.CloseWatchers();
        }

        if (_server is not null)
        {
            await _server.StopAsync();
            _server = null;
        }

        _faultGate.Dispose();
    }

    private async Task HandleAsync(HttpContext context)
    {
        var isMetrics = context.Request.Path.Equals("/metrics", StringComparison.Ordinal);
        if (!isMetrics)
        {
            Backend.CountRequest();
        }

        var fault = Fault;
        switch (fault.Mode)
        {
            case ClusterFaultMode.Erroring:
                await ApiHandler.WriteStatusAsync(context, ApiException.ServiceUnavailable($"cluster {Name}: the server is currently unable to handle the request (injected fault)"));
                return;
            case ClusterFaultMode.Slow:
                await Task.Delay(fault.Latency, context.RequestAborted);
                break;
            case ClusterFaultMode.Throttling when !isMetrics && fault.Throttles(context.Request.Method) && (fault.Count is null || Interlocked.Decrement(ref _throttlesLeft) >= 0):
                // kube-apiserver's APF and max-in-flight filters answer before any handler: plain text, no Status body
                context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                context.Response.Headers.RetryAfter = fault.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
                context.Response.ContentType = "text/plain; charset=utf-8";
                await context.Response.WriteAsync("Too many requests, please try again later.\n", context.RequestAborted);
                return;
        }

        if (isMetrics)
        {
            await _metrics.WriteAsync(context);
            return;
        }

        await _api.HandleAsync(context);
    }
}
