using System.Text.RegularExpressions;
using FleetFunctions.Orchestrations.Engine;
using FleetFunctions.Orchestrations.Engine.Client;
using FleetFunctions.Orchestrations.Engine.Worker;
using FleetFunctions.TestSupport;
using Xunit;

namespace FleetFunctions.Orchestrations.Tests.Engine;

/// <summary>
/// An outage of the table service while timers fire: the failures are storage's, not the messages', so they must
/// not count toward poison however long the outage lasts (with the default MaxDequeueCount of 5, 45 s of refused
/// connections used to poison the timer message and fail the instance).
/// </summary>
public sealed partial class StorageOutageTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static readonly TimeSpan s_outage = TimeSpan.FromSeconds(45);

    [Fact]
    public async Task TableOutage_LongerThanPoisonRetries_WorkerAndHandlerInstancesComplete()
    {
        await using var gate = TcpGate.Start(TablePort(azurite.ConnectionString));
        var connection = TableEndpoint().Replace(azurite.ConnectionString, $"TableEndpoint=http://127.0.0.1:{gate.Port}/");
        static DurableTaskRegistry Register(DurableTaskRegistry r) => r
            .AddOrchestrator<int, string>("Soak", async (ctx, seconds) =>
            {
                await ctx.CreateTimer(ctx.CurrentUtcDateTime.AddSeconds(seconds), CancellationToken.None);
                return "soaked";
            });

        // Defaults but for the longest wait between transient retries, so the test ends soon after the outage.
        DurableTaskHubOptions Options(string prefix) =>
            new DurableTaskHubOptions(connection, AzuriteFixture.NewName(prefix)) { TransientRetryMaxDelay = TimeSpan.FromSeconds(2) };
        var workerHub = new DurableTaskHub(Options("ow"));
        var handlerHub = new DurableTaskHub(Options("oh"));
        await handlerHub.CreateIfNotExistsAsync();
        await using var worker = new DurableWorker(workerHub, Register(new DurableTaskRegistry()));
        await worker.StartAsync();
        var handler = new DurableMessageHandler(handlerHub, Register(new DurableTaskRegistry()));
        using var stop = new CancellationTokenSource();
        var host = DriveLikeTheFunctionsHostAsync(handlerHub, handler, stop.Token);
        try
        {
            var workerClient = new DurableClient(workerHub);
            var handlerClient = new DurableClient(handlerHub);
            var viaWorker = await workerClient.ScheduleNewOrchestrationInstanceAsync("Soak", 3);
            var viaHandler = await handlerClient.ScheduleNewOrchestrationInstanceAsync("Soak", 3);
            await WaitRunningAsync(workerClient, viaWorker);
            await WaitRunningAsync(handlerClient, viaHandler);

            gate.Close();
            await Task.Delay(s_outage);
            gate.Open();

            foreach (var (client, id) in new[] { (workerClient, viaWorker), (handlerClient, viaHandler) })
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
                var final = await client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true, cts.Token);
                EngineHarness.AssertCompleted(final);
                Assert.Equal("soaked", final.ReadOutputAs<string>());
            }
        }
        finally
        {
            await stop.CancelAsync();
            await host;
            await worker.StopAsync();
            await Task.WhenAll(workerHub.DeleteAsync(), handlerHub.DeleteAsync());
        }
    }

    private static async Task WaitRunningAsync(DurableClient client, string id)
    {
        var deadline = DateTime.UtcNow + EngineHarness.Timeout;
        while ((await client.GetInstanceAsync(id))?.RuntimeStatus != OrchestrationRuntimeStatus.Running)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{id} did not start");
            await Task.Delay(100);
        }
    }

    /// <summary>
    /// Receives, calls the handler, deletes on success; a failure reappears after 5 s, and a message received more than
    /// MaxDequeueCount times is moved aside as poison, as host.json configures the Functions host.
    /// </summary>
    private static async Task DriveLikeTheFunctionsHostAsync(DurableTaskHub hub, DurableMessageHandler handler, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            foreach (var queue in new[] { hub.ControlQueue, hub.WorkItemQueue })
            {
                foreach (var message in (await queue.ReceiveMessagesAsync(32, TimeSpan.FromSeconds(5), CancellationToken.None)).Value)
                {
                    if (message.DequeueCount > hub.Options.MaxDequeueCount)
                    {
                        await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, CancellationToken.None);
                        continue;
                    }

                    try
                    {
                        var result = await handler.HandleMessageAsync(queue.Name, message.MessageText, message.DequeueCount, message.MessageId, CancellationToken.None);
                        if (result.Succeeded)
                        {
                            await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, CancellationToken.None);
                        }
                    }
                    catch (Exception ex) when (ex is Azure.RequestFailedException or AggregateException)
                    {
                        // The custom handler answers 500: the host retries the message.
                    }
                }
            }

            await Task.Delay(100, CancellationToken.None);
        }
    }

    private static int TablePort(string connectionString) =>
        int.Parse(TableEndpoint().Match(connectionString).Groups["port"].Value, System.Globalization.CultureInfo.InvariantCulture);

    [GeneratedRegex(@"TableEndpoint=http://127\.0\.0\.1:(?<port>\d+)/")]
    private static partial Regex TableEndpoint();
}
