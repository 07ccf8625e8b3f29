using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Xunit;

namespace FleetFunctions.Simulator.Tests.Client;

/// <summary>
/// Finalizers and deletionTimestamp as kube-apiserver 1.32 handles them: a DELETE marks an object its finalizers hold,
/// the write that empties them removes it; a namespace being deleted is Terminating, refuses new content and goes with
/// its last object; a CRD waits for its custom resources.
/// </summary>
public sealed class DeletionClientTests
{
    private const string Hold = "example.com/hold";

    private static V1ConfigMap ConfigMap(string name, string ns, params string[] finalizers) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns, Finalizers = finalizers.Length == 0 ? null : finalizers },
        Data = new Dictionary<string, string> { ["k"] = "v" },
    };

    [Fact]
    public async Task Delete_ObjectWithFinalizer_IsMarkedAndAnsweredWithTheObjectUntilAPatchEmptiesItsFinalizers()
    {
        await using var t = await TestCluster.StartAsync();
        await t.Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("held", "default", Hold), "default");
        using var http = new HttpClient { BaseAddress = t.Cluster.Server };
        t.Cluster.ResetCounters();

        using var response = await http.DeleteAsync(new Uri("/api/v1/namespaces/default/configmaps/held", UriKind.Relative));
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        using var again = await http.DeleteAsync(new Uri("/api/v1/namespaces/default/configmaps/held", UriKind.Relative));
        var writes = t.Cluster.WriteCount;
        var marked = await t.Client.CoreV1.ReadNamespacedConfigMapAsync("held", "default");
        var addFinalizer = await Assert.ThrowsAsync<HttpOperationException>(() => t.Client.CoreV1.PatchNamespacedConfigMapAsync(
            new V1Patch("{\"metadata\":{\"finalizers\":[\"example.com/hold\",\"example.com/late\"]}}", V1Patch.PatchType.MergePatch), "held", "default"));
        await t.Client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch("{\"data\":{\"k\":\"changed\"}}", V1Patch.PatchType.MergePatch), "held", "default");
        await t.Client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch("{\"metadata\":{\"finalizers\":null}}", V1Patch.PatchType.MergePatch), "held", "default");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ConfigMap", body["kind"]!.ToString());
        Assert.NotNull(body["metadata"]!["deletionTimestamp"]);
        Assert.Equal(0, body["metadata"]!["deletionGracePeriodSeconds"]!.GetValue<int>());
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(body["metadata"]!["resourceVersion"]!.ToString(), marked.Metadata.ResourceVersion);
        Assert.Equal(1, writes); // the second DELETE changed nothing
        Assert.Equal(HttpStatusCode.UnprocessableEntity, addFinalizer.Response.StatusCode);
        Assert.Contains(
            "ConfigMap \\\"held\\\" is invalid: metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{\\\"example.com/late\\\"}",
            addFinalizer.Response.Content,
            StringComparison.Ordinal);
        Assert.Null(t.Cluster.GetObject("v1", "ConfigMap", "default", "held"));
    }

    [Fact]
    public async Task DeleteNamespace_WithHeldContent_IsTerminatingRefusesCreatesAndGoesWithItsLastObject()
    {
        await using var t = await TestCluster.StartAsync();
        await t.Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = "shop" } });
        await t.Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("held", "shop", Hold), "shop");
        await t.Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("free", "shop"), "shop");

        await t.Client.CoreV1.DeleteNamespaceAsync("shop");
        var terminating = await t.Client.CoreV1.ReadNamespaceAsync("shop");
        var create = await Assert.ThrowsAsync<HttpOperationException>(() => t.Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("late", "shop"), "shop"));
        var apply = await Assert.ThrowsAsync<HttpOperationException>(() => t.Client.CoreV1.PatchNamespacedConfigMapAsync(
            new V1Patch("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"applied\",\"namespace\":\"shop\"}}", V1Patch.PatchType.ApplyPatch),
            "applied", "shop", fieldManager: "test"));

        Assert.Equal("Terminating", terminating.Status.Phase);
        Assert.NotNull(terminating.Metadata.DeletionTimestamp);
        Assert.Null(t.Cluster.GetObject("v1", "ConfigMap", "shop", "free"));
        Assert.NotNull(t.Cluster.GetObject("v1", "ConfigMap", "shop", "held")!["metadata"]!["deletionTimestamp"]);
        Assert.Equal(HttpStatusCode.Forbidden, create.Response.StatusCode);
        Assert.True(JsonNode.DeepEquals(
            JsonNode.Parse("""
                {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
                 "message":"configmaps \"late\" is forbidden: unable to create new content in namespace shop because it is being terminated",
                 "reason":"Forbidden",
                 "details":{"name":"late","kind":"configmaps","causes":[{"reason":"NamespaceTerminating","message":"namespace shop is being terminated","field":"metadata.namespace"}]},
                 "code":403}
                """),
            JsonNode.Parse(create.Response.Content)),
            create.Response.Content);
        Assert.Equal(HttpStatusCode.Forbidden, apply.Response.StatusCode);

        await t.Client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch("{\"metadata\":{\"finalizers\":null}}", V1Patch.PatchType.MergePatch), "held", "shop");

        Assert.Null(t.Cluster.GetObject("v1", "ConfigMap", "shop", "held"));
        Assert.Null(t.Cluster.GetObject("v1", "Namespace", null, "shop"));
    }

    [Fact]
    public async Task DeleteNamespace_WithoutHeldContent_GoesInTheRequest()
    {
        await using var t = await TestCluster.StartAsync();
        await t.Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = "shop" } });
        await t.Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("free", "shop"), "shop");
        using var http = new HttpClient { BaseAddress = t.Cluster.Server };

        using var response = await http.DeleteAsync(new Uri("/api/v1/namespaces/shop", UriKind.Relative));

        Assert.Equal("Status", JsonNode.Parse(await response.Content.ReadAsStringAsync())!["kind"]!.ToString());
        Assert.Null(t.Cluster.GetObject("v1", "Namespace", null, "shop"));
        Assert.Empty(t.Cluster.ListObjects(ns: "shop"));
    }

    [Fact]
    public async Task DeleteCrd_WithHeldCustomResource_WaitsForItAndRefusesNewOnes()
    {
        await using var t = await TestCluster.StartAsync();
        await t.Client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(CustomResourceClientTests.Crd());
        await t.Client.CustomObjects.CreateNamespacedCustomObjectAsync(Gadget("g1", Hold), "example.fleet.dev", "v1alpha1", "default", "gadgets");

        await t.Client.ApiextensionsV1.DeleteCustomResourceDefinitionAsync("gadgets.example.fleet.dev");
        var marked = await t.Client.ApiextensionsV1.ReadCustomResourceDefinitionAsync("gadgets.example.fleet.dev");
        var create = await Assert.ThrowsAsync<HttpOperationException>(() =>
            t.Client.CustomObjects.CreateNamespacedCustomObjectAsync(Gadget("g2"), "example.fleet.dev", "v1alpha1", "default", "gadgets"));
        await t.Client.CustomObjects.PatchNamespacedCustomObjectAsync(
            new V1Patch("{\"metadata\":{\"finalizers\":null}}", V1Patch.PatchType.MergePatch), "example.fleet.dev", "v1alpha1", "default", "gadgets", "g1");

        Assert.NotNull(marked.Metadata.DeletionTimestamp);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, create.Response.StatusCode);
        Assert.Contains("create not allowed while custom resource definition is terminating", create.Response.Content, StringComparison.Ordinal);
        Assert.Null(t.Cluster.GetObject("apiextensions.k8s.io/v1", "CustomResourceDefinition", null, "gadgets.example.fleet.dev"));
        Assert.DoesNotContain((await t.Client.Apis.GetAPIVersionsAsync()).Groups, g => g.Name == "example.fleet.dev");
    }

    [Fact]
    public async Task Delete_PropagationPolicy_IsRecordedFromBodyOrQuery()
    {
        await using var t = await TestCluster.StartAsync();
        await t.Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("a", "default"), "default");
        await t.Client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap("b", "default"), "default");
        using var http = new HttpClient { BaseAddress = t.Cluster.Server };

        using var body = await http.SendAsync(new HttpRequestMessage(HttpMethod.Delete, "/api/v1/namespaces/default/configmaps/a")
        {
            Content = new StringContent("{\"kind\":\"DeleteOptions\",\"apiVersion\":\"v1\",\"propagationPolicy\":\"Orphan\"}", Encoding.UTF8, "application/json"),
        });
        using var query = await http.DeleteAsync(new Uri("/api/v1/namespaces/default/configmaps/b?propagationPolicy=Foreground", UriKind.Relative));

        Assert.Equal(
            [new SimulatedDeletion("v1", "ConfigMap", "default", "a", "Orphan"), new SimulatedDeletion("v1", "ConfigMap", "default", "b", "Foreground")],
            t.Cluster.Deletions);
    }

    private static Dictionary<string, object> Gadget(string name, params string[] finalizers) => new()
    {
        ["apiVersion"] = "example.fleet.dev/v1alpha1",
        ["kind"] = "Gadget",
        ["metadata"] = new Dictionary<string, object> { ["name"] = name, ["namespace"] = "default", ["finalizers"] = finalizers },
        ["spec"] = new Dictionary<string, object> { ["size"] = 3 },
    };
}
