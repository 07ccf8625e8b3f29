using Azure.Core;
using FleetFunctions.Core.Apply;
using FleetFunctions.Core.Inventory;
using FleetFunctions.Core.Reconcile;
using FleetFunctions.Core.Sources;
using FleetFunctions.Core.Tests.Support;
using FleetFunctions.TestSupport;
using Xunit;

namespace FleetFunctions.Core.Tests.Reconcile;

/// <summary>
/// The inventory this process remembers gives the apply a head start while the stored one is read; what is pruned and
/// saved comes from the stored one.
/// </summary>
public sealed class RememberedInventoryTests(SimulatorFixture simulator, AzuriteFixture azurite) : IClassFixture<SimulatorFixture>, IClassFixture<AzuriteFixture>
{
    private const string Path = "apps/settings";

    [Fact]
    public async Task ReconcileAsync_InventoryRemembered_ApplyStartsWhileTheStoredOneIsRead()
    {
        using var h = await PipelineHarness.CreateAsync(simulator, azurite.ConnectionString);
        WriteConfigMaps(h.Repo, ("a", "1"), ("b", "1"));
        h.Repo.Commit("a and b");
        // Once armed, each GET (the inventory read) is held until the cluster has seen a write, for at most 10 s.
        var armed = false;
        var writeSeenWhileHeld = false;
        var store = BeforeSendPolicy.InventoryStore(azurite.ConnectionString, AzuriteFixture.NewName("inv"), async message =>
        {
            if (Volatile.Read(ref armed) && message.Request.Method == RequestMethod.Get)
            {
                for (var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10); h.Cluster.WriteCount == 0 && DateTime.UtcNow < deadline;)
                {
                    await Task.Delay(10, message.CancellationToken);
                }

                Volatile.Write(ref writeSeenWhileHeld, writeSeenWhileHeld || h.Cluster.WriteCount > 0);
            }
        });
        var reconciler = new Reconciler(h.Source, h.Renderer, h.Clusters, store, h.History);
        Assert.True((await reconciler.ReconcileAsync(Request(h))).Succeeded);

        WriteConfigMaps(h.Repo, ("a", "2"), ("b", "1"));
        h.Repo.Commit("a changed");
        h.Cluster.ResetCounters();
        Volatile.Write(ref armed, true);
        var result = await reconciler.ReconcileAsync(Request(h));

        // The inventory read was held until the cluster saw the changed object's write (or 10 s): the apply did not wait for it.
        Assert.True(Volatile.Read(ref writeSeenWhileHeld), "the apply waited for the inventory read");
        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
        Assert.Equal(ChangeAction.Configured, result.Changes.Changes.Single(c => c.Reference.Name == "a").Action);
        Assert.Equal(ChangeAction.Unchanged, result.Changes.Changes.Single(c => c.Reference.Name == "b").Action);
        Assert.Equal(1, h.Cluster.WriteCount);
    }

    [Fact]
    public async Task ReconcileAsync_RememberedInventoryStale_PrunesWhatTheStoredOneLists()
    {
        // Two processes (two stores over one table): A applies {x, y}; B then applies {x, z}, pruning y; A, which still
        // remembers {x, y}, applies {x}: z must go, as the stored inventory says, and the saved inventory is {x}.
        using var h = await PipelineHarness.CreateAsync(simulator, azurite.ConnectionString);
        var table = AzuriteFixture.NewName("inv");
        var a = new Reconciler(h.Source, h.Renderer, h.Clusters, new InventoryStore(azurite.ConnectionString, new InventoryOptions { TableName = table }), h.History);
        var b = new Reconciler(h.Source, h.Renderer, h.Clusters, new InventoryStore(azurite.ConnectionString, new InventoryOptions { TableName = table }), h.History);

        WriteConfigMaps(h.Repo, ("x", "1"), ("y", "1"));
        h.Repo.Commit("x and y");
        Assert.True((await a.ReconcileAsync(Request(h))).Succeeded);
        h.Repo.Write($"{Path}/y.yaml", null);
        WriteConfigMaps(h.Repo, ("z", "1"));
        h.Repo.Commit("y replaced by z");
        Assert.True((await b.ReconcileAsync(Request(h))).Succeeded);
        h.Repo.Write($"{Path}/z.yaml", null);
        h.Repo.Commit("only x");

        var result = await a.ReconcileAsync(Request(h));

        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
        Assert.Equal("z", Assert.Single(result.Pruned.Changes, c => c.Action == ChangeAction.Deleted).Reference.Name);
        Assert.Null(h.Cluster.GetObject("v1", "ConfigMap", "default", "z"));
        Assert.NotNull(h.Cluster.GetObject("v1", "ConfigMap", "default", "x"));
        var saved = await new InventoryStore(azurite.ConnectionString, new InventoryOptions { TableName = table }).GetAsync(h.Cluster.Name, "settings");
        Assert.Equal("x", Assert.Single(saved!.Entries).Reference.Name);
    }

    private static ReconcileRequest Request(PipelineHarness h) =>
        new(h.Cluster.Name, "settings", new GitSourceSpec(h.Repo.Url), Path) { Options = PipelineHarness.FastOptions };

    private static void WriteConfigMaps(GitTestRepo repo, params (string Name, string Value)[] maps)
    {
        foreach (var (name, value) in maps)
        {
            repo.Write($"{Path}/{name}.yaml", $"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: default\ndata:\n  value: \"{value}\"\n");
        }
    }
}
