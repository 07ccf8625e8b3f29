using System.Diagnostics;
using FleetFunctions.Core.Apply;
using FleetFunctions.Core.Clusters;
using FleetFunctions.Core.Health;
using FleetFunctions.Core.Manifests;
using FleetFunctions.Core.Tests.Support;
using Xunit;

namespace FleetFunctions.Core.Tests.Health;

/// <summary>Waiting for health on the simulator, whose workloads become available 300 ms after each write.</summary>
public sealed class HealthCheckerTests(SimulatorFixture simulator) : IClassFixture<SimulatorFixture>, IDisposable
{
    private readonly List<ClusterClientFactory> _factories = [];

    public void Dispose() => _factories.ForEach(f => f.Dispose());

    [Fact]
    public async Task WaitAsync_DeploymentReadySoonAfterTheApply_ReturnsWithoutWaitingAWholePollInterval()
    {
        var client = await ClientAsync();
        await new Applier(client).ApplyAsync(Deployment("soon"));
        var targets = new[] { (new ObjectReference("apps", "Deployment", "soon", "web"), "apps/v1") };
        Assert.Equal(HealthStatus.InProgress, (await new HealthChecker(client).CheckAsync(targets)).Objects[0].Status);

        var watch = Stopwatch.StartNew();
        var report = await new HealthChecker(client).WaitAsync(targets, new HealthOptions { PollInterval = TimeSpan.FromSeconds(30), Timeout = TimeSpan.FromMinutes(1) });

        // Available 300 ms after the apply; polls after 50, 100, 200, 400 ms... see it long before the 30 s interval.
        Assert.True(report.Healthy, string.Join("; ", report.Describe()));
        Assert.InRange(watch.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task WaitAsync_TimeoutShorterThanThePollInterval_EndsAtTheDeadlineNotAtTheNextPoll()
    {
        var client = await ClientAsync();
        var targets = new[] { (new ObjectReference("", "ConfigMap", "default", "absent"), "v1") };

        var watch = Stopwatch.StartNew();
        var report = await new HealthChecker(client).WaitAsync(targets, new HealthOptions { PollInterval = TimeSpan.FromSeconds(60), FirstPollInterval = TimeSpan.FromSeconds(60), Timeout = TimeSpan.FromSeconds(1) });

        Assert.True(report.TimedOut);
        Assert.Equal(HealthStatus.NotFound, report.Objects[0].Status);
        Assert.InRange(watch.Elapsed, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30));
    }

    [Fact]
    public void HealthOptions_FirstPollIntervalNotPositive_Rejected() =>
        Assert.Throws<ArgumentException>(() => new HealthOptions { FirstPollInterval = TimeSpan.Zero }.Validate());

    private static ManifestSet Deployment(string ns) => ManifestSet.Create(ManifestParser.Parse(
        $"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}}}\n---\n" +
        $"apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web, namespace: {ns}}}\n" +
        "spec:\n  replicas: 1\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n" +
        "    spec: {containers: [{name: web, image: \"nginx:1.27\"}]}\n",
        "deployment.yaml"));

    private async Task<ClusterClient> ClientAsync()
    {
        var cluster = await simulator.AddClusterAsync();
        var factory = new ClusterClientFactory(new StaticCredentialsProvider([ClusterConnection.FromToken(cluster.Name, cluster.Server, cluster.Token)]));
        _factories.Add(factory);
        return await factory.GetClientAsync(cluster.Name);
    }
}
