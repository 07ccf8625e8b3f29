using FleetFunctions.Orchestrations.Engine;
using FleetFunctions.Orchestrations.Engine.History;
using FleetFunctions.Orchestrations.Engine.Storage;
using FleetFunctions.Orchestrations.Engine.Worker;
using FleetFunctions.TestSupport;
using Xunit;

namespace FleetFunctions.Orchestrations.Tests.Engine;

/// <summary>The sweeper finds outbox rows left by a crash through the outbox index, a bounded number of instances per sweep.</summary>
public sealed class OutboxSweepTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Redrive_ActivityRunningLongerThanTheStallTime_RunsOnce(bool runLocally)
    {
        var runs = 0;
        await using var h = await EngineHarness.StartAsync(
            azurite.ConnectionString,
            r => r
                .AddActivity<int, int>("Slow", async (_, x) =>
                {
                    Interlocked.Increment(ref runs);
                    await Task.Delay(TimeSpan.FromSeconds(10));
                    return x;
                })
                .AddOrchestrator<int, int>("One", async (ctx, x) => await ctx.CallActivityAsync<int>("Slow", x)),
            o => o with { RedriveStalledAfter = TimeSpan.FromSeconds(4) },
            new DurableWorkerOptions { OutboxSweepInterval = TimeSpan.FromSeconds(1), RunActivitiesLocally = runLocally });

        var result = await h.RunAsync("One", 7);
        await Task.Delay(TimeSpan.FromSeconds(1));

        EngineHarness.AssertCompleted(result);
        Assert.Equal(7, result.ReadOutputAs<int>());
        Assert.Equal(1, runs);
    }

    [Fact]
    public async Task Sweep_StartsCommittedButNeverSentOneInstancePerSweep_AllResentFinishedUnlisted()
    {
        await using var h = await EngineHarness.StartAsync(
            azurite.ConnectionString,
            r => r
                .AddOrchestrator<int, int>("Double", (_, x) => Task.FromResult(2 * x))
                .AddOrchestrator<int, int>("Waiter", async (ctx, _) => await ctx.WaitForExternalEvent<int>("Never")),
            o => o with { OrphanedOutboxAge = TimeSpan.FromSeconds(1) },
            new DurableWorkerOptions { OutboxSweepInterval = TimeSpan.FromMilliseconds(200), MaxInstancesPerSweep = 1 });

        // Clients that died between their commit and their send: state row (Pending) and outbox row, no queue message.
        // The first in key order keeps running (stays listed), so the others are reached only if sweeps continue
        // where the previous one stopped.
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var id = $"orphaned-{i}";
            var name = i == 0 ? "Waiter" : "Double";
            var execution = Guid.NewGuid().ToString("N");
            var now = DateTime.UtcNow;
            var state = new InstanceState
            {
                InstanceId = id, Name = name, Status = OrchestrationRuntimeStatus.Pending, ExecutionId = execution,
                Input = $"{i + 1}", CreatedTime = now, LastUpdatedTime = now,
            };
            await h.Hub.Store.CreateOrReplaceAsync(state, null, new TaskMessage
            {
                Id = "start-" + execution, InstanceId = id, ExecutionId = execution,
                Event = new HistoryEvent { EventType = HistoryEventType.ExecutionStarted, Timestamp = now, Name = name, Input = state.Input, ExecutionId = execution },
            }, default);
            ids.Add(id);
        }

        Assert.Equal(3, await CountListedAsync(h));
        for (var i = 1; i < ids.Count; i++)
        {
            var result = await h.WaitAsync(ids[i]);
            EngineHarness.AssertCompleted(result);
            Assert.Equal(2 * (i + 1), result.ReadOutputAs<int>());
            Assert.Equal(0, await h.Hub.Store.CountRowsAsync(ids[i], "o-", default));
        }

        // Finished and without outbox rows: the sweeper unlists them once they are older than the orphan age.
        var deadline = DateTime.UtcNow + EngineHarness.Timeout;
        while (await CountListedAsync(h) > 1 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        Assert.Equal(1, await CountListedAsync(h));
        var waiter = await h.WaitForStatusAsync(ids[0], s => s.RuntimeStatus == OrchestrationRuntimeStatus.Running);
        Assert.Equal(OrchestrationRuntimeStatus.Running, waiter.RuntimeStatus);
    }

    [Fact]
    public async Task Commit_LocalWorkRowAlreadyTakenBySweeper_CommitsWithoutDeletingIt()
    {
        await using var h = await EngineHarness.StartAsync(azurite.ConnectionString, _ => { }, startWorker: false);
        var execution = Guid.NewGuid().ToString("N");
        var now = DateTime.UtcNow;
        var state = new InstanceState
        {
            InstanceId = "swept", Name = "Any", Status = OrchestrationRuntimeStatus.Running, ExecutionId = execution, CreatedTime = now, LastUpdatedTime = now,
        };
        var created = await h.Hub.Store.CommitAsync(new Checkpoint(state, null, execution, 1, [], [], [], []), default);

        // The row of local work whose last result this commit records was resent and deleted by a sweeper meanwhile.
        var result = await h.Hub.Store.CommitAsync(
            new Checkpoint(state with { Episode = 2 }, created.ETag, execution, 2, [new HistoryEvent { EventType = HistoryEventType.OrchestratorStarted }], [], [], [])
            {
                OutboxDeletes = [InstanceStore.OutboxRowKey(execution, 1, 0)],
            },
            default);

        Assert.Equal(2, (await h.Hub.Store.ReadStateAsync("swept", default))!.Value.State.Episode);
        Assert.Single(result.HistoryRowKeys);
    }

    private static async Task<int> CountListedAsync(EngineHarness h)
    {
        var count = 0;
        await foreach (var unused in h.Hub.OutboxIndexTable.QueryAsync<Azure.Data.Tables.TableEntity>(select: ["RowKey"]))
        {
            count++;
        }

        return count;
    }
}
