using FleetFunctions.Core.Apply;
using FleetFunctions.Core.Tests.Support;
using FleetFunctions.TestSupport;
using Xunit;

namespace FleetFunctions.Core.Tests.Reconcile;

/// <summary>Objects the API server stores in another form than Git wrote them stay Unchanged once applied.</summary>
public sealed class ServerFormReconcileTests(SimulatorFixture simulator, AzuriteFixture azurite) : IClassFixture<SimulatorFixture>, IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task ReconcileAsync_QuantitiesZeroValuesAndStringData_SecondIsNoOpWithoutWritesOrDrift()
    {
        using var h = await PipelineHarness.CreateAsync(simulator, azurite.ConnectionString);
        await FirstReconcileAsync(h, "server-forms", "deployment.yaml", "secret.yaml");
        var live = h.Cluster.GetObject("apps/v1", "Deployment", "default", "web")!;
        Assert.Equal("500m", live["spec"]!["template"]!["spec"]!["containers"]![0]!["resources"]!["limits"]!["cpu"]!.GetValue<string>());
        Assert.False(h.Cluster.GetObject("v1", "Secret", "default", "web-credentials")!.ContainsKey("stringData"));

        await AssertSecondIsNoOpAsync(h, "server-forms", unchanged: 2);
    }

    [Fact]
    public async Task ReconcileAsync_ZeroValuesInK8sIoGroups_SecondIsNoOpWithoutWritesOrDrift()
    {
        using var h = await PipelineHarness.CreateAsync(simulator, azurite.ConnectionString);
        await FirstReconcileAsync(h, "server-forms-groups", "crd.yaml", "priorityclass.yaml", "rolebinding.yaml");
        var crd = h.Cluster.GetObject("apiextensions.k8s.io/v1", "CustomResourceDefinition", "", "gadgets.forms.fleetfunctions.io")!;
        Assert.False(crd["spec"]!.AsObject().ContainsKey("preserveUnknownFields"));
        Assert.False(h.Cluster.GetObject("scheduling.k8s.io/v1", "PriorityClass", "", "forms-high")!.ContainsKey("globalDefault"));
        Assert.Equal(0, crd["spec"]!["versions"]![0]!["schema"]!["openAPIV3Schema"]!["properties"]!["spec"]!["properties"]!["size"]!["default"]!.GetValue<int>());

        await AssertSecondIsNoOpAsync(h, "server-forms-groups", unchanged: 3);
    }

    private static async Task FirstReconcileAsync(PipelineHarness h, string path, params string[] files)
    {
        foreach (var file in files)
        {
            h.Repo.Write($"{path}/{file}", File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "testdata", path, file)));
        }

        h.Repo.Commit("objects the server stores in another form");
        var first = await h.ReconcileAsync(path, fleet: path);
        Assert.True(first.Succeeded, string.Join("\n", first.Errors));
    }

    private static async Task AssertSecondIsNoOpAsync(PipelineHarness h, string path, int unchanged)
    {
        h.Cluster.ResetCounters();
        var again = await h.ReconcileAsync(path, fleet: path);
        var drift = await h.Reconciler.DetectDriftAsync(h.Cluster.Name, path);

        Assert.True(again.Succeeded, string.Join("\n", again.Errors));
        Assert.True(again.Changes.Count(ChangeAction.Unchanged) == unchanged, string.Join("\n", again.Changes.Changes.Select(c => $"{c} {string.Join(",", c.DriftedFields)}")));
        Assert.Empty(again.Drift);
        Assert.True(again.IsNoOp);
        Assert.Equal(0, h.Cluster.WriteCount);
        Assert.Empty(drift.Errors);
        Assert.False(drift.HasDrift, string.Join("\n", drift.Describe()));
        Assert.Single(await h.History.ListAsync(h.Cluster.Name, path));
    }
}
