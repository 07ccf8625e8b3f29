using System.Diagnostics;
using FleetFunctions.Orchestrations.TestWorker;
using FleetFunctions.TestSupport;

namespace FleetFunctions.Orchestrations.Tests.Engine;

/// <summary>A worker in its own process (tests/Orchestrations.TestWorker), killable with SIGKILL.</summary>
internal sealed class WorkerProcess : ChildProcess
{
    private WorkerProcess(Process process)
        : base(process)
    {
    }

    public static string AssemblyPath =>
        RepoPaths.BuiltAssembly(Path.Combine("tests", "Orchestrations.TestWorker"), "FleetFunctions.Orchestrations.TestWorker.dll") is var path && File.Exists(path)
            ? path
            : typeof(FaultWorkload).Assembly.Location;

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
}
