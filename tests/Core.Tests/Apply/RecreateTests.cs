using FleetFunctions.Core.Apply;
using FleetFunctions.Core.Clusters;
using FleetFunctions.Core.Manifests;
using FleetFunctions.Core.Reconcile;
using FleetFunctions.Core.Tests.Support;
using FleetFunctions.Simulator;
using FleetFunctions.TestSupport;
using Xunit;

namespace FleetFunctions.Core.Tests.Apply;

/// <summary>
/// Immutable-field changes against the simulator, which refuses them with kube-apiserver's 422 (message, details,
/// causes): reported as such without recreate, deleted and created again with it.
/// </summary>
public sealed class RecreateTests(SimulatorFixture simulator, AzuriteFixture azurite) : IClassFixture<SimulatorFixture>, IClassFixture<AzuriteFixture>, IDisposable
{
    private readonly List<ClusterClientFactory> _factories = [];

    private static string Deployment(string selector) => $"""
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
          namespace: default
        spec:
          replicas: 1
          selector:
            matchLabels: {selector}
          template:
            metadata:
              labels: {"{"}app: web, track: blue{"}"}
            spec:
              containers:
                - name: app
                  image: nginx:1
        """;

    [Fact]
    public async Task ApplyAsync_DeploymentSelectorChangedWithoutRecreate_FailsNamingObjectFieldAndRemedy()
    {
        var (cluster, client) = await ClusterAsync();
        await ApplyAsync(client, Deployment("{app: web}"));
        var uid = Uid(cluster, "apps/v1", "Deployment", "web");
        cluster.ResetCounters();

        var changes = await ApplyAsync(client, Deployment("{app: web, track: blue}"), expectSuccess: false);

        var failure = Assert.Single(changes.Failures);
        Assert.StartsWith(
            $"{cluster.Name}/Deployment/default/web: immutable field changed: spec.selector: Invalid value: v1.LabelSelector{{MatchLabels:map[string]string{{\"app\":\"web\", \"track\":\"blue\"}}",
            failure.Message,
            StringComparison.Ordinal);
        Assert.EndsWith("; revert spec.selector in Git, or set recreate: true on the fleet to delete and recreate the object.", failure.Message, StringComparison.Ordinal);
        Assert.Equal(0, cluster.WriteCount);
        Assert.Equal(uid, Uid(cluster, "apps/v1", "Deployment", "web"));
    }

    [Fact]
    public async Task ApplyAsync_DeploymentSelectorChangedWithRecreate_DeletesAndCreatesAgain()
    {
        var (cluster, client) = await ClusterAsync();
        await ApplyAsync(client, Deployment("{app: web}"));
        var uid = Uid(cluster, "apps/v1", "Deployment", "web");
        cluster.ResetCounters();

        var changes = await ApplyAsync(client, Deployment("{app: web, track: blue}"), recreate: true);

        var change = Assert.Single(changes.Changes);
        Assert.Equal(ChangeAction.Configured, change.Action);
        Assert.True(change.Recreated);
        Assert.Equal("Deployment/default/web configured: recreated: spec.selector cannot change in place", change.ToString());
        Assert.Equal(2, cluster.WriteCount); // the delete and the create
        Assert.NotEqual(uid, Uid(cluster, "apps/v1", "Deployment", "web"));
        Assert.Equal("blue", cluster.GetObject("apps/v1", "Deployment", "default", "web")!["spec"]!["selector"]!["matchLabels"]!["track"]!.ToString());
    }

    [Fact]
    public async Task ApplyAsync_ServiceClusterIpChanged_IsImmutableAndRecreatedWithRecreate()
    {
        var (cluster, client) = await ClusterAsync();
        static string Service(string ip) =>
            $"apiVersion: v1\nkind: Service\nmetadata: {{name: api, namespace: default}}\nspec:\n  clusterIP: {ip}\n  ports: [{{port: 80}}]\n";
        await ApplyAsync(client, Service("10.96.100.10"));

        var refused = await ApplyAsync(client, Service("10.96.100.11"), expectSuccess: false);
        var recreated = await ApplyAsync(client, Service("10.96.100.11"), recreate: true);

        Assert.StartsWith(
            $"{cluster.Name}/Service/default/api: immutable field changed: spec.clusterIPs[0]: Invalid value: []string{{\"10.96.100.11\"}}: may not change once set; revert spec.clusterIPs[0] in Git",
            Assert.Single(refused.Failures).Message,
            StringComparison.Ordinal);
        Assert.True(Assert.Single(recreated.Changes).Recreated);
        Assert.Equal("10.96.100.11", cluster.GetObject("v1", "Service", "default", "api")!["spec"]!["clusterIP"]!.ToString());
    }

