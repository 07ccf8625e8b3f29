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
    public async Task SetFault_ThrottlingPatchTwice_Answers429WithRetryAfterToPatchesOnlyThenServes()
    {
        await using var t = await TestCluster.StartAsync();
        t.Cluster.SetFault(ClusterFault.Throttling(["patch"], retryAfterSeconds: 3, count: 2));
        using var http = new HttpClient { BaseAddress = t.Cluster.Server };
        var path = new Uri("/api/v1/namespaces/default/configmaps/settings?fieldManager=test", UriKind.Relative);

        using var read = await http.GetAsync(new Uri("/api/v1/namespaces/default/configmaps", UriKind.Relative));
        var answers = new List<HttpResponseMessage>();
        for (var i = 0; i < 3; i++)
        {
            using var apply = new StringContent("""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"settings"},"data":{"mode":"blue"}}""");
            apply.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/apply-patch+yaml");
            answers.Add(await http.PatchAsync(path, apply));
        }

        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.All(answers.Take(2), a =>
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, a.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(3), a.Headers.RetryAfter?.Delta);
        });
        Assert.Equal("Too many requests, please try again later.\n", await answers[0].Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Created, answers[2].StatusCode);
        Assert.Equal("throttling (PATCH, the first 2; Retry-After 3s)", t.Cluster.Stats.Fault);
        answers.ForEach(a => a.Dispose());
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
