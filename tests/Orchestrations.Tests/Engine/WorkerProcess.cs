using System.Diagnostics;
using FleetFunctions.Orchestrations.TestWorker;
using FleetFunctions.TestSupport;

namespace FleetFunctions.Orchestrations.Tests.Engine;

/// <summary>A worker in its own process (tests/Orchestrations.TestWorker), killable with SIGKILL.</summary>
internal sealed class WorkerProcess : IDisposable
{
    private readonly Process _process;

    private WorkerProcess(Process process) => _process = process;

    public static string AssemblyPath
    {
        get
        {
            var configuration = AppContext.BaseDirectory.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug";
            var path = Path.Combine(RepoPaths.Root, "tests", "Orchestrations.TestWorker", "bin", configuration, "net10.0", "FleetFunctions.Orchestrations.TestWorker.dll");
            return File.Exists(path) ? path : typeof(FaultWorkload).Assembly.Location;
        }
    }

    public static async Task<WorkerProcess> StartAsync(string connectionString, string hubName, bool duplicate = false)
    {
        var arguments = new List<string> { AssemblyPath, connectionString, hubName };
        if (duplicate)
        {
            arguments.Add("--duplicate");
        }

        var info = ExternalProcess.CreateStartInfo("dotnet", arguments);
        info.RedirectStandardInput = true;
        var process = Process.Start(info) ?? throw new InvalidOperationException("test worker did not start");
        var started = new TaskCompletionSource();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data?.Contains("worker started", StringComparison.Ordinal) == true)
            {
                started.TrySetResult();
            }
        };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await started.Task.WaitAsync(TimeSpan.FromSeconds(60));
        return new WorkerProcess(process);
    }

    /// <summary>SIGKILL: no shutdown code runs.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }
}
