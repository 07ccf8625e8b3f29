using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using FleetFunctions.TestSupport;

namespace FleetFunctions.Benchmarks;

/// <summary>
/// Raw capacity of the Kubernetes API simulator: server-side apply PATCHes/s and GETs/s at 1 and 50 clusters
/// and concurrency 1, 8 and 32, with the simulator in its own process; then the simulator's RSS with
/// 50 clusters × 200 objects loaded (target &lt; 500 MiB).
/// Options: <c>--seconds N</c> per measurement (default 3), <c>--simulator PATH</c> to fleet-simulator.dll.
/// </summary>
internal sealed class SimulatorBenchmark : IBenchmark
{
    private const int FleetSize = 50;
    private const int ObjectsPerCluster = 200;
    private const long RssTargetMiB = 500;

    public string Name => "simulator";

    public string Description => "Kubernetes API simulator: SSA PATCH/s and GET/s at 1 and 50 clusters, RSS with 50 clusters x 200 objects (target < 500 MiB)";

    public async Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken cancellationToken)
    {
        var seconds = Option(args, "--seconds") is { } s ? double.Parse(s, CultureInfo.InvariantCulture) : 3;
        var dll = Option(args, "--simulator") ?? await BuildSimulatorAsync(cancellationToken);
        await using var simulator = await SimulatorProcess.StartAsync(dll, FleetSize, cancellationToken);
        Console.WriteLine($"simulator pid {simulator.Pid}, {simulator.Servers.Count} clusters, RSS at start {simulator.RssMiB():F0} MiB");
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64, PooledConnectionLifetime = Timeout.InfiniteTimeSpan })
        {
            Timeout = TimeSpan.FromSeconds(30),
        };

        var results = new List<Measurement>();
        foreach (var clusters in (int[])[1, FleetSize])
        {
            var servers = simulator.Servers.Take(clusters).ToList();
            await SeedAsync(http, servers, cancellationToken);
            foreach (var concurrency in (int[])[1, 8, 32])
            {
                results.Add(await MeasureAsync("SSA PATCH", clusters, concurrency, seconds, (i, ct) => ApplyAsync(http, servers[i % servers.Count], i, ct), cancellationToken));
                results.Add(await MeasureAsync("GET", clusters, concurrency, seconds, (i, ct) => GetAsync(http, servers[i % servers.Count], i, ct), cancellationToken));
            }
        }

        Console.WriteLine();
        Console.WriteLine($"{"operation",-10} {"clusters",8} {"conc.",6} {"requests",9} {"req/s",9} {"p50 ms",8} {"p99 ms",8} {"errors",7}");
        foreach (var r in results)
        {
            Console.WriteLine($"{r.Operation,-10} {r.Clusters,8} {r.Concurrency,6} {r.Requests,9} {r.PerSecond,9:F0} {r.P50,8:F2} {r.P99,8:F2} {r.Errors,7}");
        }

        var loadWatch = Stopwatch.StartNew();
        await LoadFleetAsync(http, simulator.Servers, cancellationToken);
        loadWatch.Stop();
        await Task.Delay(TimeSpan.FromSeconds(3), cancellationToken);
        var rss = simulator.RssMiB();
        var peak = simulator.PeakRssMiB();
        Console.WriteLine();
        Console.WriteLine($"loaded {FleetSize} clusters x {ObjectsPerCluster} objects ({FleetSize * ObjectsPerCluster} applies) in {loadWatch.Elapsed.TotalSeconds:F1} s");
        Console.WriteLine($"simulator RSS {rss:F0} MiB (peak {peak:F0} MiB), target < {RssTargetMiB} MiB: {(rss < RssTargetMiB ? "OK" : "OVER")}");
        return results.Any(r => r.Errors > 0) || rss >= RssTargetMiB ? 1 : 0;
    }

    private static string? Option(IReadOnlyList<string> args, string name)
    {
        var at = args.ToList().IndexOf(name);
        return at >= 0 && at + 1 < args.Count ? args[at + 1] : null;
    }

    private static async Task<string> BuildSimulatorAsync(CancellationToken cancellationToken)
    {
        var output = Path.Combine(Path.GetTempPath(), "fleet-simulator-bench");
        var build = await ExternalProcess.RunAsync(
            "dotnet",
            ["build", "-c", "Release", Path.Combine(RepoPaths.Root, "src", "Simulator"), "-o", output, "--nologo", "-v", "q"],
            timeout: TimeSpan.FromMinutes(5),
            cancellationToken: cancellationToken);
        if (build.ExitCode != 0)
        {
            throw new InvalidOperationException($"building src/Simulator failed:\n{build}");
        }

        return Path.Combine(output, "fleet-simulator.dll");
    }

    private static async Task<Measurement> MeasureAsync(string operation, int clusters, int concurrency, double seconds, Func<int, CancellationToken, Task<bool>> call, CancellationToken cancellationToken)
    {
        // warm-up
        for (var i = 0; i < 50; i++)
        {
            await call(i, cancellationToken);
        }

        var latencies = new List<double>[concurrency];
        var errors = 0;
        var counter = 0;
        var stopAt = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
        var total = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, concurrency), new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken }, async (worker, ct) =>
        {
            var own = latencies[worker] = [];
            while (Stopwatch.GetTimestamp() < stopAt)
            {
                var i = Interlocked.Increment(ref counter);
                var start = Stopwatch.GetTimestamp();
                if (!await call(i, ct))
                {
                    Interlocked.Increment(ref errors);
                }

                own.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }
        });
        total.Stop();
        var all = latencies.SelectMany(l => l).Order().ToList();
        return new Measurement(operation, clusters, concurrency, all.Count, all.Count / total.Elapsed.TotalSeconds, Percentile(all, 0.5), Percentile(all, 0.99), errors);
    }

    private static double Percentile(List<double> sorted, double p) => sorted.Count == 0 ? 0 : sorted[Math.Min(sorted.Count - 1, (int)(p * sorted.Count))];

    private static async Task SeedAsync(HttpClient http, IReadOnlyList<Uri> servers, CancellationToken cancellationToken)
    {
        foreach (var server in servers)
        {
            for (var i = 0; i < 64; i++)
            {
                await ApplyAsync(http, server, i, cancellationToken);
            }
        }
    }

    /// <summary>Server-side apply of a ConfigMap whose data changes on every call: a real write each time.</summary>
    private static async Task<bool> ApplyAsync(HttpClient http, Uri server, int i, CancellationToken cancellationToken)
    {
        var name = $"bench-{i % 64}";
        var body = $$$"""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"{{{name}}}","namespace":"default","labels":{"bench":"true"}},"data":{"value":"{{{i}}}","static":"unchanged"}}""";
        using var request = new HttpRequestMessage(HttpMethod.Patch, new Uri(server, $"/api/v1/namespaces/default/configmaps/{name}?fieldManager=bench&force=true"))
        {
            Content = new StringContent(body, Encoding.UTF8, "application/apply-patch+yaml"),
        };
        using var response = await http.SendAsync(request, cancellationToken);
        await response.Content.CopyToAsync(Stream.Null, cancellationToken);
        return response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Created;
    }

    private static async Task<bool> GetAsync(HttpClient http, Uri server, int i, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync(new Uri(server, $"/api/v1/namespaces/default/configmaps/bench-{i % 64}"), cancellationToken);
        await response.Content.CopyToAsync(Stream.Null, cancellationToken);
        return response.StatusCode == HttpStatusCode.OK;
    }

    /// <summary>Per cluster: a namespace, 60 Deployments, 60 Services, 79 ConfigMaps (200 objects).</summary>
    private static async Task LoadFleetAsync(HttpClient http, IReadOnlyList<Uri> servers, CancellationToken cancellationToken)
    {
        await Parallel.ForEachAsync(servers, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken }, async (server, ct) =>
        {
            await SendApplyAsync(http, server, "/api/v1/namespaces/fleet", """{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"fleet"}}""", ct);
            for (var i = 0; i < 60; i++)
            {
                await SendApplyAsync(http, server, $"/apis/apps/v1/namespaces/fleet/deployments/app-{i}", Deployment(i), ct);
                await SendApplyAsync(http, server, $"/api/v1/namespaces/fleet/services/app-{i}", $$$"""{"apiVersion":"v1","kind":"Service","metadata":{"name":"app-{{{i}}}","namespace":"fleet","labels":{"app":"app-{{{i}}}"}},"spec":{"selector":{"app":"app-{{{i}}}"},"ports":[{"name":"http","port":80,"targetPort":8080}]}}""", ct);
            }

            for (var i = 0; i < ObjectsPerCluster - 121; i++)
            {
                await SendApplyAsync(http, server, $"/api/v1/namespaces/fleet/configmaps/config-{i}", $$$"""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"config-{{{i}}}","namespace":"fleet"},"data":{"settings.yaml":"{{{new string('x', 512)}}}","level":"info"}}""", ct);
            }
        });
    }

    private static string Deployment(int i) => """
        {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"app-__I__","namespace":"fleet","labels":{"app":"app-__I__","team":"bench"}},
         "spec":{"replicas":3,"selector":{"matchLabels":{"app":"app-__I__"}},
          "template":{"metadata":{"labels":{"app":"app-__I__"}},"spec":{"containers":[
            {"name":"app","image":"registry.example/app:1.__I__","ports":[{"name":"http","containerPort":8080}],
             "env":[{"name":"LOG_LEVEL","value":"info"},{"name":"REGION","value":"west"}],
             "resources":{"requests":{"cpu":"100m","memory":"128Mi"},"limits":{"memory":"256Mi"}}},
            {"name":"proxy","image":"registry.example/proxy:2.0","ports":[{"name":"admin","containerPort":9901}]}]}}}}
        """.Replace("__I__", i.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);

    private static async Task SendApplyAsync(HttpClient http, Uri server, string path, string body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Patch, new Uri(server, $"{path}?fieldManager=bench"))
        {
            Content = new StringContent(body, Encoding.UTF8, "application/apply-patch+yaml"),
        };
        using var response = await http.SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"{server}{path}: apply failed with {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellationToken)}");
        }
    }

    private sealed record Measurement(string Operation, int Clusters, int Concurrency, int Requests, double PerSecond, double P50, double P99, int Errors);

    /// <summary>The fleet-simulator executable in its own process, its cluster URLs read from its output.</summary>
    private sealed class SimulatorProcess : IAsyncDisposable
    {
        private readonly Process _process;

        private SimulatorProcess(Process process, List<Uri> servers)
        {
            _process = process;
            Servers = servers;
        }

        public int Pid => _process.Id;

        public IReadOnlyList<Uri> Servers { get; }

        public static async Task<SimulatorProcess> StartAsync(string dll, int clusters, CancellationToken cancellationToken)
        {
            var info = ExternalProcess.CreateStartInfo("dotnet", [dll, "--clusters", clusters.ToString(CultureInfo.InvariantCulture), "--ready-delay", "1s"]);
            var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start dotnet {dll}");
            var servers = new List<Uri>();
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromMinutes(1));
            while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
            {
                var parts = line.Split(' ');
                if (parts is ["cluster", _, var url])
                {
                    servers.Add(new Uri(url));
                }
                else if (parts[0] == "admin")
                {
                    break;
                }
            }

            if (servers.Count != clusters)
            {
                process.Kill();
                throw new InvalidOperationException($"fleet-simulator started {servers.Count} of {clusters} clusters: {await process.StandardError.ReadToEndAsync(cancellationToken)}");
            }

            return new SimulatorProcess(process, servers);
        }

        public double RssMiB() => StatusKiB("VmRSS:") / 1024.0;

        public double PeakRssMiB() => StatusKiB("VmHWM:") / 1024.0;

        private long StatusKiB(string field)
        {
            var line = File.ReadLines($"/proc/{_process.Id}/status").First(l => l.StartsWith(field, StringComparison.Ordinal));
            return long.Parse(line[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                await _process.WaitForExitAsync();
            }

            _process.Dispose();
        }
    }
}
