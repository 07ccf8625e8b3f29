using System.Collections.Concurrent;
using FleetFunctions.Orchestrations.Engine;
using FleetFunctions.Orchestrations.Engine.History;
using FleetFunctions.Orchestrations.Engine.Storage;
using FleetFunctions.Orchestrations.Engine.Worker;
using FleetFunctions.TestSupport;
using Xunit;

namespace FleetFunctions.Orchestrations.Tests.Engine;

public sealed class FeatureTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task CallActivity_FailsTwiceWithRetryPolicy_SucceedsOnThirdAttempt()
    {
        var attempts = new ConcurrentDictionary<string, int>();
        await using var h = await EngineHarness.StartAsync(azurite.ConnectionString, r => r
            .AddActivity<string, string>("Flaky", key =>
            {
                var n = attempts.AddOrUpdate(key, 1, (_, v) => v + 1);
                return n < 3 ? throw new TimeoutException($"attempt {n} timed out") : $"ok after {n}";
            })
            .AddOrchestrator<string, string>("Retrying", (ctx, key) =>
                ctx.CallActivityAsync<string>("Flaky", key, new TaskOptions(new RetryPolicy(3, TimeSpan.FromMilliseconds(200), 2.0)))));

        var result = await h.RunAsync("Retrying", "k1");

        EngineHarness.AssertCompleted(result);
        Assert.Equal("ok after 3", result.ReadOutputAs<string>());
    }

    [Fact]
    public async Task CallActivity_RetryHandleRejectsFailure_FailsWithoutRetrying()
    {
        var attempts = 0;
        await using var h = await EngineHarness.StartAsync(azurite.ConnectionString, r => r
            .AddActivity<object?, string>("Broken", _ =>
            {
                Interlocked.Increment(ref attempts);
                throw new ArgumentException("bad input");
            })
            .AddOrchestrator<object?, string>("NoRetry", (ctx, _) =>
                ctx.CallActivityAsync<string>("Broken", null, new TaskOptions(new RetryPolicy(5, TimeSpan.FromMilliseconds(100))
                {
                    Handle = f => !f.IsCausedBy<ArgumentException>(),
                }))));

        var result = await h.RunAsync("NoRetry");

        Assert.Equal(OrchestrationRuntimeStatus.Failed, result.RuntimeStatus);
        Assert.Equal(1, attempts);
        Assert.Equal(typeof(TaskFailedException).FullName, result.FailureDetails!.ErrorType);
        Assert.Equal(typeof(ArgumentException).FullName, result.FailureDetails.InnerFailure!.ErrorType);
    }

    [Fact]
    public async Task CallActivity_ActivityThrows_OrchestratorSeesTypeMessageAndInnerFailure()
    {
        await using var h = await EngineHarness.StartAsync(azurite.ConnectionString, r => r
            .AddActivity<object?, string>("Thrower", _ => throw new InvalidOperationException("cluster-a/Deployment/web/api: apply failed", new IOException("connection reset")))
            .AddOrchestrator<object?, string[]>("Catcher", async (ctx, _) =>
            {
                try
                {
                    await ctx.CallActivityAsync<string>("Thrower");
                    return [];
                }
                catch (TaskFailedException ex)
                {
                    return [ex.TaskName, ex.FailureDetails.ErrorType, ex.FailureDetails.ErrorMessage, ex.FailureDetails.InnerFailure!.ErrorType, ex.FailureDetails.StackTrace is null ? "no stack" : "stack"];
                }
            }));

        var output = (await h.RunAsync("Catcher")).ReadOutputAs<string[]>()!;

        Assert.Equal(["Thrower", typeof(InvalidOperationException).FullName!, "cluster-a/Deployment/web/api: apply failed", typeof(IOException).FullName!, "stack"], output);
    }

    [Fact]
    public async Task CallSubOrchestrator_ChildrenSucceedAndFail_ParentGetsOutputsAndFailure()
    {
        await using var h = await EngineHarness.StartAsync(azurite.ConnectionString, r => r
            .AddActivity<int, int>("Double", x => x * 2)
            .AddOrchestrator<int, int>("Child", async (ctx, x) =>
                x < 0 ? throw new ArgumentOutOfRangeException(nameof(x), "negative wave") : await ctx.CallActivityAsync<int>("Double", x))
            .AddOrchestrator<object?, string>("Parent", async (ctx, _) =>
            {
                var outputs = await Task.WhenAll(
                    ctx.CallSubOrchestratorAsync<int>("Child", 1),
                    ctx.CallSubOrchestratorAsync<int>("Child", 2, new SubOrchestrationOptions(InstanceId: ctx.InstanceId + "-named")));
                try
                {
                    await ctx.CallSubOrchestratorAsync<int>("Child", -1);
                    return "no failure";
                }
                catch (TaskFailedException ex)
                {
                    return $"{outputs.Sum()} {ex.FailureDetails.ErrorType}";
                }
            }));

        var result = await h.RunAsync("Parent", instanceId: "parent1");

        EngineHarness.AssertCompleted(result);
        Assert.Equal($"6 {typeof(ArgumentOutOfRangeException).FullName}", result.ReadOutputAs<string>());
        var named = await h.Client.GetInstanceAsync("parent1-named", getInputsAndOutputs: true);
        Assert.Equal(4, named!.ReadOutputAs<int>());
        Assert.Equal(OrchestrationRuntimeStatus.Completed, (await h.Client.GetInstanceAsync("parent1:0000"))!.RuntimeStatus);
    }

    [Fact]
    public async Task ContinueAsNew_CountsToFive_FinalExecutionHasFreshHistory()
    {
        await using var h = await EngineHarness.StartAsync(azurite.ConnectionString, r => r
            .AddActivity<int, int>("Inc", x => x + 1)
            .AddOrchestrator<int, int>("Counter", async (ctx, n) =>
            {
                var next = await ctx.CallActivityAsync<int>("Inc", n);
                if (next < 5)
                {
                    ctx.ContinueAsNew(next);
                }

                return next;
            }));

        var result = await h.RunAsync("Counter", 0);

        EngineHarness.AssertCompleted(result);
        Assert.Equal(5, result.ReadOutputAs<int>());
        var history = (await h.Client.GetInstanceAsync(result.InstanceId, includeHistory: true))!.History!;
        Assert.Single(history, e => e.EventType == HistoryEventType.ExecutionStarted);
        Assert.Single(history, e => e.EventType == HistoryEventType.TaskCompleted);
    }

    [Fact]
    public async Task LargePayloads_InputAndOutputOver64KB_TravelThroughBlobs()
    {
        var big = string.Concat(Enumerable.Repeat("0123456789abcdef", 8 * 1024)); // 128 KB
        await using var h = await EngineHarness.StartAsync(azurite.ConnectionString, r => r
            .AddActivity<string, string>("Reverse", s => new string(s.Reverse().ToArray()))
            .AddOrchestrator<string, string>("Big", async (ctx, s) =>
            {
                ctx.SetCustomStatus(s.Length);
                var reversed = await ctx.CallActivityAsync<string>("Reverse", s);
                return reversed + reversed;
            }));

        var result = await h.RunAsync("Big", big);

        EngineHarness.AssertCompleted(result);
        var expected = new string(big.Reverse().ToArray());
        Assert.Equal(expected + expected, result.ReadOutputAs<string>());
        Assert.Equal(big, result.ReadInputAs<string>());
        var state = await h.Hub.Store.ReadStateAsync(result.InstanceId, default);
        Assert.True(PayloadStore.IsReference(state!.Value.State.Output), "output stored by reference");
    }

    [Fact]
    public async Task Replay_CodeChangedWhileRunning_FailsWithNonDeterminismNamingBothSteps()
    {
        await using var v1 = await EngineHarness.StartAsync(azurite.ConnectionString, r => r
            .AddActivity<object?, string>("A", _ => "a")
            .AddOrchestrator<object?, string>("Flow", async (ctx, _) =>
            {
                var a = await ctx.CallActivityAsync<string>("A");
                ctx.SetCustomStatus("after A");
                return a + await ctx.WaitForExternalEvent<string>("Next");
            }));
        var id = await v1.Client.ScheduleNewOrchestrationInstanceAsync("Flow");
        await v1.WaitForStatusAsync(id, s => s.SerializedCustomStatus is not null);
        await v1.Worker!.StopAsync();

        var v2 = new DurableTaskRegistry()
            .AddActivity<object?, string>("B", _ => "b")
            .AddOrchestrator<object?, string>("Flow", async (ctx, _) => await ctx.CallActivityAsync<string>("B") + await ctx.WaitForExternalEvent<string>("Next"));
        await using var worker2 = new DurableWorker(v1.Hub, v2);
        await worker2.StartAsync();
        await v1.Client.RaiseEventAsync(id, "Next", "!");
        var result = await v1.WaitAsync(id);

        Assert.Equal(OrchestrationRuntimeStatus.Failed, result.RuntimeStatus);
        Assert.Equal(typeof(NonDeterministicOrchestrationException).FullName, result.FailureDetails!.ErrorType);
        Assert.Contains("CallActivity 'A'", result.FailureDetails.ErrorMessage, StringComparison.Ordinal);
        Assert.Contains("CallActivity 'B'", result.FailureDetails.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PoisonMessage_FailsEveryAttempt_ParkedAndInstanceFailedWithError()
    {
        await using var h = await EngineHarness.StartAsync(azurite.ConnectionString, r => r
            .AddOrchestrator<object?, string>("Waiter", async (ctx, _) =>
            {
                ctx.SetCustomStatus("waiting");
                return await ctx.WaitForExternalEvent<string>("Go");
            }),
            o => o with { MaxDequeueCount = 3 });
        var id = await h.Client.ScheduleNewOrchestrationInstanceAsync("Waiter");
        await h.WaitForStatusAsync(id, s => s.SerializedCustomStatus is not null);

        // An event whose payload blob does not exist: every attempt to process it fails.
        var poison = new TaskMessage
        {
            Id = "poison-1",
            InstanceId = id,
            Event = new HistoryEvent { EventType = HistoryEventType.EventRaised, Timestamp = DateTime.UtcNow, Name = "Go", Input = PayloadStore.ReferencePrefix + "missing/blob" },
        };
        await h.Hub.ControlQueue.SendMessageAsync(poison.ToJson());
        await h.Hub.ControlQueue.SendMessageAsync("this is not a task message");
        var result = await h.WaitAsync(id);

        Assert.Equal(OrchestrationRuntimeStatus.Failed, result.RuntimeStatus);
        Assert.Equal("PoisonMessage", result.FailureDetails!.ErrorType);
        Assert.Contains("missing/blob", result.FailureDetails.ErrorMessage, StringComparison.Ordinal);
        var parked = new List<Azure.Data.Tables.TableEntity>();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (parked.Count < 2 && DateTime.UtcNow < deadline)
        {
            parked = await h.Hub.PoisonTable.QueryAsync<Azure.Data.Tables.TableEntity>().ToListAsync();
            await Task.Delay(100);
        }

        Assert.Equal(2, parked.Count);
        Assert.Contains(parked, p => (string)p["InstanceId"] == id);
    }
}
