using FleetFunctions.Simulator;
using Xunit;

namespace FleetFunctions.Core.Tests.Support;

/// <summary>One in-process Kubernetes simulator per test class; each test adds its own cluster.</summary>
public sealed class SimulatorFixture : IAsyncLifetime
{
    public FleetSimulator Simulator { get; private set; } = null!;

    /// <summary>Adds a cluster with a unique name.</summary>
    public Task<SimulatedCluster> AddClusterAsync(string prefix = "c") =>
        Simulator.AddClusterAsync($"{prefix}-{Guid.NewGuid().ToString("N")[..8]}");

    public async Task InitializeAsync() =>
        Simulator = await FleetSimulator.StartAsync(new SimulatorOptions { WorkloadReadyDelay = TimeSpan.FromMilliseconds(300) });

    public async Task DisposeAsync() => await Simulator.DisposeAsync();
}
