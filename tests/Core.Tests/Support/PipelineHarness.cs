using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using FleetFunctions.Core.Clusters;
using FleetFunctions.Core.Inventory;
using FleetFunctions.Core.Reconcile;
using FleetFunctions.Core.Rendering;
using FleetFunctions.Core.Sources;
using FleetFunctions.Simulator;
using FleetFunctions.TestSupport;

namespace FleetFunctions.Core.Tests.Support;

/// <summary>A reconciler wired to a local Git repository (seeded from examples/), Azurite and one simulated cluster.</summary>
internal sealed class PipelineHarness : IDisposable
{
    private PipelineHarness(GitTestRepo repo, SimulatedCluster cluster, string storage)
    {
        Repo = repo;
        Cluster = cluster;
        Credentials = new StaticCredentialsProvider([ClusterConnection.FromToken(cluster.Name, cluster.Server, cluster.Token)]);
        Clusters = new ClusterClientFactory(Credentials);
        Source = new GitRepositories(new GitCacheOptions { CacheDirectory = Path.Combine(repo.CacheDir, "git") });
        Renderer = new ManifestRenderer(new RenderOptions { CacheDirectory = Path.Combine(repo.CacheDir, "rendered") });
        Inventory = new InventoryStore(storage, new InventoryOptions { TableName = AzuriteFixture.NewName("inv") });
        History = new ReconcileHistoryStore(storage, AzuriteFixture.NewName("hist"));
        Reconciler = new Reconciler(Source, Renderer, Clusters, Inventory, History);
    }

    public GitTestRepo Repo { get; }

    public SimulatedCluster Cluster { get; }

    public StaticCredentialsProvider Credentials { get; }

    public ClusterClientFactory Clusters { get; }

    public GitRepositories Source { get; }

    public ManifestRenderer Renderer { get; }

    public InventoryStore Inventory { get; }

    public ReconcileHistoryStore History { get; }

    public Reconciler Reconciler { get; }

    public static async Task<PipelineHarness> CreateAsync(SimulatorFixture simulator, string storage, string? seed = null)
    {
        var cluster = await simulator.AddClusterAsync();
        return new PipelineHarness(GitTestRepo.Create(seed ?? RepoPaths.Examples), cluster, storage);
    }

    /// <summary>Reconciles <paramref name="path"/> at the repository's current HEAD.</summary>
    /// <param name="clusterFleets">The fleets that select the cluster now (<see cref="ReconcileRequest.ClusterFleets"/>); null: any.</param>
    public Task<ReconcileResult> ReconcileAsync(string path, ReconcileOptions? options = null, string fleet = "podinfo", IReadOnlySet<string>? clusterFleets = null) =>
        Reconciler.ReconcileAsync(new ReconcileRequest(Cluster.Name, fleet, new GitSourceSpec(Repo.Url), path) { Options = options ?? FastOptions, ClusterFleets = clusterFleets });

    /// <summary>Reconcile options with a short health timeout suited to the simulator.</summary>
    public static ReconcileOptions FastOptions { get; } = new() { Health = new FleetFunctions.Core.Health.HealthOptions { Timeout = TimeSpan.FromSeconds(30), PollInterval = TimeSpan.FromMilliseconds(100) } };

    /// <summary>Writes to the cluster as another field manager (as <c>kubectl edit</c> would), with a JSON merge patch.</summary>
    public async Task PatchAsOtherManagerAsync(string path, string mergePatch, string manager = "kubectl-edit")
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Patch, new Uri(Cluster.Server, $"{path}?fieldManager={manager}"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Cluster.Token);
        request.Content = new StringContent(mergePatch, Encoding.UTF8, "application/merge-patch+json");
        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"PATCH {path} failed: {(int)response.StatusCode} {body}");
        }
    }

    /// <summary>Server-side applies an object as another field manager (with <paramref name="force"/>: taking the fields it sets).</summary>
    public async Task ApplyAsOtherManagerAsync(string path, JsonObject obj, string manager, bool force = false)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Patch, new Uri(Cluster.Server, $"{path}?fieldManager={manager}{(force ? "&force=true" : "")}"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Cluster.Token);
        request.Content = new StringContent(obj.ToJsonString(), Encoding.UTF8, "application/apply-patch+yaml");
        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"apply {path} failed: {(int)response.StatusCode} {body}");
        }
    }

    public void Dispose()
    {
        Clusters.Dispose();
        Repo.Dispose();
    }
}
