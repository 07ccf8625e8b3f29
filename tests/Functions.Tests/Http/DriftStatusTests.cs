using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using FleetFunctions.Core.Storage;
using FleetFunctions.Core.Drift;
using FleetFunctions.Core.Fleet;
using FleetFunctions.Core.Inventory;
using FleetFunctions.Core.Manifests;
using FleetFunctions.Core.Reconcile;
using FleetFunctions.Core.Sources;
using FleetFunctions.Functions.Hosting;
using FleetFunctions.Orchestrations.Drift;
using FleetFunctions.Orchestrations.Engine.Client;
using FleetFunctions.Orchestrations.Rollouts;
using FleetFunctions.Simulator;
using FleetFunctions.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace FleetFunctions.Functions.Tests.Http;

/// <summary>The DriftSweep timer function, watch mode in the standalone host, and drift and fleet state in the status API.</summary>
public sealed class DriftStatusTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private const string Commit = "4444444444444444444444444444444444444444";

    [Fact]
    public async Task GetFleetAndCluster_RecordedDrift_ShowLatestDriftPerCluster()
    {
        var events = new DriftEventStore(azurite.ConnectionString, AzuriteFixture.NewName("drift"));
        var platform = Platform(new Uri("http://127.0.0.1:1"), new Uri("http://127.0.0.1:2"));
        await using var app = await TestApp.StartAsync(Options(), platform, services => services.AddSingleton(events));
        var report = new DriftReport("c1", "web", Commit, [new ObjectDrift(new ObjectReference("apps", "Deployment", "shop", "web"), "apps/v1", DriftKind.Modified, [".spec.replicas"])], []);
        var id = await events.RecordDetectedAsync(report, selfHeal: true, "sweep", DateTimeOffset.UtcNow);
        await events.RecordHealAsync("c1", "web", id, healed: true, null, DateTimeOffset.UtcNow);
        await events.RecordErrorAsync("c2", "web", "c2: cluster unreachable at http://127.0.0.1:2 (connection refused)", DateTimeOffset.UtcNow);

        var fleet = await GetJsonAsync(app, "api/fleets/web");
        var cluster = await GetJsonAsync(app, "api/clusters/c1");

        var c1 = fleet["clusters"]!.AsArray().Single(c => c!["name"]!.GetValue<string>() == "c1")!["drift"]!;
        Assert.False(c1["inSync"]!.GetValue<bool>());
        var last = c1["lastDrift"]!;
        Assert.Equal(1, last["driftCount"]!.GetValue<int>());
        Assert.True(last["healed"]!.GetValue<bool>());
        Assert.NotNull(last["detectedAt"]);
        Assert.Equal(Commit, last["commit"]!.GetValue<string>());
        Assert.Equal("Deployment/shop/web", last["objects"]![0]!["object"]!.GetValue<string>());
        Assert.Equal(".spec.replicas", last["objects"]![0]!["fields"]![0]!.GetValue<string>());
        var c2 = fleet["clusters"]!.AsArray().Single(c => c!["name"]!.GetValue<string>() == "c2")!["drift"]!;
        Assert.Contains("unreachable", c2["error"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(".spec.replicas", cluster["fleets"]![0]!["drift"]!["lastDrift"]!["objects"]![0]!["fields"]![0]!.GetValue<string>());
    }

    [Fact]
    public async Task GetFleets_ClaimHeldByARolloutThatIsNotRunning_NotShownAsActive()
    {
        var fleets = new FleetStateStore(azurite.ConnectionString, AzuriteFixture.NewName("fleets"));
        var platform = Platform(new Uri("http://127.0.0.1:1"), null);
        await using var app = await TestApp.StartAsync(Options() with { TaskHub = AzuriteFixture.NewName("hub") }, platform, services => services.AddSingleton(fleets));
        var client = app.Services.GetRequiredService<DurableClient>();

        async Task<(JsonNode? Listed, JsonNode? Single)> ActiveAsync() => (
            (await GetJsonAsync(app, "api/fleets"))["fleets"]!.AsArray().Single(f => f!["name"]!.GetValue<string>() == "web")!["activeRollout"],
            (await GetJsonAsync(app, "api/fleets/web"))["activeRollout"]);

        // A rollout that has not begun yet (pending) holds the claim: it is active.
        var pending = await client.ScheduleNewOrchestrationInstanceAsync(RolloutNames.Orchestrator, null, new StartOrchestrationOptions("web-pending") { StartAt = DateTime.UtcNow.AddHours(1) });
        await fleets.ClaimAsync("web", pending, Commit);
        var (listed, single) = await ActiveAsync();
        Assert.Equal(pending, listed!.GetValue<string>());
        Assert.Equal(pending, single!.GetValue<string>());

        // Terminated without recording its end, or gone altogether: the claim is left, but nothing is active.
        await client.TerminateAsync(pending, "test");
        await client.WaitForInstanceCompletionAsync(pending, getInputsAndOutputs: false, new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);
        Assert.Equal((null, null), await ActiveAsync());
        await fleets.ClaimAsync("web", "web-gone", Commit);
        Assert.Equal((null, null), await ActiveAsync());
        Assert.Equal("web-gone", (await fleets.GetAsync("web")).ActiveInstance);
    }

    [Fact]
    public async Task DriftSweepInvocation_ManualEdit_HealedAndShownInTheStatusApi()
    {
        await using var simulator = await FleetSimulator.StartAsync(new SimulatorOptions { WorkloadReadyDelay = TimeSpan.FromMilliseconds(50) });
        var cluster = await simulator.AddClusterAsync("c1");
        using var repo = AppRepo();
        var platform = Platform(cluster.Server, null, repo.Url);
        await using var app = await TestApp.StartAsync(Options(repo.CacheDir) with { CustomHandlerPort = FreePort.Next() }, platform, services => Isolate(services));
        await ApplyAsync(app, repo);
        await PatchAsync(cluster, "/apis/apps/v1/namespaces/shop/deployments/web", """{"spec":{"replicas":9}}""");

        // Exactly what the Functions host posts for a timer trigger.
        using var invocation = await app.Client.PostAsync("DriftSweep", new StringContent(
            """{"Data":{"timer":{"Schedule":{"AdjustForDST":true},"IsPastDue":false}},"Metadata":{"sys":{"MethodName":"DriftSweep"}}}""", Encoding.UTF8, "application/json"));
        var fleet = await GetJsonAsync(app, "api/fleets/web");

        Assert.Equal(HttpStatusCode.OK, invocation.StatusCode);
        Assert.Equal(2, cluster.GetObject("apps/v1", "Deployment", "shop", "web")!["spec"]!["replicas"]!.GetValue<long>());
        var last = fleet["clusters"]![0]!["drift"]!["lastDrift"]!;
        Assert.Equal(".spec.replicas", last["objects"]![0]!["fields"]![0]!.GetValue<string>());
        Assert.True(last["healed"]!.GetValue<bool>());
        Assert.Equal("sweep", last["trigger"]!.GetValue<string>());
    }

    [Fact]
    public async Task StandaloneWithDriftWatch_ManualEdit_HealedWithoutTheTimer()
    {
        await using var simulator = await FleetSimulator.StartAsync(new SimulatorOptions { WorkloadReadyDelay = TimeSpan.FromMilliseconds(50) });
        var cluster = await simulator.AddClusterAsync("c1");
        using var repo = AppRepo();
        var platform = Platform(cluster.Server, null, repo.Url);
        // The app was reconciled before the host starts, so its first watch refresh sees the inventory.
        var inventory = new InventoryStore(azurite.ConnectionString, new InventoryOptions { TableName = AzuriteFixture.NewName("inv") });
        await using (var setup = await TestApp.StartAsync(Options(repo.CacheDir) with { CustomHandlerPort = FreePort.Next() }, platform, services => Isolate(services, inventory)))
        {
            await ApplyAsync(setup, repo);
        }

        await using var app = await TestApp.StartAsync(Options(repo.CacheDir) with { DriftWatch = true, TaskHub = AzuriteFixture.NewName("hub") }, platform, services => Isolate(services, inventory));
        var watcher = app.Services.GetRequiredService<DriftWatcher>();
        Assert.True(await EventuallyAsync(() => watcher.ConnectedWatches == 4), $"{watcher.ConnectedWatches} watches");

        await PatchAsync(cluster, "/apis/apps/v1/namespaces/shop/deployments/web", """{"spec":{"replicas":9}}""");

        Assert.True(await EventuallyAsync(() => cluster.GetObject("apps/v1", "Deployment", "shop", "web")!["spec"]!["replicas"]!.GetValue<long>() == 2));
        var status = await app.Services.GetRequiredService<DriftEventStore>().GetAsync("c1", "web");
        Assert.Equal("watch", status!.LastDrift!.Trigger);
    }

    private AppOptions Options(string? cacheDirectory = null) => new()
    {
        StorageConnectionString = azurite.ConnectionString,
        PlatformRepository = "unused: the platform is given",
        CacheDirectory = cacheDirectory ?? Path.Combine(Path.GetTempPath(), "ff-tests", AzuriteFixture.NewName("cache")),
    };

    /// <summary>Own tables and lease for this test (the app's defaults are shared by every test on this Azurite).</summary>
    private void Isolate(IServiceCollection services, InventoryStore? inventory = null)
    {
        var storage = azurite.ConnectionString;
        services.AddSingleton(inventory ?? new InventoryStore(storage, new InventoryOptions { TableName = AzuriteFixture.NewName("inv") }));
        services.AddSingleton(new ReconcileHistoryStore(storage, AzuriteFixture.NewName("hist")));
        services.AddSingleton(new FleetStateStore(storage, AzuriteFixture.NewName("fleets")));
        services.AddSingleton(new DriftEventStore(storage, AzuriteFixture.NewName("drift")));
        services.AddSingleton(sp => new DriftSweeper(sp.GetRequiredService<IPlatformProvider>(), sp.GetRequiredService<DriftChecker>(), StorageAccount.FromConnectionString(storage),
            new DriftSweepOptions { LeaseContainer = AzuriteFixture.NewName("leases") }, clients: sp.GetRequiredService<Core.Clusters.ClusterClientFactory>()));
        services.AddSingleton(sp => new DriftWatcher(sp.GetRequiredService<IPlatformProvider>(), sp.GetRequiredService<InventoryStore>(),
            sp.GetRequiredService<Core.Clusters.ClusterClientFactory>(), sp.GetRequiredService<DriftChecker>(), new DriftWatchOptions { RefreshInterval = TimeSpan.FromMilliseconds(500) }));
    }

    private static async Task ApplyAsync(TestApp app, GitTestRepo repo)
    {
        var result = await app.Services.GetRequiredService<Reconciler>().ReconcileAsync(new ReconcileRequest("c1", "web", new GitSourceSpec(repo.Url, "main"), "app"));
        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
    }

    private static PlatformConfig Platform(Uri c1, Uri? c2, string repoUrl = "https://git.example.com/org/app.git") => PlatformLoader.Load([("p.yaml", $$"""
        apiVersion: fleetfunctions.io/v1alpha1
        kind: GitSource
        metadata: {name: apps}
        spec: {url: "{{repoUrl}}", branch: main}
        ---
        apiVersion: fleetfunctions.io/v1alpha1
        kind: ClusterFleet
        metadata: {name: web}
        spec: {source: {gitSource: apps, path: app}, selfHeal: true}
        ---
        apiVersion: fleetfunctions.io/v1alpha1
        kind: Cluster
        metadata: {name: c1}
        spec: {server: "{{c1}}", region: eu}
        """ + (c2 is null ? string.Empty : $$"""

        ---
        apiVersion: fleetfunctions.io/v1alpha1
        kind: Cluster
        metadata: {name: c2}
        spec: {server: "{{c2}}", region: eu}
        """))]);

    private static GitTestRepo AppRepo()
    {
        var repo = GitTestRepo.Create();
        repo.Write("app/app.yaml", """
            apiVersion: v1
            kind: Namespace
            metadata: {name: shop}
            ---
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: web, namespace: shop}
            spec:
              replicas: 2
              selector: {matchLabels: {app: web}}
              template:
                metadata: {labels: {app: web}}
                spec: {containers: [{name: web, image: example/web:1.0}]}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: web, namespace: shop}
            spec: {selector: {app: web}, ports: [{port: 80}]}
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: web-config, namespace: shop}
            data: {greeting: hello}
            """);
        repo.Commit("app");
        return repo;
    }

    private static async Task PatchAsync(SimulatedCluster cluster, string path, string mergePatch)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Patch, new Uri(cluster.Server, $"{path}?fieldManager=kubectl-edit"))
        {
            Content = new StringContent(mergePatch, Encoding.UTF8, "application/merge-patch+json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", cluster.Token);
        using var response = await http.SendAsync(request);
        response.EnsureSuccessStatusCode();
    }

    private static async Task<JsonNode> GetJsonAsync(TestApp app, string path)
    {
        using var response = await app.Client.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path}: {(int)response.StatusCode} {body}");
        return JsonNode.Parse(body)!;
    }

    private static async Task<bool> EventuallyAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (DateTime.UtcNow < deadline && !condition())
        {
            await Task.Delay(20);
        }

        return condition();
    }
}
