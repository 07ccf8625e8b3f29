using System.Net;
using System.Text.Json;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Xunit;

namespace FleetFunctions.Simulator.Tests.Client;

/// <summary>CRDs: established, discoverable, their objects served; deleting the CRD removes them.</summary>
public sealed class CustomResourceClientTests
{
    internal static V1CustomResourceDefinition Crd() => new()
    {
        ApiVersion = "apiextensions.k8s.io/v1",
        Kind = "CustomResourceDefinition",
        Metadata = new V1ObjectMeta { Name = "gadgets.example.fleet.dev" },
        Spec = new V1CustomResourceDefinitionSpec
        {
            Group = "example.fleet.dev",
            Scope = "Namespaced",
            Names = new V1CustomResourceDefinitionNames { Plural = "gadgets", Singular = "gadget", Kind = "Gadget" },
            Versions =
            [
                new V1CustomResourceDefinitionVersion
                {
                    Name = "v1alpha1",
                    Served = true,
                    Storage = true,
                    Schema = new V1CustomResourceValidation { OpenAPIV3Schema = new V1JSONSchemaProps { Type = "object", XKubernetesPreserveUnknownFields = true } },
                },
            ],
        },
    };

    private static readonly object s_gadget = new Dictionary<string, object>
    {
        ["apiVersion"] = "example.fleet.dev/v1alpha1",
        ["kind"] = "Gadget",
        ["metadata"] = new Dictionary<string, object> { ["name"] = "g1", ["namespace"] = "default" },
        ["spec"] = new Dictionary<string, object> { ["size"] = 3 },
    };

    [Fact]
    public async Task CustomResource_BeforeCrd_IsNotFound_AfterCrd_IsServedAndDiscoverable()
    {
        await using var t = await TestCluster.StartAsync();

        var before = await Assert.ThrowsAsync<HttpOperationException>(() =>
            t.Client.CustomObjects.CreateNamespacedCustomObjectAsync(s_gadget, "example.fleet.dev", "v1alpha1", "default", "gadgets"));
        Assert.Equal(HttpStatusCode.NotFound, before.Response.StatusCode);

        var crd = await t.Client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(Crd());
        Assert.Contains(crd.Status.Conditions, c => c.Type == "Established" && c.Status == "True");
        Assert.Contains(crd.Status.Conditions, c => c.Type == "NamesAccepted" && c.Status == "True");

        var groups = await t.Client.Apis.GetAPIVersionsAsync();
        Assert.Contains(groups.Groups, g => g.Name == "example.fleet.dev");

        await t.Client.CustomObjects.PatchNamespacedCustomObjectAsync(
            new V1Patch(s_gadget, V1Patch.PatchType.ApplyPatch), "example.fleet.dev", "v1alpha1", "default", "gadgets", "g1", fieldManager: "fleet");
        var read = (JsonElement)await t.Client.CustomObjects.GetNamespacedCustomObjectAsync("example.fleet.dev", "v1alpha1", "default", "gadgets", "g1");
        Assert.Equal(3, read.GetProperty("spec").GetProperty("size").GetInt32());
        Assert.Equal(1, read.GetProperty("metadata").GetProperty("generation").GetInt32());
    }

