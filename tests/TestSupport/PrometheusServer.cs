using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace FleetFunctions.TestSupport;

/// <summary>A scrape target: host:port, the labels every scraped series gets, and the metrics path.</summary>
public sealed record ScrapeTarget(string Address, IReadOnlyDictionary<string, string> Labels, string MetricsPath = "/metrics");

/// <summary>
/// The real Prometheus binary (Debian's <c>prometheus</c> package) on a free loopback port, with a short
/// scrape interval and targets in a file that <see cref="SetTargetsAsync"/> rewrites (file-based service
/// discovery, picked up without a restart). Data lives in a temp folder removed on dispose.
/// </summary>
public sealed class PrometheusServer : IAsyncDisposable
{
    private readonly string _directory;
    private readonly Process _process;
    private readonly StringBuilder _log = new();

    private PrometheusServer(string directory, Process process, int port)
    {
        _directory = directory;
        _process = process;
        Url = new Uri($"http://127.0.0.1:{port}/");
    }

    public Uri Url { get; }

    /// <summary>What Prometheus logged so far (for failure messages).</summary>
    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    /// <summary>Path of the prometheus binary: <c>FLEETFUNCTIONS_PROMETHEUS</c>, else <c>prometheus</c> on PATH.</summary>
    public static string Executable
    {
        get
        {
            var configured = Environment.GetEnvironmentVariable("FLEETFUNCTIONS_PROMETHEUS");
            if (!string.IsNullOrEmpty(configured))
            {
                return configured;
            }

            foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries))
            {
                var candidate = Path.Combine(dir, "prometheus");
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }

            throw new InvalidOperationException("prometheus not found on PATH: run 'scripts/setup.sh' (it installs Debian's prometheus package).");
        }
    }

    public static async Task<PrometheusServer> StartAsync(TimeSpan scrapeInterval, IEnumerable<ScrapeTarget> targets, CancellationToken cancellationToken = default)
    {
        var directory = Directory.CreateTempSubdirectory("fleet-prometheus-").FullName;
        var interval = $"{Math.Max(1, (int)scrapeInterval.TotalMilliseconds)}ms";
        await File.WriteAllTextAsync(Path.Combine(directory, "prometheus.yml"), $"""
            global:
              scrape_interval: {interval}
              scrape_timeout: {interval}
              evaluation_interval: {interval}
            scrape_configs:
              - job_name: fleet
                file_sd_configs:
                  - files: ['{Path.Combine(directory, "targets.json")}']
                    refresh_interval: 1s
            """, cancellationToken);
        await WriteTargetsAsync(directory, targets, cancellationToken);

        var port = FreePort.Next();
        var info = ExternalProcess.CreateStartInfo(Executable,
        [
            $"--config.file={Path.Combine(directory, "prometheus.yml")}",
            $"--storage.tsdb.path={Path.Combine(directory, "data")}",
            $"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ]);
        var process = Process.Start(info) ?? throw new InvalidOperationException("prometheus did not start");
        var server = new PrometheusServer(directory, process, port);
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            if (process.HasExited)
            {
                await server.DisposeAsync();
                throw new InvalidOperationException($"prometheus exited with code {process.ExitCode} while starting:\n{server.Log}");
            }

            try
            {
                using var response = await http.GetAsync(new Uri(server.Url, "-/ready"), cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    return server;
                }
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline)
            {
            }
            catch (TaskCanceledException) when (DateTime.UtcNow < deadline && !cancellationToken.IsCancellationRequested)
            {
            }

            if (DateTime.UtcNow >= deadline)
            {
                await server.DisposeAsync();
                throw new TimeoutException($"prometheus not ready after 60s:\n{server.Log}");
            }

            await Task.Delay(100, cancellationToken);
        }
    }

    /// <summary>Replaces the scrape targets; Prometheus picks the change up within about a second.</summary>
    public Task SetTargetsAsync(IEnumerable<ScrapeTarget> targets, CancellationToken cancellationToken = default) =>
        WriteTargetsAsync(_directory, targets, cancellationToken);

    /// <summary>Polls an instant query until it returns at least one sample, and returns the first sample's value.</summary>
    public async Task<double> WaitForValueAsync(string query, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var http = new HttpClient();
        var deadline = DateTime.UtcNow + timeout;
        string last = string.Empty;
        while (DateTime.UtcNow < deadline)
        {
            last = await http.GetStringAsync(new Uri(Url, "api/v1/query?query=" + Uri.EscapeDataString(query)), cancellationToken);
            using var doc = JsonDocument.Parse(last);
            var result = doc.RootElement.GetProperty("data").GetProperty("result");
            if (result.GetArrayLength() > 0)
            {
                return double.Parse(result[0].GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture);
            }

            await Task.Delay(200, cancellationToken);
        }

        throw new TimeoutException($"query '{query}' returned no data within {timeout}; last answer: {last}\nprometheus log:\n{Log}");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless; never fail a test on cleanup.
        }
    }

    private static async Task WriteTargetsAsync(string directory, IEnumerable<ScrapeTarget> targets, CancellationToken cancellationToken)
    {
        var groups = targets.Select(t => new Dictionary<string, object>
        {
            ["targets"] = new[] { t.Address },
            ["labels"] = new Dictionary<string, string>(t.Labels) { ["__metrics_path__"] = t.MetricsPath },
        });
        var temp = Path.Combine(directory, "targets.json.tmp");
        await File.WriteAllTextAsync(temp, JsonSerializer.Serialize(groups), cancellationToken);
        File.Move(temp, Path.Combine(directory, "targets.json"), overwrite: true);
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            _log.AppendLine(line);
        }
    }
}
