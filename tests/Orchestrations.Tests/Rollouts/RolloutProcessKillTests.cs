using System.Text.Json;
using System.Text.Json.Nodes;
using FleetFunctions.Core.Fleet;
using FleetFunctions.Orchestrations.Engine;
using FleetFunctions.Orchestrations.Engine.Client;
using FleetFunctions.Orchestrations.Engine.History;
using FleetFunctions.Orchestrations.Rollouts;
using FleetFunctions.Simulator;
using FleetFunctions.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace FleetFunctions.Orchestrations.Tests.Rollouts;

/// <summary>
/// The host process dies mid-rollout (SIGKILL, no shutdown code) and is started again: the rollout resumes at its
/// last checkpoint. The host is the real app, <c>fleetfunctions serve</c>, reading its fleets from a platform
/// repository in Git and reconciling simulated clusters served from this test process.
/// </summary>
public sealed class RolloutProcessKillTests(AzuriteFixture azurite, ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    private const int ClusterCount = 6;
    private static readonly TimeSpan s_soak = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan s_completion = TimeSpan.FromMinutes(4);

    [Fact]
    public async Task AppProcess_KilledDuringAWavesAppliesAndDuringASoak_ResumesAtTheLastCheckpointAndFinishes()
    {
        // Deployments become available 3 s after they are applied, so each reconcile activity runs for seconds.
        await using var simulator = await FleetSimulator.StartAsync(new SimulatorOptions { WorkloadReadyDelay = TimeSpan.FromSeconds(3) });
        var clusters = new List<SimulatedCluster>();
        for (var i = 1; i <= ClusterCount; i++)
        {
            clusters.Add(await simulator.AddClusterAsync($"c{i}"));
        }

        using var appRepo = GitTestRepo.Create();
        RolloutHarness.WriteApp(appRepo, "example/web:2.0", "example/web:2.0");
        var commit = appRepo.Commit("web 2.0");
        using var platformRepo = GitTestRepo.Create();
        var labels = clusters.Select(_ => new Dictionary<string, string> { ["variant"] = "good" }).ToList();
        platformRepo.Write("platform.yaml", RolloutHarness.PlatformYaml(clusters, labels, appRepo.Url, $$"""
            apiVersion: fleetfunctions.io/v1alpha1
            kind: ClusterFleet
            metadata: {name: web}
            spec:
              source: {gitSource: apps, path: "web/${cluster.labels.variant}"}
              healthTimeout: 1m
              rollout:
                strategy: Progressive
                progressive:
                  waves: [{count: 2}, {count: 2}, {count: 2}]
                  soak: {{(int)s_soak.TotalSeconds}}s

            """));
        platformRepo.Commit("platform: fleet web in 3 waves");

        var hubName = AzuriteFixture.NewName("kill");
        var settings = new Dictionary<string, string>
        {
            ["Storage"] = azurite.ConnectionString,
            ["PlatformRepository"] = platformRepo.Url,
            ["TaskHub"] = hubName,
            ["CacheDirectory"] = Path.Combine(appRepo.CacheDir, "app"),
            // Work held by the killed process comes back after this; long enough that a loaded machine renews leases in time.
            ["EngineVisibilityTimeout"] = "10s",
        };
        var hub = new DurableTaskHub(new DurableTaskHubOptions(azurite.ConnectionString, hubName));
        var client = new DurableClient(hub);
        var app = await AppProcess.StartAsync(settings);
        try
        {
            var id = await RolloutOrchestrator.StartAsync(client, new RolloutRequest("web", commit), RolloutInstanceId.For("web", commit));

            // Kill 1: while the first wave's reconcile activities are scheduled and not all have completed.
            var atKill1 = await WaitForHistoryAsync(client, id, app, h => Reconciles(h).Count > 0 && Reconciles(h).Any(s => !IsCompleted(h, s)));
            app.Kill();
            var inFlight = Reconciles(atKill1).Where(s => !IsCompleted(atKill1, s)).Select(ClusterOf).ToList();
            output.WriteLine($"killed during wave 0 with reconciles of {string.Join(", ", inFlight)} in flight");
            app.Dispose();
            app = await AppProcess.StartAsync(settings);

            // Kill 2: while the rollout soaks after the second wave (a durable timer is pending).
            var soaking = await WaitForStatusAsync(client, id, app, s => s.Phase == RolloutPhase.Soaking && s.CurrentWave == 1);
            var earlyWaves = soaking.Clusters.Where(c => c.Wave <= 1).Select(c => c.Name).ToList();
            var writesBeforeKill2 = earlyWaves.ToDictionary(c => c, c => simulator[c].WriteCount);
            app.Kill();
            output.WriteLine($"killed while soaking after wave 1 ({string.Join(", ", earlyWaves)} healthy)");
            app.Dispose();
            app = await AppProcess.StartAsync(settings);

            using var cts = new CancellationTokenSource(s_completion);
            var result = await client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true, cts.Token);
            var history = (await client.GetInstanceAsync(id, getInputsAndOutputs: true, includeHistory: true))!.History!;

            Assert.True(result.RuntimeStatus == OrchestrationRuntimeStatus.Completed, $"{id}: {result.RuntimeStatus} {result.FailureDetails} {result.SerializedCustomStatus}\n{app.Output}");
            Assert.NotEmpty(inFlight);
            Assert.Equal(["c1", "c2", "c3", "c4"], earlyWaves);

            // The outputs: succeeded, every cluster at the new commit.
            var outcome = result.ReadOutputAs<RolloutOutcome>()!;
            Assert.Equal(RolloutPhase.Succeeded, outcome.Phase);
            Assert.Equal($"commit {commit[..12]} is healthy on all {ClusterCount} cluster(s)", outcome.Reason);
            Assert.All(clusters, c => Assert.Equal("example/web:2.0", c.GetObject("apps/v1", "Deployment", "web", "web")?["spec"]?["template"]?["spec"]?["containers"]?[0]?["image"]?.GetValue<string>()));

            // No wave re-run from scratch: one reconcile scheduled per cluster, each result recorded once, and the
            // clusters of the waves done before the second kill got no write after it.
            var reconciles = Reconciles(history);
            Assert.Equal(clusters.Select(c => c.Name), reconciles.Select(ClusterOf).Order(StringComparer.Ordinal));
            Assert.All(reconciles, s => Assert.Single(history, e => e.IsCompletionEvent && e.TaskScheduledId == s.EventId));
            var completions = history.Where(e => e.IsCompletionEvent).Select(e => e.TaskScheduledId).ToList();
            Assert.Equal(completions.Count, completions.Distinct().Count());
            Assert.Equal(history.Count(e => e.IsSchedulingEvent), completions.Count);
            Assert.All(earlyWaves, c => Assert.Equal(writesBeforeKill2[c], simulator[c].WriteCount));

            // The custom status agrees with the outcome.
            var status = result.ReadCustomStatusAs<RolloutStatus>()!;
            Assert.Equal(RolloutPhase.Succeeded, status.Phase);
            Assert.Equal(2, status.CurrentWave);
            Assert.All(status.Waves, w => Assert.Equal("Healthy", w.State));
            Assert.All(status.Clusters, c => Assert.Equal(ClusterRolloutState.Healthy, c.State));
            Assert.All(status.Clusters, c => Assert.Equal(2, c.Created + c.Configured + c.Unchanged));
            Assert.Equal([0, 0, 1, 1, 2, 2], status.Clusters.OrderBy(c => c.Name, StringComparer.Ordinal).Select(c => c.Wave));

            // And so does the app's own status API.
            using var http = new HttpClient { BaseAddress = app.BaseUrl };
            var fleet = JsonNode.Parse(await http.GetStringAsync(new Uri("api/fleets/web", UriKind.Relative)))!;
            Assert.Equal(commit, fleet["syncedCommit"]?.GetValue<string>());
            Assert.Null(fleet["activeRollout"]);
            Assert.Equal("Succeeded", fleet["lastRollout"]?["phase"]?.GetValue<string>());
            Assert.Equal(ClusterCount, fleet["clusters"]!.AsArray().Count);
            Assert.All(fleet["clusters"]!.AsArray(), c => Assert.Equal(commit, c?["lastReconcile"]?["commit"]?.GetValue<string>()));
        }
        finally
        {
            app.Dispose();
            await hub.DeleteAsync();
        }
    }

    private static List<HistoryEvent> Reconciles(IReadOnlyList<HistoryEvent> history) =>
        history.Where(e => e.EventType == HistoryEventType.TaskScheduled && e.Name == RolloutNames.ReconcileActivity).ToList();

    private static bool IsCompleted(IReadOnlyList<HistoryEvent> history, HistoryEvent scheduled) =>
        history.Any(e => e.IsCompletionEvent && e.TaskScheduledId == scheduled.EventId);

    private static string ClusterOf(HistoryEvent scheduled) =>
        JsonSerializer.Deserialize<ClusterReconcileInput>(scheduled.Input!, JsonDataConverter.Default.Options)!.Cluster.Name;

    private static async Task<IReadOnlyList<HistoryEvent>> WaitForHistoryAsync(DurableClient client, string id, AppProcess app, Func<IReadOnlyList<HistoryEvent>, bool> condition)
    {
        var deadline = DateTime.UtcNow + s_completion;
        OrchestrationMetadata? metadata = null;
        while (DateTime.UtcNow < deadline)
        {
            metadata = await client.GetInstanceAsync(id, getInputsAndOutputs: true, includeHistory: true);
            if (metadata?.History is { } history && condition(history))
            {
                return history;
            }

            if (metadata is { IsCompleted: true })
            {
                break;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"{id}: the history never reached the expected state: {metadata?.RuntimeStatus} {metadata?.FailureDetails} {metadata?.SerializedCustomStatus}\napp output:\n{app.Output}");
    }

    private static async Task<RolloutStatus> WaitForStatusAsync(DurableClient client, string id, AppProcess app, Func<RolloutStatus, bool> condition)
    {
        var deadline = DateTime.UtcNow + s_completion;
        OrchestrationMetadata? metadata = null;
        while (DateTime.UtcNow < deadline)
        {
            metadata = await client.GetInstanceAsync(id, getInputsAndOutputs: true);
            var text = metadata?.SerializedCustomStatus;
            if (text is not null && text.Contains("\"Waves\"", StringComparison.OrdinalIgnoreCase) && metadata!.ReadCustomStatusAs<RolloutStatus>() is { } status && condition(status))
            {
                return status;
            }

            if (metadata is { IsCompleted: true })
            {
                break;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"{id}: the rollout never reached the expected state: {metadata?.RuntimeStatus} {metadata?.FailureDetails} {metadata?.SerializedCustomStatus}\napp output:\n{app.Output}");
    }
}
