using FleetFunctions.Core.Apply;
using FleetFunctions.Core.Drift;
using FleetFunctions.Core.Reconcile;
using FleetFunctions.Core.Tests.Support;
using FleetFunctions.TestSupport;
using Xunit;

namespace FleetFunctions.Core.Tests.Reconcile;

public sealed class LifecycleTests(SimulatorFixture simulator, AzuriteFixture azurite) : IClassFixture<SimulatorFixture>, IClassFixture<AzuriteFixture>
{
    private const string Overlay = "apps/podinfo/overlays/eu";

    /// <summary>podinfo's widget as a fleet of its own would have it.</summary>
    private const string Widget = """
        apiVersion: example.fleetfunctions.io/v1
        kind: Widget
        metadata:
          name: podinfo-widget
          namespace: podinfo
        spec:
          size: small
          color: blue
        """;

    [Fact]
    public async Task ReconcileAsync_FullLifecycle_CreatesNoOpsConfiguresPrunesDetectsAndHealsDrift()
    {
        using var h = await PipelineHarness.CreateAsync(simulator, azurite.ConnectionString);

        // 1. create
        var first = await h.ReconcileAsync(Overlay);
        Assert.True(first.Succeeded, string.Join("\n", first.Errors));
        Assert.True(first.Changes.Count(ChangeAction.Created) == 7, string.Join("\n", first.Changes.Changes));
        Assert.True(first.Health!.Healthy);
        Assert.NotNull(h.Cluster.GetObject("example.fleetfunctions.io/v1", "Widget", "podinfo", "podinfo-widget"));

        // 2. re-apply the same commit: all unchanged, zero writes
        h.Cluster.ResetCounters();
        var again = await h.ReconcileAsync(Overlay);
        Assert.True(again.Succeeded, string.Join("\n", again.Errors));
        Assert.True(again.Changes.Count(ChangeAction.Unchanged) == 7, string.Join("\n", again.Changes.Changes.Select(c => $"{c} {string.Join(",", c.DriftedFields)}")));
        Assert.Equal(0, h.Cluster.WriteCount);

        // 3. change one field: only that object is configured, one write
        h.Repo.Replace("apps/podinfo/base/configmap.yaml", "hello from the fleet", "hello again").Commit("change message");
        h.Cluster.ResetCounters();
        var changed = await h.ReconcileAsync(Overlay);
        Assert.True(changed.Succeeded, string.Join("\n", changed.Errors));
        var configured = Assert.Single(changed.Changes.Changes, c => c.Action == ChangeAction.Configured);
        Assert.Equal("ConfigMap/podinfo/podinfo-config", configured.Reference.ToString());
        Assert.Equal(6, changed.Changes.Count(ChangeAction.Unchanged));
        Assert.Equal(1, h.Cluster.WriteCount);
        Assert.Equal("hello again", h.Cluster.GetObject("v1", "ConfigMap", "podinfo", "podinfo-config")!["data"]!["PODINFO_UI_MESSAGE"]!.GetValue<string>());

        // 4. remove an object from Git: it is pruned
        h.Repo.Replace("apps/podinfo/base/kustomization.yaml", "  - widget.yaml\n", string.Empty).Commit("drop widget");
        var pruned = await h.ReconcileAsync(Overlay);
        Assert.True(pruned.Succeeded, string.Join("\n", pruned.Errors));
        var deleted = Assert.Single(pruned.Pruned.Changes);
        Assert.Equal(ChangeAction.Deleted, deleted.Action);
        Assert.Equal("Widget/podinfo/podinfo-widget", deleted.Reference.ToString());
        Assert.Null(h.Cluster.GetObject("example.fleetfunctions.io/v1", "Widget", "podinfo", "podinfo-widget"));
        var inventory = await h.Inventory.GetAsync(h.Cluster.Name, "podinfo");
        Assert.Equal(6, inventory!.Entries.Count);

        // 5. manual edit on the cluster: drift is reported with the field path
        await h.PatchAsOtherManagerAsync("/apis/apps/v1/namespaces/podinfo/deployments/podinfo", "{\"spec\":{\"replicas\":7}}");
        var drift = await h.Reconciler.DetectDriftAsync(h.Cluster.Name, "podinfo");
        Assert.Empty(drift.Errors);
        var drifted = Assert.Single(drift.Objects);
        Assert.Equal("Deployment/podinfo/podinfo", drifted.Reference.ToString());
        Assert.Equal(DriftKind.Modified, drifted.Kind);
        Assert.Equal([".spec.replicas"], drifted.Fields);

        // 6. heal: only the drifted object is re-applied and the cluster matches Git again
        h.Cluster.ResetCounters();
        var healed = await h.Reconciler.HealDriftAsync(drift);
        Assert.Equal(ChangeAction.Configured, Assert.Single(healed.Changes).Action);
        Assert.Equal(1, h.Cluster.WriteCount);
        Assert.Equal(3, h.Cluster.GetObject("apps/v1", "Deployment", "podinfo", "podinfo")!["spec"]!["replicas"]!.GetValue<long>());
        Assert.False((await h.Reconciler.DetectDriftAsync(h.Cluster.Name, "podinfo")).HasDrift);

        // history recorded every reconcile that changed something (the no-op of step 2 only read), newest first
        Assert.True(again.IsNoOp);
        Assert.False(changed.IsNoOp);
        var history = await h.History.ListAsync(h.Cluster.Name, "podinfo");
        Assert.Equal(3, history.Count);
        Assert.Equal(1, history[0].Pruned);
        Assert.All(history, e => Assert.True(e.Succeeded));
    }

