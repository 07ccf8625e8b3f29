using FleetFunctions.Orchestrations.Engine;
using FleetFunctions.Orchestrations.Engine.Client;
using FleetFunctions.Orchestrations.Engine.History;
using FleetFunctions.Orchestrations.Engine.Storage;
using FleetFunctions.Orchestrations.Engine.Worker;
using FleetFunctions.TestSupport;
using Xunit;

namespace FleetFunctions.Orchestrations.Tests.Engine;

/// <summary>
/// Behind the Functions host nothing but queue messages reach the engine, so the upkeep a standalone worker does on
/// its own timer (resending orphaned outbox rows) runs as <see cref="DurableMessageHandler.RunMaintenanceAsync"/>.
/// </summary>
public sealed class MessageHandlerMaintenanceTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task RunMaintenanceAsync_StartCommittedButNeverSent_ResendsItAndTheInstanceCompletesThroughTheHandler()
    {
        static void Register(DurableTaskRegistry r) => r.AddOrchestrator<int, int>("Double", (_, x) => Task.FromResult(2 * x));
        await using var h = await EngineHarness.StartAsync(
            azurite.ConnectionString, Register, o => o with { OrphanedOutboxAge = TimeSpan.FromMilliseconds(500) }, startWorker: false);
        var registry = new DurableTaskRegistry { Version = "1.0" };
        Register(registry);
        var handler = new DurableMessageHandler(h.Hub, registry);

        await CommitStartNeverSentAsync(h, "orphan", "Double", "21");

        var early = await handler.RunMaintenanceAsync();
        Assert.Equal(0, early.OutboxRows);
        Assert.Empty((await h.Hub.ControlQueue.PeekMessagesAsync(32)).Value);

        await Task.Delay(TimeSpan.FromMilliseconds(700));
        var upkeep = await handler.RunMaintenanceAsync();

        Assert.Equal(1, upkeep.OutboxRows);
        Assert.Equal(1, upkeep.MessagesResent);

        var done = await DeliverUntilCompletedAsync(h, handler, "orphan");
        Assert.Equal(42, done.ReadOutputAs<int>());
    }

    [Fact]
    public async Task RunMaintenanceAsync_AnInstanceWhoseOutboxCannotBeRead_SkippedAndTheOthersResent()
    {
        static void Register(DurableTaskRegistry r) => r.AddOrchestrator<int, int>("Double", (_, x) => Task.FromResult(2 * x));
        await using var h = await EngineHarness.StartAsync(
            azurite.ConnectionString, Register, o => o with { OrphanedOutboxAge = TimeSpan.FromMilliseconds(500) }, startWorker: false);
        var registry = new DurableTaskRegistry { Version = "1.0" };
        Register(registry);
        var handler = new DurableMessageHandler(h.Hub, registry);

        // First in key order: an outbox row spilled to a blob that is gone, so it can be neither read nor sent.
        await CommitStartNeverSentAsync(h, "a-bad", "Double", "1");
        var bad = (await h.Hub.InstancesTable.QueryAsync<Azure.Data.Tables.TableEntity>($"PartitionKey eq 'a-bad' and RowKey ge 'o-' and RowKey lt 'o.'").ToListAsync()).Single();
        var broken = new Azure.Data.Tables.TableEntity(bad.PartitionKey, bad.RowKey);
        TableText.Set(broken, "Data", PayloadStore.ReferencePrefix + "a-bad/gone");
        await h.Hub.InstancesTable.UpsertEntityAsync(broken, Azure.Data.Tables.TableUpdateMode.Replace);
        await CommitStartNeverSentAsync(h, "z-good", "Double", "21");
        await Task.Delay(TimeSpan.FromMilliseconds(700));

        var first = await handler.RunMaintenanceAsync();
        var second = await handler.RunMaintenanceAsync();

        Assert.Equal(1, first.MessagesResent);
        Assert.Equal(0, second.MessagesResent);
        var done = await DeliverUntilCompletedAsync(h, handler, "z-good");
        Assert.Equal(42, done.ReadOutputAs<int>());
        Assert.Equal(1, await h.Hub.Store.CountRowsAsync("a-bad", "o-", default));
    }

    [Fact]
    public async Task ScheduledStart_RequestedAgainAndRedriven_ResentStartsWaitForStartAt()
    {
        static void Register(DurableTaskRegistry r) => r.AddOrchestrator<int, int>("Double", (_, x) => Task.FromResult(2 * x));
        await using var h = await EngineHarness.StartAsync(
            azurite.ConnectionString, Register, o => o with { RedriveStalledAfter = TimeSpan.FromSeconds(2) }, startWorker: false);
        var registry = new DurableTaskRegistry { Version = "1.0" };
        Register(registry);
        var startAt = DateTime.UtcNow.AddHours(1);

        // The same start requested again (a retried request): the pending instance's start is sent again.
        await h.Client.ScheduleNewOrchestrationInstanceAsync("Double", 1, new StartOrchestrationOptions("nightly") { StartAt = startAt });
        await h.Client.ScheduleNewOrchestrationInstanceAsync("Double", 1, new StartOrchestrationOptions("nightly") { StartAt = startAt, IfRunning = OrchestrationIdReusePolicy.ReturnExisting });
        var visibleAfterRepeat = (await h.Hub.ControlQueue.PeekMessagesAsync(32)).Value.Length;

        // Pending for longer than the stall time: the redrive sends the start once more.
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        var upkeep = await new DurableMessageHandler(h.Hub, registry).RunMaintenanceAsync();
        var visibleAfterRedrive = (await h.Hub.ControlQueue.PeekMessagesAsync(32)).Value.Length;

        Assert.Equal(0, visibleAfterRepeat);
        Assert.Equal(1, upkeep.InstancesRedriven);
        Assert.Equal(0, visibleAfterRedrive);
        Assert.Equal(OrchestrationRuntimeStatus.Pending, (await h.Client.GetInstanceAsync("nightly"))!.RuntimeStatus);
    }

    /// <summary>A client that died between its commit and its send: state row (Pending) and outbox row, no queue message.</summary>
    private static async Task CommitStartNeverSentAsync(EngineHarness h, string instanceId, string name, string input)
    {
        var execution = Guid.NewGuid().ToString("N");
        var now = DateTime.UtcNow;
        var state = new InstanceState
        {
            InstanceId = instanceId, Name = name, Status = OrchestrationRuntimeStatus.Pending, ExecutionId = execution,
            Input = input, CreatedTime = now, LastUpdatedTime = now,
        };
        await h.Hub.Store.CreateOrReplaceAsync(state, null, new TaskMessage
        {
            Id = "start-" + execution, InstanceId = instanceId, ExecutionId = execution,
            Event = new HistoryEvent { EventType = HistoryEventType.ExecutionStarted, Timestamp = now, Name = name, Input = input, ExecutionId = execution },
        }, default);
    }

    /// <summary>Delivers what is on the control queue as the Functions host would, one message per invocation, until the instance completes.</summary>
    private static async Task<Orchestrations.Engine.Client.OrchestrationMetadata> DeliverUntilCompletedAsync(EngineHarness h, DurableMessageHandler handler, string instanceId)
    {
        var deadline = DateTime.UtcNow + EngineHarness.Timeout;
        while (DateTime.UtcNow < deadline && (await h.Client.GetInstanceAsync(instanceId))?.RuntimeStatus != OrchestrationRuntimeStatus.Completed)
        {
            foreach (var message in (await h.Hub.ControlQueue.ReceiveMessagesAsync(32)).Value)
            {
                var result = await handler.HandleMessageAsync(h.Hub.ControlQueueName, message.Body.ToString(), message.DequeueCount, message.MessageId);
                Assert.True(result.Succeeded, result.Error);
                await h.Hub.ControlQueue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
            }
        }

        var done = await h.WaitAsync(instanceId);
        EngineHarness.AssertCompleted(done);
        return done;
    }

    [Fact]
    public async Task RunMaintenanceAsync_FinishedLongerAgoThanTheRetention_PurgedAndOthersKept()
    {
        static void Register(DurableTaskRegistry r) => r
            .AddOrchestrator<int, int>("Double", (_, x) => Task.FromResult(2 * x))
            .AddOrchestrator<int, int>("Waits", async (ctx, _) => await ctx.WaitForExternalEvent<int>("go"));
        await using var h = await EngineHarness.StartAsync(
            azurite.ConnectionString, Register, o => o with { FinishedInstanceRetention = TimeSpan.FromSeconds(3) },
            new DurableWorkerOptions { OutboxSweepInterval = TimeSpan.FromHours(1) }); // the worker's own upkeep stays out of it
        var registry = new DurableTaskRegistry { Version = "1.0" };
        Register(registry);

        var old = await h.RunAsync("Double", 1);
        var running = await h.Client.ScheduleNewOrchestrationInstanceAsync("Waits", 0);
        await Task.Delay(TimeSpan.FromSeconds(3.5));
        var recent = await h.RunAsync("Double", 2);

        // The upkeep as the Functions host runs it (a fresh process's first pass looks at once).
        var upkeep = await new DurableMessageHandler(h.Hub, registry).RunMaintenanceAsync();

        Assert.Equal(1, upkeep.InstancesPurged);
        Assert.Null(await h.Client.GetInstanceAsync(old.InstanceId));
        Assert.Equal(OrchestrationRuntimeStatus.Running, (await h.Client.GetInstanceAsync(running))?.RuntimeStatus);
        Assert.Equal(OrchestrationRuntimeStatus.Completed, (await h.Client.GetInstanceAsync(recent.InstanceId))?.RuntimeStatus);
    }

    [Fact]
    public async Task RunMaintenanceAsync_NoRetention_KeepsFinishedInstances()
    {
        static void Register(DurableTaskRegistry r) => r.AddOrchestrator<int, int>("Double", (_, x) => Task.FromResult(2 * x));
        await using var h = await EngineHarness.StartAsync(azurite.ConnectionString, Register, o => o with { FinishedInstanceRetention = null });
        var registry = new DurableTaskRegistry { Version = "1.0" };
        Register(registry);
        var done = await h.RunAsync("Double", 1);
        await Task.Delay(TimeSpan.FromMilliseconds(100));

        var upkeep = await new DurableMessageHandler(h.Hub, registry).RunMaintenanceAsync();

        Assert.Equal(0, upkeep.InstancesPurged);
        Assert.NotNull(await h.Client.GetInstanceAsync(done.InstanceId));
    }
}
