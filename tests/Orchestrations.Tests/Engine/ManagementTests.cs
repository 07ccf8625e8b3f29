using FleetFunctions.Orchestrations.Engine;
using FleetFunctions.Orchestrations.Engine.Client;
using FleetFunctions.Orchestrations.Engine.History;
using FleetFunctions.Orchestrations.Engine.Storage;
using FleetFunctions.TestSupport;
using Xunit;

namespace FleetFunctions.Orchestrations.Tests.Engine;

public sealed class ManagementTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static void RegisterWaiter(DurableTaskRegistry r) => r
        .AddOrchestrator<object?, string>("Waiter", async (ctx, _) =>
        {
            ctx.SetCustomStatus("waiting");
            return await ctx.WaitForExternalEvent<string>("Go");
        })
        .AddOrchestrator<int, int>("Quick", (_, x) => Task.FromResult(x));

    [Fact]
    public async Task Terminate_WaitingInstance_TerminatedWithReason()
    {
        await using var h = await EngineHarness.StartAsync(azurite.ConnectionString, RegisterWaiter);
        var id = await h.Client.ScheduleNewOrchestrationInstanceAsync("Waiter");
        await h.WaitForStatusAsync(id, s => s.SerializedCustomStatus is not null);

        await h.Client.TerminateAsync(id, "operator stopped it");
        var result = await h.WaitAsync(id);

        Assert.Equal(OrchestrationRuntimeStatus.Terminated, result.RuntimeStatus);
        Assert.Equal("operator stopped it", result.ReadOutputAs<string>());
    }

    [Fact]
    public async Task Terminate_ParentWithRunningChildren_ChildrenTerminatedToo()
    {
        await using var h = await EngineHarness.StartAsync(azurite.ConnectionString, r => RegisterWaiter(r
            .AddOrchestrator<object?, string>("Parent", async (ctx, _) =>
            {
                var first = ctx.CallSubOrchestratorAsync<string>("Middle", null, new SubOrchestrationOptions(InstanceId: ctx.InstanceId + "-a"));
                var second = ctx.CallSubOrchestratorAsync<string>("Looper", 0, new SubOrchestrationOptions(InstanceId: ctx.InstanceId + "-b"));
                ctx.SetCustomStatus("children started");
                return string.Join(",", await Task.WhenAll(first, second));
            })
            .AddOrchestrator<int, string>("Looper", async (ctx, round) =>
            {
                // Continues as new once (a new execution id) before it waits.
                if (round == 0)
                {
                    ctx.ContinueAsNew(1);
                    return string.Empty;
                }

                ctx.SetCustomStatus("waiting");
                return await ctx.WaitForExternalEvent<string>("Go");
            })
            .AddOrchestrator<object?, string>("Middle", async (ctx, _) =>
                await ctx.CallSubOrchestratorAsync<string>("Waiter", null, new SubOrchestrationOptions(InstanceId: ctx.InstanceId + "-grandchild")))));
        var id = await h.Client.ScheduleNewOrchestrationInstanceAsync("Parent");
        foreach (var waiting in new[] { id + "-a-grandchild", id + "-b" })
        {
            await h.WaitForStatusAsync(waiting, s => s.SerializedCustomStatus is not null);
        }

        await h.Client.TerminateAsync(id, "rollout abandoned");

        Assert.Equal(OrchestrationRuntimeStatus.Terminated, (await h.WaitAsync(id)).RuntimeStatus);
        foreach (var descendant in new[] { id + "-a", id + "-b", id + "-a-grandchild" })
        {
            var child = await h.WaitAsync(descendant);
            Assert.True(child.RuntimeStatus == OrchestrationRuntimeStatus.Terminated, $"{descendant}: {child.RuntimeStatus}");
            Assert.Equal("rollout abandoned", child.ReadOutputAs<string>());
        }
    }

    [Fact]
    public async Task Terminate_CascadeArrivesBeforeChildStart_ChildNeverRuns()
    {
        await using var h = await EngineHarness.StartAsync(azurite.ConnectionString, RegisterWaiter);
        const string child = "parent-x:0001";
        var execution = Guid.NewGuid().ToString("N");
        var parent = new ParentInstance("parent-x", "parent-execution", 1, "Parent");

        // The terminate a parent cascades, delivered before the child's start (the queues do not keep order).
        await h.Hub.SendAsync(new OutboundMessage(TaskHubQueue.Control, new TaskMessage
        {
            Id = Guid.NewGuid().ToString("N"), InstanceId = child, ExecutionId = execution,
            Event = new HistoryEvent { EventType = HistoryEventType.ExecutionTerminated, Name = "Waiter", Result = "\"parent gone\"", Parent = parent },
        }), default);
        var tombstone = await h.WaitAsync(child);
        await h.Hub.SendAsync(new OutboundMessage(TaskHubQueue.Control, new TaskMessage
        {
            Id = Guid.NewGuid().ToString("N"), InstanceId = child, ExecutionId = execution,
            Event = new HistoryEvent { EventType = HistoryEventType.ExecutionStarted, Name = "Waiter", ExecutionId = execution, Parent = parent },
        }), default);
        var deadline = DateTime.UtcNow + EngineHarness.Timeout;
        while ((await h.Hub.ControlQueue.GetPropertiesAsync()).Value.ApproximateMessagesCount > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        var after = await h.Client.GetInstanceAsync(child, getInputsAndOutputs: true);
        Assert.Equal(OrchestrationRuntimeStatus.Terminated, tombstone.RuntimeStatus);
        Assert.Equal(OrchestrationRuntimeStatus.Terminated, after!.RuntimeStatus);
        Assert.Null(after.SerializedCustomStatus);
        Assert.Equal("parent gone", after.ReadOutputAs<string>());
    }

    [Fact]
    public async Task SuspendResume_EventWhileSuspended_ParkedThenDeliveredOnResume()
    {
        await using var h = await EngineHarness.StartAsync(azurite.ConnectionString, RegisterWaiter);
        var id = await h.Client.ScheduleNewOrchestrationInstanceAsync("Waiter");
        await h.WaitForStatusAsync(id, s => s.SerializedCustomStatus is not null);

        await h.Client.SuspendAsync(id, "maintenance");
        await h.WaitForStatusAsync(id, s => s.RuntimeStatus == OrchestrationRuntimeStatus.Suspended);
        await h.Client.RaiseEventAsync(id, "Go", "later");
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (await h.Hub.Store.CountRowsAsync(id, "i-", default) == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Assert.Equal(OrchestrationRuntimeStatus.Suspended, (await h.Client.GetInstanceAsync(id))!.RuntimeStatus);
        await h.Client.ResumeAsync(id, "done");
        var result = await h.WaitAsync(id);

        EngineHarness.AssertCompleted(result);
        Assert.Equal("later", result.ReadOutputAs<string>());
    }

    [Fact]
    public async Task Schedule_SameIdWhileRunning_RejectsOrReturnsExisting()
    {
        await using var h = await EngineHarness.StartAsync(azurite.ConnectionString, RegisterWaiter);
        var id = await h.Client.ScheduleNewOrchestrationInstanceAsync("Waiter", options: new StartOrchestrationOptions("fleet-a@abc123"));

        var rejected = await Assert.ThrowsAsync<OrchestrationAlreadyExistsException>(() =>
            h.Client.ScheduleNewOrchestrationInstanceAsync("Waiter", options: new StartOrchestrationOptions("fleet-a@abc123")));
        var existing = await h.Client.ScheduleNewOrchestrationInstanceAsync("Waiter",
            options: new StartOrchestrationOptions("fleet-a@abc123") { IfRunning = OrchestrationIdReusePolicy.ReturnExisting });

        Assert.Equal("fleet-a@abc123", rejected.InstanceId);
        Assert.Equal(id, existing);
        await h.Client.RaiseEventAsync(id, "Go", "first");
        var first = await h.WaitAsync(id);
        Assert.Equal("first", first.ReadOutputAs<string>());

        // A finished instance is replaced by a new execution.
        await h.Client.ScheduleNewOrchestrationInstanceAsync("Waiter", options: new StartOrchestrationOptions(id));
        await h.WaitForStatusAsync(id, s => s.RuntimeStatus == OrchestrationRuntimeStatus.Running && s.ExecutionId != first.ExecutionId && s.SerializedCustomStatus is not null);
        await h.Client.RaiseEventAsync(id, "Go", "second");
        Assert.Equal("second", (await h.WaitAsync(id)).ReadOutputAs<string>());
    }

    [Fact]
    public async Task Purge_FinishedInstance_DeletesEverything_RunningInstanceRefused()
    {
        await using var h = await EngineHarness.StartAsync(azurite.ConnectionString, RegisterWaiter);
        var done = await h.RunAsync("Quick", 7);
        var running = await h.Client.ScheduleNewOrchestrationInstanceAsync("Waiter");
        await h.WaitForStatusAsync(running, s => s.SerializedCustomStatus is not null);

        var purged = await h.Client.PurgeInstanceAsync(done.InstanceId);
        await Assert.ThrowsAsync<InvalidOperationException>(() => h.Client.PurgeInstanceAsync(running));

        Assert.Equal(1, purged.PurgedInstanceCount);
        Assert.Null(await h.Client.GetInstanceAsync(done.InstanceId));
        Assert.Equal(0, await h.Hub.Store.CountRowsAsync(done.InstanceId, "h-", default));
        Assert.Equal(0, (await h.Client.PurgeInstanceAsync(done.InstanceId)).PurgedInstanceCount);
        Assert.NotNull(await h.Client.GetInstanceAsync(running));
    }

    [Fact]
    public async Task QueryByInstanceIdPrefix_IdsWithEscapedCharacters_OnlyThatRangeOfIds()
    {
        await using var h = await EngineHarness.StartAsync(azurite.ConnectionString, RegisterWaiter);
        string[] ids = ["team/a-1", "team/a-2", "team/ab-1", "team/b-1", "team%a-1", "teama-1"];
        foreach (var id in ids)
        {
            await h.RunAsync("Quick", 1, instanceId: id);
        }

        var teamA = await h.Client.QueryInstancesAsync(new OrchestrationQuery { InstanceIdPrefix = "team/a-" });
        var team = await h.Client.QueryInstancesAsync(new OrchestrationQuery { InstanceIdPrefix = "team/", Statuses = [OrchestrationRuntimeStatus.Completed], NamePrefix = "Qu" });

        Assert.Equal(["team/a-1", "team/a-2"], teamA.Instances.Select(i => i.InstanceId).Order());
        Assert.Equal(["team/a-1", "team/a-2", "team/ab-1", "team/b-1"], team.Instances.Select(i => i.InstanceId).Order());
    }

    [Fact]
    public async Task QueryAndPurgeByFilter_SevenInstances_PagesThroughAllAndPurgesFinished()
    {
        await using var h = await EngineHarness.StartAsync(azurite.ConnectionString, RegisterWaiter);
        var ids = new List<string>();
        for (var i = 0; i < 7; i++)
        {
            ids.Add(await h.Client.ScheduleNewOrchestrationInstanceAsync("Quick", i));
        }

        foreach (var id in ids)
        {
            await h.WaitAsync(id);
        }

        var waiting = await h.Client.ScheduleNewOrchestrationInstanceAsync("Waiter");
        await h.WaitForStatusAsync(waiting, s => s.SerializedCustomStatus is not null);

        var seen = new List<string>();
        var pages = 0;
        string? token = null;
        do
        {
            var page = await h.Client.QueryInstancesAsync(new OrchestrationQuery
            {
                Statuses = [OrchestrationRuntimeStatus.Completed], NamePrefix = "Qu", PageSize = 3, ContinuationToken = token, FetchInputsAndOutputs = true,
            });
            Assert.True(page.Instances.Count <= 3);
            seen.AddRange(page.Instances.Select(i => i.InstanceId));
            token = page.ContinuationToken;
            pages++;
        }
        while (token is not null);

        Assert.Equal(ids.Order(), seen.Order());
        Assert.True(pages >= 3, $"{pages} pages");
        var running = await h.Client.QueryInstancesAsync(new OrchestrationQuery { Statuses = [OrchestrationRuntimeStatus.Running] });
        Assert.Equal(waiting, Assert.Single(running.Instances).InstanceId);

        var purged = await h.Client.PurgeInstancesAsync(new PurgeInstancesFilter(CreatedFrom: DateTime.UtcNow.AddHours(-1)));
        Assert.Equal(7, purged.PurgedInstanceCount);
        Assert.NotNull(await h.Client.GetInstanceAsync(waiting));
    }
}
