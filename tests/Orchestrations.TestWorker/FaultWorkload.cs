using FleetFunctions.Orchestrations.Engine;

namespace FleetFunctions.Orchestrations.TestWorker;

/// <summary>
/// The orchestration the fault tests run: a chain, a fan-out, a timer and a sub-orchestration, so every kind
/// of message is in flight when a worker dies. Its output is a pure function of its input (<see cref="Expected"/>).
/// </summary>
public static class FaultWorkload
{
    public const string Orchestrator = "FaultFlow";

    public static long Expected(int n) => (15L * (n + 3)) + n + 103;

    public static DurableTaskRegistry Register(DurableTaskRegistry registry) => registry
        .AddActivity<int[], int>("Add", async (_, pair) =>
        {
            await Task.Delay(20);
            return pair[0] + pair[1];
        })
        .AddActivity<int[], int>("Mul", async (_, pair) =>
        {
            await Task.Delay(20);
            return pair[0] * pair[1];
        })
        .AddActivity<int, int>("SlowDouble", async (_, x) =>
        {
            await Task.Delay(TimeSpan.FromSeconds(4));
            return 2 * x;
        })
        .AddOrchestrator<int, int>("SlowFanOut", async (ctx, n) => (await Task.WhenAll(Enumerable.Range(1, n).Select(i => ctx.CallActivityAsync<int>("SlowDouble", i)))).Sum())
        .AddOrchestrator<int, int>("FaultChild", (ctx, x) => ctx.CallActivityAsync<int>("Add", new[] { x, 100 }))
        .AddOrchestrator<int, long>(Orchestrator, async (ctx, n) =>
        {
            var a = await ctx.CallActivityAsync<int>("Add", new[] { n, 1 });
            var b = await ctx.CallActivityAsync<int>("Add", new[] { a, 2 });
            var fan = await Task.WhenAll(Enumerable.Range(1, 5).Select(i => ctx.CallActivityAsync<int>("Mul", new[] { b, i })));
            await ctx.CreateTimer(ctx.CurrentUtcDateTime.AddSeconds(1), CancellationToken.None);
            var child = await ctx.CallSubOrchestratorAsync<int>("FaultChild", b);
            return fan.Sum(x => (long)x) + child;
        });

    /// <summary>Hub options tuned so crashed work comes back quickly.</summary>
    public static DurableTaskHubOptions Options(string connectionString, string hubName, bool duplicate = false) =>
        new(connectionString, hubName)
        {
            ControlMessageVisibilityTimeout = TimeSpan.FromSeconds(8),
            WorkItemVisibilityTimeout = TimeSpan.FromSeconds(8),
            OrphanedOutboxAge = TimeSpan.FromSeconds(3),
            MaxDequeueCount = 50,
            RedriveStalledAfter = TimeSpan.FromSeconds(20),
            FaultInjection = duplicate ? new EngineFaultInjection { DuplicateEveryMessage = true } : null,
        };
}
