using k8s;
using k8s.Models;
using Xunit;

namespace FleetFunctions.Simulator.Tests.Client;

/// <summary>Simulated controllers: workloads report a finished rollout, broken images never do.</summary>
public sealed class WorkloadClientTests
{
    private static V1Deployment Deployment(string name, string image, int replicas = 3) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default" },
        Spec = new V1DeploymentSpec
        {
            Replicas = replicas,
            Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = name } },
            Template = new V1PodTemplateSpec
            {
                Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { ["app"] = name } },
                Spec = new V1PodSpec { Containers = [new V1Container { Name = "app", Image = image }] },
            },
        },
    };

    private static async Task<V1Deployment> WaitObservedAsync(TestCluster t, string name, long generation)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var d = await t.Client.AppsV1.ReadNamespacedDeploymentAsync(name, "default");
            if (d.Status?.ObservedGeneration >= generation)
            {
                return d;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"deployment {name} never observed generation {generation}");
            }

            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task Deployment_HealthyImage_BecomesAvailable()
    {
        await using var t = await TestCluster.StartAsync(new SimulatorOptions { WorkloadReadyDelay = TimeSpan.FromMilliseconds(100) });
        var created = await t.Client.AppsV1.CreateNamespacedDeploymentAsync(Deployment("web", "web:1.0"), "default");
        Assert.Null(created.Status?.ObservedGeneration);

        var ready = await WaitObservedAsync(t, "web", 1);

        Assert.Equal(3, ready.Status.ReadyReplicas);
        Assert.Equal(3, ready.Status.AvailableReplicas);
        Assert.Equal(3, ready.Status.UpdatedReplicas);
        Assert.Contains(ready.Status.Conditions, c => c is { Type: "Available", Status: "True" });
        Assert.Contains(ready.Status.Conditions, c => c is { Type: "Progressing", Status: "True", Reason: "NewReplicaSetAvailable" });
    }

    [Fact]
    public async Task Deployment_BrokenImage_ReportsProgressDeadlineExceededAndNeverAvailable()
    {
        await using var t = await TestCluster.StartAsync();
        await t.Client.AppsV1.CreateNamespacedDeploymentAsync(Deployment("api", "api:2.0-broken"), "default");

        var observed = await WaitObservedAsync(t, "api", 1);

        Assert.Null(observed.Status.ReadyReplicas);
        Assert.Null(observed.Status.AvailableReplicas);
        Assert.Contains(observed.Status.Conditions, c => c is { Type: "Available", Status: "False" });
        var progressing = Assert.Single(observed.Status.Conditions, c => c.Type == "Progressing");
        Assert.Equal("ProgressDeadlineExceeded", progressing.Reason);
        Assert.Contains("CrashLoopBackOff", progressing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deployment_SpecChange_BumpsGenerationAndStatusFollows()
    {
        await using var t = await TestCluster.StartAsync();
        await t.Client.AppsV1.CreateNamespacedDeploymentAsync(Deployment("web", "web:1.0"), "default");
        await WaitObservedAsync(t, "web", 1);

        var patched = await t.Client.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch("{\"spec\":{\"replicas\":5}}", V1Patch.PatchType.MergePatch), "web", "default");
        var labelled = await t.Client.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch("{\"metadata\":{\"labels\":{\"x\":\"y\"}}}", V1Patch.PatchType.MergePatch), "web", "default");

        Assert.Equal(2, patched.Metadata.Generation);
        Assert.Equal(2, labelled.Metadata.Generation);
        var ready = await WaitObservedAsync(t, "web", 2);
        Assert.Equal(5, ready.Status.ReadyReplicas);
    }

    [Fact]
    public async Task StatusSubresource_MainResourceWrite_KeepsLiveStatus()
    {
        await using var t = await TestCluster.StartAsync();
        await t.Client.AppsV1.CreateNamespacedDeploymentAsync(Deployment("web", "web:1.0"), "default");
        var live = await WaitObservedAsync(t, "web", 1);
        live.Status.ReadyReplicas = 99;

        var replaced = await t.Client.AppsV1.ReplaceNamespacedDeploymentAsync(live, "web", "default");
        var statusWrite = await t.Client.AppsV1.PatchNamespacedDeploymentStatusAsync(new V1Patch("{\"status\":{\"readyReplicas\":1}}", V1Patch.PatchType.MergePatch), "web", "default");

        Assert.Equal(3, replaced.Status.ReadyReplicas);
        Assert.Equal(1, statusWrite.Status.ReadyReplicas);
        Assert.Equal(1, statusWrite.Metadata.Generation);
    }

    [Fact]
    public async Task ScaleSubresource_Patch_ChangesReplicasOwnedByScaleManager()
    {
        await using var t = await TestCluster.StartAsync();
        await t.Client.AppsV1.CreateNamespacedDeploymentAsync(Deployment("web", "web:1.0"), "default");

        var scale = await t.Client.AppsV1.ReadNamespacedDeploymentScaleAsync("web", "default");
        var scaled = await t.Client.AppsV1.PatchNamespacedDeploymentScaleAsync(
            new V1Patch("{\"spec\":{\"replicas\":6}}", V1Patch.PatchType.MergePatch), "web", "default", fieldManager: "operator");

        Assert.Equal(3, scale.Spec.Replicas);
        Assert.Equal("app=web", scale.Status.Selector);
        Assert.Equal(6, scaled.Spec.Replicas);
        var live = await WaitObservedAsync(t, "web", 2);
        Assert.Equal(6, live.Spec.Replicas);
        Assert.Contains(live.Metadata.ManagedFields, m => m is { Manager: "operator", Subresource: "scale", Operation: "Update" });
    }

    [Fact]
    public async Task PersistentVolumeClaim_BecomesBound()
    {
        await using var t = await TestCluster.StartAsync();
        await t.Client.CoreV1.CreateNamespacedPersistentVolumeClaimAsync(new V1PersistentVolumeClaim
        {
            Metadata = new V1ObjectMeta { Name = "data" },
            Spec = new V1PersistentVolumeClaimSpec
            {
                AccessModes = ["ReadWriteOnce"],
                Resources = new V1VolumeResourceRequirements { Requests = new Dictionary<string, ResourceQuantity> { ["storage"] = new("5Gi") } },
            },
        }, "default");

        await TestCluster.WaitForAsync(() => t.Cluster.GetObject("v1", "PersistentVolumeClaim", "default", "data")?["status"]?["phase"]?.ToString() == "Bound", "the PVC to bind");

        var pvc = await t.Client.CoreV1.ReadNamespacedPersistentVolumeClaimAsync("data", "default");
        Assert.Equal("5Gi", pvc.Status.Capacity["storage"].ToString());
    }
}
