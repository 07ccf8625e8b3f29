using FleetFunctions.Core.Inventory;
using FleetFunctions.Core.Manifests;
using FleetFunctions.Core.Storage;
using FleetFunctions.TestSupport;
using Xunit;

namespace FleetFunctions.Core.Tests.Inventory;

public sealed class InventoryStoreTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private readonly InventoryStore _store = new(azurite.ConnectionString, new InventoryOptions { TableName = AzuriteFixture.NewName("inv") });

    [Fact]
    public async Task GetAsync_NeverSaved_ReturnsNull()
    {
        Assert.Null(await _store.GetAsync("cluster-a", "fleet"));
    }

    [Fact]
    public async Task SaveAsync_ThenGet_RoundTripsEntries()
    {
        var inventory = Inventory("c1", Entry("ConfigMap", "a", "1"), Entry("Deployment", "b", "2", "apps"), new InventoryEntry(new ObjectReference("", "Namespace", "", "ns/odd#name?"), "v1", "3"));

        await _store.SaveAsync(inventory, previous: null);
        var loaded = await _store.GetAsync("cluster/one", "fleet#1");

        Assert.NotNull(loaded);
        Assert.Equal("c1", loaded.Commit);
        Assert.Equal("apps/web", loaded.Path);
        Assert.Equal(inventory.Entries.OrderBy(e => e.Reference.Key), loaded.Entries.OrderBy(e => e.Reference.Key));
    }

    [Fact]
    public async Task SaveAsync_UnchangedEntries_WritesNothing()
    {
        var inventory = Inventory("c1", Entry("ConfigMap", "a", "1"), Entry("ConfigMap", "b", "2"));
        await _store.SaveAsync(inventory, previous: null);
        var previous = await _store.GetAsync("cluster/one", "fleet#1");

        var written = await _store.SaveAsync(inventory with { UpdatedAt = DateTimeOffset.UtcNow }, previous);

        Assert.Equal(0, written);
    }

    [Fact]
    public async Task SaveAsync_OneChangedOneRemoved_WritesOnce()
    {
        await _store.SaveAsync(Inventory("c1", Entry("ConfigMap", "a", "1"), Entry("ConfigMap", "b", "2"), Entry("ConfigMap", "c", "3")), previous: null);
        var previous = await _store.GetAsync("cluster/one", "fleet#1");

        var written = await _store.SaveAsync(Inventory("c2", Entry("ConfigMap", "a", "1"), Entry("ConfigMap", "b", "changed")), previous);
        var loaded = await _store.GetAsync("cluster/one", "fleet#1");

        Assert.Equal(1, written);
        Assert.Equal("c2", loaded!.Commit);
        Assert.Equal(["a", "b"], loaded.Entries.Select(e => e.Reference.Name).Order());
        Assert.Equal("changed", loaded.Find(new ObjectReference("", "ConfigMap", "demo", "b"))!.Checksum);
    }

    [Fact]
    public async Task SaveAsync_ThousandsOfObjects_RoundTrips()
    {
        var entries = Enumerable.Range(0, 5000).Select(i => Entry("ConfigMap", $"config-{i}", $"{i:x64}")).ToArray();

        await _store.SaveAsync(Inventory("c1", entries), previous: null);
        var loaded = await _store.GetAsync("cluster/one", "fleet#1");

        Assert.Equal(5000, loaded!.Entries.Count);
        Assert.Equal(entries[4321], loaded.Find(entries[4321].Reference));
    }

    [Fact]
    public async Task DeleteAsync_Saved_GetReturnsNull()
    {
        await _store.SaveAsync(Inventory("c1", Entry("ConfigMap", "a", "1")), previous: null);

        await _store.DeleteAsync("cluster/one", "fleet#1");

        Assert.Null(await _store.GetAsync("cluster/one", "fleet#1"));
    }

    [Fact]
    public void Escape_AwkwardCharacters_RoundTrips()
    {
        const string value = "a/b\\c#d?e%f~g'h\u00e9\u0001";

        var escaped = TableKey.Escape(value);

        Assert.DoesNotContain('/', escaped);
        Assert.DoesNotContain('#', escaped);
        Assert.Equal(value, TableKey.Unescape(escaped));
    }

    private static FleetInventory Inventory(string commit, params InventoryEntry[] entries) =>
        new("cluster/one", "fleet#1", commit, "apps/web", entries, DateTimeOffset.UnixEpoch);

    private static InventoryEntry Entry(string kind, string name, string checksum, string group = "") =>
        new(new ObjectReference(group, kind, "demo", name), group.Length == 0 ? "v1" : $"{group}/v1", checksum);
}
