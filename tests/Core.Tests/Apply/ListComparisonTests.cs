using FleetFunctions.Core.Apply;
using FleetFunctions.Core.Clusters;
using FleetFunctions.Core.Health;
using FleetFunctions.Core.Inventory;
using FleetFunctions.Core.Manifests;
using FleetFunctions.Core.Tests.Support;
using FleetFunctions.Simulator;
using Xunit;

namespace FleetFunctions.Core.Tests.Apply;

/// <summary>
/// Many unchanged objects of one resource in one namespace are compared with the cluster through a paged LIST,
/// not a GET each; drift and missing objects found that way are healed like any other.
/// </summary>
public sealed class ListComparisonTests(SimulatorFixture simulator) : IClassFixture<SimulatorFixture>, IDisposable
{
    private const int Count = 45; // more than two LIST pages
    private readonly List<ClusterClientFactory> _factories = [];

    private static ManifestSet ConfigMaps(string ns) => ManifestSet.Create(ManifestParser.Parse(
        $"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}}}\n" +
        string.Concat(Enumerable.Range(0, Count).Select(i => $"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cm-{i:D2}, namespace: {ns}}}\ndata: {{mode: blue}}\n")),
        "configmaps.yaml"));

    [Fact]
    public async Task ApplyAsync_UnchangedObjectsInOneNamespace_ComparesThemByListWithoutWrites()
    {
        var (cluster, client) = await ClusterAsync();
        var desired = ConfigMaps("lists");
        var first = await new Applier(client).ApplyAsync(desired);
        cluster.ResetCounters();

        var again = await new Applier(client).ApplyAsync(desired, Inventory(cluster, first));

        Assert.Equal(Count + 1, again.Count(ChangeAction.Unchanged));
        Assert.Equal(0, cluster.WriteCount);
        // one GET for the Namespace, ceil(45 / page size) LIST pages for the ConfigMaps: far fewer than a GET each
        Assert.Equal(1 + ((Count + ReadBatching.PageSize - 1) / ReadBatching.PageSize), cluster.RequestCount);
        Assert.All(again.Changes, c => Assert.Equal(HealthStatus.Current, c.Health?.Status));
    }

