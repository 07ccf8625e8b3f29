using System.Net.Http.Headers;
using System.Text;
using FleetFunctions.Core.Storage;
using FleetFunctions.Core.Clusters;
using FleetFunctions.Core.Fleet;
using FleetFunctions.Core.Health;
using FleetFunctions.Core.Inventory;
using FleetFunctions.Core.Reconcile;
using FleetFunctions.Core.Rendering;
using FleetFunctions.Core.Secrets;
using FleetFunctions.Core.Sources;
using FleetFunctions.Orchestrations.Drift;
using FleetFunctions.Orchestrations.Rollouts;
using FleetFunctions.Simulator;
using FleetFunctions.TestSupport;

namespace FleetFunctions.Orchestrations.Tests.Drift;

/// <summary>
/// A reconciled fleet for drift tests, all real: a simulated fleet (clusters c1..cN), a local Git repository, the
/// reconcile pipeline with its inventory on Azurite, the fleet-state and drift-event tables, and the drift checker,
/// sweeper and watcher. Fleets are given as YAML (GitSource <c>apps</c>); <see cref="ApplyAsync"/> reconciles a pair.
/// The repository holds <c>app/</c> (Namespace <c>shop</c>, Deployment, Service, ConfigMap), <c>crd/</c> (a CRD) and
/// <c>widget/</c> (a custom resource of that CRD).
/// </summary>
internal sealed class DriftHarness : IAsyncDisposable
{
    /// <summary>API path of the app's Deployment <c>shop/web</c>.</summary>
    public const string DeploymentPath = "/apis/apps/v1/namespaces/shop/deployments/web";

    /// <summary>Fleet <c>healing</c> (selfHeal) on c1, fleet <c>reporting</c> (no selfHeal) on c2, same app.</summary>
    public const string HealingAndReporting = """
        apiVersion: fleetfunctions.io/v1alpha1
        kind: ClusterFleet
        metadata: {name: healing}
        spec: {source: {gitSource: apps, path: app}, clusterSelector: {matchLabels: {name: c1}}, selfHeal: true}
        ---
        apiVersion: fleetfunctions.io/v1alpha1
        kind: ClusterFleet
        metadata: {name: reporting}
        spec: {source: {gitSource: apps, path: app}, clusterSelector: {matchLabels: {name: c2}}, selfHeal: false}
        """;

    /// <summary>A fleet with selfHeal on c1 that is suspended.</summary>
    public const string Suspended = """
        apiVersion: fleetfunctions.io/v1alpha1
        kind: ClusterFleet
        metadata: {name: paused}
        spec: {source: {gitSource: apps, path: app}, clusterSelector: {matchLabels: {name: c1}}, selfHeal: true, suspend: true}
        """;

    private readonly FleetSimulator _simulator;
    private readonly string _storage;

    private DriftHarness(FleetSimulator simulator, GitTestRepo repo, PlatformConfig platform, string storage)
    {
        _simulator = simulator;
        _storage = storage;
        Repo = repo;
        Platform = new StaticPlatformProvider(platform);
        Secrets = new InMemorySecretStore(new Dictionary<string, string>());
        Clients = new ClusterClientFactory(new PlatformClusterCredentials(Platform, Secrets), new ClusterClientOptions { RequestTimeout = TimeSpan.FromSeconds(5) });
        Git = new Core.Sources.GitRepositories(new GitCacheOptions { CacheDirectory = Path.Combine(repo.CacheDir, "git") });
        Inventory = new InventoryStore(storage, new InventoryOptions { TableName = AzuriteFixture.NewName("inv") });
        Reconciler = NewReconciler("rendered");
        FleetStates = new FleetStateStore(storage, AzuriteFixture.NewName("fleets"));
        Events = new DriftEventStore(storage, AzuriteFixture.NewName("drift"));
        Checker = new DriftChecker(Reconciler, Events, FleetStates, Secrets);
        LeaseContainer = AzuriteFixture.NewName("leases");
    }

    public GitTestRepo Repo { get; }

    public StaticPlatformProvider Platform { get; }

    public PlatformConfig Config => Platform.GetCurrentAsync().AsTask().GetAwaiter().GetResult().Config;

    public InMemorySecretStore Secrets { get; }

    public ClusterClientFactory Clients { get; }

    public Core.Sources.GitRepositories Git { get; }

    public InventoryStore Inventory { get; }

    public Reconciler Reconciler { get; }

    public FleetStateStore FleetStates { get; }

    public DriftEventStore Events { get; }

    public DriftChecker Checker { get; }

    public string LeaseContainer { get; }

    public SimulatedCluster Cluster(string name) => _simulator[name];

