using FleetFunctions.Orchestrations.Engine;
using FleetFunctions.Orchestrations.Engine.History;
using FleetFunctions.Orchestrations.Engine.Storage;
using FleetFunctions.TestSupport;
using Xunit;

namespace FleetFunctions.Orchestrations.Tests.Engine;

/// <summary>The queue-trigger entry point, driven the way the Functions host drives it: receive, call, delete on success.</summary>
public sealed class MessageHandlerTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static DurableTaskRegistry Registry() => new DurableTaskRegistry()
        .AddActivity<int, int>("Square", x => x * x)
        .AddOrchestrator<int, int>("SumSquares", async (ctx, n) =>
        {
            var parts = await Task.WhenAll(Enumerable.Range(1, n).Select(i => ctx.CallActivityAsync<int>("Square", i)));
            await ctx.CreateTimer(ctx.CurrentUtcDateTime.AddSeconds(1), CancellationToken.None);
            return parts.Sum();
        });

    [Fact]
    public async Task HandleMessage_HostDrivenQueues_RunsOrchestrationToCompletion()
    {
        await using var h = await EngineHarness.StartAsync(azurite.ConnectionString, _ => { }, startWorker: false);
        var handler = new DurableMessageHandler(h.Hub, Registry());
        var id = await h.Client.ScheduleNewOrchestrationInstanceAsync("SumSquares", 5);

        var calls = await DriveAsync(h, handler, id);

        var final = await h.Client.GetInstanceAsync(id, getInputsAndOutputs: true);
        EngineHarness.AssertCompleted(final!);
        Assert.Equal(55, final!.ReadOutputAs<int>());
        Assert.True(calls >= 7, $"{calls} messages handled");
    }

    /// <summary>Receives the next control message, has the handler process it and deletes it; returns its text.</summary>
    private static async Task<string> HandleNextControlMessageAsync(EngineHarness h, DurableMessageHandler handler)
    {
        var message = (await h.Hub.ControlQueue.ReceiveMessagesAsync(1)).Value.Single();
        var result = await handler.HandleMessageAsync(h.Hub.ControlQueueName, message.MessageText, message.DequeueCount, message.MessageId);
        Assert.True(result.Succeeded, result.Error);
        await h.Hub.ControlQueue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
        return message.MessageText;
    }

    /// <summary>Delivers both queues' messages to the handler until the instance finishes; returns how many were handled.</summary>
    private static async Task<int> DriveAsync(EngineHarness h, DurableMessageHandler handler, string id)
    {
        using var cts = new CancellationTokenSource(EngineHarness.Timeout);
        var calls = 0;
        while ((await h.Client.GetInstanceAsync(id))!.IsRunning)
        {
            foreach (var queue in new[] { h.Hub.ControlQueue, h.Hub.WorkItemQueue })
            {
                foreach (var message in (await queue.ReceiveMessagesAsync(32, TimeSpan.FromSeconds(30), cts.Token)).Value)
                {
                    calls++;
                    var result = await handler.HandleMessageAsync(queue.Name, message.MessageText, message.DequeueCount, message.MessageId, cts.Token);
                    Assert.True(result.Succeeded, result.Error);
                    await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, cts.Token);
                }
            }

            await Task.Delay(50, cts.Token);
        }

        return calls;
    }

    [Fact]
    public async Task HandleMessage_ResultAndFailureUnderThePayloadThresholdButOverTheQueueLimitOnceEscaped_Complete()
    {
        // 480 records of quoted fields: about 40 KB of JSON, under the 45 KB blob threshold, but every quote becomes
        // \u0022 once the result is a JSON string inside the message (about 69 KB, over the queue's 64 KiB).
        var plan = Enumerable.Range(0, 480).Select(i => new PlannedCluster($"prod-eu-west-cluster-{i:D3}", "eu", "apps/podinfo/overlays/eu")).ToList();
        var registry = new DurableTaskRegistry()
            .AddActivity<int, List<PlannedCluster>>("Plan", _ => plan)
            .AddActivity<int, int>("Explode", _ => throw new InvalidOperationException(string.Concat(Enumerable.Repeat("cluster \"a\" failed; ", 5000))))
            .AddOrchestrator<int, string>("PlanThenFail", async (ctx, _) =>
            {
                var planned = await ctx.CallActivityAsync<List<PlannedCluster>>("Plan", 0);
                try
                {
                    await ctx.CallActivityAsync<int>("Explode", 0);
                    return "no failure";
                }
                catch (TaskFailedException ex)
                {
                    return $"{planned.Count} planned, {planned[^1].Name}; failure of {ex.FailureDetails.ErrorMessage.Length} chars";
                }
            });
        await using var h = await EngineHarness.StartAsync(azurite.ConnectionString, _ => { }, startWorker: false);
        Assert.InRange(System.Text.Encoding.UTF8.GetByteCount(h.Hub.Converter.Serialize(plan)!), 35_000, h.Hub.Options.LargePayloadThresholdBytes);
        var handler = new DurableMessageHandler(h.Hub, registry);
        var id = await h.Client.ScheduleNewOrchestrationInstanceAsync("PlanThenFail", 0);

        await DriveAsync(h, handler, id);

        var final = await h.Client.GetInstanceAsync(id, getInputsAndOutputs: true);
        EngineHarness.AssertCompleted(final!);
        Assert.Equal("480 planned, prod-eu-west-cluster-479; failure of 100000 chars", final!.ReadOutputAs<string>());
    }

    [Fact]
    public async Task HandleMessage_SuspendRedeliveredAfterTheResume_DroppedAndTheInstanceKeepsRunning()
    {
        var registry = new DurableTaskRegistry()
            .AddOrchestrator<int, string>("Gate", async (ctx, _) => await ctx.WaitForExternalEvent<string>("approve"));
        await using var h = await EngineHarness.StartAsync(azurite.ConnectionString, _ => { }, startWorker: false);
        var handler = new DurableMessageHandler(h.Hub, registry);
        var id = await h.Client.ScheduleNewOrchestrationInstanceAsync("Gate", 0);
        await HandleNextControlMessageAsync(h, handler);
        Assert.Equal(OrchestrationRuntimeStatus.Running, (await h.Client.GetInstanceAsync(id))!.RuntimeStatus);

        // The suspend is recorded, but its queue message outlives the checkpoint (the delete failed, the worker died).
        await h.Client.SuspendAsync(id, "investigating");
        var suspend = await HandleNextControlMessageAsync(h, handler);
        Assert.Equal(OrchestrationRuntimeStatus.Suspended, (await h.Client.GetInstanceAsync(id))!.RuntimeStatus);
        await h.Client.ResumeAsync(id, "done");
        await HandleNextControlMessageAsync(h, handler);
        Assert.Equal(OrchestrationRuntimeStatus.Running, (await h.Client.GetInstanceAsync(id))!.RuntimeStatus);

        var redelivered = await handler.HandleMessageAsync(h.Hub.ControlQueueName, suspend, 2, "redelivered");

        Assert.True(redelivered.Succeeded, redelivered.Error);
        Assert.Equal(OrchestrationRuntimeStatus.Running, (await h.Client.GetInstanceAsync(id))!.RuntimeStatus);
        await h.Client.RaiseEventAsync(id, "approve", "ok");
        await HandleNextControlMessageAsync(h, handler);
        var final = await h.Client.GetInstanceAsync(id, getInputsAndOutputs: true);
        EngineHarness.AssertCompleted(final!);
        Assert.Equal("ok", final!.ReadOutputAs<string>());
    }

    [Fact]
    public async Task HandleMessage_FailingMessage_FailureUntilLastAttemptThenParked()
    {
        await using var h = await EngineHarness.StartAsync(azurite.ConnectionString, _ => { }, o => o with { MaxDequeueCount = 2 }, startWorker: false);
        var handler = new DurableMessageHandler(h.Hub, new DurableTaskRegistry().AddOrchestrator<int, int>("Echo", (_, x) => Task.FromResult(x)));
        var id = await h.Client.ScheduleNewOrchestrationInstanceAsync("Echo", 1, new Orchestrations.Engine.Client.StartOrchestrationOptions { StartAt = DateTime.UtcNow.AddHours(1) });
        var broken = new TaskMessage
        {
            Id = "m1",
            InstanceId = id,
            ExecutionId = "x",
            Event = new HistoryEvent { EventType = HistoryEventType.ExecutionStarted, Timestamp = DateTime.UtcNow, Name = "Echo", Input = PayloadStore.ReferencePrefix + "gone", ExecutionId = "x" },
        };
        var state = (await h.Hub.Store.ReadStateAsync(id, default))!.Value;
        broken = broken with { ExecutionId = state.State.ExecutionId, Event = broken.Event with { ExecutionId = state.State.ExecutionId } };

        var first = await handler.HandleMessageAsync(h.Hub.ControlQueueName, broken.ToJson(), 1, "q1");
        var last = await handler.HandleMessageAsync(h.Hub.ControlQueueName, broken.ToJson(), 2, "q1");
        var wrongQueue = await handler.HandleMessageAsync("elsewhere", broken.ToJson(), 1);

        Assert.False(first.Succeeded);
        Assert.Contains("gone", first.Error, StringComparison.Ordinal);
        Assert.True(last.Succeeded);
        Assert.False(wrongQueue.Succeeded);
        var status = await h.Client.GetInstanceAsync(id);
        Assert.Equal(OrchestrationRuntimeStatus.Failed, status!.RuntimeStatus);
        Assert.Equal("PoisonMessage", status.FailureDetails!.ErrorType);
    }
}

/// <summary>One entry of a rollout plan, as an activity of the Functions-host mode returns it.</summary>
public sealed record PlannedCluster(string Name, string Region, string Path);
