using FleetFunctions.Orchestrations.Engine;
using FleetFunctions.Orchestrations.Engine.Client;
using FleetFunctions.Orchestrations.Engine.Worker;
using FleetFunctions.TestSupport;

namespace FleetFunctions.Orchestrations.Tests.Engine;

/// <summary>A task hub of its own (unique name), a worker and a client, for one test.</summary>
internal sealed class EngineHarness : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    private EngineHarness(DurableTaskHub hub, DurableWorker? worker, DurableClient client)
    {
        Hub = hub;
        Worker = worker;
        Client = client;
    }

    public DurableTaskHub Hub { get; }

    public DurableWorker? Worker { get; }

    public DurableClient Client { get; }

    public static async Task<EngineHarness> StartAsync(
        string connectionString,
        Action<DurableTaskRegistry> register,
        Func<DurableTaskHubOptions, DurableTaskHubOptions>? configure = null,
        DurableWorkerOptions? workerOptions = null,
        bool startWorker = true,
        Microsoft.Extensions.Logging.ILoggerFactory? loggerFactory = null)
    {
        var options = new DurableTaskHubOptions(connectionString, AzuriteFixture.NewName("h"));
        var hub = new DurableTaskHub(configure is null ? options : configure(options));
        await hub.CreateIfNotExistsAsync();
        var registry = new DurableTaskRegistry { Version = "1.0" };
        register(registry);
        DurableWorker? worker = null;
        if (startWorker)
        {
            worker = new DurableWorker(hub, registry, workerOptions, loggerFactory);
            await worker.StartAsync();
        }

        return new EngineHarness(hub, worker, new DurableClient(hub, registry.Version));
    }

    public async Task<OrchestrationMetadata> RunAsync(string name, object? input = null, string? instanceId = null, TimeSpan? timeout = null)
    {
        var id = await Client.ScheduleNewOrchestrationInstanceAsync(name, input, new StartOrchestrationOptions(instanceId));
        return await WaitAsync(id, timeout);
    }

    public async Task<OrchestrationMetadata> WaitAsync(string instanceId, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? Timeout);
        try
        {
            return await Client.WaitForInstanceCompletionAsync(instanceId, getInputsAndOutputs: true, cts.Token);
        }
        catch (OperationCanceledException)
        {
            var status = await Client.GetInstanceAsync(instanceId, true, true);
            throw new TimeoutException($"instance {instanceId} did not finish: {status?.RuntimeStatus}, history: {string.Join("\n", status?.History?.Select(h => System.Text.Json.JsonSerializer.Serialize(h)) ?? [])}");
        }
    }

    /// <summary>Polls until the instance reaches a status (for mid-run checks such as Suspended).</summary>
    public async Task<OrchestrationMetadata> WaitForStatusAsync(string instanceId, Func<OrchestrationMetadata, bool> condition, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? Timeout);
        while (true)
        {
            var status = await Client.GetInstanceAsync(instanceId, true);
            if (status is not null && condition(status))
            {
                return status;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"instance {instanceId} did not reach the expected state; last: {status?.RuntimeStatus} {status?.SerializedCustomStatus}");
            }

            await Task.Delay(50);
        }
    }

    public static void AssertCompleted(OrchestrationMetadata result) =>
        Xunit.Assert.True(result.RuntimeStatus == OrchestrationRuntimeStatus.Completed, $"{result.InstanceId}: {result.RuntimeStatus} {result.FailureDetails}");

    public async ValueTask DisposeAsync()
    {
        if (Worker is not null)
        {
            await Worker.DisposeAsync();
        }

        await Hub.DeleteAsync();
    }
}