    [Fact]
    public async Task ApplyAsync_ListedObjectsDriftedOrDeleted_HealsOnlyThoseAndReportsDrift()
    {
        var (cluster, client) = await ClusterAsync();
        var desired = ConfigMaps("drift");
        var first = await new Applier(client).ApplyAsync(desired);
        await new Applier(client, new ApplyOptions { Force = true }).ApplyAsync(ManifestSet.Create(ManifestParser.Parse(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-07, namespace: drift}\ndata: {mode: green}\n", "edit.yaml")));
        using (var http = new HttpClient())
        using (var request = new HttpRequestMessage(HttpMethod.Delete, new Uri(cluster.Server, "/api/v1/namespaces/drift/configmaps/cm-31")))
        {
            (await http.SendAsync(request)).EnsureSuccessStatusCode();
        }

        cluster.ResetCounters();

        var healed = await new Applier(client).ApplyAsync(desired, Inventory(cluster, first));

        var modified = Assert.Single(healed.Changes, c => c.Action == ChangeAction.Configured);
        Assert.Equal("ConfigMap/drift/cm-07", modified.Reference.ToString());
        Assert.Equal([".data.mode"], modified.DriftedFields);
        var recreated = Assert.Single(healed.Changes, c => c.Action == ChangeAction.Created);
        Assert.Equal("ConfigMap/drift/cm-31", recreated.Reference.ToString());
        Assert.Equal(["(object missing)"], recreated.DriftedFields);
        Assert.Equal(Count - 1, healed.Count(ChangeAction.Unchanged));
        Assert.Equal(2, cluster.WriteCount);
        Assert.Equal("blue", cluster.GetObject("v1", "ConfigMap", "drift", "cm-07")!["data"]!["mode"]!.ToString());
    }

    [Fact]
    public async Task DetectAsync_ListedObjectsDriftedOrDeleted_ReportsThemFromListPages()
    {
        var (cluster, client) = await ClusterAsync();
        var desired = ConfigMaps("sweep");
        await new Applier(client).ApplyAsync(desired);
        await new Applier(client, new ApplyOptions { Force = true }).ApplyAsync(ManifestSet.Create(ManifestParser.Parse(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-12, namespace: sweep}\ndata: {mode: green}\n", "edit.yaml")));
        using (var http = new HttpClient())
        using (var request = new HttpRequestMessage(HttpMethod.Delete, new Uri(cluster.Server, "/api/v1/namespaces/sweep/configmaps/cm-40")))
        {
            (await http.SendAsync(request)).EnsureSuccessStatusCode();
        }

        cluster.ResetCounters();

        var report = await new FleetFunctions.Core.Drift.DriftDetector(client).DetectAsync("lists", "commit", desired);

        Assert.Empty(report.Errors);
        Assert.Equal(["ConfigMap/sweep/cm-12: .data.mode", "ConfigMap/sweep/cm-40: missing"], report.Objects.Select(o => o.ToString()).Order(StringComparer.Ordinal));
        Assert.Equal(1 + ((Count + ReadBatching.PageSize - 1) / ReadBatching.PageSize), cluster.RequestCount);
        Assert.Equal(0, cluster.WriteCount);
    }

    [Fact]
    public async Task CheckAsync_ManyObjectsInOneNamespace_ReadsThemByListAndReportsTheMissingOne()
    {
        var (cluster, client) = await ClusterAsync();
        await new Applier(client).ApplyAsync(ConfigMaps("health"));
        IReadOnlyList<(ObjectReference, string)> targets =
            [.. Enumerable.Range(0, 5).Select(i => (new ObjectReference("", "ConfigMap", "health", $"cm-{i:D2}"), "v1")), (new ObjectReference("", "ConfigMap", "health", "absent"), "v1")];
        cluster.ResetCounters();

        var report = await new HealthChecker(client).CheckAsync(targets);

        Assert.Equal(5, report.Objects.Count(o => o.Status == HealthStatus.Current));
        Assert.Equal(HealthStatus.NotFound, report.Objects[5].Status);
        Assert.Equal(3, cluster.RequestCount); // the 45 ConfigMaps in pages of 20
    }

    [Fact]
    public async Task ListAsync_MoreObjectsThanAPage_FollowsContinueAndAddsKindToItems()
    {
        var (cluster, client) = await ClusterAsync();
        await new Applier(client).ApplyAsync(ConfigMaps("pages"));
        var resource = await client.ResolveAsync("v1", "ConfigMap");
        cluster.ResetCounters();

        var names = new List<string>();
        await foreach (var item in client.ListAsync(resource, "pages", pageSize: 20))
        {
            Assert.Equal("v1", item["apiVersion"]!.ToString());
            Assert.Equal("ConfigMap", item["kind"]!.ToString());
            names.Add(item["metadata"]!["name"]!.ToString());
        }

        Assert.Equal(Enumerable.Range(0, Count).Select(i => $"cm-{i:D2}"), names.Order(StringComparer.Ordinal));
        Assert.Equal(3, cluster.RequestCount);
    }

    public void Dispose()
    {
        foreach (var factory in _factories)
        {
            factory.Dispose();
        }
    }

    private static FleetInventory Inventory(SimulatedCluster cluster, ChangeSet applied) =>
        new(cluster.Name, "lists", "commit", "path", [.. applied.Changes.Select(c => new InventoryEntry(c.Reference, c.ApiVersion, c.Checksum))], DateTimeOffset.UtcNow);

    private async Task<(SimulatedCluster Cluster, ClusterClient Client)> ClusterAsync()
    {
        var cluster = await simulator.AddClusterAsync();
        var factory = new ClusterClientFactory(new StaticCredentialsProvider([ClusterConnection.FromToken(cluster.Name, cluster.Server, cluster.Token)]));
        _factories.Add(factory);
        var client = await factory.GetClientAsync(cluster.Name);
        await client.ResolveAsync("v1", "ConfigMap"); // discovery outside the counted requests
        await client.ResolveAsync("v1", "Namespace");
        return (cluster, client);
    }
}
