using System.Net;
using System.Text.Json;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Xunit;

namespace FleetFunctions.Simulator.Tests.Client;

/// <summary>KubernetesClient 21 doing server-side apply against the simulator.</summary>
public sealed class ServerSideApplyClientTests
{
    private static V1ConfigMap Settings(string value) => new()
    {
        ApiVersion = "v1",
        Kind = "ConfigMap",
        Metadata = new V1ObjectMeta { Name = "settings", NamespaceProperty = "default", Labels = new Dictionary<string, string> { ["app"] = "shop" } },
        Data = new Dictionary<string, string> { ["mode"] = value },
    };

    private static Task<V1ConfigMap> ApplyAsync(Kubernetes client, V1ConfigMap desired, string manager = "fleet", bool force = false) =>
        client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch(desired, V1Patch.PatchType.ApplyPatch), desired.Metadata.Name, desired.Metadata.NamespaceProperty, fieldManager: manager, force: force);

    [Fact]
    public async Task Apply_CreateNoOpChange_WritesOnlyWhenSomethingChanges()
    {
        await using var t = await TestCluster.StartAsync();

        var created = await ApplyAsync(t.Client, Settings("blue"));
        var writesAfterCreate = t.Cluster.WriteCount;
        var again = await ApplyAsync(t.Client, Settings("blue"));
        var writesAfterNoOp = t.Cluster.WriteCount;
        var changed = await ApplyAsync(t.Client, Settings("green"));

        Assert.Equal(1, writesAfterCreate);
        Assert.False(string.IsNullOrEmpty(created.Metadata.Uid));
        Assert.Equal(created.Metadata.ResourceVersion, again.Metadata.ResourceVersion);
        Assert.Equal(writesAfterCreate, writesAfterNoOp);
        Assert.NotEqual(created.Metadata.ResourceVersion, changed.Metadata.ResourceVersion);
        Assert.Equal("green", changed.Data["mode"]);
        Assert.Equal(created.Metadata.Uid, changed.Metadata.Uid);
        Assert.Equal(2, t.Cluster.WriteCount);
        Assert.Contains(changed.Metadata.ManagedFields, m => m.Manager == "fleet" && m.Operation == "Apply");
    }

    [Fact]
    public async Task Apply_SameDeploymentAfterStatusUpdate_IsNoOp()
    {
        await using var t = await TestCluster.StartAsync();
        var desired = new V1Deployment
        {
            ApiVersion = "apps/v1",
            Kind = "Deployment",
            Metadata = new V1ObjectMeta { Name = "web", NamespaceProperty = "default", Labels = new Dictionary<string, string> { ["app"] = "web" } },
            Spec = new V1DeploymentSpec
            {
                Replicas = 2,
                Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "web" } },
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { ["app"] = "web" } },
                    Spec = new V1PodSpec { Containers = [new V1Container { Name = "app", Image = "web:1", Ports = [new V1ContainerPort { ContainerPort = 8080, Name = "http" }] }] },
                },
            },
        };
        await t.Client.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch(desired, V1Patch.PatchType.ApplyPatch), "web", "default", fieldManager: "fleet");
        await TestCluster.WaitForAsync(() => t.Cluster.GetObject("apps/v1", "Deployment", "default", "web")?["status"]?["readyReplicas"] is not null, "the deployment to become ready");
        var live = await t.Client.AppsV1.ReadNamespacedDeploymentAsync("web", "default");
        var writes = t.Cluster.WriteCount;

        var again = await t.Client.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch(desired, V1Patch.PatchType.ApplyPatch), "web", "default", fieldManager: "fleet");

        Assert.Equal(live.Metadata.ResourceVersion, again.Metadata.ResourceVersion);
        Assert.Equal(writes, t.Cluster.WriteCount);
        Assert.Equal(2, again.Status.ReadyReplicas);
    }

    [Fact]
    public async Task Apply_Service_GetsStableClusterIpAndReapplyIsNoOp()
    {
        await using var t = await TestCluster.StartAsync();
        var service = new V1Service
        {
            ApiVersion = "v1",
            Kind = "Service",
            Metadata = new V1ObjectMeta { Name = "web", NamespaceProperty = "default" },
            Spec = new V1ServiceSpec { Selector = new Dictionary<string, string> { ["app"] = "web" }, Ports = [new V1ServicePort { Name = "http", Port = 80 }] },
        };

        var created = await t.Client.CoreV1.PatchNamespacedServiceAsync(new V1Patch(service, V1Patch.PatchType.ApplyPatch), "web", "default", fieldManager: "fleet");
        var writes = t.Cluster.WriteCount;
        var again = await t.Client.CoreV1.PatchNamespacedServiceAsync(new V1Patch(service, V1Patch.PatchType.ApplyPatch), "web", "default", fieldManager: "fleet");

        Assert.StartsWith("10.96.", created.Spec.ClusterIP, StringComparison.Ordinal);
        Assert.Equal("ClusterIP", created.Spec.Type);
        Assert.Equal("TCP", created.Spec.Ports[0].Protocol);
        Assert.Equal(created.Spec.ClusterIP, again.Spec.ClusterIP);
        Assert.Equal(created.Metadata.ResourceVersion, again.Metadata.ResourceVersion);
        Assert.Equal(writes, t.Cluster.WriteCount);
    }

    [Fact]
    public async Task Apply_DryRun_PersistsNothing()
    {
        await using var t = await TestCluster.StartAsync();

        var result = await t.Client.CoreV1.PatchNamespacedConfigMapAsync(
            new V1Patch(Settings("blue"), V1Patch.PatchType.ApplyPatch), "settings", "default", dryRun: "All", fieldManager: "fleet");

        Assert.Equal("blue", result.Data["mode"]);
        Assert.Null(t.Cluster.GetObject("v1", "ConfigMap", "default", "settings"));
        Assert.Equal(0, t.Cluster.WriteCount);
    }

    [Fact]
    public async Task Apply_FieldOwnedByAnotherManager_FailsWithConflictStatusUntilForced()
    {
        await using var t = await TestCluster.StartAsync();
        await ApplyAsync(t.Client, Settings("blue"), manager: "first");

        var error = await Assert.ThrowsAsync<HttpOperationException>(() => ApplyAsync(t.Client, Settings("green"), manager: "second"));

        Assert.Equal(HttpStatusCode.Conflict, error.Response.StatusCode);
        var status = JsonSerializer.Deserialize<V1Status>(error.Response.Content, new JsonSerializerOptions(JsonSerializerDefaults.Web))!;
        Assert.Equal("Conflict", status.Reason);
        Assert.Equal(409, status.Code);
        Assert.Equal("Apply failed with 1 conflict: conflict with \"first\": .data.mode", status.Message);
        var cause = Assert.Single(status.Details.Causes);
        Assert.Equal("FieldManagerConflict", cause.Reason);
        Assert.Equal(".data.mode", cause.Field);
        Assert.Equal("conflict with \"first\"", cause.Message);

        var forced = await ApplyAsync(t.Client, Settings("green"), manager: "second", force: true);
        Assert.Equal("green", forced.Data["mode"]);
    }

    [Fact]
    public async Task Apply_ContainersWithOneName_Answers500TypedPatchFailureAsKubeApiserver()
    {
        await using var t = await TestCluster.StartAsync();
        using var http = new HttpClient();
        using var body = new StringContent("""
            {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"default"},
             "spec":{"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},
               "spec":{"containers":[{"name":"app","image":"nginx:1"},{"name":"app","image":"nginx:2"}]}}}}
            """);
        body.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/apply-patch+yaml");

        using var answer = await http.PatchAsync(new Uri(t.Cluster.Server, "/apis/apps/v1/namespaces/default/deployments/web?fieldManager=test"), body);

        Assert.Equal(HttpStatusCode.InternalServerError, answer.StatusCode);
        var status = JsonDocument.Parse(await answer.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(
            "failed to create typed patch object (default/web; apps/v1, Kind=Deployment): .spec.template.spec.containers: duplicate entries for key [name=\"app\"]",
            status.GetProperty("message").GetString());
        Assert.False(status.TryGetProperty("reason", out _));
        Assert.Equal(500, status.GetProperty("code").GetInt32());
        Assert.Null(t.Cluster.GetObject("apps/v1", "Deployment", "default", "web"));
    }

    [Fact]
    public async Task Apply_WithoutFieldManager_IsRejected()
    {
        await using var t = await TestCluster.StartAsync();

        var error = await Assert.ThrowsAsync<HttpOperationException>(() =>
            t.Client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch(Settings("blue"), V1Patch.PatchType.ApplyPatch), "settings", "default"));

        Assert.Equal(HttpStatusCode.BadRequest, error.Response.StatusCode);
        Assert.Contains("fieldManager is required", error.Response.Content, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Apply_IntoMissingNamespace_IsNotFound()
    {
        await using var t = await TestCluster.StartAsync();
        var desired = Settings("blue");
        desired.Metadata.NamespaceProperty = "nowhere";

        var error = await Assert.ThrowsAsync<HttpOperationException>(() => ApplyAsync(t.Client, desired));

        Assert.Equal(HttpStatusCode.NotFound, error.Response.StatusCode);
        Assert.Contains("namespaces \\\"nowhere\\\" not found", error.Response.Content, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Apply_ConcurrentManagersOnOneObject_LoseNoUpdate()
    {
        // the merge runs outside the cluster lock: a commit on a stale snapshot must retry, never overwrite
        await using var t = await TestCluster.StartAsync();
        await ApplyAsync(t.Client, Settings("blue"));
        const int managers = 24;

        await Parallel.ForEachAsync(Enumerable.Range(0, managers), new ParallelOptions { MaxDegreeOfParallelism = managers }, async (i, ct) =>
        {
            var part = new V1ConfigMap
            {
                ApiVersion = "v1",
                Kind = "ConfigMap",
                Metadata = new V1ObjectMeta { Name = "settings", NamespaceProperty = "default" },
                Data = new Dictionary<string, string> { [$"key-{i}"] = $"value-{i}" },
            };
            await ApplyAsync(t.Client, part, manager: $"manager-{i}");
        });

        var live = await t.Client.CoreV1.ReadNamespacedConfigMapAsync("settings", "default");
        Assert.Equal(managers + 1, live.Data.Count);
        Assert.All(Enumerable.Range(0, managers), i => Assert.Equal($"value-{i}", live.Data[$"key-{i}"]));
        Assert.Equal(managers + 1, live.Metadata.ManagedFields.Count(m => m.Operation == "Apply"));
        Assert.Equal(managers + 1, t.Cluster.WriteCount);
    }
}
