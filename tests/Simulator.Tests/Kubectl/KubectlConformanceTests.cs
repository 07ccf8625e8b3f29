using System.Diagnostics;
using System.Text;
using FleetFunctions.TestSupport;
using Xunit;

namespace FleetFunctions.Simulator.Tests.Kubectl;

/// <summary>The real kubectl 1.32 against the simulator: the operations the platform and operators rely on.</summary>
public sealed class KubectlConformanceTests
{
    [Fact]
    public async Task ApplyServerSide_MultiDocumentFileWithCrd_AppliesEveryObjectOnceCrdIsEstablished()
    {
        await using var t = await TestCluster.StartAsync();

        // As against a real API server, the custom resource cannot be mapped until its CRD exists.
        var first = await t.KubectlAsync("apply", "--server-side", "-f", TestCluster.TestData("app.yaml"));
        Assert.Equal(1, first.ExitCode);
        Assert.Contains("no matches for kind \"Widget\"", first.StandardError, StringComparison.Ordinal);
        Assert.Contains("deployment.apps/checkout serverside-applied", first.StandardOutput, StringComparison.Ordinal);

        var second = await t.KubectlAsync("apply", "--server-side", "-f", TestCluster.TestData("app.yaml"));
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Contains("widget.example.fleet.dev/blue serverside-applied", second.StandardOutput, StringComparison.Ordinal);
        Assert.NotNull(t.Cluster.GetObject("v1", "ConfigMap", "shop", "checkout-config"));
        Assert.NotNull(t.Cluster.GetObject("networking.k8s.io/v1", "NetworkPolicy", "shop", "checkout-ingress"));
        Assert.NotNull(t.Cluster.GetObject("v1", "Service", "shop", "checkout"));
        var widget = t.Cluster.GetObject("example.fleet.dev/v1", "Widget", "shop", "blue");
        Assert.Equal("blue", widget?["spec"]?["color"]?.ToString());

        var crd = await t.KubectlAsync("get", "crd", "widgets.example.fleet.dev", "-o", "jsonpath={.status.conditions[?(@.type==\"Established\")].status}");
        Assert.Equal("True", crd.StandardOutput.Trim());
    }

    [Fact]
    public async Task GetYaml_ReplacedUnchanged_KeepsResourceVersionAndSendsNoWrite()
    {
        await using var t = await TestCluster.StartAsync();
        var apply = await t.KubectlAsync("apply", "--server-side", "-f", TestCluster.TestData("deployment.yaml"));
        Assert.True(apply.ExitCode == 0, apply.ToString());

        var get = await t.KubectlAsync("get", "deployment", "frontend", "-n", "web", "-o", "yaml");
        Assert.True(get.ExitCode == 0, get.ToString());
        Assert.Contains("image: registry.example/frontend:2.0.0", get.StandardOutput, StringComparison.Ordinal);
        var rvBefore = t.Cluster.GetObject("apps/v1", "Deployment", "web", "frontend")!["metadata"]!["resourceVersion"]!.ToString();
        var file = Path.Combine(t.Directory, "frontend.yaml");
        await File.WriteAllTextAsync(file, get.StandardOutput);
        var writesBefore = t.Cluster.WriteCount;

        var replace = await t.KubectlAsync("replace", "-f", file);

        Assert.True(replace.ExitCode == 0, replace.ToString());
        Assert.Equal(writesBefore, t.Cluster.WriteCount);
        Assert.Equal(rvBefore, t.Cluster.GetObject("apps/v1", "Deployment", "web", "frontend")!["metadata"]!["resourceVersion"]!.ToString());
    }

