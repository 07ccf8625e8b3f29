using System.Net;
using FleetFunctions.Core.Apply;
using FleetFunctions.Core.Clusters;
using FleetFunctions.Core.Reconcile;
using FleetFunctions.Core.Sources;
using FleetFunctions.Core.Tests.Support;
using FleetFunctions.TestSupport;
using Microsoft.AspNetCore.Http;
using Xunit;

namespace FleetFunctions.Core.Tests.Reconcile;

/// <summary>
/// The cluster goes away (or answers 503) in the middle of a reconcile, after some objects were applied: the reconcile
/// returns a failed result naming the cluster and object, records it, and the inventory keeps what was applied.
/// </summary>
public sealed class ClusterLostTests(SimulatorFixture simulator, AzuriteFixture azurite) : IClassFixture<SimulatorFixture>, IClassFixture<AzuriteFixture>
{
    private const string CrdPath = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/";

    [Theory]
    [InlineData(null)]
    [InlineData(HttpStatusCode.ServiceUnavailable)]
    public async Task ReconcileAsync_ClusterLostWhileWaitingForCrdEstablished_FailsAndKeepsTheCrdInTheInventory(HttpStatusCode? answer)
    {
        using var h = await PipelineHarness.CreateAsync(simulator, azurite.ConnectionString);
        h.Repo.Write("gadgets/crd.yaml", File.ReadAllText(Path.Combine(RepoPaths.Examples, "apps/podinfo/base/crd-widgets.yaml"))
                .Replace("widgets", "gadgets", StringComparison.Ordinal).Replace("Widget", "Gadget", StringComparison.Ordinal).Replace("widget", "gadget", StringComparison.Ordinal))
            .Write("gadgets/gadget.yaml", "apiVersion: example.fleetfunctions.io/v1\nkind: Gadget\nmetadata:\n  name: g1\n  namespace: default\nspec:\n  size: 3\n")
            .Commit("gadgets");
        await using var link = await ClusterLink.StartAsync(h.Cluster, r => r.Method == "GET" && r.Path.Value!.StartsWith(CrdPath, StringComparison.Ordinal), answer);

        var result = await ReconcileThroughAsync(h, link, "gadgets", "gadgets");

        Assert.True(link.IsCut);
        Assert.Equal(ReconcilePhase.Apply, result.Phase);
        Assert.True(result.IsTransient);

        var error = Assert.Single(result.Errors);
        Assert.StartsWith($"{h.Cluster.Name}/CustomResourceDefinition/gadgets.example.fleetfunctions.io:", error, StringComparison.Ordinal);
        Assert.Contains(answer is null ? "unreachable" : "unable to handle the request", error, StringComparison.Ordinal);
        Assert.Equal(ChangeAction.Skipped, result.Changes.Changes.Single(c => c.Reference.Kind == "Gadget").Action);
        var inventory = await h.Inventory.GetAsync(h.Cluster.Name, "gadgets");
        Assert.Equal("apiextensions.k8s.io|CustomResourceDefinition||gadgets.example.fleetfunctions.io", Assert.Single(inventory!.Entries).Reference.Key);
        Assert.Equal(result.Commit, await h.History.LastCommitAsync(h.Cluster.Name, "gadgets"));
    }

    [Fact]
    public async Task ReconcileAsync_ClusterLostBeforeTheListOfALaterStage_FailsTransientlyAndKeepsTheNewNamespace()
    {
        using var h = await PipelineHarness.CreateAsync(simulator, azurite.ConnectionString);
        h.Repo.Write("shop/namespace.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n");
        for (var i = 1; i <= ReadBatching.ListThreshold; i++)
        {
            h.Repo.Write($"shop/settings-{i}.yaml", $"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings-{i}\n  namespace: shop\ndata:\n  level: info\n");
        }

        h.Repo.Commit("shop");
        var first = await h.ReconcileAsync("shop", fleet: "shop");
        Assert.True(first.Succeeded, string.Join("\n", first.Errors));
        h.Repo.Write("shop/namespace-audit.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop-audit\n").Commit("audit namespace");

        // The ConfigMaps did not change in Git: their stage compares them with one LIST, which no longer gets through.
        await using var link = await ClusterLink.StartAsync(h.Cluster, r => r.Method == "GET" && r.Path.Value == "/api/v1/namespaces/shop/configmaps");
        var result = await ReconcileThroughAsync(h, link, "shop", "shop");

        Assert.True(link.IsCut);
        Assert.Equal(ReconcilePhase.Apply, result.Phase);
        Assert.True(result.IsTransient);
        Assert.Equal(ReadBatching.ListThreshold, result.Errors.Count);
        Assert.All(result.Errors, e => Assert.Contains("unreachable", e, StringComparison.Ordinal));
        Assert.StartsWith($"{h.Cluster.Name}/ConfigMap/shop/settings-1:", result.Errors.Order(StringComparer.Ordinal).First(), StringComparison.Ordinal);
        Assert.Equal(ChangeAction.Created, result.Changes.Changes.Single(c => c.Reference.Name == "shop-audit").Action);
        var inventory = await h.Inventory.GetAsync(h.Cluster.Name, "shop");
        Assert.Equal(first.Commit, inventory!.Commit);
        Assert.Contains(inventory.Entries, e => e.Reference.Key == "|Namespace||shop-audit");
        Assert.Equal(ReadBatching.ListThreshold + 2, inventory.Entries.Count);
        Assert.Equal(result.Commit, await h.History.LastCommitAsync(h.Cluster.Name, "shop"));
    }