    /// <param name="clusters">Number of clusters, named c1..cN, labelled <c>name: cN</c>.</param>
    /// <param name="fleets">ClusterFleet documents using GitSource <c>apps</c>.</param>
    public static async Task<DriftHarness> StartAsync(string storage, int clusters, string fleets)
    {
        var simulator = await FleetSimulator.StartAsync(new SimulatorOptions { WorkloadReadyDelay = TimeSpan.FromMilliseconds(100) });
        var added = new List<SimulatedCluster>();
        for (var i = 1; i <= clusters; i++)
        {
            added.Add(await simulator.AddClusterAsync($"c{i}"));
        }

        var repo = GitTestRepo.Create();
        WriteApp(repo);
        repo.Commit("app");
        var yaml = string.Join("---\n", added.Select(c => $$"""
            apiVersion: fleetfunctions.io/v1alpha1
            kind: Cluster
            metadata:
              name: {{c.Name}}
              labels:
                name: {{c.Name}}
            spec:
              server: "{{c.Server}}"
              region: eu

            """)) + $$"""
            ---
            apiVersion: fleetfunctions.io/v1alpha1
            kind: GitSource
            metadata: {name: apps}
            spec: {url: "{{repo.Url}}", branch: main}
            ---
            {{fleets}}
            """;
        return new DriftHarness(simulator, repo, PlatformLoader.Load([("platform.yaml", yaml)]), storage);
    }

    /// <summary>A reconciler sharing the Git cache and inventory but with its own render cache (another worker).</summary>
    public Reconciler NewReconciler(string renderCache) => new(
        Git,
        new ManifestRenderer(new RenderOptions { CacheDirectory = Path.Combine(Repo.CacheDir, renderCache) }),
        Clients,
        Inventory);

    public DriftSweeper NewSweeper(DriftChecker? checker = null) =>
        new(Platform, checker ?? Checker, StorageAccount.FromConnectionString(_storage), new DriftSweepOptions { Concurrency = 4, LeaseContainer = LeaseContainer }, clients: Clients);

    public DriftWatcher NewWatcher() =>
        new(Platform, Inventory, Clients, Checker, new DriftWatchOptions { RefreshInterval = TimeSpan.FromSeconds(1), Debounce = TimeSpan.FromMilliseconds(50) });

    /// <summary>Reconciles the fleet's path on the cluster at HEAD; fails the test when the reconcile fails.</summary>
    public async Task ApplyAsync(string cluster, string fleet)
    {
        var definition = Config.Fleets[fleet];
        var result = await Reconciler.ReconcileAsync(new ReconcileRequest(cluster, fleet, new GitSourceSpec(Repo.Url, "main"), definition.Source.Path)
        {
            Options = new ReconcileOptions { Health = new HealthOptions { Timeout = TimeSpan.FromSeconds(30), PollInterval = TimeSpan.FromMilliseconds(50) } },
        });
        Xunit.Assert.True(result.Succeeded, string.Join("\n", result.Errors));
    }

    /// <summary>Edits an object as another field manager, with a JSON merge patch (as <c>kubectl edit</c> would).</summary>
    public Task PatchAsync(string cluster, string path, string mergePatch, string manager = "kubectl-edit") =>
        SendAsync(cluster, HttpMethod.Patch, $"{path}?fieldManager={manager}", new StringContent(mergePatch, Encoding.UTF8, "application/merge-patch+json"));

    public Task DeleteAsync(string cluster, string path) => SendAsync(cluster, HttpMethod.Delete, path, null);

    public long Replicas(string cluster) =>
        Cluster(cluster).GetObject("apps/v1", "Deployment", "shop", "web")?["spec"]?["replicas"]?.GetValue<long>() ?? -1;

    /// <summary>Polls <paramref name="condition"/> every 20 ms for up to <paramref name="seconds"/> seconds.</summary>
    public static async Task<bool> EventuallyAsync(Func<Task<bool>> condition, int seconds = 15)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (DateTime.UtcNow < deadline)
        {
            if (await condition())
            {
                return true;
            }

            await Task.Delay(20);
        }

        return await condition();
    }

    public async ValueTask DisposeAsync()
    {
        await _simulator.DisposeAsync();
        Clients.Dispose();
        Repo.Dispose();
    }

    private async Task SendAsync(string cluster, HttpMethod method, string path, HttpContent? content)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(method, new Uri(Cluster(cluster).Server, path)) { Content = content };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Cluster(cluster).Token);
        using var response = await http.SendAsync(request);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"{method} {path} on {cluster}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
    }

    private static void WriteApp(GitTestRepo repo)
    {
        repo.Write("app/app.yaml", """
            apiVersion: v1
            kind: Namespace
            metadata:
              name: shop
            ---
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: web
              namespace: shop
            spec:
              replicas: 2
              selector:
                matchLabels: {app: web}
              template:
                metadata:
                  labels: {app: web}
                spec:
                  containers:
                    - name: web
                      image: example/web:1.0
            ---
            apiVersion: v1
            kind: Service
            metadata:
              name: web
              namespace: shop
            spec:
              selector: {app: web}
              ports:
                - port: 80
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: web-config
              namespace: shop
            data:
              greeting: hello
            """);
        repo.Write("crd/crd.yaml", """
            apiVersion: apiextensions.k8s.io/v1
            kind: CustomResourceDefinition
            metadata:
              name: widgets.example.fleetfunctions.io
            spec:
              group: example.fleetfunctions.io
              scope: Namespaced
              names: {plural: widgets, singular: widget, kind: Widget}
              versions:
                - name: v1
                  served: true
                  storage: true
                  schema:
                    openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
            """);
        repo.Write("widget/widget.yaml", """
            apiVersion: example.fleetfunctions.io/v1
            kind: Widget
            metadata:
              name: gizmo
              namespace: default
            spec:
              size: 3
            """);
    }
}
