using FleetFunctions.Core.Webhooks;
using FleetFunctions.Orchestrations.Engine;
using Microsoft.Extensions.Hosting;

namespace FleetFunctions.Functions.Hosting;

/// <summary>
/// Creates the task hub's tables, queues and container and the delivery store's table and queue before the app
/// takes requests, in both shapes: behind the Functions host nothing else would create them (the standalone engine
/// worker does, but the queue triggers only read), and the first webhook would otherwise fail to start a rollout.
/// </summary>
internal sealed class StorageInitializer(DurableTaskHub hub, DeliveryStore deliveries) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await hub.CreateIfNotExistsAsync(cancellationToken);
        await deliveries.EnsureCreatedAsync(cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
