using FleetFunctions.Orchestrations.Engine;
using FleetFunctions.TestSupport;
using Xunit;

namespace FleetFunctions.Orchestrations.Tests.Engine;

public sealed class BasicOrchestrationTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task Sequence_ThreeActivities_OutputsInOrder()
    {
        await using var h = await EngineHarness.StartAsync(azurite.ConnectionString, r => r
            .AddActivity<string, string>("Hello", name => $"Hello {name}!")
            .AddOrchestrator<string, List<string>>("Hellos", async (ctx, _) =>
            [
                await ctx.CallActivityAsync<string>("Hello", "Tokyo"),
                await ctx.CallActivityAsync<string>("Hello", "Seattle"),
                await ctx.CallActivityAsync<string>("Hello", "London"),
            ]));

        var result = await h.RunAsync("Hellos");

        EngineHarness.AssertCompleted(result);
        Assert.Equal(["Hello Tokyo!", "Hello Seattle!", "Hello London!"], result.ReadOutputAs<List<string>>());
        Assert.Equal("1.0", result.Version);
    }

    [Fact]
    public async Task Chain_OnOneWorker_OrchestratorContinuedBetweenEpisodesNotReplayed()
    {
        var runs = 0;
        var replayedSteps = 0;
        await using var h = await EngineHarness.StartAsync(azurite.ConnectionString, r => r
            .AddActivity<int, int>("Inc", x => x + 1)
            .AddOrchestrator<int, int>("Chain", async (ctx, n) =>
            {
                Interlocked.Increment(ref runs);
                var x = 0;
                for (var i = 0; i < n; i++)
                {
                    x = await ctx.CallActivityAsync<int>("Inc", x);
                    if (ctx.IsReplaying)
                    {
                        Interlocked.Increment(ref replayedSteps);
                    }
                }

                return x;
            }));

        var result = await h.RunAsync("Chain", 8);

        EngineHarness.AssertCompleted(result);
        Assert.Equal(8, result.ReadOutputAs<int>());

        // Nine episodes (start, eight results): the orchestrator's code started once and no step was replayed.
        Assert.Equal(1, runs);
        Assert.Equal(0, replayedSteps);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task StartedInTheWorkersProcess_FirstEpisodeNeedsNoControlQueue(bool startLocally)
    {
        await using var h = await EngineHarness.StartAsync(
            azurite.ConnectionString,
            r => r
                .AddActivity<string, string>("Hello", name => $"Hello {name}!")
                .AddOrchestrator<string, string>("Hello1", async (ctx, name) => await ctx.CallActivityAsync<string>("Hello", name)),
            workerOptions: new Orchestrations.Engine.Worker.DurableWorkerOptions { StartInstancesLocally = startLocally });

        // Without a control queue only messages that never touch it get through: a local start, a local activity.
        await h.Hub.ControlQueue.DeleteAsync();
        try
        {
            if (!startLocally)
            {
                await Assert.ThrowsAsync<Azure.RequestFailedException>(() => h.RunAsync("Hello1", "Oslo"));
                return;
            }

            var result = await h.RunAsync("Hello1", "Oslo");

            EngineHarness.AssertCompleted(result);
            Assert.Equal("Hello Oslo!", result.ReadOutputAs<string>());
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (await h.Hub.Store.CountRowsAsync(result.InstanceId, "o-", default) > 0 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }

            Assert.Equal(0, await h.Hub.Store.CountRowsAsync(result.InstanceId, "o-", default));
        }
        finally
        {
            await h.Hub.ControlQueue.CreateIfNotExistsAsync();
        }
    }

    [Fact]
    public async Task StartedInTheWorkersProcess_NewInstance_IsNotReadBackForItsFirstEpisode()
    {
        var logs = new LogCapture();
        await using var h = await EngineHarness.StartAsync(
            azurite.ConnectionString,
            r => r
                .AddActivity<string, string>("Hello", name => $"Hello {name}!")
                .AddOrchestrator<string, string>("Hello1", async (ctx, name) => await ctx.CallActivityAsync<string>("Hello", name)),
            loggerFactory: logs);

        var first = await h.RunAsync("Hello1", "Oslo", instanceId: "seeded");

        EngineHarness.AssertCompleted(first);
        Assert.Equal("Hello Oslo!", first.ReadOutputAs<string>());
        Assert.Empty(logs.Messages(4014, "'seeded'"));

        // A new execution under a finished instance's id shares its partition with the old rows: that one is loaded.
        var second = await h.RunAsync("Hello1", "Rome", instanceId: "seeded");

        EngineHarness.AssertCompleted(second);
        Assert.Equal("Hello Rome!", second.ReadOutputAs<string>());
        Assert.Single(logs.Messages(4014, "'seeded'"));
    }

    [Fact]
    public async Task StartedInTheWorkersProcess_NewInstance_CreatedByTheCommitOfItsFirstEpisode()
    {
        var release = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var storedAtFirstCommit = new List<bool>();
        DurableTaskHub? hub = null;
        await using var h = await EngineHarness.StartAsync(
            azurite.ConnectionString,
            r => r
                .AddActivity<string, string>("Held", async (_, name) => await release.Task + name)
                .AddOrchestrator<string, string>("Gated", async (ctx, name) => await ctx.CallActivityAsync<string>("Held", name)),
            o => o with
            {
                FaultInjection = new EngineFaultInjection
                {
                    BeforeCommit = async (id, _) =>
                    {
                        if (id == "created-here")
                        {
                            storedAtFirstCommit.Add(await hub!.Store.ReadStateAsync(id, default) is not null);
                        }
                    },
                },
            });
        hub = h.Hub;

        var id = await h.Client.ScheduleNewOrchestrationInstanceAsync("Gated", "Oslo", new Orchestrations.Engine.Client.StartOrchestrationOptions("created-here"));

        // Nothing was stored before the first episode's commit, and once the client returns that episode is committed:
        // the instance runs and its activity is scheduled (one transaction, not a create and then a first commit).
        Assert.False(storedAtFirstCommit[0]);
        var running = (await h.Client.GetInstanceAsync(id, includeHistory: true))!;
        Assert.Equal(OrchestrationRuntimeStatus.Running, running.RuntimeStatus);
        Assert.Contains(running.History!, e => e.EventType == Orchestrations.Engine.History.HistoryEventType.TaskScheduled && e.Name == "Held");

        release.SetResult("Hello ");
        var result = await h.WaitAsync(id);
        EngineHarness.AssertCompleted(result);
        Assert.Equal("Hello Oslo", result.ReadOutputAs<string>());
    }

    [Theory]
    [InlineData(Orchestrations.Engine.Client.OrchestrationIdReusePolicy.Reject)]
    [InlineData(Orchestrations.Engine.Client.OrchestrationIdReusePolicy.ReturnExisting)]
    public async Task StartedInTheWorkersProcess_IdTakenBeforeTheFirstCommit_TheOtherExecutionKeepsIt(Orchestrations.Engine.Client.OrchestrationIdReusePolicy ifRunning)
    {
        var logs = new LogCapture();
        var taken = 0;
        DurableTaskHub? hub = null;
        await using var h = await EngineHarness.StartAsync(
            azurite.ConnectionString,
            r => r
                .AddActivity<string, string>("Hello", name => $"Hello {name}!")
                .AddOrchestrator<string, string>("Hello1", async (ctx, name) => await ctx.CallActivityAsync<string>("Hello", name)),
            o => o with
            {
                FaultInjection = new EngineFaultInjection
                {
                    BeforeCommit = async (id, _) =>
                    {
                        // Another client (no worker in its process) starts the same id just before this one's create commits.
                        if (id == "taken" && Interlocked.Exchange(ref taken, 1) == 0)
                        {
                            var other = new Orchestrations.Engine.Client.DurableClient(new DurableTaskHub(hub!.Options));
                            await other.ScheduleNewOrchestrationInstanceAsync("Hello1", "Rome", new Orchestrations.Engine.Client.StartOrchestrationOptions("taken"));
                        }
                    },
                },
            },
            loggerFactory: logs);
        hub = h.Hub;

        var options = new Orchestrations.Engine.Client.StartOrchestrationOptions("taken") { IfRunning = ifRunning };
        if (ifRunning == Orchestrations.Engine.Client.OrchestrationIdReusePolicy.Reject)
        {
            await Assert.ThrowsAsync<OrchestrationAlreadyExistsException>(() => h.Client.ScheduleNewOrchestrationInstanceAsync("Hello1", "Oslo", options));
        }
        else
        {
            Assert.Equal("taken", await h.Client.ScheduleNewOrchestrationInstanceAsync("Hello1", "Oslo", options));
        }

        var result = await h.WaitAsync("taken");
        EngineHarness.AssertCompleted(result);
        Assert.Equal("Hello Rome!", result.ReadOutputAs<string>());
        Assert.Equal(1, Volatile.Read(ref taken));
        Assert.Empty(logs.Messages(4002, "'taken'"));
    }

    [Theory]
    [InlineData(50, true)]
    [InlineData(500, true)]
    [InlineData(50, false)]
    public async Task FanOutFanIn_ManyActivities_SumsAllResultsRunsEachOnceLeavesNoOutbox(int count, bool runLocally)
    {
        var executions = 0;
        await using var h = await EngineHarness.StartAsync(
            azurite.ConnectionString,
            r => r
                .AddActivity<int, int>("Square", x =>
                {
                    Interlocked.Increment(ref executions);
                    return x * x;
                })
                .AddOrchestrator<int, long>("FanOut", async (ctx, n) =>
                {
                    var tasks = Enumerable.Range(1, n).Select(i => ctx.CallActivityAsync<int>("Square", i)).ToList();
                    var results = await Task.WhenAll(tasks);
                    return results.Sum(x => (long)x);
                }),
            workerOptions: new Orchestrations.Engine.Worker.DurableWorkerOptions { RunActivitiesLocally = runLocally });

        var result = await h.RunAsync("FanOut", count, timeout: TimeSpan.FromMinutes(3));

        EngineHarness.AssertCompleted(result);
        Assert.Equal(Enumerable.Range(1, count).Sum(i => (long)i * i), result.ReadOutputAs<long>());
        var history = (await h.Client.GetInstanceAsync(result.InstanceId, includeHistory: true))!.History!;
        Assert.Equal(count, history.Count(e => e.EventType == Orchestrations.Engine.History.HistoryEventType.TaskCompleted));

        // Outbox rows (sent work items, and those run in this worker) are deleted once done, so a sweeper never resends them.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (await h.Hub.Store.CountRowsAsync(result.InstanceId, "o-", default) > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Assert.Equal(0, await h.Hub.Store.CountRowsAsync(result.InstanceId, "o-", default));
        Assert.Equal(count, Volatile.Read(ref executions));
    }

    [Fact]
    public async Task Timer_TwoSecondsAhead_FiresAfterItsTime()
    {
        await using var h = await EngineHarness.StartAsync(azurite.ConnectionString, r => r
            .AddOrchestrator<object?, double>("Sleeper", async (ctx, _) =>
            {
                var start = ctx.CurrentUtcDateTime;
                await ctx.CreateTimer(start.AddSeconds(2), CancellationToken.None);
                return (ctx.CurrentUtcDateTime - start).TotalSeconds;
            }));

        var result = await h.RunAsync("Sleeper");

        EngineHarness.AssertCompleted(result);
        Assert.True(result.ReadOutputAs<double>() >= 2.0, $"elapsed {result.SerializedOutput}");
    }

    [Fact]
    public async Task ExternalEvent_RaisedWhileWaiting_IsDelivered()
    {
        await using var h = await EngineHarness.StartAsync(azurite.ConnectionString, r => r
            .AddOrchestrator<object?, string>("Approval", async (ctx, _) =>
            {
                ctx.SetCustomStatus("waiting");
                var answer = await ctx.WaitForExternalEvent<string>("Approve");
                return $"approved by {answer}";
            }));

        var id = await h.Client.ScheduleNewOrchestrationInstanceAsync("Approval");
        await h.WaitForStatusAsync(id, s => s.ReadCustomStatusAs<string>() == "waiting");
        await h.Client.RaiseEventAsync(id, "approve", "alice");
        var result = await h.WaitAsync(id);

        Assert.Equal("approved by alice", result.ReadOutputAs<string>());
    }

    [Fact]
    public async Task ExternalEvent_NotRaisedBeforeTimeout_TimerWins()
    {
        await using var h = await EngineHarness.StartAsync(azurite.ConnectionString, r => r
            .AddOrchestrator<object?, string>("Approval", async (ctx, _) =>
            {
                using var cts = new CancellationTokenSource();
                var approval = ctx.WaitForExternalEvent<string>("Approve", cts.Token);
                var timeout = ctx.CreateTimer(ctx.CurrentUtcDateTime.AddSeconds(1), cts.Token);
                var winner = await Task.WhenAny(approval, timeout);
                cts.Cancel();
                return winner == approval ? "approved" : "timed out";
            })
            .AddOrchestrator<object?, string>("ApprovalHelper", async (ctx, _) =>
            {
                try
                {
                    return await ctx.WaitForExternalEvent<string>("Approve", TimeSpan.FromSeconds(1));
                }
                catch (TimeoutException)
                {
                    return "helper timed out";
                }
            }));

        Assert.Equal("timed out", (await h.RunAsync("Approval")).ReadOutputAs<string>());
        Assert.Equal("helper timed out", (await h.RunAsync("ApprovalHelper")).ReadOutputAs<string>());
    }

    [Fact]
    public async Task ExternalEvent_RaisedBeforeTimeout_EventWins()
    {
        await using var h = await EngineHarness.StartAsync(azurite.ConnectionString, r => r
            .AddOrchestrator<object?, string>("Approval", async (ctx, _) =>
            {
                ctx.SetCustomStatus("waiting");
                return await ctx.WaitForExternalEvent<string>("Approve", TimeSpan.FromMinutes(5));
            }));

        var id = await h.Client.ScheduleNewOrchestrationInstanceAsync("Approval");
        await h.WaitForStatusAsync(id, s => s.SerializedCustomStatus is not null);
        await h.Client.RaiseEventAsync(id, "Approve", "bob");

        Assert.Equal("bob", (await h.WaitAsync(id)).ReadOutputAs<string>());
    }

    [Fact]
    public async Task ExternalEvent_RaisedBeforeWaiter_IsBuffered()
    {
        await using var h = await EngineHarness.StartAsync(azurite.ConnectionString, r => r
            .AddActivity<int, int>("Echo", x => x)
            .AddOrchestrator<object?, string>("Late", async (ctx, _) =>
            {
                ctx.SetCustomStatus("started");
                await ctx.CreateTimer(ctx.CurrentUtcDateTime.AddSeconds(2), CancellationToken.None);
                var first = await ctx.WaitForExternalEvent<string>("Go");
                var second = await ctx.WaitForExternalEvent<string>("Go");
                return first + second;
            }));

        var id = await h.Client.ScheduleNewOrchestrationInstanceAsync("Late");
        await h.WaitForStatusAsync(id, s => s.SerializedCustomStatus is not null);
        await h.Client.RaiseEventAsync(id, "Go", "a");
        await h.Client.RaiseEventAsync(id, "Go", "b");

        var output = (await h.WaitAsync(id)).ReadOutputAs<string>();
        Assert.True(output is "ab" or "ba", output);
    }
}
