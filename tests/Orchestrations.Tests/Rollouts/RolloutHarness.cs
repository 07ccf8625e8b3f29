using System.Text.Json;
using System.Text.Json.Nodes;
using FleetFunctions.Core.Analysis;
using FleetFunctions.Core.Clusters;
using FleetFunctions.Core.Fleet;
using FleetFunctions.Core.Inventory;
using FleetFunctions.Core.Reconcile;
using FleetFunctions.Core.Rendering;
using FleetFunctions.Core.Secrets;
using FleetFunctions.Core.Sources;
using FleetFunctions.Orchestrations.Engine;
using FleetFunctions.Orchestrations.Engine.Client;
using FleetFunctions.Orchestrations.Engine.Worker;
using FleetFunctions.Orchestrations.Rollouts;
using FleetFunctions.Simulator;
using FleetFunctions.TestSupport;

namespace FleetFunctions.Orchestrations.Tests.Rollouts;

/// <summary>
/// Everything a rollout touches, for real: the durable engine on Azurite, a simulated fleet, a local Git
/// repository with the app, the reconcile pipeline, and (for canaries) Prometheus scraping the simulator.
/// Clusters are named c1..cN; labels come from the test. The app is a Namespace and a Deployment under
/// <c>web/&lt;variant&gt;</c>, where each cluster's <c>variant</c> label picks its folder.
/// </summary>
internal sealed class RolloutHarness : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    private readonly FleetSimulator _simulator;
    private readonly DurableTaskHub _hub;
    private readonly DurableWorker _worker;
    private readonly ClusterClientFactory _clients;
    private readonly HttpClient _http = new();
    private readonly PrometheusServer? _prometheus;
    private GitTestRepo? _platformRepo;

    private RolloutHarness(FleetSimulator simulator, GitTestRepo repo, DurableTaskHub hub, DurableWorker worker, DurableClient client,
        FleetStateStore fleets, InventoryStore inventory, ClusterClientFactory clients, PrometheusServer? prometheus)
    {
        _simulator = simulator;
        Repo = repo;
        _hub = hub;
        _worker = worker;
        Client = client;
        Fleets = fleets;
        Inventory = inventory;
        _clients = clients;
        _prometheus = prometheus;
    }

    public GitTestRepo Repo { get; }

    public DurableClient Client { get; }

    public FleetStateStore Fleets { get; }

    /// <summary>The inventories the rollouts' reconciles read and write.</summary>
    public InventoryStore Inventory { get; }

    public SimulatedCluster Cluster(string name) => _simulator[name];

    /// <param name="labels">Labels of each cluster c1..cN (each needs a <c>variant</c>: good or broken).</param>
    /// <param name="fleets">ClusterFleet documents (YAML) using GitSource <c>apps</c>.</param>
    /// <param name="platformFiles">When given, the platform (with these extra files, e.g. policies) is a Git repository read by the real provider.</param>
    /// <param name="ssh">When given, GitSource <c>apps</c> is fetched from it over SSH, with its client key as the secret <c>apps-deploy-key</c>.</param>
    /// <param name="workloadReadyDelay">How long the simulated workloads take to become ready (200 ms when not given).</param>
    public static async Task<RolloutHarness> StartAsync(string storage, IReadOnlyList<Dictionary<string, string>> labels, string fleets, bool withPrometheus = false,
        IReadOnlyDictionary<string, string>? platformFiles = null, SshGitServer? ssh = null, TimeSpan? workloadReadyDelay = null)
    {
        var simulator = await FleetSimulator.StartAsync(new SimulatorOptions { WorkloadReadyDelay = workloadReadyDelay ?? TimeSpan.FromMilliseconds(200) });
        var clusters = new List<SimulatedCluster>();
        for (var i = 0; i < labels.Count; i++)
        {
            clusters.Add(await simulator.AddClusterAsync($"c{i + 1}"));
        }

        var repo = GitTestRepo.Create();
        WriteApp(repo, "example/web:1.0", "example/web:1.0");
        repo.Commit("web 1.0");

        var platformYaml = ssh is null
            ? PlatformYaml(clusters, labels, repo.Url, fleets)
            : PlatformYaml(clusters, labels, ssh.UrlOf(repo.WorkDir), fleets, $"secretRef: {{name: apps-deploy-key}}, knownHosts: {JsonSerializer.Serialize(ssh.KnownHosts)}");
        var git = new Core.Sources.GitRepositories(new GitCacheOptions { CacheDirectory = Path.Combine(repo.CacheDir, "git") });
        IPlatformProvider platform;
        IPolicySetSource? policies = null;
        GitTestRepo? platformRepo = null;
        if (platformFiles is null)
        {
            platform = new StaticPlatformProvider(PlatformLoader.Load([("platform.yaml", platformYaml)]));
        }
        else
        {
            platformRepo = GitTestRepo.Create();
            platformRepo.Write("platform.yaml", platformYaml);
            foreach (var (path, text) in platformFiles)
            {
                platformRepo.Write(path, text);
            }

            platformRepo.Commit("platform");
            var spec = new PlatformRepository(new GitSourceSpec(platformRepo.Url, "main"));
            var provider = new GitPlatformProvider(git, spec);
            await provider.RefreshAsync();
            platform = provider;
            policies = new GitPolicySetSource(git, spec);
        }

        PrometheusServer? prometheus = null;
        if (withPrometheus)
        {
            prometheus = await PrometheusServer.StartAsync(TimeSpan.FromMilliseconds(500),
                clusters.Select(c => new ScrapeTarget($"{c.MetricsUrl.Host}:{c.MetricsUrl.Port}", new Dictionary<string, string>())));
        }

        var secrets = new InMemorySecretStore(ssh is null ? [] : new Dictionary<string, string> { ["apps-deploy-key"] = ssh.ClientKey });
        var clients = new ClusterClientFactory(new PlatformClusterCredentials(platform, secrets));
        var inventory = new InventoryStore(storage, new InventoryOptions { TableName = AzuriteFixture.NewName("inv") });
        var reconciler = new Reconciler(
            git,
            new ManifestRenderer(new RenderOptions { CacheDirectory = Path.Combine(repo.CacheDir, "rendered") }),
            clients,
            inventory);
        var fleetStore = new FleetStateStore(storage, AzuriteFixture.NewName("fleets"));

        var hub = new DurableTaskHub(new DurableTaskHubOptions(storage, AzuriteFixture.NewName("h")));
        await hub.CreateIfNotExistsAsync();
        var registry = new DurableTaskRegistry { Version = "test" };
        var client = new DurableClient(hub, registry.Version);
        var analyzer = prometheus is null ? null : new CanaryAnalyzer(new PrometheusClient(new HttpClient(), new PrometheusClientOptions(prometheus.Url)));
        new RolloutActivities(platform, new PipelineClusterReconciler(reconciler, secrets, policies), fleetStore, new RolloutAncestry(git, secrets), client, analyzer).Register(registry);
        registry.AddRolloutOrchestrator();
        var worker = new DurableWorker(hub, registry);
        await worker.StartAsync();
        return new RolloutHarness(simulator, repo, hub, worker, client, fleetStore, inventory, clients, prometheus) { _platformRepo = platformRepo };
    }

    /// <summary>Commits the app with one image for clusters labelled variant=good and another for variant=broken.</summary>
    public string CommitApp(string goodImage, string brokenImage)
    {
        WriteApp(Repo, goodImage, brokenImage);
        return Repo.Commit($"web {goodImage} / {brokenImage}");
    }

    public string HeadCommit() => Repo.Commit("no-op commit");

    public Task<string> StartAsync(string fleet, string commit) =>
        RolloutOrchestrator.StartAsync(Client, new RolloutRequest(fleet, commit), RolloutInstanceId.For(fleet, commit));

    public async Task<(RolloutOutcome Outcome, RolloutStatus Status)> RunAsync(string fleet, string commit) =>
        await WaitAsync(await StartAsync(fleet, commit));

    public async Task<(RolloutOutcome Outcome, RolloutStatus Status)> WaitAsync(string instanceId)
    {
        using var cts = new CancellationTokenSource(Timeout);
        try
        {
            var result = await Client.WaitForInstanceCompletionAsync(instanceId, getInputsAndOutputs: true, cts.Token);
            Xunit.Assert.True(result.RuntimeStatus == OrchestrationRuntimeStatus.Completed, $"{instanceId}: {result.RuntimeStatus} {result.FailureDetails} {result.SerializedCustomStatus}");
            return (result.ReadOutputAs<RolloutOutcome>()!, result.ReadCustomStatusAs<RolloutStatus>()!);
        }
        catch (OperationCanceledException)
        {
            var status = await Client.GetInstanceAsync(instanceId, true);
            throw new TimeoutException($"rollout {instanceId} did not finish within {Timeout}: {status?.RuntimeStatus} {status?.SerializedCustomStatus}");
        }
    }

    /// <summary>Polls the rollout's custom status until <paramref name="condition"/> holds.</summary>
    public async Task<RolloutStatus> WaitForStatusAsync(string instanceId, Func<RolloutStatus, bool> condition)
    {
        var deadline = DateTime.UtcNow + Timeout;
        RolloutStatus? last = null;
        while (DateTime.UtcNow < deadline)
        {
            var metadata = await Client.GetInstanceAsync(instanceId, true);
            if (metadata?.SerializedCustomStatus is { } text && text.Contains("\"Phase\"", StringComparison.OrdinalIgnoreCase))
            {
                last = metadata.ReadCustomStatusAs<RolloutStatus>();
                if (last is not null && condition(last))
                {
                    return last;
                }
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"rollout {instanceId} did not reach the expected state; last: {JsonSerializer.Serialize(last)}");
    }

    /// <summary>The image of the web Deployment on a cluster, or null when it is not there.</summary>
    public string? ImageOn(string cluster) =>
        _simulator[cluster].GetObject("apps/v1", "Deployment", "web", "web")?["spec"]?["template"]?["spec"]?["containers"]?[0]?["image"]?.GetValue<string>();

    /// <summary>Waits until Prometheus has scraped the simulator's request counters for <paramref name="cluster"/>.</summary>
    public Task WaitForMetricsAsync(string cluster) =>
        _prometheus!.WaitForValueAsync($"sum(fleet_sim_http_requests_total{{cluster=\"{cluster}\"}})", TimeSpan.FromSeconds(60));

    public async ValueTask DisposeAsync()
    {
        await _worker.DisposeAsync();
        await _hub.DeleteAsync();
        await _simulator.DisposeAsync();
        if (_prometheus is not null)
        {
            await _prometheus.DisposeAsync();
        }

        _clients.Dispose();
        _http.Dispose();
        Repo.Dispose();
        _platformRepo?.Dispose();
    }

    /// <summary>The platform resources: one Cluster per simulated cluster (labels from the test, regions eu/us alternating), GitSource <c>apps</c>, the fleets.</summary>
    public static string PlatformYaml(IReadOnlyList<SimulatedCluster> clusters, IReadOnlyList<Dictionary<string, string>> labels, string appRepositoryUrl, string fleets, string? sourceFields = null) =>
        string.Join("---\n", clusters.Select((c, i) => $$"""
            apiVersion: fleetfunctions.io/v1alpha1
            kind: Cluster
            metadata:
              name: {{c.Name}}
              labels: {{JsonSerializer.Serialize(labels[i])}}
            spec:
              server: {{c.Server}}
              region: {{(i % 2 == 0 ? "eu" : "us")}}

            """)) + $$"""
            ---
            apiVersion: fleetfunctions.io/v1alpha1
            kind: GitSource
            metadata: {name: apps}
            spec: {url: "{{appRepositoryUrl}}", branch: main{{(sourceFields is null ? "" : ", " + sourceFields)}}}
            ---
            {{fleets}}
            """;

    /// <summary>Writes the app: a Namespace and a Deployment under web/good and web/broken.</summary>
    public static void WriteApp(GitTestRepo repo, string goodImage, string brokenImage)
    {
        foreach (var (variant, image) in new[] { ("good", goodImage), ("broken", brokenImage) })
        {
            repo.Write($"web/{variant}/app.yaml", TestManifests.WebApp(image));
        }
    }
}
