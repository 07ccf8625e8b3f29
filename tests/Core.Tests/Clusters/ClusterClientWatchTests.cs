using System.Net;
using System.Text.Json.Nodes;
using FleetFunctions.Core.Clusters;
using FleetFunctions.Core.Tests.Support;
using k8s;
using Xunit;

namespace FleetFunctions.Core.Tests.Clusters;

public sealed class ClusterClientWatchTests(SimulatorFixture simulator) : IClassFixture<SimulatorFixture>
{
    [Fact]
    public async Task WatchAsync_Changes_BookmarkFirstThenEachChangeWithItsIdentity()
    {
        var cluster = await simulator.AddClusterAsync("watch");
        using var factory = new ClusterClientFactory(new StaticCredentialsProvider([ClusterConnection.FromToken(cluster.Name, cluster.Server, cluster.Token)]));
        var client = await factory.GetClientAsync(cluster.Name);
        var resource = await client.ResolveAsync("v1", "ConfigMap");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var events = new List<WatchedObject>();
        var bookmark = new TaskCompletionSource();
        var watching = Task.Run(async () =>
        {
            await foreach (var e in client.WatchAsync(resource, null, TimeSpan.FromMinutes(1), timeout.Token))
            {
                events.Add(e);
                bookmark.TrySetResult();
                if (e.Type == WatchEventType.Deleted)
                {
                    return;
                }
            }
        });
        await bookmark.Task.WaitAsync(timeout.Token);

        await client.ApplyAsync(resource, ConfigMap("one"));
        await client.ApplyAsync(resource, ConfigMap("two"));
        await client.DeleteAsync(resource, "default", "w1");
        await watching.WaitAsync(timeout.Token);

        Assert.Equal(WatchEventType.Bookmark, events[0].Type);
        Assert.NotNull(events[0].ResourceVersion);
        Assert.Equal(
            [(WatchEventType.Added, "default", "w1"), (WatchEventType.Modified, "default", "w1"), (WatchEventType.Deleted, "default", "w1")],
            events.Where(e => e.Name == "w1").Select(e => (e.Type, e.Namespace, e.Name)));
    }

    [Fact]
    public async Task WatchAsync_OpenLongerThanTheRequestTimeout_StillDeliversEvents()
    {
        var cluster = await simulator.AddClusterAsync("long");
        using var factory = new ClusterClientFactory(
            new StaticCredentialsProvider([ClusterConnection.FromToken(cluster.Name, cluster.Server, cluster.Token)]),
            new ClusterClientOptions { RequestTimeout = TimeSpan.FromSeconds(1) });
        var client = await factory.GetClientAsync(cluster.Name);
        var resource = await client.ResolveAsync("v1", "ConfigMap");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var types = new List<WatchEventType>();
        await using var events = client.WatchAsync(resource, null, TimeSpan.FromMinutes(1), timeout.Token).GetAsyncEnumerator(timeout.Token);
        Assert.True(await events.MoveNextAsync());
        types.Add(events.Current.Type);

        // Past the request timeout (1 s; shorter ones fail on a loaded machine before the server even sees the request).
        await Task.Delay(TimeSpan.FromSeconds(1.5), timeout.Token);
        await client.ApplyAsync(resource, ConfigMap("late"));
        Assert.True(await events.MoveNextAsync());
        types.Add(events.Current.Type);

        Assert.Equal([WatchEventType.Bookmark, WatchEventType.Added], types);
        Assert.Equal("w1", events.Current.Name);
    }

    [Fact]
    public async Task WatchAsync_VersionBeforeAWipe_ThrowsGone()
    {
        var cluster = await simulator.AddClusterAsync("expired");
        using var factory = new ClusterClientFactory(
            new StaticCredentialsProvider([ClusterConnection.FromToken(cluster.Name, cluster.Server, cluster.Token)]),
            new ClusterClientOptions { RequestTimeout = TimeSpan.FromSeconds(5) });
        var client = await factory.GetClientAsync(cluster.Name);
        var resource = await client.ResolveAsync("v1", "ConfigMap");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        string? version = null;
        await foreach (var e in client.WatchAsync(resource, null, TimeSpan.FromMinutes(1), timeout.Token))
        {
            version = e.ResourceVersion;
            break;
        }

        await client.ApplyAsync(resource, ConfigMap("one"));
        cluster.Wipe();

        // A loaded machine sometimes leaves a new connection unanswered: like the drift watcher, try again when the
        // server does not answer within the request timeout (ClusterUnreachableException).
        KubernetesApiException? gone = null;
        for (var attempt = 1; gone is null; attempt++)
        {
            try
            {
                await foreach (var e in client.WatchAsync(resource, version, TimeSpan.FromMinutes(1), timeout.Token))
                {
                    Assert.Fail($"no event expected from an expired version, got {e}");
                }

                Assert.Fail("the watch of an expired version ended without an error");
            }
            catch (KubernetesApiException ex)
            {
                gone = ex;
            }
            catch (ClusterUnreachableException) when (attempt < 3)
            {
            }
        }

        Assert.Equal(HttpStatusCode.Gone, gone.StatusCode);
    }

    private static JsonObject ConfigMap(string value) =>
        new()
        {
            ["apiVersion"] = "v1",
            ["kind"] = "ConfigMap",
            ["metadata"] = new JsonObject { ["name"] = "w1", ["namespace"] = "default" },
            ["data"] = new JsonObject { ["value"] = value },
        };
}
