using FleetFunctions.Core.Apply;
using FleetFunctions.Core.Tests.Support;
using FleetFunctions.TestSupport;
using Xunit;

namespace FleetFunctions.Core.Tests.Reconcile;

/// <summary>Objects the API server stores in another form than Git wrote them stay Unchanged once applied.</summary>
public sealed class ServerFormReconcileTests(SimulatorFixture simulator, AzuriteFixture azurite) : IClassFixture<SimulatorFixture>, IClassFixture<AzuriteFixture>
{
    private const string Path = "server-forms";

    [Fact]
    public async Task ReconcileAsync_QuantitiesZeroValuesAndStringData_SecondIsNoOpWithoutWritesOrDrift()
    {
        using var h = await PipelineHarness.CreateAsync(simulator, azurite.ConnectionString);
        foreach (var file in (string[])["deployment.yaml", "secret.yaml"])
        {
            h.Repo.Write($"{Path}/{file}", File.ReadAllText(System.IO.Path.Combine(AppContext.BaseDirectory, "testdata", Path, file)));
        }

        h.Repo.Commit("objects the server stores in another form");
        var first = await h.ReconcileAsync(Path, fleet: Path);
        Assert.True(first.Succeeded, string.Join("\n", first.Errors));
        var live = h.Cluster.GetObject("apps/v1", "Deployment", "default", "web")!;
        Assert.Equal("500m", live["spec"]!["template"]!["spec"]!["containers"]![0]!["resources"]!["limits"]!["cpu"]!.GetValue<string>());
        Assert.False(h.Cluster.GetObject("v1", "Secret", "default", "web-credentials")!.ContainsKey("stringData"));

        h.Cluster.ResetCounters();
        var again = await h.ReconcileAsync(Path, fleet: Path);
        var drift = await h.Reconciler.DetectDriftAsync(h.Cluster.Name, Path);

        Assert.True(again.Succeeded, string.Join("\n", again.Errors));
        Assert.True(again.Changes.Count(ChangeAction.Unchanged) == 2, string.Join("\n", again.Changes.Changes.Select(c => $"{c} {string.Join(",", c.DriftedFields)}")));
        Assert.Empty(again.Drift);
        Assert.True(again.IsNoOp);
        Assert.Equal(0, h.Cluster.WriteCount);
        Assert.Empty(drift.Errors);
        Assert.False(drift.HasDrift, string.Join("\n", drift.Describe()));
        Assert.Single(await h.History.ListAsync(h.Cluster.Name, Path));
    }
}
