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

    [Fact]
    public async Task GetManyAsync_ManyRolloutsRecorded_ReadsATableOfStateRowsOnly()
    {
        var table = AzuriteFixture.NewName("fleets");
        var store = new FleetStateStore(azurite.ConnectionString, table);
        var now = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);
        foreach (var fleet in new[] { "web", "api", "jobs" })
        {
            for (var i = 0; i < 20; i++)
            {
                await store.RecordAsync(new RecordInput(fleet, $"{fleet}-{i}", $"c{i}", RolloutPhase.Succeeded, "rolled out"), now.AddMinutes(i));
            }
        }

        var states = await store.GetManyAsync(["web", "api", "jobs"]);

        // The listing's query scans the state table: one row per fleet, however many rollouts each has recorded.
        var rows = new List<string>();
        await foreach (var row in new Azure.Data.Tables.TableClient(azurite.ConnectionString, table).QueryAsync<Azure.Data.Tables.TableEntity>(select: ["RowKey"]))
        {
            rows.Add(row.RowKey);
        }

        Assert.Equal(["state", "state", "state"], rows);
        Assert.All(states.Values, s => Assert.Equal("c19", s.LastGoodCommit));
        Assert.Equal(RolloutPhase.Succeeded, await store.GetCommitPhaseAsync("api", "c7"));
    }

    [Fact]
    public async Task RecordAsync_CommitRowsOlderThanTheRetention_DeletedThoseOfTheLastDayKept()
    {
        var table = AzuriteFixture.NewName("fleets");
        var keepsAll = new FleetStateStore(azurite.ConnectionString, table) { CommitRetention = null };
        var now = new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
        await keepsAll.RecordAsync(new RecordInput("web", "web-old", "old", RolloutPhase.Succeeded, "rolled out"), now - TimeSpan.FromDays(40));
        await keepsAll.RecordAsync(new RecordInput("web", "web-recent", "recent", RolloutPhase.Failed, "health timeout"), now - TimeSpan.FromDays(10));
        await keepsAll.RecordAsync(new RecordInput("web", "web-today", "today", RolloutPhase.Succeeded, "rolled out"), now - TimeSpan.FromHours(2));
        await keepsAll.RecordAsync(new RecordInput("api", "api-old", "old", RolloutPhase.Succeeded, "rolled out"), now - TimeSpan.FromDays(40));

        // Another process with a one-hour retention records web's next rollout: rows of the last day stay whatever the
        // retention (a dependsOn wait reads them for up to an hour), and other fleets' rows wait for their own record.
        await new FleetStateStore(azurite.ConnectionString, table) { CommitRetention = TimeSpan.FromHours(1) }
            .RecordAsync(new RecordInput("web", "web-new", "new", RolloutPhase.Succeeded, "rolled out"), now);

        for (var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15); await keepsAll.GetCommitPhaseAsync("web", "old") is not null && DateTime.UtcNow < deadline;)
        {
            await Task.Delay(50);
        }

        Assert.Null(await keepsAll.GetCommitPhaseAsync("web", "old"));
        Assert.Null(await keepsAll.GetCommitPhaseAsync("web", "recent"));
        Assert.Equal(RolloutPhase.Succeeded, await keepsAll.GetCommitPhaseAsync("web", "today"));
        Assert.Equal(RolloutPhase.Succeeded, await keepsAll.GetCommitPhaseAsync("web", "new"));
        Assert.Equal(RolloutPhase.Succeeded, await keepsAll.GetCommitPhaseAsync("api", "old"));
    }

    [Fact]
    public async Task RecordAsync_CommitRowsOfAnEarlierBuildInTheStateTable_ReadThenMovedToTheCommitTable()
    {
        // Earlier builds wrote commit-<sha> rows beside the state row.
        var table = AzuriteFixture.NewName("fleets");
        var stateTable = new Azure.Data.Tables.TableClient(azurite.ConnectionString, table);
        var store = new FleetStateStore(azurite.ConnectionString, table);
        var now = new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
        await store.EnsureCreatedAsync();
        await stateTable.AddEntityAsync(new Azure.Data.Tables.TableEntity("web", "commit-c1") { ["Phase"] = "Succeeded", ["InstanceId"] = "web-1", ["Reason"] = "rolled out" });
        Assert.Equal(RolloutPhase.Succeeded, await store.GetCommitPhaseAsync("web", "c1"));

        await store.RecordAsync(new RecordInput("web", "web-2", "c2", RolloutPhase.Failed, "health timeout"), now);

        var rows = new List<string>();
        for (var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15); DateTime.UtcNow < deadline; await Task.Delay(50))
        {
            rows.Clear();
            await foreach (var row in stateTable.QueryAsync<Azure.Data.Tables.TableEntity>(select: ["RowKey"]))
            {
                rows.Add(row.RowKey);
            }

            if (rows.Count == 1)
            {
                break;
            }
        }

        Assert.Equal(["state"], rows);
        Assert.Equal(RolloutPhase.Succeeded, await store.GetCommitPhaseAsync("web", "c1"));
        Assert.Equal(RolloutPhase.Failed, await store.GetCommitPhaseAsync("web", "c2"));
    }

    [Fact]
    public async Task ClaimAsync_RowChangedByAnotherProcessSinceThisStoreWroteIt_DecidesOnTheStoredRow()
    {
        // Two stores on one table stand for two processes; each remembers the row as it last wrote it.
        var table = AzuriteFixture.NewName("fleets");
        var here = new FleetStateStore(azurite.ConnectionString, table);
        var there = new FleetStateStore(azurite.ConnectionString, table);
        var now = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);
        Assert.Null((await here.ClaimAsync("web", "web-1", "c1")).Previous);

        // Changed there: web-1 ended and web-2 now runs c2. A claim here must replace web-2, not its stale web-1.
        await there.RecordAsync(new RecordInput("web", "web-1", "c1", RolloutPhase.Succeeded, "rolled out"), now);
        await there.ClaimAsync("web", "web-2", "c2");
        var claim = await here.ClaimAsync("web", "web-3", "c3");
        Assert.Equal("web-2", claim.Previous);
        Assert.Equal("c1", claim.LastGoodCommit);
        Assert.Equal("web-3", (await there.GetAsync("web")).ActiveInstance);

        // A refusal taken on the remembered row counts only if the row is unchanged: there, web-3 ended and c4 is good.
        Task<string?> RefuseWhileActive(FleetState state, CancellationToken _) =>
            Task.FromResult(state.ActiveInstance is { } active ? $"{active} is running" : null);
        await there.RecordAsync(new RecordInput("web", "web-3", "c3", RolloutPhase.Succeeded, "rolled out"), now);
        var refusedNothing = await here.ClaimAsync("web", "web-4", "c4", RefuseWhileActive);
        Assert.Null(refusedNothing.Refused);
        Assert.Equal("c3", refusedNothing.LastGoodCommit);

        // Unchanged row: the refusal stands and nothing is written.
        var refused = await here.ClaimAsync("web", "web-5", "c5", RefuseWhileActive);
        Assert.Equal("web-4 is running", refused.Refused);
        Assert.Equal("web-4", (await there.GetAsync("web")).ActiveInstance);
    }

    [Fact]
    public async Task RecordAsync_ReasonLongerThanATablePropertyHolds_RecordsTheEndWithTheReasonCut()
    {
        // A commit that breaks a policy on every Deployment of every cluster: each cluster's message names them all.
        var table = AzuriteFixture.NewName("fleets");
        var store = new FleetStateStore(azurite.ConnectionString, table);
        var now = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);
        var reason = "wave 1 (all): 12 cluster(s) failed, more than maxFailures 0: " + string.Join("; ", Enumerable.Range(1, 12).Select(c =>
            $"cluster-{c:D2}: " + string.Join("; ", Enumerable.Range(1, 30).Select(d =>
                $"Deployment/web/app-{d:D3}: policy require-labels: ラベル app.kubernetes.io/name が必要です (validation error: label is required)"))));
        Assert.True(reason.Length > 40_000, $"{reason.Length} characters");
        await store.ClaimAsync("web", "web-1", "c1");

        await store.RecordAsync(new RecordInput("web", "web-1", "c1", RolloutPhase.Failed, reason), now);

        var state = await new FleetStateStore(azurite.ConnectionString, table).GetAsync("web");
        Assert.Equal(RolloutPhase.Failed, state.LastRolloutPhase);
        Assert.Null(state.ActiveInstance);
        Assert.Equal(RolloutPhase.Failed, await store.GetCommitPhaseAsync("web", "c1"));
        Assert.True(state.LastRolloutReason!.Length <= 30_000, $"{state.LastRolloutReason.Length} characters");
        Assert.StartsWith(reason[..20_000], state.LastRolloutReason, StringComparison.Ordinal);
        Assert.EndsWith($" ({reason.Length - state.LastRolloutReason.IndexOf('…', 20_000)} more characters)", state.LastRolloutReason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RecordAsync_RowDeletedSinceThisStoreWroteIt_WritesItAgain()
    {
        var table = AzuriteFixture.NewName("fleets");
        var store = new FleetStateStore(azurite.ConnectionString, table);
        var now = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);
        await store.ClaimAsync("web", "web-1", "c1");
        await new Azure.Data.Tables.TableClient(azurite.ConnectionString, table).DeleteEntityAsync("web", "state");

        await store.RecordAsync(new RecordInput("web", "web-1", "c1", RolloutPhase.Succeeded, "rolled out"), now);

        var state = await new FleetStateStore(azurite.ConnectionString, table).GetAsync("web");
        Assert.Equal("c1", state.LastGoodCommit);
        Assert.Null(state.ActiveInstance);
    }
}
