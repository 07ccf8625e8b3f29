using System.Diagnostics;
using FleetFunctions.TestSupport;
using Xunit;

namespace FleetFunctions.Simulator.Tests.Control;

/// <summary>The <c>fleet-simulator</c> executable: starts clusters, writes a kubeconfig kubectl can use, stops on SIGTERM.</summary>
public sealed class CommandLineTests
{
    [Fact]
    public async Task FleetSimulator_TwoClusters_ServesEveryContextAndStopsOnSigterm()
    {
        var directory = Directory.CreateTempSubdirectory("fleetsim-cli-").FullName;
        var kubeconfig = Path.Combine(directory, "kubeconfig");
        var dll = Path.Combine(AppContext.BaseDirectory, "fleet-simulator.dll");
        using var process = Process.Start(ExternalProcess.CreateStartInfo(
            "dotnet", [dll, "--clusters", "2", "--name-prefix", "edge-", "--kubeconfig", kubeconfig, "--ready-delay", "0"]))!;
        try
        {
            var lines = new List<string>();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
            {
                lines.Add(line);
                if (line.StartsWith("admin ", StringComparison.Ordinal))
                {
                    break;
                }
            }

            Assert.Equal(["cluster", "cluster", "kubeconfig", "admin"], lines.Select(l => l.Split(' ')[0]));
            Assert.StartsWith("cluster edge-1 http://127.0.0.1:", lines[0], StringComparison.Ordinal);
            foreach (var context in (string[])["edge-1", "edge-2"])
            {
                var get = await ExternalProcess.RunAsync(
                    TestCluster.KubectlPath,
                    ["--context", context, "get", "namespaces", "-o", "name"],
                    new Dictionary<string, string> { ["KUBECONFIG"] = kubeconfig, ["KUBECACHEDIR"] = Path.Combine(directory, "cache"), ["HOME"] = directory });
                Assert.True(get.ExitCode == 0, get.ToString());
                Assert.Contains("namespace/kube-system", get.StandardOutput, StringComparison.Ordinal);
            }

            using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync();
            }

            using var exitTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await process.WaitForExitAsync(exitTimeout.Token);
            Assert.Equal(0, process.ExitCode);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task FleetSimulator_UnknownArgument_ExitsWithUsage()
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "fleet-simulator.dll");

        var result = await ExternalProcess.RunAsync("dotnet", [dll, "--clusterz", "3"]);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("unknown argument '--clusterz'", result.StandardError, StringComparison.Ordinal);
        Assert.Contains("usage: fleet-simulator", result.StandardError, StringComparison.Ordinal);
    }
}
