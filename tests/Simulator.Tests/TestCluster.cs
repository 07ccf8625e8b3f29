using k8s;
using FleetFunctions.TestSupport;

namespace FleetFunctions.Simulator.Tests;

/// <summary>
/// A simulator with one cluster, a kubeconfig, a kubectl cache directory and a KubernetesClient, all private
/// to one test.
/// </summary>
internal sealed class TestCluster : IAsyncDisposable
{
    private TestCluster(FleetSimulator simulator, SimulatedCluster cluster, string directory)
    {
        Simulator = simulator;
        Cluster = cluster;
        Directory = directory;
        Kubeconfig = Path.Combine(directory, "kubeconfig");
        simulator.WriteKubeconfig(Kubeconfig);
        Client = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(Kubeconfig, cluster.Name));
    }

    public static string KubectlPath =>
        Environment.GetEnvironmentVariable("FLEETFUNCTIONS_KUBECTL") is { Length: > 0 } path ? path : "/usr/lib/google-cloud-sdk/bin/kubectl.1.32";

    public FleetSimulator Simulator { get; }

    public SimulatedCluster Cluster { get; }

    public string Directory { get; }

    public string Kubeconfig { get; }

    public Kubernetes Client { get; }

    public static async Task<TestCluster> StartAsync(SimulatorOptions? options = null)
    {
        var simulator = await FleetSimulator.StartAsync(options ?? new SimulatorOptions { WorkloadReadyDelay = TimeSpan.Zero });
        var cluster = await simulator.AddClusterAsync("test");
        var directory = Path.Combine(Path.GetTempPath(), $"fleetsim-test-{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(directory);
        return new TestCluster(simulator, cluster, directory);
    }

    /// <summary>Runs kubectl against this cluster with its own kubeconfig and discovery cache.</summary>
    public Task<ProcessResult> KubectlAsync(params string[] arguments) =>
        ExternalProcess.RunAsync(
            KubectlPath,
            arguments,
            new Dictionary<string, string>
            {
                ["KUBECONFIG"] = Kubeconfig,
                ["KUBECACHEDIR"] = Path.Combine(Directory, "cache"),
                ["HOME"] = Directory,
            },
            workingDirectory: Directory,
            timeout: TimeSpan.FromMinutes(1));

    /// <summary>Path of a fixture in testdata/.</summary>
    public static string TestData(string name) => Path.Combine(AppContext.BaseDirectory, "testdata", name);

    /// <summary>Polls <paramref name="condition"/> until it holds or a generous timeout passes.</summary>
    public static async Task WaitForAsync(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"timed out waiting for {what}");
            }

            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Simulator.DisposeAsync();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // a kubectl child may still hold a file; the temp dir is cleaned up by the OS eventually
        }
    }
}
