using k8s;
using k8s.Models;
using Xunit;

namespace FleetFunctions.Simulator.Tests.Client;

/// <summary>Built-in objects are stored as kube-apiserver stores them after decoding into their Go types.</summary>
public sealed class StoredFormClientTests
{
    private const string Deployment = """
        {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"default"},
         "spec":{"minReadySeconds":0,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},
          "spec":{"hostNetwork":false,"containers":[{"name":"web","image":"nginx:1",
           "env":[{"name":"EMPTY","value":""}],
           "livenessProbe":{"initialDelaySeconds":0,"httpGet":{"path":"/","port":80}},
           "resources":{"limits":{"cpu":0.5,"memory":"1024Mi"},"requests":{"cpu":"1000m","memory":"1e3"}},
           "volumeMounts":[{"name":"data","mountPath":"/data","readOnly":false},{"name":"conf","mountPath":"/conf","readOnly":true}]}],
          "volumes":[{"name":"data","emptyDir":{"sizeLimit":"1.5Gi"}},{"name":"conf","emptyDir":{}}]}}}}
        """;

    private const string Secret = """
        {"apiVersion":"v1","kind":"Secret","metadata":{"name":"creds","namespace":"default"},
         "data":{"user":"b2xk","keep":"a2VwdA=="},"stringData":{"user":"admin","token":"s3cret"}}
        """;

    [Fact]
    public async Task Apply_Deployment_QuantitiesCanonicalAndZeroValuesOmitted()
    {
        await using var t = await TestCluster.StartAsync();

        await t.Client.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch(Deployment, V1Patch.PatchType.ApplyPatch), "web", "default", fieldManager: "test");

        var stored = t.Cluster.GetObject("apps/v1", "Deployment", "default", "web")!;
        var spec = stored["spec"]!["template"]!["spec"]!.AsObject();
        var container = spec["containers"]![0]!.AsObject();
        Assert.Equal("""{"cpu":"500m","memory":"1Gi"}""", container["resources"]!["limits"]!.ToJsonString());
        Assert.Equal("""{"cpu":"1","memory":"1e3"}""", container["resources"]!["requests"]!.ToJsonString());
        Assert.Equal("1536Mi", spec["volumes"]![0]!["emptyDir"]!["sizeLimit"]!.GetValue<string>());
        Assert.Equal("{}", spec["volumes"]![1]!["emptyDir"]!.ToJsonString());
        Assert.False(container["volumeMounts"]![0]!.AsObject().ContainsKey("readOnly"));
        Assert.True(container["volumeMounts"]![1]!["readOnly"]!.GetValue<bool>());
        Assert.False(container["env"]![0]!.AsObject().ContainsKey("value"));
        Assert.False(container["livenessProbe"]!.AsObject().ContainsKey("initialDelaySeconds"));
        Assert.False(spec.ContainsKey("hostNetwork"));
        Assert.False(stored["spec"]!.AsObject().ContainsKey("minReadySeconds"));
    }

    private const string Crd = """
        {"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{"name":"gadgets.example.io"},
         "spec":{"group":"example.io","scope":"Namespaced","preserveUnknownFields":false,"names":{"plural":"gadgets","kind":"Gadget"},
          "versions":[{"name":"v1","served":true,"storage":true,"deprecated":false,"schema":{"openAPIV3Schema":{"type":"object","properties":{
           "limits":{"type":"object","nullable":false,"properties":{"cpu":{"type":"string","default":"0.5","maxLength":5}}},
           "default":{"type":"object","uniqueItems":false,"default":{"nullable":false,"readOnly":false}}}}}}]}}
        """;

    [Fact]
    public async Task Apply_Crd_ZeroValuesOmittedAndSchemaValuesKeptVerbatim()
    {
        await using var t = await TestCluster.StartAsync();

        await t.Client.ApiextensionsV1.PatchCustomResourceDefinitionAsync(new V1Patch(Crd, V1Patch.PatchType.ApplyPatch), "gadgets.example.io", fieldManager: "test");

        var spec = t.Cluster.GetObject("apiextensions.k8s.io/v1", "CustomResourceDefinition", null, "gadgets.example.io")!["spec"]!.AsObject();
        var properties = spec["versions"]![0]!["schema"]!["openAPIV3Schema"]!["properties"]!;
        Assert.False(spec.ContainsKey("preserveUnknownFields"));
        Assert.False(spec["versions"]![0]!.AsObject().ContainsKey("deprecated"));
        Assert.False(properties["limits"]!.AsObject().ContainsKey("nullable"));
        Assert.Equal("""{"type":"string","default":"0.5","maxLength":5}""", properties["limits"]!["properties"]!["cpu"]!.ToJsonString());
        Assert.Equal("""{"type":"object","default":{"nullable":false,"readOnly":false}}""", properties["default"]!.ToJsonString());
    }

    [Fact]
    public async Task Write_SecretWithStringData_MergedIntoDataAndNotStored()
    {
        await using var t = await TestCluster.StartAsync();

        await t.Client.CoreV1.PatchNamespacedSecretAsync(new V1Patch(Secret, V1Patch.PatchType.ApplyPatch), "creds", "default", fieldManager: "test");
        var read = await t.Client.CoreV1.ReadNamespacedSecretAsync("creds", "default");

        var stored = t.Cluster.GetObject("v1", "Secret", "default", "creds")!;
        Assert.False(stored.ContainsKey("stringData"));
        Assert.Null(read.StringData);
        Assert.Equal("admin", System.Text.Encoding.UTF8.GetString(read.Data["user"]));
        Assert.Equal("s3cret", System.Text.Encoding.UTF8.GetString(read.Data["token"]));
        Assert.Equal("kept", System.Text.Encoding.UTF8.GetString(read.Data["keep"]));
    }
}
