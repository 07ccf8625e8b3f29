using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Xunit;

namespace FleetFunctions.Simulator.Tests.Control;

/// <summary>The admin HTTP endpoint: clusters, faults, wipe, objects, stats.</summary>
public sealed class AdminEndpointTests
{
    [Fact]
    public async Task AdminApi_ClusterLifecycle_AddsFaultsWipesAndRemoves()
    {
        await using var simulator = await FleetSimulator.StartAsync();
        using var http = new HttpClient { BaseAddress = simulator.AdminUrl };

        var added = await http.PostAsJsonAsync("clusters", new { name = "east" });
        Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        var server = (await added.Content.ReadFromJsonAsync<JsonObject>())!["server"]!.ToString();
        Assert.Equal(simulator["east"].Server.ToString().TrimEnd('/'), server);
        Assert.Equal(HttpStatusCode.Conflict, (await http.PostAsJsonAsync("clusters", new { name = "east" })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await http.PostAsJsonAsync("clusters", new { name = "bad name/" })).StatusCode);

        var list = await http.GetFromJsonAsync<JsonArray>("clusters");
        Assert.Equal("east", Assert.Single(list!)!["name"]!.ToString());

        var fault = await http.PostAsJsonAsync("clusters/east/fault", new { mode = "erroring" });
        Assert.Equal(HttpStatusCode.OK, fault.StatusCode);
        using (var api = new HttpClient())
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await api.GetAsync(new Uri(simulator["east"].Server, "/api/v1/namespaces"))).StatusCode);
        }

        Assert.Equal(HttpStatusCode.BadRequest, (await http.PostAsJsonAsync("clusters/east/fault", new { mode = "sideways" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.PostAsJsonAsync("clusters/east/fault", new { mode = "slow", latencyMs = 10 })).StatusCode);
        Assert.Equal(ClusterFaultMode.Slow, simulator["east"].Fault.Mode);
        Assert.Equal(HttpStatusCode.OK, (await http.PostAsJsonAsync("clusters/east/fault", new { mode = "throttling", methods = new[] { "PATCH", "DELETE" }, retryAfterSeconds = 2, count = 5 })).StatusCode);
        Assert.Equal("throttling (PATCH, DELETE, the first 5; Retry-After 2s)", simulator["east"].Stats.Fault);
        Assert.Equal(HttpStatusCode.BadRequest, (await http.PostAsJsonAsync("clusters/east/fault", new { mode = "throttling", count = "many" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.PostAsJsonAsync("clusters/east/fault", new { mode = "none" })).StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await http.PostAsync("clusters/east/wipe", null)).StatusCode);
        var objects = await http.GetFromJsonAsync<JsonArray>("clusters/east/objects?kind=Namespace");
        Assert.Equal(4, objects!.Count);
        var stats = await http.GetFromJsonAsync<JsonObject>("clusters/east/stats");
        Assert.True(stats!["Requests"]!.GetValue<long>() >= 1);

        Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteAsync("clusters/east")).StatusCode);
        Assert.Empty(simulator.Clusters);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("clusters/east/stats")).StatusCode);
    }

    [Fact]
    public async Task WriteKubeconfig_TwoClusters_OneContextEach()
    {
        await using var simulator = await FleetSimulator.StartAsync();
        var a = await simulator.AddClusterAsync("a");
        var b = await simulator.AddClusterAsync("b");
        var path = Path.Combine(Path.GetTempPath(), $"fleetsim-{Guid.NewGuid():N}", "kubeconfig");

        simulator.WriteKubeconfig(path);

        var config = await k8s.KubernetesClientConfiguration.LoadKubeConfigAsync(new FileInfo(path));
        Assert.Equal(["a", "b"], config.Contexts.Select(c => c.Name));
        Assert.Equal(a.Server.ToString().TrimEnd('/'), config.Clusters.Single(c => c.Name == "a").ClusterEndpoint.Server);
        Assert.Equal(b.Token, config.Users.Single(u => u.Name == "b").UserCredentials.Token);
        Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
    }
}
