using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Xunit;

namespace FleetFunctions.Simulator.Tests.Client;

/// <summary>Injected faults as a client sees them.</summary>
public sealed class FaultClientTests
{
    [Fact]
    public async Task SetFault_Down_RefusesConnectionsUntilCleared()
    {
        await using var t = await TestCluster.StartAsync();
        await t.Client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "kept" } }, "default");

        await t.Cluster.SetFaultAsync(ClusterFault.Down);
        var error = await Assert.ThrowsAsync<HttpRequestException>(() => t.Client.CoreV1.ListNamespaceAsync());
        Assert.Equal(System.Net.Sockets.SocketError.ConnectionRefused, (error.InnerException as System.Net.Sockets.SocketException)?.SocketErrorCode);

        await t.Cluster.SetFaultAsync(ClusterFault.None);
        var kept = await t.Client.CoreV1.ReadNamespacedConfigMapAsync("kept", "default");
        Assert.Equal("kept", kept.Metadata.Name);
    }

    [Fact]
    public async Task SetFault_Erroring_Answers503Status()
    {
        await using var t = await TestCluster.StartAsync();
        t.Cluster.SetFault(ClusterFault.Erroring);

        var error = await Assert.ThrowsAsync<HttpOperationException>(() => t.Client.CoreV1.ListNamespaceAsync());

        Assert.Equal(HttpStatusCode.ServiceUnavailable, error.Response.StatusCode);
        Assert.Contains("\"reason\":\"ServiceUnavailable\"", error.Response.Content, StringComparison.Ordinal);
        t.Cluster.SetFault(ClusterFault.None);
        Assert.NotEmpty((await t.Client.CoreV1.ListNamespaceAsync()).Items);
    }

    [Fact]
    public async Task SetFault_Slow_StillAnswersAndReportsFault()
    {
        await using var t = await TestCluster.StartAsync();
        t.Cluster.SetFault(ClusterFault.Slow(TimeSpan.FromMilliseconds(200)));

        var namespaces = await t.Client.CoreV1.ListNamespaceAsync();

        Assert.NotEmpty(namespaces.Items);
        Assert.Equal(ClusterFaultMode.Slow, t.Cluster.Fault.Mode);
        Assert.Equal("slow (200 ms)", t.Cluster.Stats.Fault);
    }

    [Fact]
    public async Task Wipe_RemovesEverythingButDefaultNamespaces()
    {
        await using var t = await TestCluster.StartAsync();
        await t.Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = "shop" } });
        await t.Client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "a" } }, "shop");
        await t.Client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "b" } }, "default");

        t.Cluster.Wipe();

        var namespaces = await t.Client.CoreV1.ListNamespaceAsync();
        Assert.Equal(["default", "kube-node-lease", "kube-public", "kube-system"], namespaces.Items.Select(n => n.Metadata.Name).Order());
        Assert.Empty((await t.Client.CoreV1.ListConfigMapForAllNamespacesAsync()).Items);
    }
}