    [Fact]
    public async Task DiffServerSide_EqualThenChanged_ExitsZeroThenOne()
    {
        await using var t = await TestCluster.StartAsync();
        var apply = await t.KubectlAsync("apply", "--server-side", "-f", TestCluster.TestData("deployment.yaml"));
        Assert.True(apply.ExitCode == 0, apply.ToString());

        var same = await t.KubectlAsync("diff", "--server-side", "-f", TestCluster.TestData("deployment.yaml"));
        var changed = await t.KubectlAsync("diff", "--server-side", "-f", TestCluster.TestData("deployment-scaled.yaml"));

        Assert.True(same.ExitCode == 0, same.ToString());
        Assert.True(changed.ExitCode == 1, changed.ToString());
        Assert.Contains("+  replicas: 5", changed.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(2, t.Cluster.GetObject("apps/v1", "Deployment", "web", "frontend")!["spec"]!["replicas"]!.GetValue<long>());
    }

    [Fact]
    public async Task ApplyServerSide_SecondManagerChangesOwnedField_ConflictsUntilForced()
    {
        await using var t = await TestCluster.StartAsync();
        var apply = await t.KubectlAsync("apply", "--server-side", "-f", TestCluster.TestData("deployment.yaml"));
        Assert.True(apply.ExitCode == 0, apply.ToString());

        var conflict = await t.KubectlAsync("apply", "--server-side", "--field-manager=autoscaler", "-f", TestCluster.TestData("deployment-scaled.yaml"));

        Assert.Equal(1, conflict.ExitCode);
        Assert.Contains("Apply failed with 1 conflict: conflict with \"kubectl\": .spec.replicas", conflict.StandardError, StringComparison.Ordinal);
        Assert.Contains("--force-conflicts", conflict.StandardError, StringComparison.Ordinal);
        Assert.Equal(2, t.Cluster.GetObject("apps/v1", "Deployment", "web", "frontend")!["spec"]!["replicas"]!.GetValue<long>());

        var forced = await t.KubectlAsync("apply", "--server-side", "--field-manager=autoscaler", "--force-conflicts", "-f", TestCluster.TestData("deployment-scaled.yaml"));

        Assert.True(forced.ExitCode == 0, forced.ToString());
        var live = t.Cluster.GetObject("apps/v1", "Deployment", "web", "frontend")!;
        Assert.Equal(5, live["spec"]!["replicas"]!.GetValue<long>());
        Assert.Contains("autoscaler", live["metadata"]!["managedFields"]!.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetWatch_ObjectModified_PrintsTheChange()
    {
        await using var t = await TestCluster.StartAsync();
        var file = Path.Combine(t.Directory, "settings.yaml");
        await File.WriteAllTextAsync(file, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: default\ndata:\n  mode: blue\n");
        var create = await t.KubectlAsync("apply", "--server-side", "-f", file);
        Assert.True(create.ExitCode == 0, create.ToString());
        var info = ExternalProcess.CreateStartInfo(
            TestCluster.KubectlPath,
            ["get", "configmap", "settings", "-n", "default", "-w", "-o", "jsonpath={.data.mode}{\"\\n\"}"],
            new Dictionary<string, string> { ["KUBECONFIG"] = t.Kubeconfig, ["KUBECACHEDIR"] = Path.Combine(t.Directory, "cache"), ["HOME"] = t.Directory });
        using var watch = Process.Start(info)!;
        var output = new StringBuilder();
        watch.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (output) { output.AppendLine(e.Data); } } };
        watch.BeginOutputReadLine();
        try
        {
            await TestCluster.WaitForAsync(() => { lock (output) { return output.ToString().Contains("blue", StringComparison.Ordinal); } }, "the initial state from kubectl get -w");

            var patch = await t.KubectlAsync("patch", "configmap", "settings", "-n", "default", "--type=merge", "-p", "{\"data\":{\"mode\":\"green\"}}");
            Assert.True(patch.ExitCode == 0, patch.ToString());

            await TestCluster.WaitForAsync(() => { lock (output) { return output.ToString().Contains("green", StringComparison.Ordinal); } }, "kubectl get -w to print the modification");
        }
        finally
        {
            watch.Kill(entireProcessTree: true);
            await watch.WaitForExitAsync();
        }
    }

    [Fact]
    public async Task Get_HumanReadable_PrintsServerSideTableColumns()
    {
        await using var t = await TestCluster.StartAsync();
        var apply = await t.KubectlAsync("apply", "--server-side", "-f", TestCluster.TestData("deployment.yaml"));
        Assert.True(apply.ExitCode == 0, apply.ToString());
        await TestCluster.WaitForAsync(() => t.Cluster.GetObject("apps/v1", "Deployment", "web", "frontend")?["status"]?["readyReplicas"] is not null, "the deployment to become ready");

        var get = await t.KubectlAsync("get", "deployments", "-A");

        Assert.True(get.ExitCode == 0, get.ToString());
        var lines = get.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["NAMESPACE", "NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"], lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(["web", "frontend", "2/2", "2", "2"], lines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries).Take(5));
    }

    [Fact]
    public async Task Create_TypedCommandsForCoreKinds_CreateObjectsFromProtobuf()
    {
        await using var t = await TestCluster.StartAsync();

        var ns = await t.KubectlAsync("create", "namespace", "demo");
        var cm = await t.KubectlAsync("create", "configmap", "settings", "-n", "demo", "--from-literal=a=1", "--from-literal=b=two");
        var secret = await t.KubectlAsync("create", "secret", "generic", "creds", "-n", "demo", "--from-literal=password=s3cret");
        var sa = await t.KubectlAsync("create", "serviceaccount", "bot", "-n", "demo");

        foreach (var result in (ProcessResult[])[ns, cm, secret, sa])
        {
            Assert.True(result.ExitCode == 0, result.ToString());
        }

        Assert.Equal("two", t.Cluster.GetObject("v1", "ConfigMap", "demo", "settings")!["data"]!["b"]!.ToString());
        Assert.Equal(Convert.ToBase64String("s3cret"u8.ToArray()), t.Cluster.GetObject("v1", "Secret", "demo", "creds")!["data"]!["password"]!.ToString());
        Assert.NotNull(t.Cluster.GetObject("v1", "ServiceAccount", "demo", "bot"));
    }

    [Fact]
    public async Task Create_TypedCommandForOtherKinds_IsRejectedAsUnsupportedMediaType()
    {
        await using var t = await TestCluster.StartAsync();

        // protobuf bodies are decoded only for the core kinds above; other typed commands fail loudly
        // instead of creating something else. Declarative commands (apply, patch, delete) send JSON.
        var create = await t.KubectlAsync("create", "deployment", "web", "--image=nginx");

        Assert.Equal(1, create.ExitCode);
        Assert.Contains("application/vnd.kubernetes.protobuf", create.StandardError, StringComparison.Ordinal);
        Assert.Empty(t.Cluster.ListObjects(kind: "Deployment"));
    }

    [Fact]
    public async Task Delete_ThenGet_ReportsNotFound()
    {
        await using var t = await TestCluster.StartAsync();
        var apply = await t.KubectlAsync("apply", "--server-side", "-f", TestCluster.TestData("deployment.yaml"));
        Assert.True(apply.ExitCode == 0, apply.ToString());

        var delete = await t.KubectlAsync("delete", "deployment", "frontend", "-n", "web");
        var get = await t.KubectlAsync("get", "deployment", "frontend", "-n", "web");

        Assert.True(delete.ExitCode == 0, delete.ToString());
        Assert.Contains("deployment.apps \"frontend\" deleted", delete.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(1, get.ExitCode);
        Assert.Contains("Error from server (NotFound): deployments.apps \"frontend\" not found", get.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeleteNamespace_RemovesItsObjects()
    {
        await using var t = await TestCluster.StartAsync();
        var apply = await t.KubectlAsync("apply", "--server-side", "-f", TestCluster.TestData("deployment.yaml"));
        Assert.True(apply.ExitCode == 0, apply.ToString());

        var delete = await t.KubectlAsync("delete", "namespace", "web");

        Assert.True(delete.ExitCode == 0, delete.ToString());
        Assert.Null(t.Cluster.GetObject("apps/v1", "Deployment", "web", "frontend"));
        var list = await t.KubectlAsync("get", "deployments", "-A", "-o", "name");
        Assert.Equal("", list.StandardOutput.Trim());
    }
}
