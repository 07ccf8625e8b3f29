using k8s;
using k8s.Models;
using Xunit;

namespace FleetFunctions.Simulator.Tests.Client;

/// <summary>Watches through KubernetesClient 21: initial state, live changes, resumption.</summary>
public sealed class WatchClientTests
{
    [Fact]
    public async Task Watch_FromNoResourceVersion_SeesExistingThenModifiedThenDeleted()
    {
        await using var t = await TestCluster.StartAsync();
        await t.Client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "a" }, Data = new Dictionary<string, string> { ["v"] = "1" } }, "default");
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var events = new List<(WatchEventType Type, string Value)>();
        await foreach (var (type, item) in t.Client.CoreV1.WatchListNamespacedConfigMapAsync("default", allowWatchBookmarks: true, cancellationToken: cts.Token))
        {
            if (type == WatchEventType.Bookmark)
            {
                continue;
            }

            events.Add((type, (item.Data is { } data && data.TryGetValue("v", out var v) ? v : "")));
            if (events.Count == 1)
            {
                await t.Client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch("{\"data\":{\"v\":\"2\"}}", V1Patch.PatchType.MergePatch), "a", "default", cancellationToken: cts.Token);
            }
            else if (events.Count == 2)
            {
                await t.Client.CoreV1.DeleteNamespacedConfigMapAsync("a", "default", cancellationToken: cts.Token);
            }
            else
            {
                break;
            }
        }

        Assert.Equal([(WatchEventType.Added, "1"), (WatchEventType.Modified, "2"), (WatchEventType.Deleted, "2")], events);
    }

    [Fact]
    public async Task Watch_FromListResourceVersion_ReplaysOnlyLaterChanges()
    {
        await using var t = await TestCluster.StartAsync();
        await t.Client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "old" } }, "default");
        var list = await t.Client.CoreV1.ListNamespacedConfigMapAsync("default");
        await t.Client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "new" } }, "default");
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        await foreach (var (type, item) in t.Client.CoreV1.WatchListNamespacedConfigMapAsync("default", resourceVersion: list.Metadata.ResourceVersion, cancellationToken: cts.Token))
        {
            Assert.Equal(WatchEventType.Added, type);
            Assert.Equal("new", item.Metadata.Name);
            break;
        }
    }

    [Fact]
    public async Task Watch_LabelSelector_DeliversOnlyMatchingObjects()
    {
        await using var t = await TestCluster.StartAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var seen = new List<string>();
        await foreach (var (type, item) in t.Client.CoreV1.WatchListNamespacedConfigMapAsync("default", labelSelector: "app=shop", allowWatchBookmarks: true, cancellationToken: cts.Token))
        {
            if (type == WatchEventType.Bookmark)
            {
                await t.Client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "other", Labels = new Dictionary<string, string> { ["app"] = "other" } } }, "default", cancellationToken: cts.Token);
                await t.Client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "mine", Labels = new Dictionary<string, string> { ["app"] = "shop" } } }, "default", cancellationToken: cts.Token);
                continue;
            }

            seen.Add(item.Metadata.Name);
            break;
        }

        Assert.Equal(["mine"], seen);
    }
}