    [Fact]
    public async Task CustomResource_WithStatusSubresource_MainWritesKeepStatus()
    {
        await using var t = await TestCluster.StartAsync();
        var crd = Crd();
        crd.Spec.Versions[0].Subresources = new V1CustomResourceSubresources { Status = new object() };
        await t.Client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(crd);
        var withStatus = new Dictionary<string, object>
        {
            ["apiVersion"] = "example.fleet.dev/v1alpha1",
            ["kind"] = "Gadget",
            ["metadata"] = new Dictionary<string, object> { ["name"] = "g1", ["namespace"] = "default" },
            ["spec"] = new Dictionary<string, object> { ["size"] = 3 },
            ["status"] = new Dictionary<string, object> { ["phase"] = "ignored" },
        };
        await t.Client.CustomObjects.PatchNamespacedCustomObjectAsync(new V1Patch(withStatus, V1Patch.PatchType.ApplyPatch), "example.fleet.dev", "v1alpha1", "default", "gadgets", "g1", fieldManager: "fleet");
        Assert.Null(t.Cluster.GetObject("example.fleet.dev/v1alpha1", "Gadget", "default", "g1")!["status"]);

        await t.Client.CustomObjects.PatchNamespacedCustomObjectStatusAsync(
            new V1Patch("{\"status\":{\"phase\":\"Ready\"}}", V1Patch.PatchType.MergePatch), "example.fleet.dev", "v1alpha1", "default", "gadgets", "g1");
        var writes = t.Cluster.WriteCount;
        await t.Client.CustomObjects.PatchNamespacedCustomObjectAsync(new V1Patch(withStatus, V1Patch.PatchType.ApplyPatch), "example.fleet.dev", "v1alpha1", "default", "gadgets", "g1", fieldManager: "fleet");

        var live = t.Cluster.GetObject("example.fleet.dev/v1alpha1", "Gadget", "default", "g1")!;
        Assert.Equal("Ready", live["status"]!["phase"]!.ToString());
        Assert.Equal(1, live["metadata"]!["generation"]!.GetValue<long>());
        Assert.Equal(writes, t.Cluster.WriteCount);
    }

    [Fact]
    public async Task CustomResource_ReadThroughOtherServedVersion_CarriesThatApiVersion()
    {
        await using var t = await TestCluster.StartAsync();
        var crd = Crd();
        crd.Spec.Versions.Add(new V1CustomResourceDefinitionVersion
        {
            Name = "v1",
            Served = true,
            Storage = false,
            Schema = new V1CustomResourceValidation { OpenAPIV3Schema = new V1JSONSchemaProps { Type = "object", XKubernetesPreserveUnknownFields = true } },
        });
        await t.Client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(crd);
        await t.Client.CustomObjects.CreateNamespacedCustomObjectAsync(s_gadget, "example.fleet.dev", "v1alpha1", "default", "gadgets");

        var viaV1 = (JsonElement)await t.Client.CustomObjects.GetNamespacedCustomObjectAsync("example.fleet.dev", "v1", "default", "gadgets", "g1");
        var viaAlpha = (JsonElement)await t.Client.CustomObjects.GetNamespacedCustomObjectAsync("example.fleet.dev", "v1alpha1", "default", "gadgets", "g1");

        Assert.Equal("example.fleet.dev/v1", viaV1.GetProperty("apiVersion").GetString());
        Assert.Equal("example.fleet.dev/v1alpha1", viaAlpha.GetProperty("apiVersion").GetString());
        Assert.Equal(3, viaV1.GetProperty("spec").GetProperty("size").GetInt32());
    }

    [Fact]
    public async Task DeleteCrd_RemovesItsObjectsAndEndpoint()
    {
        await using var t = await TestCluster.StartAsync();
        await t.Client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(Crd());
        await t.Client.CustomObjects.CreateNamespacedCustomObjectAsync(s_gadget, "example.fleet.dev", "v1alpha1", "default", "gadgets");

        await t.Client.ApiextensionsV1.DeleteCustomResourceDefinitionAsync("gadgets.example.fleet.dev");

        Assert.Null(t.Cluster.GetObject("example.fleet.dev/v1alpha1", "Gadget", "default", "g1"));
        Assert.Empty(t.Cluster.ListObjects(kind: "Gadget"));
        var after = await Assert.ThrowsAsync<HttpOperationException>(() =>
            t.Client.CustomObjects.ListNamespacedCustomObjectAsync("example.fleet.dev", "v1alpha1", "default", "gadgets"));
        Assert.Equal(HttpStatusCode.NotFound, after.Response.StatusCode);
    }
}