    [Fact]
    public async Task ApplyAsync_ImmutableConfigMapDataChanged_IsImmutableAndRecreatedWithRecreate()
    {
        var (cluster, client) = await ClusterAsync();
        static string ConfigMap(string mode) => $"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: settings, namespace: default}}\nimmutable: true\ndata: {{mode: {mode}}}\n";
        await ApplyAsync(client, ConfigMap("blue"));

        var refused = await ApplyAsync(client, ConfigMap("green"), expectSuccess: false);
        var recreated = await ApplyAsync(client, ConfigMap("green"), recreate: true);

        var failure = Assert.Single(refused.Failures).Message!;
        Assert.StartsWith($"{cluster.Name}/ConfigMap/default/settings: immutable field changed: data: Forbidden: field is immutable when `immutable` is set", failure, StringComparison.Ordinal);
        Assert.True(Assert.Single(recreated.Changes).Recreated);
        Assert.Equal("green", cluster.GetObject("v1", "ConfigMap", "default", "settings")!["data"]!["mode"]!.ToString());
    }

    [Fact]
    public async Task ApplyAsync_PersistentVolumeClaimSpecChangedWithRecreate_IsNeverDeletedAndFailsNamingTheFieldAndMigration()
    {
        var (cluster, client) = await ClusterAsync();
        static string Claim(string storageClass) =>
            $"apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {{name: data, namespace: default}}\n" +
            $"spec: {{storageClassName: {storageClass}, accessModes: [ReadWriteOnce], resources: {{requests: {{storage: 1Gi}}}}}}\n";
        await ApplyAsync(client, Claim("standard"));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (cluster.GetObject("v1", "PersistentVolumeClaim", "default", "data")?["status"]?["phase"]?.ToString() != "Bound" && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        var uid = Uid(cluster, "v1", "PersistentVolumeClaim", "data");
        cluster.ResetCounters();

        var refused = await ApplyAsync(client, Claim("fast"), recreate: true, expectSuccess: false);

        Assert.Equal(
            $"{cluster.Name}/PersistentVolumeClaim/default/data: immutable field changed: spec; a PersistentVolumeClaim is never recreated, even with recreate: true " +
            "(deleting it destroys the volume's data once no Pod uses it): revert spec in Git, or migrate by hand to a new PersistentVolumeClaim and copy the data.",
            Assert.Single(refused.Failures).Message);
        Assert.Equal(0, cluster.WriteCount);
        Assert.Empty(cluster.Deletions);
        Assert.Equal(uid, Uid(cluster, "v1", "PersistentVolumeClaim", "data"));
    }

    [Fact]
    public async Task ApplyAsync_StatefulSetRecreated_IsDeletedWithOrphanPropagationSoItsPodsAreAdopted()
    {
        var (cluster, client) = await ClusterAsync();
        static string StatefulSet(string service) => $$$"""
            apiVersion: apps/v1
            kind: StatefulSet
            metadata: {name: db, namespace: default}
            spec:
              serviceName: {{{service}}}
              replicas: 2
              selector: {matchLabels: {app: db}}
              template:
                metadata: {labels: {app: db}}
                spec: {containers: [{name: db, image: "postgres:16"}]}
            """;
        await ApplyAsync(client, StatefulSet("db"));

        var recreated = await ApplyAsync(client, StatefulSet("db-headless"), recreate: true);
        await ApplyAsync(client, Deployment("{app: web}"));
        await ApplyAsync(client, Deployment("{app: web, track: blue}"), recreate: true);

        Assert.True(Assert.Single(recreated.Changes).Recreated);
        Assert.Equal("db-headless", cluster.GetObject("apps/v1", "StatefulSet", "default", "db")!["spec"]!["serviceName"]!.ToString());
        Assert.Equal(
            [new SimulatedDeletion("apps/v1", "StatefulSet", "default", "db", "Orphan"), new SimulatedDeletion("apps/v1", "Deployment", "default", "web", "Background")],
            cluster.Deletions);
    }

    [Fact]
    public async Task ApplyAsync_RecreateOfAnObjectAlreadyBeingDeleted_SendsNoDeleteAndCreatesItOnceItsFinalizerIsReleased()
    {
        var (cluster, client) = await ClusterAsync();
        await ApplyAsync(client, Deployment("{app: web}"));
        await BeingDeletedTests.SendAsync(cluster, HttpMethod.Patch, "/apis/apps/v1/namespaces/default/deployments/web", "{\"metadata\":{\"finalizers\":[\"example.com/drain\"]}}");
        await BeingDeletedTests.SendAsync(cluster, HttpMethod.Delete, "/apis/apps/v1/namespaces/default/deployments/web", null);
        var uid = Uid(cluster, "apps/v1", "Deployment", "web");
        var release = Task.Run(async () =>
        {
            await Task.Delay(500);
            await BeingDeletedTests.SendAsync(cluster, HttpMethod.Patch, "/apis/apps/v1/namespaces/default/deployments/web", "{\"metadata\":{\"finalizers\":null}}");
        });

        var changes = await ApplyAsync(client, Deployment("{app: web, track: blue}"), recreate: true);
        await release;

        Assert.True(Assert.Single(changes.Changes).Recreated);
        Assert.Single(cluster.Deletions); // only the one before the apply
        Assert.NotEqual(uid, Uid(cluster, "apps/v1", "Deployment", "web"));
    }

    [Fact]
    public async Task ReconcileAsync_SelectorChangedInGit_FailsWithoutRecreateAndRecreatesWithFleetRecreate()
    {
        using var h = await PipelineHarness.CreateAsync(simulator, azurite.ConnectionString);
        var cluster = h.Cluster;
        h.Repo.Write("web/deployment.yaml", Deployment("{app: web}")).Commit("web");
        Assert.True((await ReconcileAsync(h, recreate: false)).Succeeded);
        var uid = Uid(cluster, "apps/v1", "Deployment", "web");
        h.Repo.Write("web/deployment.yaml", Deployment("{app: web, track: blue}")).Commit("new selector");

        var refused = await ReconcileAsync(h, recreate: false);
        var recreated = await ReconcileAsync(h, recreate: true);

        Assert.Equal(ReconcilePhase.Apply, refused.Phase);
        Assert.False(refused.IsTransient);
        Assert.Contains(refused.Errors, e => e.StartsWith($"{cluster.Name}/Deployment/default/web: immutable field changed: spec.selector", StringComparison.Ordinal) && e.Contains("recreate: true", StringComparison.Ordinal));
        Assert.True(recreated.Succeeded, string.Join("\n", recreated.Errors));
        var change = Assert.Single(recreated.Changes.Changes);
        Assert.True(change.Recreated);
        Assert.Equal(ChangeAction.Configured, change.Action);
        Assert.NotEqual(uid, Uid(cluster, "apps/v1", "Deployment", "web"));
        Assert.True(recreated.Health!.Healthy);
    }

    private static Task<ReconcileResult> ReconcileAsync(PipelineHarness h, bool recreate) =>
        h.ReconcileAsync("web", PipelineHarness.FastOptions with { Apply = new ApplyOptions { Recreate = recreate } }, fleet: "web");

    private static string Uid(SimulatedCluster cluster, string apiVersion, string kind, string name) =>
        cluster.GetObject(apiVersion, kind, "default", name)!["metadata"]!["uid"]!.ToString();

    private async Task<(SimulatedCluster Cluster, ClusterClient Client)> ClusterAsync()
    {
        var cluster = await simulator.AddClusterAsync();
        var factory = new ClusterClientFactory(new StaticCredentialsProvider([ClusterConnection.FromToken(cluster.Name, cluster.Server, cluster.Token)]));
        _factories.Add(factory);
        return (cluster, await factory.GetClientAsync(cluster.Name));
    }

    private static async Task<ChangeSet> ApplyAsync(ClusterClient client, string yaml, bool recreate = false, bool expectSuccess = true)
    {
        var changes = await new Applier(client, new ApplyOptions { Recreate = recreate }).ApplyAsync(ManifestSet.Create(ManifestParser.Parse(yaml, "object.yaml")));
        Assert.True(!expectSuccess || !changes.HasFailures, string.Join("\n", changes.Failures));
        return changes;
    }

    public void Dispose()
    {
        foreach (var factory in _factories)
        {
            factory.Dispose();
        }
    }
}
