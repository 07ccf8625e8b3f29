using FleetFunctions.TestSupport;
using Xunit;

namespace FleetFunctions.Functions.Tests.Demo;

/// <summary>The README's first command, run as a person would run it, without a terminal.</summary>
public sealed class DemoScriptTests : IDisposable
{
    private readonly DirectoryInfo _runDir = Directory.CreateTempSubdirectory("fleet-demo-");

    public void Dispose() => _runDir.Delete(recursive: true);

    [Fact]
    public async Task DemoSh_NonInteractive_TwoRolloutsSucceedBadImageRolledBackSecretResealedPerClusterNothingLeftRunning()
    {
        var result = await ExternalProcess.RunAsync("bash", [Path.Combine(RepoPaths.Root, "scripts", "demo.sh")],
            new Dictionary<string, string>
            {
                ["DEMO_EXIT"] = "1",
                ["DEMO_RUN_DIR"] = _runDir.FullName,

                // No build server or reused node may outlive the script holding its output open.
                ["MSBUILDDISABLENODEREUSE"] = "1",
                ["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0",
                ["UseSharedCompilation"] = "false",
            },
            workingDirectory: RepoPaths.Root,
            timeout: TimeSpan.FromMinutes(5));
        var output = result.StandardOutput + result.StandardError;

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("1/3 initial commit", output, StringComparison.Ordinal);
        Assert.Equal(2, CountOf(output, "as expected: Succeeded"));
        Assert.Equal(1, CountOf(output, "as expected: RolledBack"));
        Assert.Contains("canary analysis failed", output, StringComparison.Ordinal);
        Assert.Contains("6/6 clusters healthy", output, StringComparison.Ordinal);
        Assert.Contains("with 0 unexpected outcome(s)", output, StringComparison.Ordinal);
        Assert.Contains("each cluster's copy is sealed for its own controller's key and opens with it only", output, StringComparison.Ordinal);
        var tags = result.StandardOutput.Split('\n').Where(l => l.Contains("podinfo image tags:", StringComparison.Ordinal)).Select(l => l.Split(':')[1].Trim()).ToList();
        Assert.Equal(
            [
                "eu-1=6.7.1  eu-2=6.7.1  us-1=6.7.1  us-2=6.7.1  asia-1=6.7.1  asia-2=6.7.1",
                "eu-1=6.7.2  eu-2=6.7.2  us-1=6.7.2  us-2=6.7.2  asia-1=6.7.2  asia-2=6.7.2",
                "eu-1=6.7.2  eu-2=6.7.2  us-1=6.7.2  us-2=6.7.2  asia-1=6.7.2  asia-2=6.7.2",
            ],
            tags);
        Assert.Empty(ProcessesMentioning(_runDir.FullName));
    }

    private static int CountOf(string text, string value) => text.Split(value).Length - 1;

    /// <summary>Processes whose command line names <paramref name="text"/> (Prometheus names its config in the run folder).</summary>
    private static List<string> ProcessesMentioning(string text)
    {
        var found = new List<string>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            try
            {
                var cmdline = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ');
                if (cmdline.Contains(text, StringComparison.Ordinal))
                {
                    found.Add($"{Path.GetFileName(dir)}: {cmdline}");
                }
            }
            catch (IOException)
            {
                // The process ended while we looked, or this is not a process folder.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return found;
    }
}
