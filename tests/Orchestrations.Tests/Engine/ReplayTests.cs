using FleetFunctions.Orchestrations.Engine;
using FleetFunctions.Orchestrations.Engine.History;
using FleetFunctions.Orchestrations.Engine.Replay;
using Xunit;

namespace FleetFunctions.Orchestrations.Tests.Engine;

/// <summary>Replay in isolation: history in, actions and completion out, no storage.</summary>
public sealed class ReplayTests
{
    private static readonly DateTime s_t0 = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private static HistoryEvent Started(string name, string? input = null) =>
        new() { EventType = HistoryEventType.ExecutionStarted, Timestamp = s_t0, Name = name, Input = input, ExecutionId = "e1" };

    private static HistoryEvent Episode(int seconds) =>
        new() { EventType = HistoryEventType.OrchestratorStarted, Timestamp = s_t0.AddSeconds(seconds) };

    private static ExecutionResult Run(DurableTaskRegistry registry, IReadOnlyList<HistoryEvent> past, params HistoryEvent[] newEvents) =>
        OrchestrationExecutor.Execute("i1", past, newEvents, registry, JsonDataConverter.Default, v => v, out _);

    [Fact]
    public void Execute_WhenAnyTimerFires_CompletesWithTimerBranch()
    {
        var registry = new DurableTaskRegistry().AddOrchestrator<object?, string>("Approval", async (ctx, _) =>
        {
            using var cts = new CancellationTokenSource();
            var approval = ctx.WaitForExternalEvent<string>("Approve", cts.Token);
            var timeout = ctx.CreateTimer(ctx.CurrentUtcDateTime.AddSeconds(1), cts.Token);
            var winner = await Task.WhenAny(approval, timeout);
            cts.Cancel();
            return winner == approval ? "approved" : "timed out";
        });
        var first = Run(registry, [], Episode(0), Started("Approval"));
        Assert.Null(first.Completion);
        var timer = Assert.Single(first.NewActions);
        Assert.Equal(HistoryEventType.TimerCreated, timer.Kind);

        var past = new List<HistoryEvent> { Episode(0), Started("Approval"), timer.ToHistoryEvent(s_t0) };
        var second = Run(registry, past, Episode(2), new HistoryEvent { EventType = HistoryEventType.TimerFired, Timestamp = s_t0, TaskScheduledId = timer.Id });

        Assert.NotNull(second.Completion);
        Assert.Equal("\"timed out\"", second.Completion!.Output);
    }

    [Fact]
    public void Execute_CodeSchedulesDifferentActivity_FailsNamingExpectedAndActual()
    {
        var v2 = new DurableTaskRegistry().AddOrchestrator<object?, string>("Flow", async (ctx, _) => await ctx.CallActivityAsync<string>("B"));
        var past = new List<HistoryEvent>
        {
            Episode(0), Started("Flow"),
            new() { EventType = HistoryEventType.TaskScheduled, Timestamp = s_t0, EventId = 0, Name = "A" },
        };

        var result = Run(v2, past, Episode(1), new HistoryEvent { EventType = HistoryEventType.TaskCompleted, Timestamp = s_t0, TaskScheduledId = 0, Result = "\"x\"" });

        Assert.Equal(OrchestrationRuntimeStatus.Failed, result.Completion!.Status);
        Assert.Equal(typeof(NonDeterministicOrchestrationException).FullName, result.Completion.Failure!.ErrorType);
        Assert.Contains("CallActivity 'A'", result.Completion.Failure.ErrorMessage, StringComparison.Ordinal);
        Assert.Contains("CallActivity 'B'", result.Completion.Failure.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void NewGuid_SameHistory_SameValueOnReplay()
    {
        var registry = new DurableTaskRegistry().AddOrchestrator<object?, Guid[]>("G", (ctx, _) => Task.FromResult(new[] { ctx.NewGuid(), ctx.NewGuid() }));
        var a = Run(registry, [], Episode(0), Started("G"));
        var b = Run(registry, [], Episode(0), Started("G"));

        Assert.Equal(a.Completion!.Output, b.Completion!.Output);
        var guids = JsonDataConverter.Default.Deserialize<Guid[]>(a.Completion.Output)!;
        Assert.NotEqual(guids[0], guids[1]);
        Assert.Equal(5, guids[0].Version);
    }
}
