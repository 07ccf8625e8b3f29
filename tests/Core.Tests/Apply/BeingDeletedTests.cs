using System.Text;
using FleetFunctions.Core.Apply;
using FleetFunctions.Core.Clusters;
using FleetFunctions.Core.Drift;
using FleetFunctions.Core.Health;
using FleetFunctions.Core.Inventory;
using FleetFunctions.Core.Manifests;
using FleetFunctions.Core.Tests.Support;
using FleetFunctions.Simulator;
using Xunit;

namespace FleetFunctions.Core.Tests.Apply;

/// <summary>
/// An object Git wants that the cluster is deleting (a finalizer holds it, as the simulator does like kube-apiserver):
/// drift says "being deleted", not in sync; apply waits for it to go and creates it again, or reports it still terminating.
/// </summary>
public sealed class BeingDeletedTests(SimulatorFixture simulator) : IClassFixture<SimulatorFixture>, IDisposable
{
    private const string Hold = "example.com/hold";
    private readonly List<ClusterClientFactory> _factories = [];

    private static ManifestSet Settings() =>
        ManifestSet.Create(ManifestParser.Parse("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: default}\ndata: {mode: blue}\n", "settings.yaml"));

    [Fact]
    public async Task DetectAndApply_ObjectBeingDeletedThatGitWants_DriftIsBeingDeletedAndApplyCreatesItAgainOnceGone()
    {
        var (cluster, client) = await ClusterAsync();
        var first = await new Applier(client).ApplyAsync(Settings());
        var uid = await HoldAndDeleteAsync(cluster);

        var report = await new DriftDetector(client).DetectAsync("settings", "commit", Settings());
        var release = ReleaseLaterAsync(cluster);
        var applied = await new Applier(client).ApplyAsync(Settings(), Inventory(cluster, first));
        await release;

        var drift = Assert.Single(report.Objects);
        Assert.Equal(DriftKind.Modified, drift.Kind);
        Assert.Equal([FieldDiff.BeingDeletedMarker], drift.Fields);
        var change = Assert.Single(applied.Changes);
        Assert.Equal(ChangeAction.Created, change.Action);
        Assert.Equal([FieldDiff.BeingDeletedMarker], change.DriftedFields);
        var recreated = cluster.GetObject("v1", "ConfigMap", "default", "settings")!;
        Assert.NotEqual(uid, recreated["metadata"]!["uid"]!.ToString());
        Assert.Null(recreated["metadata"]!["deletionTimestamp"]);
    }

    [Fact]
    public async Task ApplyAsync_ObjectBeingDeletedNeverReleased_FailsTransientNamingTheFinalizer()
    {
        var (cluster, client) = await ClusterAsync();
        var first = await new Applier(client).ApplyAsync(Settings());
        await HoldAndDeleteAsync(cluster);

        var applied = await new Applier(client, new ApplyOptions { RecreateTimeout = TimeSpan.FromSeconds(1) }).ApplyAsync(Settings(), Inventory(cluster, first));

        var failure = Assert.Single(applied.Failures);
        Assert.True(failure.IsTransient);
        Assert.Equal(
            $"{cluster.Name}/ConfigMap/default/settings: still present 1s while Git still has it (it is created again once gone): being deleted, waiting for finalizers {Hold}; " +
            "the controller that owns those finalizers must release them (a later reconcile retries).",
            failure.Message);
    }

    /// <summary>Another controller puts a finalizer on settings and someone deletes it: it stays, marked. Returns its uid.</summary>
    private static async Task<string> HoldAndDeleteAsync(SimulatedCluster cluster)
    {
        await SendAsync(cluster, HttpMethod.Patch, "/api/v1/namespaces/default/configmaps/settings", $"{{\"metadata\":{{\"finalizers\":[\"{Hold}\"]}}}}");
        await SendAsync(cluster, HttpMethod.Delete, "/api/v1/namespaces/default/configmaps/settings", null);
        var live = cluster.GetObject("v1", "ConfigMap", "default", "settings")!;
        Assert.NotNull(live["metadata"]!["deletionTimestamp"]);
        Assert.Equal(HealthStatus.InProgress, HealthRules.Evaluate(live).Status);
        return live["metadata"]!["uid"]!.ToString();
    }

    private static async Task ReleaseLaterAsync(SimulatedCluster cluster)
    {
        await Task.Delay(TimeSpan.FromMilliseconds(500));
        await SendAsync(cluster, HttpMethod.Patch, "/api/v1/namespaces/default/configmaps/settings", "{\"metadata\":{\"finalizers\":null}}");
    }

    internal static async Task SendAsync(SimulatedCluster cluster, HttpMethod method, string path, string? mergePatch)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(method, new Uri(cluster.Server, path));
        if (mergePatch is not null)
        {
            request.Content = new StringContent(mergePatch, Encoding.UTF8, "application/merge-patch+json");
        }

        using var response = await http.SendAsync(request);
        response.EnsureSuccessStatusCode();
    }

    private static FleetInventory Inventory(SimulatedCluster cluster, ChangeSet applied) =>
        new(cluster.Name, "settings", "commit", "path", [.. applied.Changes.Select(c => new InventoryEntry(c.Reference, c.ApiVersion, c.Checksum))], DateTimeOffset.UtcNow);

    private async Task<(SimulatedCluster Cluster, ClusterClient Client)> ClusterAsync()
    {
        var cluster = await simulator.AddClusterAsync();
        var factory = new ClusterClientFactory(new StaticCredentialsProvider([ClusterConnection.FromToken(cluster.Name, cluster.Server, cluster.Token)]));
        _factories.Add(factory);
        return (cluster, await factory.GetClientAsync(cluster.Name));
    }

    public void Dispose()
    {
        foreach (var factory in _factories)
        {
            factory.Dispose();
        }
    }
}
