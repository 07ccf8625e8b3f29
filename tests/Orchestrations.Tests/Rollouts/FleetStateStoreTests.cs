using FleetFunctions.Orchestrations.Rollouts;
using FleetFunctions.TestSupport;
using Xunit;

namespace FleetFunctions.Orchestrations.Tests.Rollouts;

public sealed class FleetStateStoreTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task GetManyAsync_SomeFleetsHaveState_ReturnsTheSameStatesAsOneReadEachAndEmptyStatesForTheRest()
    {
        var store = new FleetStateStore(azurite.ConnectionString, AzuriteFixture.NewName("fleets"));
        var now = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);
        await store.RecordAsync(new RecordInput("done", "done-1", "c1", RolloutPhase.Succeeded, "rolled out"), now);
        await store.ClaimAsync("running", "running-2", "c2");
        await store.RecordAsync(new RecordInput("running", "running-1", "c1", RolloutPhase.Failed, "health timeout"), now);
        await store.RecordAsync(new RecordInput("not-asked", "not-asked-1", "c1", RolloutPhase.Succeeded, "rolled out"), now);

        var states = await store.GetManyAsync(["done", "running", "never"]);

        Assert.Equal(["done", "never", "running"], states.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(await store.GetAsync("done"), states["done"]);
        Assert.Equal(await store.GetAsync("running"), states["running"]);
        Assert.Equal(await store.GetAsync("never"), states["never"]);
        Assert.Equal("c1", states["done"].LastGoodCommit);
        Assert.Equal("running-2", states["running"].ActiveInstance);
        Assert.Equal(RolloutPhase.Failed, states["running"].LastRolloutPhase);
        Assert.Null(states["never"].LastRolloutInstance);
    }
}
