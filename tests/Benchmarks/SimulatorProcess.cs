using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace FleetFunctions.Benchmarks;

/// <summary>The <c>fleet-simulator</c> executable (built next to the benchmarks) running as a child process.</summary>
internal sealed class SimulatorProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly HttpClient _admin;

    private SimulatorProcess(Process process, Uri admin, string kubeconfig)
    {
        _process = process;
        _admin = new HttpClient { BaseAddress = admin };
        Kubeconfig = kubeconfig;
    }

    public string Kubeconfig { get; }

    public int ProcessId => _process.Id;

    /// <summary>Starts the simulator with <paramref name="clusters"/> clusters named c1..cN and waits until it printed its admin URL.</summary>
    public static async Task<SimulatorProcess> StartAsync(int clusters, string kubeconfig, CancellationToken cancellationToken)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "fleet-simulator.dll");
        if (!File.Exists(dll))
        {
            throw new InvalidOperationException($"{dll} not found: build tests/Benchmarks (it references src/Simulator).");
        }

        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { dll, "--clusters", clusters.ToString(System.Globalization.CultureInfo.InvariantCulture), "--ready-delay", "0", "--kubeconfig", kubeconfig })
        {
            info.ArgumentList.Add(arg);
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("fleet-simulator did not start.");
        process.ErrorDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromMinutes(2));
        while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.StartsWith("admin ", StringComparison.Ordinal))
            {
                var simulator = new SimulatorProcess(process, new Uri(line["admin ".Length..].Trim() + "/"), kubeconfig);
                _ = DrainAsync(process);
                return simulator;
            }
        }

        throw new InvalidOperationException($"fleet-simulator exited (code {(process.HasExited ? process.ExitCode : -1)}) before printing its admin URL.");
    }

    public async Task WipeAsync(string cluster, CancellationToken cancellationToken)
    {
        using var response = await _admin.PostAsync(new Uri($"clusters/{cluster}/wipe", UriKind.Relative), null, cancellationToken);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>The API server URL of a cluster.</summary>
    public async Task<Uri> ServerAsync(string cluster, CancellationToken cancellationToken)
    {
        var described = await _admin.GetFromJsonAsync<JsonObject>(new Uri($"clusters/{cluster}", UriKind.Relative), cancellationToken);
        return new Uri(described?["server"]?.ToString() + "/");
    }

    public async Task<long> TotalWritesAsync(IEnumerable<string> clusters, CancellationToken cancellationToken)
    {
        long total = 0;
        foreach (var cluster in clusters)
        {
            var stats = await _admin.GetFromJsonAsync<JsonObject>(new Uri($"clusters/{cluster}/stats", UriKind.Relative), cancellationToken);
            total += stats?["Writes"]?.GetValue<long>() ?? stats?["writes"]?.GetValue<long>() ?? 0;
        }

        return total;
    }

    public async ValueTask DisposeAsync()
    {
        _admin.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private static async Task DrainAsync(Process process)
    {
        while (await process.StandardOutput.ReadLineAsync() is not null)
        {
        }
    }
}