    [Fact]
    public async Task ReconcileAsync_ObjectMovedToAnotherFleetThatAppliedItFirst_NotPrunedAndLeavesThisFleetsInventory()
    {
        using var h = await PipelineHarness.CreateAsync(simulator, azurite.ConnectionString);
        var first = await h.ReconcileAsync(Overlay);
        Assert.True(first.Succeeded, string.Join("\n", first.Errors));

        h.Repo.Replace("apps/podinfo/base/kustomization.yaml", "  - widget.yaml\n", string.Empty)
            .Write("apps/widgets/widget.yaml", Widget)
            .Commit("move the widget to its own fleet");
        var taken = await h.ReconcileAsync("apps/widgets", fleet: "widgets");
        var left = await h.ReconcileAsync(Overlay);
        var again = await h.ReconcileAsync(Overlay);

        Assert.True(taken.Succeeded, string.Join("\n", taken.Errors));
        Assert.True(left.Succeeded, string.Join("\n", left.Errors));
        var kept = Assert.Single(left.Pruned.Changes);
        Assert.Equal(ChangeAction.Skipped, kept.Action);
        Assert.Equal("Widget/podinfo/podinfo-widget", kept.Reference.ToString());
        Assert.Equal($"not pruned: ClusterFleet/widgets applies it on {h.Cluster.Name} now", kept.Message);
        Assert.NotNull(h.Cluster.GetObject("example.fleetfunctions.io/v1", "Widget", "podinfo", "podinfo-widget"));
        Assert.DoesNotContain((await h.Inventory.GetAsync(h.Cluster.Name, "podinfo"))!.Entries, e => e.Reference.Kind == "Widget");
        Assert.Contains((await h.Inventory.GetAsync(h.Cluster.Name, "widgets"))!.Entries, e => e.Reference.Kind == "Widget");
        Assert.Empty(again.Pruned.Changes);
        Assert.True(again.IsNoOp);
    }

