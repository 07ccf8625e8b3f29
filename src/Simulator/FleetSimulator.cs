using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using FleetFunctions.Simulator.Admin;
using FleetFunctions.Simulator.Hosting;

namespace FleetFunctions.Simulator;

/// <summary>
/// Many simulated Kubernetes clusters in one process, one loopback port each, plus an admin HTTP endpoint.
/// Start with <see cref="StartAsync"/>; dispose to stop everything. Thread-safe.
/// </summary>
public sealed class FleetSimulator : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, SimulatedCluster> _clusters = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _membership = new(1, 1);
    private LoopbackServer? _admin;

    private FleetSimulator(SimulatorOptions options) => Options = options;

    public SimulatorOptions Options { get; }

    /// <summary>The admin endpoint, e.g. <c>http://127.0.0.1:40000/</c>.</summary>
    public Uri AdminUrl { get; private set; } = null!;

    /// <summary>The clusters, ordered by name.</summary>
    public IReadOnlyList<SimulatedCluster> Clusters => _clusters.Values.OrderBy(c => c.Name, StringComparer.Ordinal).ToList();

    /// <summary>The cluster called <paramref name="name"/>; throws <see cref="KeyNotFoundException"/> naming it otherwise.</summary>
    public SimulatedCluster this[string name] => _clusters.TryGetValue(name, out var cluster)
        ? cluster
        : throw new KeyNotFoundException($"simulated cluster '{name}' does not exist; known: {string.Join(", ", _clusters.Keys.Order(StringComparer.Ordinal))}");

    /// <summary>Starts a simulator with no clusters and its admin endpoint.</summary>
    public static async Task<FleetSimulator> StartAsync(SimulatorOptions? options = null, CancellationToken cancellationToken = default)
    {
        var simulator = new FleetSimulator(options ?? new SimulatorOptions());
        var admin = new AdminEndpoint(simulator);
        simulator._admin = await LoopbackServer.StartAsync(simulator.Options.BindAddress, simulator.Options.AdminPort, admin.HandleAsync, cancellationToken);
        simulator.AdminUrl = new Uri($"http://{HostOf(simulator.Options)}:{simulator._admin.Port.ToString(CultureInfo.InvariantCulture)}/");
        return simulator;
    }

    /// <summary>Starts a new cluster on a free port. Names are DNS-label-like and unique.</summary>
    public async Task<SimulatedCluster> AddClusterAsync(string name, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_')))
        {
            throw new ArgumentException($"cluster name '{name}' is invalid: use letters, digits, '-', '.' or '_'.", nameof(name));
        }

        await _membership.WaitAsync(cancellationToken);
        try
        {
            if (_clusters.ContainsKey(name))
            {
                throw new InvalidOperationException($"simulated cluster '{name}' already exists.");
            }

            var cluster = await SimulatedCluster.StartAsync(name, Options, cancellationToken);
            _clusters[name] = cluster;
            return cluster;
        }
        finally
        {
            _membership.Release();
        }
    }

    /// <summary>Stops and forgets a cluster; returns false when there is none by that name.</summary>
    public async Task<bool> RemoveClusterAsync(string name, CancellationToken cancellationToken = default)
    {
        await _membership.WaitAsync(cancellationToken);
        try
        {
            if (!_clusters.TryRemove(name, out var cluster))
            {
                return false;
            }

            await cluster.DisposeAsync();
            return true;
        }
        finally
        {
            _membership.Release();
        }
    }

    /// <summary>
    /// Writes a kubeconfig with one context per cluster (context, cluster and user named after the cluster,
    /// server http://127.0.0.1:port, a bearer token), current context the first cluster.
    /// </summary>
    public void WriteKubeconfig(string path)
    {
        var clusters = Clusters;
        var yaml = new StringBuilder();
        yaml.Append("apiVersion: v1\nkind: Config\npreferences: {}\n");
        yaml.Append(CultureInfo.InvariantCulture, $"current-context: {(clusters.Count > 0 ? Quote(clusters[0].Name) : "\"\"")}\n");
        yaml.Append("clusters:\n");
        foreach (var c in clusters)
        {
            yaml.Append(CultureInfo.InvariantCulture, $"- name: {Quote(c.Name)}\n  cluster:\n    server: {Quote(c.Server.ToString().TrimEnd('/'))}\n");
        }

        yaml.Append("users:\n");
        foreach (var c in clusters)
        {
            yaml.Append(CultureInfo.InvariantCulture, $"- name: {Quote(c.Name)}\n  user:\n    token: {Quote(c.Token)}\n");
        }

        yaml.Append("contexts:\n");
        foreach (var c in clusters)
        {
            yaml.Append(CultureInfo.InvariantCulture, $"- name: {Quote(c.Name)}\n  context:\n    cluster: {Quote(c.Name)}\n    user: {Quote(c.Name)}\n    namespace: default\n");
        }

        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        File.WriteAllText(path, yaml.ToString());
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var cluster in _clusters.Values)
        {
            await cluster.DisposeAsync();
        }

        _clusters.Clear();
        if (_admin is not null)
        {
            await _admin.StopAsync();
            _admin = null;
        }

        _membership.Dispose();
    }

    private static string HostOf(SimulatorOptions options) =>
        options.BindAddress.Equals(System.Net.IPAddress.Any) ? "127.0.0.1" : options.BindAddress.ToString();

    private static string Quote(string value) => $"\"{value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)}\"";
}
