using FleetFunctions.Orchestrations.Drift;
using FleetFunctions.Simulator;
using FleetFunctions.TestSupport;
using Xunit;

namespace FleetFunctions.Orchestrations.Tests.Drift;

public sealed class DriftWatcherTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    /// <summary>Namespace, Deployment, Service and ConfigMap: one watch per kind per cluster.</summary>
    private const int KindsPerCluster = 4;

    [Fact]
    public async Task RunAsync_ManualEdit_HealedWithoutTheTimerAndOnlyReportedWithoutSelfHeal()
    {
        await using var h = await DriftHarness.StartAsync(azurite.ConnectionString, 2, DriftHarness.HealingAndReporting);
        await h.ApplyAsync("c1", "healing");
        await h.ApplyAsync("c2", "reporting");
        var watcher = h.NewWatcher();
        using var cts = new CancellationTokenSource();
        var run = watcher.RunAsync(cts.Token);
        Assert.True(await DriftHarness.EventuallyAsync(() => Task.FromResult(watcher.ConnectedWatches == 2 * KindsPerCluster)), $"{watcher.ConnectedWatches} watches");

        await h.PatchAsync("c1", DriftHarness.DeploymentPath, """{"spec":{"replicas":7}}""");
        await h.PatchAsync("c2", DriftHarness.DeploymentPath, """{"spec":{"replicas":7}}""");

        Assert.True(await DriftHarness.EventuallyAsync(() => Task.FromResult(h.Replicas("c1") == 2)), $"c1 has {h.Replicas("c1")} replicas");
        Assert.True(await DriftHarness.EventuallyAsync(async () => (await h.Events.GetAsync("c1", "healing"))?.LastDrift?.Healed == true));
        Assert.True(await DriftHarness.EventuallyAsync(async () => (await h.Events.ListEventsAsync("c2", "reporting")).Count == 1));
        var healed = Assert.Single(await h.Events.ListEventsAsync("c1", "healing"));
        Assert.Equal("watch", healed.Trigger);
        Assert.Equal([".spec.replicas"], Assert.Single(healed.Objects).Fields);
        Assert.True(healed.Healed);
        var reported = Assert.Single(await h.Events.ListEventsAsync("c2", "reporting"));
        Assert.Equal("watch", reported.Trigger);
        Assert.False(reported.Healed);
        Assert.Equal(7, h.Replicas("c2"));

        await cts.CancelAsync();
        await run;
    }

    [Fact]
    public async Task RefreshAsync_PairNoLongerApplied_ItsCheckStateIsDropped()
    {
        await using var h = await DriftHarness.StartAsync(azurite.ConnectionString, 2, DriftHarness.HealingAndReporting);
        await h.ApplyAsync("c1", "healing");
        await h.ApplyAsync("c2", "reporting");
        var watcher = h.NewWatcher();
        using var cts = new CancellationTokenSource();
        var run = watcher.RunAsync(cts.Token);
        Assert.True(await DriftHarness.EventuallyAsync(() => Task.FromResult(watcher.ConnectedWatches == 2 * KindsPerCluster)));
        await h.PatchAsync("c1", DriftHarness.DeploymentPath, """{"spec":{"replicas":7}}""");
        await h.PatchAsync("c2", DriftHarness.DeploymentPath, """{"spec":{"replicas":7}}""");
        Assert.True(await DriftHarness.EventuallyAsync(() => Task.FromResult(watcher.ChecksRun >= 2 && watcher.TrackedPairs == 2)));

        await h.Inventory.DeleteAsync("c2", "reporting");

        // (a refresh while the pair's last check is still finishing keeps it for the next one)
        Assert.True(await DriftHarness.EventuallyAsync(async () =>
        {
            await watcher.RefreshAsync(CancellationToken.None);
            return watcher.TrackedPairs == 1;
        }), $"{watcher.TrackedPairs} pairs tracked");
        await cts.CancelAsync();
        await run;
    }

    [Fact]
    public async Task RunAsync_ObjectDeleted_Recreated()
    {
        await using var h = await DriftHarness.StartAsync(azurite.ConnectionString, 1, DriftHarness.HealingAndReporting);
        await h.ApplyAsync("c1", "healing");
        var watcher = h.NewWatcher();
        using var cts = new CancellationTokenSource();
        var run = watcher.RunAsync(cts.Token);
        Assert.True(await DriftHarness.EventuallyAsync(() => Task.FromResult(watcher.ConnectedWatches == KindsPerCluster)));

        await h.DeleteAsync("c1", "/api/v1/namespaces/shop/services/web");

        Assert.True(await DriftHarness.EventuallyAsync(() => Task.FromResult(h.Cluster("c1").GetObject("v1", "Service", "shop", "web") is not null)));
        var recorded = Assert.Single(Assert.Single(await h.Events.ListEventsAsync("c1", "healing")).Objects);
        Assert.Equal(("Service/shop/web", "Missing"), (recorded.Object, recorded.Kind));

        await cts.CancelAsync();
        await run;
    }

    [Fact]
    public async Task RunAsync_ClusterWiped_ResyncsAndRestoresEveryObject()
    {
        await using var h = await DriftHarness.StartAsync(azurite.ConnectionString, 1, DriftHarness.HealingAndReporting);
        await h.ApplyAsync("c1", "healing");
        var watcher = h.NewWatcher();
        using var cts = new CancellationTokenSource();
        var run = watcher.RunAsync(cts.Token);
        Assert.True(await DriftHarness.EventuallyAsync(() => Task.FromResult(watcher.ConnectedWatches == KindsPerCluster)));

        h.Cluster("c1").Wipe();

        Assert.True(await DriftHarness.EventuallyAsync(() => Task.FromResult(
            h.Cluster("c1").GetObject("v1", "Namespace", null, "shop") is not null
            && h.Cluster("c1").GetObject("apps/v1", "Deployment", "shop", "web") is not null
            && h.Cluster("c1").GetObject("v1", "Service", "shop", "web") is not null
            && h.Cluster("c1").GetObject("v1", "ConfigMap", "shop", "web-config") is not null)));
        Assert.True(await DriftHarness.EventuallyAsync(async () => (await h.Events.GetAsync("c1", "healing"))?.LastDrift?.Healed == true));
        var status = await h.Events.GetAsync("c1", "healing");
        Assert.Equal(4, status!.LastDrift!.DriftCount);
        Assert.True(status.LastDrift.Healed);

        await cts.CancelAsync();
        await run;
    }

    [Fact]
    public async Task RunAsync_ClusterDownThenBack_ReconnectsAndHealsLaterEdits()
    {
        await using var h = await DriftHarness.StartAsync(azurite.ConnectionString, 1, DriftHarness.HealingAndReporting);
        await h.ApplyAsync("c1", "healing");
        var watcher = h.NewWatcher();
        using var cts = new CancellationTokenSource();
        var run = watcher.RunAsync(cts.Token);
        Assert.True(await DriftHarness.EventuallyAsync(() => Task.FromResult(watcher.ConnectedWatches == KindsPerCluster)));

        await h.Cluster("c1").SetFaultAsync(ClusterFault.Down);
        Assert.True(await DriftHarness.EventuallyAsync(() => Task.FromResult(watcher.ConnectedWatches == 0)));
        await h.Cluster("c1").SetFaultAsync(ClusterFault.None);
        Assert.True(await DriftHarness.EventuallyAsync(() => Task.FromResult(watcher.ConnectedWatches == KindsPerCluster)));
        await h.PatchAsync("c1", "/api/v1/namespaces/shop/configmaps/web-config", """{"data":{"greeting":"hacked"}}""");

        Assert.True(await DriftHarness.EventuallyAsync(() => Task.FromResult(
            h.Cluster("c1").GetObject("v1", "ConfigMap", "shop", "web-config")?["data"]?["greeting"]?.GetValue<string>() == "hello")));
        Assert.Contains(await h.Events.ListEventsAsync("c1", "healing"), e => e.Objects.Any(o => o.Fields.Contains(".data.greeting")));

        await cts.CancelAsync();
        await run;
    }
}
