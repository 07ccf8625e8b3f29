using System.Diagnostics;

namespace FleetFunctions.TestSupport;

/// <summary>A program a test started and may kill at any moment (SIGKILL: no shutdown code runs); killed when disposed.</summary>
public abstract class ChildProcess(Process process) : IDisposable
{
    protected Process Process { get; } = process;

    /// <summary>SIGKILL to the process and its children; returns once it has exited.</summary>
    public void Kill()
    {
        if (!Process.HasExited)
        {
            Process.Kill(entireProcessTree: true);
            Process.WaitForExit();
        }
    }

    public void Dispose()
    {
        Kill();
        Process.Dispose();
        GC.SuppressFinalize(this);
    }
}
