using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Xunit;

namespace FleetFunctions.Simulator.Tests.Client;

/// <summary>Create, read, update, patch, list and delete through KubernetesClient 21.</summary>
public sealed class CrudClientTests
{
    private static V1ConfigMap ConfigMap(string name, string ns, IDictionary<string, string>? labels = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns, Labels = labels },
        Data = new Dictionary<string, string> { ["k"] = "v" },
    };

    [Fact]
    public async Task Create_Twice_SecondIsAlreadyExists()
    {
        await using var t = await TestCluster.StartAsync();
        await t.Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("a", "default"), "default");

        var error = await Assert.ThrowsAsync<HttpOperationException>(() => t.Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("a", "default"), "default"));

        Assert.Equal(HttpStatusCode.Conflict, error.Response.StatusCode);
        Assert.Contains("\"reason\":\"AlreadyExists\"", error.Response.Content, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Replace_StaleResourceVersion_IsConflict()
    {
        await using var t = await TestCluster.StartAsync();
        var created = await t.Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("a", "default"), "default");
        created.Data["k"] = "changed";
        var updated = await t.Client.CoreV1.ReplaceNamespacedConfigMapAsync(created, "a", "default");
        created.Data["k"] = "stale";

        var error = await Assert.ThrowsAsync<HttpOperationException>(() => t.Client.CoreV1.ReplaceNamespacedConfigMapAsync(created, "a", "default"));

        Assert.Equal(HttpStatusCode.Conflict, error.Response.StatusCode);
        Assert.Contains("the object has been modified", error.Response.Content, StringComparison.Ordinal);
        Assert.Equal("changed", (await t.Client.CoreV1.ReadNamespacedConfigMapAsync("a", "default")).Data["k"]);
        Assert.NotEqual(created.Metadata.ResourceVersion, updated.Metadata.ResourceVersion);
    }

    [Fact]
    public async Task Create_WithoutName_IsInvalidWithCause()
    {
        await using var t = await TestCluster.StartAsync();

        var error = await Assert.ThrowsAsync<HttpOperationException>(() => t.Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("", "default"), "default"));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, error.Response.StatusCode);
        Assert.Contains("\"reason\":\"Invalid\"", error.Response.Content, StringComparison.Ordinal);
        Assert.Contains("\"field\":\"metadata.name\"", error.Response.Content, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Patch_MergeJsonAndStrategic_ChangeTheObject()
    {
        await using var t = await TestCluster.StartAsync();
        await t.Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("a", "default"), "default");

        await t.Client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch("{\"data\":{\"merge\":\"1\"}}", V1Patch.PatchType.MergePatch), "a", "default");
        await t.Client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch("[{\"op\":\"add\",\"path\":\"/data/json\",\"value\":\"2\"}]", V1Patch.PatchType.JsonPatch), "a", "default");
        var final = await t.Client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch("{\"data\":{\"k\":null,\"smp\":\"3\"}}", V1Patch.PatchType.StrategicMergePatch), "a", "default");

        Assert.Equal(new Dictionary<string, string> { ["merge"] = "1", ["json"] = "2", ["smp"] = "3" }, final.Data);
        Assert.Contains(final.Metadata.ManagedFields, m => m.Operation == "Update");
    }

    [Fact]
    public async Task StrategicMergePatch_Containers_MergesByName()
    {
        await using var t = await TestCluster.StartAsync();
        var deployment = new V1Deployment
        {
            Metadata = new V1ObjectMeta { Name = "web", NamespaceProperty = "default" },
            Spec = new V1DeploymentSpec
            {
                Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "web" } },
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { ["app"] = "web" } },
                    Spec = new V1PodSpec { Containers = [new V1Container { Name = "app", Image = "web:1" }, new V1Container { Name = "sidecar", Image = "proxy:1" }] },
                },
            },
        };
        await t.Client.AppsV1.CreateNamespacedDeploymentAsync(deployment, "default");

        var patched = await t.Client.AppsV1.PatchNamespacedDeploymentAsync(
            new V1Patch("{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"app\",\"image\":\"web:2\"}]}}}}", V1Patch.PatchType.StrategicMergePatch), "web", "default");

        Assert.Equal(["web:2", "proxy:1"], patched.Spec.Template.Spec.Containers.Select(c => c.Image));
        Assert.Equal(2, patched.Metadata.Generation);
    }

    [Theory]
    [InlineData("tier=web", "a,b")]
    [InlineData("tier==web,env=prod", "a")]
    [InlineData("tier!=web", "c,d")]
    [InlineData("env in (prod,staging)", "a,b,c")]
    [InlineData("env notin (prod)", "b,d")]
    [InlineData("env", "a,b,c")]
    [InlineData("!env", "d")]
    public async Task List_LabelSelector_ReturnsMatchingObjects(string selector, string expected)
    {
        await using var t = await TestCluster.StartAsync();
        await t.Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("a", "default", new Dictionary<string, string> { ["tier"] = "web", ["env"] = "prod" }), "default");
        await t.Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("b", "default", new Dictionary<string, string> { ["tier"] = "web", ["env"] = "staging" }), "default");
        await t.Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("c", "default", new Dictionary<string, string> { ["tier"] = "db", ["env"] = "prod" }), "default");
        await t.Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("d", "default", new Dictionary<string, string> { ["tier"] = "db" }), "default");

        var list = await t.Client.CoreV1.ListNamespacedConfigMapAsync("default", labelSelector: selector);

        Assert.Equal(expected, string.Join(",", list.Items.Select(i => i.Metadata.Name)));
    }

    [Fact]
    public async Task List_WithLimit_PagesThroughEverythingOnce()
    {
        await using var t = await TestCluster.StartAsync();
        for (var i = 0; i < 7; i++)
        {
            await t.Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap($"cm-{i}", "default"), "default");
        }

        var names = new List<string>();
        string? token = null;
        var pages = 0;
        do
        {
            var page = await t.Client.CoreV1.ListNamespacedConfigMapAsync("default", limit: 3, continueParameter: token);
            names.AddRange(page.Items.Select(i => i.Metadata.Name));
            token = page.Metadata.ContinueProperty;
            pages++;
        }
        while (!string.IsNullOrEmpty(token));

        Assert.Equal(3, pages);
        Assert.Equal(Enumerable.Range(0, 7).Select(i => $"cm-{i}"), names);
    }

    [Fact]
    public async Task List_FieldSelectorAcrossNamespaces_FiltersByNameAndNamespace()
    {
        await using var t = await TestCluster.StartAsync();
        await t.Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = "other" } });
        await t.Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("a", "default"), "default");
        await t.Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("a", "other"), "other");
        await t.Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("b", "other"), "other");

        var byName = await t.Client.CoreV1.ListConfigMapForAllNamespacesAsync(fieldSelector: "metadata.name=a");
        var byNamespace = await t.Client.CoreV1.ListConfigMapForAllNamespacesAsync(fieldSelector: "metadata.namespace=other,metadata.name!=a");

        Assert.Equal(["default/a", "other/a"], byName.Items.Select(i => $"{i.Metadata.NamespaceProperty}/{i.Metadata.Name}"));
        Assert.Equal("b", Assert.Single(byNamespace.Items).Metadata.Name);
    }

    [Fact]
    public async Task Create_BodyOfWrongShape_IsAnsweredWithStatusNotDropped()
    {
        await using var t = await TestCluster.StartAsync();
        using var http = new HttpClient();

        using var response = await http.PostAsync(
            new Uri(t.Cluster.Server, "/api/v1/namespaces/default/configmaps"),
            new StringContent("{\"metadata\":\"not-an-object\"}", System.Text.Encoding.UTF8, "application/json"));

        Assert.True((int)response.StatusCode is >= 400 and < 600);
        Assert.Contains("\"kind\":\"Status\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Delete_Object_IsGoneAndCountsAsWrite()
    {
        await using var t = await TestCluster.StartAsync();
        await t.Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("a", "default"), "default");

        await t.Client.CoreV1.DeleteNamespacedConfigMapAsync("a", "default");

        var error = await Assert.ThrowsAsync<HttpOperationException>(() => t.Client.CoreV1.ReadNamespacedConfigMapAsync("a", "default"));
        Assert.Equal(HttpStatusCode.NotFound, error.Response.StatusCode);
        Assert.Equal(2, t.Cluster.WriteCount);
    }
}
