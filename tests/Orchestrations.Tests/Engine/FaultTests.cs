using Azure;
using Azure.Data.Tables;
using FleetFunctions.Orchestrations.Engine;
using FleetFunctions.Orchestrations.Engine.Client;
using FleetFunctions.Orchestrations.Engine.History;
using FleetFunctions.Orchestrations.Engine.Storage;
using FleetFunctions.Orchestrations.Engine.Worker;
using FleetFunctions.Orchestrations.TestWorker;
using FleetFunctions.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace FleetFunctions.Orchestrations.Tests.Engine;

/// <summary>The delivery guarantees under crashes, duplicates, competition and a storage restart.</summary>
public sealed class FaultTests(AzuriteFixture azurite, ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    private static readonly TimeSpan s_completion = TimeSpan.FromMinutes(4);

    [Fact]
    public async Task WorkerProcess_KilledAtRandomMoments_AllCompleteWithoutDuplicateResults()
    {
        var hubName = AzuriteFixture.NewName("k");
        var hub = new DurableTaskHub(FaultWorkload.Options(azurite.ConnectionString, hubName));
        await hub.CreateIfNotExistsAsync();
        var client = new DurableClient(hub);
        var worker = await WorkerProcess.StartAsync(azurite.ConnectionString, hubName);
        try
        {
            var ids = await StartInstancesAsync(client, 20);
            var seed = Environment.TickCount;
            output.WriteLine($"kill schedule seed {seed}");
            var random = new Random(seed);
            for (var kill = 0; kill < 4; kill++)
            {
                await Task.Delay(random.Next(300, 2500));
                worker.Kill();
                worker.Dispose();
                worker = await WorkerProcess.StartAsync(azurite.ConnectionString, hubName);
            }

            await AssertAllCorrectAsync(client, ids);
        }
        finally
        {
            worker.Dispose();
            await hub.DeleteAsync();
        }
    }

    [Fact]
    public async Task WorkerProcess_KilledWhileRunningActivitiesLocally_WorkItemsResentAndCompleted()
    {
        var hubName = AzuriteFixture.NewName("l");
        var hub = new DurableTaskHub(FaultWorkload.Options(azurite.ConnectionString, hubName));
        await hub.CreateIfNotExistsAsync();
        var client = new DurableClient(hub);
        var worker = await WorkerProcess.StartAsync(azurite.ConnectionString, hubName);
        try
        {
            var id = await client.ScheduleNewOrchestrationInstanceAsync("SlowFanOut", 5);

            // The episode committed the 5 work items as an outbox row and runs them in that process (none queued).
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (await hub.Store.CountRowsAsync(id, "o-", default) == 0 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(20);
            }

            Assert.Equal(1, await hub.Store.CountRowsAsync(id, "o-", default));
            Assert.Equal(0, (await hub.WorkItemQueue.GetPropertiesAsync()).Value.ApproximateMessagesCount);
            worker.Kill();
            worker.Dispose();

            // Another worker finds the row orphaned, sends the work items, and the results are recorded once each.
            worker = await WorkerProcess.StartAsync(azurite.ConnectionString, hubName);
            using var cts = new CancellationTokenSource(s_completion);
            var result = await client.WaitForInstanceCompletionAsync(id, true, cts.Token);
            EngineHarness.AssertCompleted(result);
            Assert.Equal(30, result.ReadOutputAs<int>());
            var history = (await client.GetInstanceAsync(id, includeHistory: true))!.History!;
            var completed = history.Where(e => e.EventType == HistoryEventType.TaskCompleted).Select(e => e.TaskScheduledId).ToList();
            Assert.Equal(5, completed.Count);
            Assert.Equal(5, completed.Distinct().Count());
        }
        finally
        {
            worker.Dispose();
            await hub.DeleteAsync();
        }
    }

    [Fact]
    public async Task Worker_StoppedWhileHoldingActivitiesLocally_WorkItemsHandedToQueueAndRunByAnother()
    {
        var hub = new DurableTaskHub(FaultWorkload.Options(azurite.ConnectionString, AzuriteFixture.NewName("s")));
        var started = 0;
        var holding = true;
        var registry = new DurableTaskRegistry()
            .AddActivity<int, int>("Hold", async (_, x, cancellationToken) =>
            {
                Interlocked.Increment(ref started);
                if (Volatile.Read(ref holding))
                {
                    await Task.Delay(TimeSpan.FromMinutes(5), cancellationToken);
                }

                return 2 * x;
            })
            .AddOrchestrator<int, int>("Pair", async (ctx, x) => (await Task.WhenAll(ctx.CallActivityAsync<int>("Hold", x), ctx.CallActivityAsync<int>("Hold", x + 1))).Sum());
        var first = new DurableWorker(hub, registry, new DurableWorkerOptions { MaxConcurrentActivities = 2 });
        await first.StartAsync();
        DurableWorker? second = null;
        try
        {
            var client = new DurableClient(hub);
            var id = await client.ScheduleNewOrchestrationInstanceAsync("Pair", 10);
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (Volatile.Read(ref started) < 2 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(20);
            }

            Assert.Equal(2, Volatile.Read(ref started));
            Assert.Equal(0, (await hub.WorkItemQueue.GetPropertiesAsync()).Value.ApproximateMessagesCount);
            Volatile.Write(ref holding, false);
            await first.StopAsync();

            // Stopping cancelled both local runs; their work items went to the queue for any worker.
            Assert.Equal(2, (await hub.WorkItemQueue.GetPropertiesAsync()).Value.ApproximateMessagesCount);
            second = new DurableWorker(hub, registry);
            await second.StartAsync();
            using var cts = new CancellationTokenSource(s_completion);
            var result = await client.WaitForInstanceCompletionAsync(id, true, cts.Token);
            EngineHarness.AssertCompleted(result);
            Assert.Equal(42, result.ReadOutputAs<int>());
            Assert.Equal(4, Volatile.Read(ref started));
        }
        finally
        {
            await first.DisposeAsync();
            if (second is not null)
            {
                await second.DisposeAsync();
            }

            await hub.DeleteAsync();
        }
    }

    [Fact]
    public async Task LocalActivity_StartsWhileItsCheckpointCommits_ResultRecordedAfterTheCommit()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var heldCommits = 0;
        await using var h = await EngineHarness.StartAsync(
            azurite.ConnectionString,
            r => r
                .AddActivity<int, int>("Double", (_, x, _) =>
                {
                    started.TrySetResult();
                    return Task.FromResult(2 * x);
                })
                .AddOrchestrator<int, int>("Once", async (ctx, x) => await ctx.CallActivityAsync<int>("Double", x)),
            o => o with
            {
                FaultInjection = new EngineFaultInjection
                {
                    // The commit that schedules the activity waits until the activity is running: only an activity
                    // started before its commit finished lets this through within the minute.
                    BeforeCommit = async (_, workItems) =>
                    {
                        if (workItems > 0)
                        {
                            Interlocked.Increment(ref heldCommits);
                            await started.Task.WaitAsync(TimeSpan.FromMinutes(1));
                        }
                    },
                },
            });

        var result = await h.RunAsync("Once", 21, timeout: s_completion);

        EngineHarness.AssertCompleted(result);
        Assert.Equal(42, result.ReadOutputAs<int>());
        Assert.Equal(1, heldCommits);
    }

    [Fact]
    public async Task LocalActivity_CheckpointLosesARace_ActivityCancelledItsResultDroppedAndRunAgain()
    {
        var runs = 0;
        var cancelled = 0;
        var conflicts = 0;
        EngineHarness? h = null;
        await using var harness = h = await EngineHarness.StartAsync(
            azurite.ConnectionString,
            r => r
                .AddActivity<int, int>("Slow", async (_, x, cancellationToken) =>
                {
                    if (Interlocked.Increment(ref runs) == 1)
                    {
                        try
                        {
                            await Task.Delay(TimeSpan.FromMinutes(2), cancellationToken);
                        }
                        catch (OperationCanceledException)
                        {
                            Interlocked.Increment(ref cancelled);
                            throw;
                        }

                        return -1;
                    }

                    return 2 * x;
                })
                .AddActivity<int, int>("Echo", x => x)
                .AddOrchestrator<int, int>("Once", async (ctx, x) => await ctx.CallActivityAsync<int>("Slow", await ctx.CallActivityAsync<int>("Echo", x))),
            o => o with
            {
                FaultInjection = new EngineFaultInjection
                {
                    // The first commit that schedules work on a stored instance (the one scheduling Slow; the first
                    // episode creates the instance) loses a race: its state row changes underneath it, as when another
                    // worker commits first. It is retried; the activity it had started must not count.
                    BeforeCommit = async (instanceId, workItems) =>
                    {
                        if (workItems > 0 && await h!.Hub.Store.ReadStateAsync(instanceId, default) is not null && Interlocked.Exchange(ref conflicts, 1) == 0)
                        {
                            var row = new TableEntity(KeyEncoding.ToPartitionKey(instanceId), InstanceState.RowKey) { ["RacedAt"] = DateTimeOffset.UtcNow };
                            await h!.Hub.InstancesTable.UpdateEntityAsync(row, ETag.All, TableUpdateMode.Merge);
                        }
                    },
                },
            });

        var result = await h.RunAsync("Once", 21, timeout: s_completion);

        EngineHarness.AssertCompleted(result);
        Assert.Equal(42, result.ReadOutputAs<int>());
        Assert.Equal(2, Volatile.Read(ref runs));
        Assert.Equal(1, Volatile.Read(ref cancelled));
        var history = (await h.Client.GetInstanceAsync(result.InstanceId, includeHistory: true))!.History!;
        Assert.Equal(2, history.Count(e => e.EventType == HistoryEventType.TaskCompleted)); // Echo, and Slow once
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ResultArrivesWhileACommitIsInFlight_NextEpisodePlannedOnTopAndItsActivityStarted(bool commitConflicts)
    {
        // A and B run together, then C. The commit recording A is held until C has started, which only happens if B's
        // result, arriving during that commit, is planned on top of it. With a conflict that commit then fails: C's
        // first run is cancelled, A and B are planned again together, and C runs again and is recorded once.
        var hold = new HeldResultCommit(commitConflicts, TimeSpan.FromSeconds(15));
        EngineHarness? h = null;
        await using var harness = h = await EngineHarness.StartAsync(
            azurite.ConnectionString,
            r => r
                .AddActivity<string, string>("A", x => x)
                .AddActivity<string, string>("B", async (_, x, cancellationToken) =>
                {
                    await hold.Held.WaitAsync(cancellationToken);
                    return x;
                })
                .AddActivity<string, string>("C", (_, x, cancellationToken) => hold.RunLastAsync(x, cancellationToken))
                .AddOrchestrator<string, string>("Then", async (ctx, _) =>
                {
                    var both = await Task.WhenAll(ctx.CallActivityAsync<string>("A", "a"), ctx.CallActivityAsync<string>("B", "b"));
                    return string.Concat(both) + await ctx.CallActivityAsync<string>("C", "c");
                }),
            o => o with { FaultInjection = hold.Injection(() => h!) });

        var result = await h.RunAsync("Then", timeout: s_completion);

        EngineHarness.AssertCompleted(result);
        Assert.Equal("abc", result.ReadOutputAs<string>());
        Assert.True(hold.LastStartedDuringHold, "C did not start while the commit recording A was in flight");
        var history = (await h.Client.GetInstanceAsync(result.InstanceId, includeHistory: true))!.History!;
        Assert.Equal(3, history.Count(e => e.EventType == HistoryEventType.TaskCompleted));
        Assert.Equal(3, history.Count(e => e.EventType == HistoryEventType.TaskScheduled));
        Assert.Equal(commitConflicts ? 2 : 1, hold.LastRuns);
        Assert.Equal(commitConflicts ? 1 : 0, hold.LastCancelled);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ResultsArriveOneByOneWhileACommitIsInFlight_PlannedTogetherAndTheLastStartsTheNextActivity(bool commitConflicts)
    {
        // A, B and C run together, then D. The commit recording A is held until D has started. B's result arrives
        // during that commit and is planned on top of it (scheduling nothing: C is still out); C, released only once the
        // orchestrator has seen B, arrives later, during the same commit. D starts during the hold only if C's result
        // is planned then too, together with B's, instead of waiting for the held commit. With a conflict that commit
        // then fails: D's first run is cancelled, A, B and C are planned again together, and D runs again, recorded once.
        var hold = new HeldResultCommit(commitConflicts, TimeSpan.FromSeconds(10));
        var bSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        EngineHarness? h = null;
        await using var harness = h = await EngineHarness.StartAsync(
            azurite.ConnectionString,
            r => r
                .AddActivity<string, string>("A", x => x)
                .AddActivity<string, string>("B", async (_, x, cancellationToken) =>
                {
                    await hold.Held.WaitAsync(cancellationToken);
                    return x;
                })
                .AddActivity<string, string>("C", async (_, x, cancellationToken) =>
                {
                    await bSeen.Task.WaitAsync(cancellationToken);
                    return x;
                })
                .AddActivity<string, string>("D", (_, x, cancellationToken) => hold.RunLastAsync(x, cancellationToken))
                .AddOrchestrator<string, string>("Then", async (ctx, _) =>
                {
                    var a = ctx.CallActivityAsync<string>("A", "a");
                    var b = ctx.CallActivityAsync<string>("B", "b");
                    var c = ctx.CallActivityAsync<string>("C", "c");
                    await b;
                    bSeen.TrySetResult();
                    var all = await Task.WhenAll(a, b, c);
                    return string.Concat(all) + await ctx.CallActivityAsync<string>("D", "d");
                }),
            o => o with { FaultInjection = hold.Injection(() => h!) });

        var result = await h.RunAsync("Then", timeout: s_completion);

        EngineHarness.AssertCompleted(result);
        Assert.Equal("abcd", result.ReadOutputAs<string>());
        Assert.True(hold.LastStartedDuringHold, "D did not start while the commit recording A was in flight");
        var history = (await h.Client.GetInstanceAsync(result.InstanceId, includeHistory: true))!.History!;
        Assert.Equal(4, history.Count(e => e.EventType == HistoryEventType.TaskCompleted));
        Assert.Equal(4, history.Count(e => e.EventType == HistoryEventType.TaskScheduled));
        Assert.Equal(commitConflicts ? 2 : 1, hold.LastRuns);
        Assert.Equal(commitConflicts ? 1 : 0, hold.LastCancelled);
    }

    [Fact]
    public async Task EveryMessageDeliveredTwice_SameOutputsAndNoDuplicateResults()
    {
        var hubName = AzuriteFixture.NewName("d");
        var hub = new DurableTaskHub(FaultWorkload.Options(azurite.ConnectionString, hubName, duplicate: true));
        await using var worker = new DurableWorker(hub, FaultWorkload.Register(new DurableTaskRegistry()));
        await worker.StartAsync();
        try
        {
            var client = new DurableClient(hub);
            await AssertAllCorrectAsync(client, await StartInstancesAsync(client, 10));
        }
        finally
        {
            await worker.StopAsync();
            await hub.DeleteAsync();
        }
    }

    [Fact]
    public async Task TwoWorkerProcesses_Competing_SameOutputsAndNoDuplicateResults()
    {
        var hubName = AzuriteFixture.NewName("c");
        var hub = new DurableTaskHub(FaultWorkload.Options(azurite.ConnectionString, hubName));
        await hub.CreateIfNotExistsAsync();
        using var first = await WorkerProcess.StartAsync(azurite.ConnectionString, hubName);
        using var second = await WorkerProcess.StartAsync(azurite.ConnectionString, hubName);
        try
        {
            var client = new DurableClient(hub);
            await AssertAllCorrectAsync(client, await StartInstancesAsync(client, 20));
        }
        finally
        {
            await hub.DeleteAsync();
        }
    }

    [Fact]
    public async Task AzuriteRestartedMidRun_WorkResumes()
    {
        var dataDirectory = Directory.CreateTempSubdirectory("azurite-engine-").FullName;
        await using var server = await AzuriteServer.StartAsync(dataDirectory);
        var hub = new DurableTaskHub(FaultWorkload.Options(server.ConnectionString, "restart"));
        var registry = FaultWorkload.Register(new DurableTaskRegistry())
            .AddOrchestrator<int, long>("SlowFlow", async (ctx, n) =>
            {
                var a = await ctx.CallActivityAsync<int>("Add", new[] { n, 1 });
                await ctx.CreateTimer(ctx.CurrentUtcDateTime.AddSeconds(10), CancellationToken.None);
                var b = await ctx.CallActivityAsync<int>("Add", new[] { a, 1 });
                return b + await ctx.CallSubOrchestratorAsync<int>("FaultChild", b);
            });
        await using var worker = new DurableWorker(hub, registry);
        await worker.StartAsync();
        try
        {
            var client = new DurableClient(hub);
            var ids = new List<string>();
            for (var n = 0; n < 10; n++)
            {
                ids.Add(await client.ScheduleNewOrchestrationInstanceAsync("SlowFlow", n));
            }

            // Azurite persists to disk every few seconds: give it time to save the starts, then kill it
            // while every instance is waiting on its timer (work in flight) and restart it on the same ports.
            await Task.Delay(TimeSpan.FromSeconds(7));
            await server.RestartAsync();

            using var cts = new CancellationTokenSource(s_completion);
            for (var n = 0; n < ids.Count; n++)
            {
                var result = await client.WaitForInstanceCompletionAsync(ids[n], true, cts.Token);
                EngineHarness.AssertCompleted(result);
                Assert.Equal((2L * (n + 2)) + 100, result.ReadOutputAs<long>());
            }
        }
        finally
        {
            await worker.StopAsync();
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    private static async Task<List<(string Id, int N)>> StartInstancesAsync(DurableClient client, int count)
    {
        var ids = new List<(string, int)>();
        for (var n = 0; n < count; n++)
        {
            ids.Add((await client.ScheduleNewOrchestrationInstanceAsync(FaultWorkload.Orchestrator, n, new StartOrchestrationOptions($"fault-{n}")), n));
        }

        return ids;
    }

    private async Task AssertAllCorrectAsync(DurableClient client, IReadOnlyList<(string Id, int N)> ids)
    {
        using var cts = new CancellationTokenSource(s_completion);
        foreach (var (id, n) in ids)
        {
            OrchestrationMetadata result;
            try
            {
                result = await client.WaitForInstanceCompletionAsync(id, true, cts.Token);
            }
            catch (OperationCanceledException)
            {
                var status = await client.GetInstanceAsync(id, true, true);
                throw new TimeoutException($"{id} did not finish: {status?.RuntimeStatus}; history: {string.Join(", ", status?.History?.Select(e => $"{e.EventType}#{e.EventId}/{e.TaskScheduledId}") ?? [])}");
            }

            EngineHarness.AssertCompleted(result);
            Assert.Equal(FaultWorkload.Expected(n), result.ReadOutputAs<long>());
            foreach (var instance in new[] { id, $"{id}:0008" })
            {
                var history = (await client.GetInstanceAsync(instance, includeHistory: true))!.History!;
                var completions = history.Where(e => e.IsCompletionEvent).Select(e => e.TaskScheduledId).ToList();
                Assert.Equal(completions.Count, completions.Distinct().Count());
                Assert.Equal(history.Count(e => e.IsSchedulingEvent), completions.Count);
            }
        }

        output.WriteLine($"{ids.Count} instances completed with the right outputs");
    }

    /// <summary>
    /// Holds the first commit that schedules no work (the one recording the first result) until the last activity has
    /// started (<see cref="RunLastAsync"/>), at most <paramref name="wait"/>; with <paramref name="conflict"/> that
    /// commit then loses a race with another write, and the last activity's first run hangs until it is cancelled.
    /// </summary>
    private sealed class HeldResultCommit(bool conflict, TimeSpan wait)
    {
        private readonly TaskCompletionSource _held = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _lastStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _holds;
        private int _runs;
        private int _cancelled;

        /// <summary>Completes once the commit is being held.</summary>
        public Task Held => _held.Task;

        public bool LastStartedDuringHold { get; private set; }

        public int LastRuns => Volatile.Read(ref _runs);

        public int LastCancelled => Volatile.Read(ref _cancelled);

        public async Task<string> RunLastAsync(string input, CancellationToken cancellationToken)
        {
            if (Interlocked.Increment(ref _runs) == 1 && conflict)
            {
                _lastStarted.TrySetResult();
                try
                {
                    await Task.Delay(TimeSpan.FromMinutes(2), cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    Interlocked.Increment(ref _cancelled);
                    throw;
                }
            }

            _lastStarted.TrySetResult();
            return input;
        }

        public EngineFaultInjection Injection(Func<EngineHarness> harness) => new()
        {
            BeforeCommit = async (instanceId, workItems) =>
            {
                if (workItems != 0 || Interlocked.Exchange(ref _holds, 1) != 0)
                {
                    return;
                }

                _held.TrySetResult();
                LastStartedDuringHold = await Task.WhenAny(_lastStarted.Task, Task.Delay(wait)) == _lastStarted.Task;
                if (conflict)
                {
                    var row = new TableEntity(KeyEncoding.ToPartitionKey(instanceId), InstanceState.RowKey) { ["RacedAt"] = DateTimeOffset.UtcNow };
                    await harness().Hub.InstancesTable.UpdateEntityAsync(row, ETag.All, TableUpdateMode.Merge);
                }
            },
        };
    }
}
