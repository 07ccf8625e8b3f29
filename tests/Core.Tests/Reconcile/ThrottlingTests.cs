using System.Diagnostics;
using FleetFunctions.Core.Apply;
using FleetFunctions.Core.Clusters;
using FleetFunctions.Core.Reconcile;
using FleetFunctions.Core.Sources;
using FleetFunctions.Core.Tests.Support;
using FleetFunctions.Simulator;
using FleetFunctions.TestSupport;
using Xunit;

namespace FleetFunctions.Core.Tests.Reconcile;

/// <summary>
/// The cluster answers the probe but throttles the writes (429 with Retry-After, as API Priority and Fairness does): the
/// client waits and sends them again; a reconcile whose writes stay throttled fails transiently, so the rollout retries it.
/// </summary>
public sealed class ThrottlingTests(SimulatorFixture simulator, AzuriteFixture azurite) : IClassFixture<SimulatorFixture>, IClassFixture<AzuriteFixture>
{
    private const string App = "apps/hello";

    [Fact]
    public async Task ReconcileAsync_WritesThrottledThroughEveryRetry_FailsTransientlyNamingTheThrottling()
    {
        using var h = await PipelineHarness.CreateAsync(simulator, azurite.ConnectionString);
        await h.Cluster.SetFaultAsync(ClusterFault.Throttling(["PATCH"]));
        using var clusters = new ClusterClientFactory(h.Credentials, new ClusterClientOptions { ThrottledRetries = 2, MaxRetryAfter = TimeSpan.FromMilliseconds(10) });
        var reconciler = new Reconciler(h.Source, h.Renderer, clusters, h.Inventory, h.History);

        var result = await reconciler.ReconcileAsync(new ReconcileRequest(h.Cluster.Name, "hello", new GitSourceSpec(h.Repo.Url), App) { Options = PipelineHarness.FastOptions });

        Assert.Equal(ReconcilePhase.Apply, result.Phase);
        Assert.True(result.IsTransient);
        Assert.NotEmpty(result.Changes.Failures);
        Assert.All(result.Changes.Failures, f => Assert.True(f.IsTransient, f.ToString()));
        Assert.All(result.Errors, e =>
        {
            Assert.StartsWith($"{h.Cluster.Name}/", e, StringComparison.Ordinal);
            Assert.Contains("429 TooManyRequests: Too many requests, please try again later.; the API server is throttling", e, StringComparison.Ordinal);
        });
        Assert.Equal(0, h.Cluster.WriteCount);
    }

    [Fact]
    public async Task ReconcileAsync_WritesThrottledTwiceThenServed_SucceedsAfterTheRetryAfterWait()
    {
        using var h = await PipelineHarness.CreateAsync(simulator, azurite.ConnectionString);
        await h.Cluster.SetFaultAsync(ClusterFault.Throttling(["PATCH"], retryAfterSeconds: 1, count: 2));
        var stopwatch = Stopwatch.StartNew();

        var result = await h.ReconcileAsync(App, fleet: "hello");

        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
        Assert.True(stopwatch.Elapsed >= TimeSpan.FromSeconds(1), $"the reconcile took {stopwatch.Elapsed}: the throttled writes did not wait for Retry-After");
        Assert.Equal(result.Changes.Changes.Count, result.Changes.Count(ChangeAction.Created));
        Assert.NotNull(h.Cluster.GetObject("v1", "ConfigMap", "hello", "hello-config"));
    }

    [Fact]
    public async Task ReconcileAsync_ThrottledWriteBesideAnUnknownKind_FailsPermanently()
    {
        using var h = await PipelineHarness.CreateAsync(simulator, azurite.ConnectionString);
        h.Repo.Write("mixed/gadget.yaml", "apiVersion: example.fleetfunctions.io/v1\nkind: Gadget\nmetadata:\n  name: g1\n  namespace: default\nspec:\n  size: 3\n")
            .Write("mixed/settings.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: default\ndata:\n  level: info\n")
            .Commit("mixed");
        await h.Cluster.SetFaultAsync(ClusterFault.Throttling(["PATCH"]));
        using var clusters = new ClusterClientFactory(h.Credentials, new ClusterClientOptions { ThrottledRetries = 0 });
        var reconciler = new Reconciler(h.Source, h.Renderer, clusters, h.Inventory, h.History);

        var result = await reconciler.ReconcileAsync(new ReconcileRequest(h.Cluster.Name, "mixed", new GitSourceSpec(h.Repo.Url), "mixed") { Options = PipelineHarness.FastOptions });

        Assert.Equal(ReconcilePhase.Apply, result.Phase);
        Assert.True(result.Changes.Failures.Single(f => f.Reference.Kind == "ConfigMap").IsTransient);
        Assert.False(result.Changes.Failures.Single(f => f.Reference.Kind == "Gadget").IsTransient);
        Assert.False(result.IsTransient);
    }
}
