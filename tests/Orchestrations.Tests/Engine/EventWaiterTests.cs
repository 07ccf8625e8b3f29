using FleetFunctions.Orchestrations.Engine;
using FleetFunctions.TestSupport;
using Xunit;

namespace FleetFunctions.Orchestrations.Tests.Engine;

/// <summary>Regression: an orchestrator that cancels lost waits after WhenAny must resume in the same episode.</summary>
public sealed class EventWaiterTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task WaitForExternalEvent_WaiterCreatedEarlyWonWhenAnyAndLosersCancelled_Completes()
    {
        await using var h = await EngineHarness.StartAsync(azurite.ConnectionString, r => r
            .AddActivity<int, int>("Inc", x => x + 1)
            .AddOrchestrator<int, string>("O", async (ctx, input) =>
            {
                var abort = ctx.WaitForExternalEvent<string>("abort");
                var n = await ctx.CallActivityAsync<int>("Inc", input);
                ctx.SetCustomStatus("waiting");
                using var cts = new CancellationTokenSource();
                var approve = ctx.WaitForExternalEvent<string>("approve", cts.Token);
                var timer = ctx.CreateTimer(ctx.CurrentUtcDateTime.AddMinutes(10), cts.Token);
                var winner = await Task.WhenAny(approve, timer, abort);
                cts.Cancel();
                return winner == abort ? "aborted " + await abort + n : winner == approve ? "approved" : "timeout";
            }));

        var id = await h.Client.ScheduleNewOrchestrationInstanceAsync("O", 1);
        await h.WaitForStatusAsync(id, s => s.SerializedCustomStatus?.Contains("waiting", StringComparison.Ordinal) == true);
        await h.Client.RaiseEventAsync(id, "abort", "x");
        var result = await h.WaitAsync(id, TimeSpan.FromSeconds(30));

        Assert.Equal("\"aborted x2\"", result.SerializedOutput);
    }
}
