using System.Net.Http.Json;
using System.Text.Json.Nodes;
using FleetFunctions.Core.Inventory;
using FleetFunctions.Core.Reconcile;
using FleetFunctions.Core.Secrets;
using FleetFunctions.Core.Webhooks;
using FleetFunctions.Functions.Hosting;
using FleetFunctions.Orchestrations.Rollouts;
using FleetFunctions.Simulator;
using FleetFunctions.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace FleetFunctions.Functions.Tests.EndToEnd;

/// <summary>
/// The whole app for real: the executable's web application (standalone with its engine worker, delivery poller and
/// timers, or as a custom handler with none of them), Azurite, a simulated fleet of clusters, a local Git platform
/// repository (Clusters c1..cN pointing at the simulator, GitSource <c>apps</c> with a webhook secret, ClusterFleet
/// <c>web</c> rolling out <c>web/</c> to every cluster at once) and a local Git app repository. Every table and queue
/// name is unique to the environment.
/// </summary>
internal sealed class FleetEnvironment : IAsyncDisposable
{
    public const string WebhookSecret = "e2e-webhook-secret";
    public const string Fleet = "web";

    public static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    private readonly FleetSimulator _simulator;

    private FleetEnvironment(FleetSimulator simulator, IReadOnlyList<SimulatedCluster> clusters, GitTestRepo appRepo, GitTestRepo platformRepo, TestApp app)
    {
        _simulator = simulator;
        Clusters = clusters;
        AppRepo = appRepo;
        PlatformRepo = platformRepo;
        App = app;
    }

    public IReadOnlyList<SimulatedCluster> Clusters { get; }

    public GitTestRepo AppRepo { get; }

    public GitTestRepo PlatformRepo { get; }

    public TestApp App { get; }

    public HttpClient Client => App.Client;

    public DeliveryStore Deliveries => App.Services.GetRequiredService<DeliveryStore>();

    /// <param name="customHandler">True: the app runs as an Azure Functions custom handler (no pollers, no timers).</param>
    /// <param name="sealing">FleetFunctions' sealing key (PEM, stored as the secret <c>sealing-key</c>) and each cluster's sealing certificate by name.</param>
    public static async Task<FleetEnvironment> StartAsync(string storage, int clusterCount = 3, bool customHandler = false, (string Key, Func<string, string> CertificateOf)? sealing = null)
    {
        var simulator = await FleetSimulator.StartAsync(new SimulatorOptions { WorkloadReadyDelay = TimeSpan.FromMilliseconds(200) });
        var clusters = new List<SimulatedCluster>();
        for (var i = 1; i <= clusterCount; i++)
        {
            clusters.Add(await simulator.AddClusterAsync($"c{i}"));
        }

        var appRepo = GitTestRepo.Create();
        WriteApp(appRepo, "example/web:1.0");
        appRepo.Commit("web 1.0");

        var platformRepo = GitTestRepo.Create();
        platformRepo.Write("clusters.yaml", string.Join("---\n", clusters.Select(c => $"""
            apiVersion: fleetfunctions.io/v1alpha1
            kind: Cluster
            metadata:
              name: {c.Name}
              labels: {"{"}env: e2e{"}"}
            spec:
              server: {c.Server}
              region: eu
            {SealingCertificateYaml(sealing?.CertificateOf(c.Name))}
            """)));
        platformRepo.Write("fleets.yaml", $$"""
            apiVersion: fleetfunctions.io/v1alpha1
            kind: GitSource
            metadata: {name: apps}
            spec:
              url: "{{appRepo.Url}}"
              branch: main
              webhookSecretRef: {name: apps-webhook}
            ---
            apiVersion: fleetfunctions.io/v1alpha1
            kind: ClusterFleet
            metadata: {name: {{Fleet}}}
            spec:
              source: {gitSource: apps, path: web}
              clusterSelector:
                matchLabels: {env: e2e}
              healthTimeout: 30s
              rollout: {strategy: AllAtOnce}
            """);
        platformRepo.Commit("platform");

        // Under the platform repository's temporary root, so it goes when the repository does.
        var cacheDirectory = Path.Combine(platformRepo.Root, "app-cache");
        var options = new AppOptions
        {
            StorageConnectionString = storage,
            PlatformRepository = platformRepo.Url,
            TaskHub = AzuriteFixture.NewName("e2e"),
            CacheDirectory = cacheDirectory,
            CustomHandlerPort = customHandler ? FreePort.Next() : null,
        };
        var app = await TestApp.StartAsync(options, platform: null, services =>
        {
            var secrets = new Dictionary<string, string> { ["apps-webhook"] = WebhookSecret };
            if (sealing is { } s)
            {
                secrets["sealing-key"] = s.Key;
            }

            services.AddSingleton<ISecretStore>(new InMemorySecretStore(secrets));
            services.AddSingleton(new DeliveryStore(storage, new DeliveryStoreOptions(AzuriteFixture.NewName("deliveries"), AzuriteFixture.NewName("deliveries"))));
            services.AddSingleton(new FleetStateStore(storage, AzuriteFixture.NewName("fleets")));
            services.AddSingleton(new InventoryStore(storage, new InventoryOptions { TableName = AzuriteFixture.NewName("inv") }));
            services.AddSingleton(new ReconcileHistoryStore(storage, AzuriteFixture.NewName("history")));
        });
        return new FleetEnvironment(simulator, clusters, appRepo, platformRepo, app);
    }

    /// <summary>A Cluster's <c>sealingCertificate</c> line and block (indented under <c>spec</c>), or nothing.</summary>
    private static string SealingCertificateYaml(string? pem) =>
        pem is null ? string.Empty : "  sealingCertificate: |\n" + string.Join("\n", pem.TrimEnd().Split('\n').Select(l => "    " + l)) + "\n";

    /// <summary>Commits the app with <paramref name="image"/>; returns the commit.</summary>
    public string CommitApp(string image)
    {
        WriteApp(AppRepo, image);
        return AppRepo.Commit($"web {image}");
    }

    /// <summary>The image of the web Deployment on a cluster, or null when it is not there.</summary>
    public string? ImageOn(SimulatedCluster cluster) =>
        cluster.GetObject("apps/v1", "Deployment", "web", "web")?["spec"]?["template"]?["spec"]?["containers"]?[0]?["image"]?.GetValue<string>();

    /// <summary>Polls a rollout's status URL (the status API) until its runtime status is final; returns the last body.</summary>
    public async Task<JsonObject> WaitForRolloutAsync(string statusUrl, Func<Task>? pump = null)
    {
        var deadline = DateTime.UtcNow + Timeout;
        JsonObject? last = null;
        while (DateTime.UtcNow < deadline)
        {
            if (pump is not null)
            {
                await pump();
            }

            using var response = await Client.GetAsync(statusUrl);
            if (response.IsSuccessStatusCode)
            {
                last = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
                if (last["runtimeStatus"]?.GetValue<string>() is "Completed" or "Failed" or "Terminated")
                {
                    return last;
                }
            }

            await Task.Delay(pump is null ? 200 : 20);
        }

        throw new TimeoutException($"rollout {statusUrl} did not finish within {Timeout}; last status: {last?.ToJsonString() ?? "none"}");
    }

    public async ValueTask DisposeAsync()
    {
        await App.DisposeAsync();
        await _simulator.DisposeAsync();
        AppRepo.Dispose();
        PlatformRepo.Dispose();
    }

    private static void WriteApp(GitTestRepo repo, string image) => repo.Write("web/app.yaml", TestManifests.WebApp(image));
}