    [Fact]
    public async Task ReconcileAsync_ObjectListedByAFleetThatNoLongerSelectsTheCluster_IsPruned()
    {
        using var h = await PipelineHarness.CreateAsync(simulator, azurite.ConnectionString);
        Assert.True((await h.ReconcileAsync(Overlay)).Succeeded);
        h.Repo.Replace("apps/podinfo/base/kustomization.yaml", "  - widget.yaml\n", string.Empty)
            .Write("apps/widgets/widget.yaml", Widget)
            .Commit("move the widget to its own fleet");
        Assert.True((await h.ReconcileAsync("apps/widgets", fleet: "widgets")).Succeeded);
        Assert.Equal(ChangeAction.Skipped, Assert.Single((await h.ReconcileAsync(Overlay)).Pruned.Changes).Action);

        // The widgets fleet stops selecting the cluster (relabelled, or the fleet deleted) and the widget comes back to
        // podinfo; the widgets fleet's inventory stays on the cluster, listing the widget.
        string[] podinfoOnly = ["podinfo"];
        h.Repo.Replace("apps/podinfo/base/kustomization.yaml", "  - service.yaml\n", "  - service.yaml\n  - widget.yaml\n")
            .Write("apps/widgets/widget.yaml", null)
            .Commit("move the widget back");
        var back = await h.ReconcileAsync(Overlay, clusterFleets: podinfoOnly.ToHashSet());
        h.Repo.Replace("apps/podinfo/base/kustomization.yaml", "  - widget.yaml\n", string.Empty).Commit("drop widget");
        var dropped = await h.ReconcileAsync(Overlay, clusterFleets: podinfoOnly.ToHashSet());

        Assert.True(back.Succeeded, string.Join("\n", back.Errors));
        Assert.Contains(back.Changes.Changes, c => c.Reference.Kind == "Widget");
        Assert.True(dropped.Succeeded, string.Join("\n", dropped.Errors));
        var deleted = Assert.Single(dropped.Pruned.Changes);
        Assert.Equal(ChangeAction.Deleted, deleted.Action);
        Assert.Equal("Widget/podinfo/podinfo-widget", deleted.Reference.ToString());
        Assert.Null(h.Cluster.GetObject("example.fleetfunctions.io/v1", "Widget", "podinfo", "podinfo-widget"));
        Assert.NotNull(await h.Inventory.GetAsync(h.Cluster.Name, "widgets"));
    }

    [Fact]
    public async Task ReconcileAsync_NoOpOfACommitTheHistoryLacks_RecordsIt()
    {
        using var h = await PipelineHarness.CreateAsync(simulator, azurite.ConnectionString);
        var first = await h.ReconcileAsync(Overlay);
        Assert.True(first.Succeeded, string.Join("\n", first.Errors));

        // A reconcile of the next commit applies and saves the inventory, then dies before recording (no history here).
        h.Repo.Replace("apps/podinfo/base/configmap.yaml", "hello from the fleet", "hello again").Commit("change message");
        var interrupted = new Reconciler(h.Source, h.Renderer, h.Clusters, h.Inventory);
        var applied = await interrupted.ReconcileAsync(new ReconcileRequest(h.Cluster.Name, "podinfo", new FleetFunctions.Core.Sources.GitSourceSpec(h.Repo.Url), Overlay) { Options = PipelineHarness.FastOptions });
        Assert.True(applied.Succeeded, string.Join("\n", applied.Errors));
        Assert.Equal(first.Commit, await h.History.LastCommitAsync(h.Cluster.Name, "podinfo"));

        // The next reconcile changes nothing, and records the commit the status API would otherwise never show.
        var again = await h.ReconcileAsync(Overlay);
        Assert.True(again.IsNoOp);
        Assert.Equal(applied.Commit, await h.History.LastCommitAsync(h.Cluster.Name, "podinfo"));
        Assert.Equal(2, (await h.History.ListAsync(h.Cluster.Name, "podinfo")).Count);

        // Once recorded, a no-op stays reads only.
        Assert.True((await h.ReconcileAsync(Overlay)).IsNoOp);
        Assert.Equal(2, (await h.History.ListAsync(h.Cluster.Name, "podinfo")).Count);
    }

    [Fact]
    public async Task ReconcileAsync_DeletedOnCluster_RecreatesItAndReportsDrift()
    {
        using var h = await PipelineHarness.CreateAsync(simulator, azurite.ConnectionString);
        Assert.True((await h.ReconcileAsync(Overlay)).Succeeded);
        using (var http = new HttpClient())
        {
            using var request = new HttpRequestMessage(HttpMethod.Delete, new Uri(h.Cluster.Server, "/api/v1/namespaces/podinfo/services/podinfo"));
            request.Headers.Authorization = new("Bearer", h.Cluster.Token);
            (await http.SendAsync(request)).EnsureSuccessStatusCode();
        }

        var drift = await h.Reconciler.DetectDriftAsync(h.Cluster.Name, "podinfo");
        var result = await h.ReconcileAsync(Overlay);

        Assert.Equal(DriftKind.Missing, Assert.Single(drift.Objects).Kind);
        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
        Assert.Equal("Service/podinfo/podinfo", Assert.Single(result.Changes.Changes, c => c.Action == ChangeAction.Created).Reference.ToString());
        Assert.Single(result.Drift);
    }
}
