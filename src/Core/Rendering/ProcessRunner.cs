using System.ComponentModel;
using System.Diagnostics;

namespace FleetFunctions.Core.Rendering;

/// <summary>Runs a tool (kustomize, kubectl) to completion with a timeout, capturing its output.</summary>
internal static class ProcessRunner
{
    public static async Task<(int ExitCode, string StandardOutput, string StandardError)> RunAsync(
        string fileName, IReadOnlyList<string> arguments, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = new Process { StartInfo = info };
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            throw new RenderException($"{fileName}: cannot start ({e.Message}); install kustomize or kubectl, or set {RenderOptions.KubectlVariable}.", e);
        }

        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        using var timeoutCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutCts.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(timeoutCts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            if (cancellationToken.IsCancellationRequested)
            {
                throw;
            }

            throw new RenderException($"{fileName} {string.Join(' ', arguments)}: did not finish within {timeout}; simplify the kustomization or raise RenderOptions.Timeout.");
        }

        return (process.ExitCode, await stdout, await stderr);
    }

}