    [Fact]
    public async Task ReconcileAsync_ClusterLostDuringTheHealthWait_FailsTransientlyNamingTheObjectAndSavesTheInventory()
    {
        using var h = await PipelineHarness.CreateAsync(simulator, azurite.ConnectionString);
        await using var link = await ClusterLink.StartAsync(h.Cluster, r => r.Method == "GET" && r.Path.StartsWithSegments("/apis/apps/v1/namespaces/hello/deployments", StringComparison.Ordinal));

        var result = await ReconcileThroughAsync(h, link, "apps/hello", "hello");

        Assert.True(link.IsCut);
        Assert.Equal(ReconcilePhase.Health, result.Phase);
        Assert.True(result.IsTransient);
        var error = Assert.Single(result.Errors);
        Assert.StartsWith($"{h.Cluster.Name}/Deployment/hello/hello:", error, StringComparison.Ordinal);
        Assert.Contains("unreachable", error, StringComparison.Ordinal);
        Assert.NotNull(result.Health?.Unreachable);
        var inventory = await h.Inventory.GetAsync(h.Cluster.Name, "hello");
        Assert.Equal(result.Commit, inventory!.Commit);
        Assert.Equal(result.Changes.Changes.Select(c => c.Reference.Key).Order(StringComparer.Ordinal), inventory.Entries.Select(e => e.Reference.Key).Order(StringComparer.Ordinal));
        Assert.Equal(result.Commit, await h.History.LastCommitAsync(h.Cluster.Name, "hello"));
    }

    [Theory]
    [InlineData(null)]
    [InlineData(HttpStatusCode.ServiceUnavailable)]
    public async Task ReconcileAsync_ClusterLostDuringPrune_FailsTransientlyNamingTheObject(HttpStatusCode? answer)
    {
        using var h = await PipelineHarness.CreateAsync(simulator, azurite.ConnectionString);
        h.Repo.Write("shop/settings.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: default\ndata:\n  level: info\n")
            .Write("shop/legacy.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: legacy\n  namespace: default\ndata:\n  level: info\n")
            .Commit("shop");
        var first = await h.ReconcileAsync("shop", fleet: "shop");
        Assert.True(first.Succeeded, string.Join("\n", first.Errors));
        h.Repo.Write("shop/legacy.yaml", null).Commit("legacy leaves Git");

        await using var link = await ClusterLink.StartAsync(h.Cluster, r => r.Method == "DELETE", answer);
        var result = await ReconcileThroughAsync(h, link, "shop", "shop");

        Assert.True(link.IsCut);
        Assert.Equal(ReconcilePhase.Prune, result.Phase);
        Assert.True(result.IsTransient);
        var error = Assert.Single(result.Errors);
        Assert.StartsWith($"{h.Cluster.Name}/ConfigMap/default/legacy:", error, StringComparison.Ordinal);
        Assert.Contains(answer is null ? "unreachable" : "unable to handle the request", error, StringComparison.Ordinal);
        Assert.NotNull(h.Cluster.GetObject("v1", "ConfigMap", "default", "legacy"));
    }

    /// <summary>Reconciles <paramref name="path"/> with a reconciler that reaches the cluster through <paramref name="link"/>.</summary>
    private static async Task<ReconcileResult> ReconcileThroughAsync(PipelineHarness h, ClusterLink link, string path, string fleet)
    {
        using var clusters = new ClusterClientFactory(new StaticCredentialsProvider([ClusterConnection.FromToken(h.Cluster.Name, link.Server, h.Cluster.Token)]));
        var reconciler = new Reconciler(h.Source, h.Renderer, clusters, h.Inventory, h.History);
        return await reconciler.ReconcileAsync(new ReconcileRequest(h.Cluster.Name, fleet, new GitSourceSpec(h.Repo.Url), path) { Options = PipelineHarness.FastOptions });
    }
}
