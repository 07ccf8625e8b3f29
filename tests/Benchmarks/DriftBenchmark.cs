using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using FleetFunctions.Core.Storage;
using FleetFunctions.Core.Apply;
using FleetFunctions.Core.Clusters;
using FleetFunctions.Core.Fleet;
using FleetFunctions.Core.Health;
using FleetFunctions.Core.Inventory;
using FleetFunctions.Core.Manifests;
using FleetFunctions.Core.Reconcile;
using FleetFunctions.Core.Rendering;
using FleetFunctions.Core.Secrets;
using FleetFunctions.Core.Sources;
using FleetFunctions.Orchestrations.Drift;
using FleetFunctions.Orchestrations.Rollouts;
using FleetFunctions.TestSupport;

namespace FleetFunctions.Benchmarks;

/// <summary>
/// Drift against the simulator in its own process, 200 objects per cluster (the reconcile benchmark's app): a sweep of
/// N clusters (in sync, and with one edited object per cluster, healed) against a baseline of reading every object once;
/// watch-mode latency from an edit on a cluster to the object healed, over E edits; and a wiped cluster back to healthy.
/// </summary>
internal sealed class DriftBenchmark : IBenchmark
{
    private const int ObjectsPerCluster = 200;

    public string Name => "drift";

    public string Description => "drift sweep of N clusters x 200 objects (target <= 5 s at 50), watch edit->healed p50/p99 (target p50 <= 0.5 s), wiped cluster back to healthy (target <= 2 s); args: [clusters=50] [edits=50]";

    public async Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken cancellationToken)
    {
        var clusterCount = args.Count > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 50;
        var edits = args.Count > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 50;
        var work = Path.Combine(Path.GetTempPath(), $"ff-bench-drift-{Guid.NewGuid().ToString("N")[..8]}");
        Directory.CreateDirectory(work);
        await using var simulator = await SimulatorProcess.StartAsync(clusterCount, Path.Combine(work, "kubeconfig"), cancellationToken);
        await using var azurite = Environment.GetEnvironmentVariable(AzuriteFixture.ConnectionStringVariable) is { Length: > 0 } ? null : await AzuriteServer.StartAsync(cancellationToken: cancellationToken);
        var storage = azurite?.ConnectionString ?? Environment.GetEnvironmentVariable(AzuriteFixture.ConnectionStringVariable)!;
        using var repo = ReconcileBenchmark.CreateRepository(Path.Combine(work, "repo"));
        var names = Enumerable.Range(1, clusterCount).Select(i => $"c{i}").ToList();

        var platform = new StaticPlatformProvider(PlatformLoader.Load([("platform.yaml", string.Join("---\n", names.Select(n => $$"""
            apiVersion: fleetfunctions.io/v1alpha1
            kind: Cluster
            metadata: {name: {{n}}}
            spec: {kubeconfig: {path: "{{simulator.Kubeconfig}}", context: {{n}}}, region: eu}

            """)) + $$"""
            ---
            apiVersion: fleetfunctions.io/v1alpha1
            kind: GitSource
            metadata: {name: apps}
            spec: {url: "{{repo.Info.WorkingDirectory}}", branch: main}
            ---
            apiVersion: fleetfunctions.io/v1alpha1
            kind: ClusterFleet
            metadata: {name: bench}
            spec: {source: {gitSource: apps, path: app}, selfHeal: true}
            """)]));
        using var clients = new ClusterClientFactory(new KubeconfigCredentialsProvider(simulator.Kubeconfig));
        using var editors = new ClusterClientFactory(new KubeconfigCredentialsProvider(simulator.Kubeconfig), new ClusterClientOptions { FieldManager = "kubectl-edit" });
        var inventory = new InventoryStore(storage, new InventoryOptions { TableName = "benchinv" + Guid.NewGuid().ToString("N")[..8] });
        var reconciler = new Reconciler(
            new Core.Sources.GitRepositories(new GitCacheOptions { CacheDirectory = Path.Combine(work, "git") }),
            new ManifestRenderer(new RenderOptions { CacheDirectory = Path.Combine(work, "rendered") }),
            clients,
            inventory);
        var events = new DriftEventStore(storage, "benchdrift" + Guid.NewGuid().ToString("N")[..8]);
        var checker = new DriftChecker(reconciler, events, new FleetStateStore(storage, "benchfleets" + Guid.NewGuid().ToString("N")[..8]), new InMemorySecretStore(new Dictionary<string, string>()));
        var sweeper = new DriftSweeper(platform, checker, StorageAccount.FromConnectionString(storage), new DriftSweepOptions { Concurrency = 8, ObjectConcurrency = 16, LeaseContainer = "benchleases" + Guid.NewGuid().ToString("N")[..8] }, clients: clients);

        // Apply the fleet everywhere (c1 timed alone: the baseline of the recovery figure).
        var options = new ReconcileOptions { Apply = new ApplyOptions { Concurrency = 16 }, Health = new HealthOptions { PollInterval = TimeSpan.FromMilliseconds(50), Concurrency = 16 } };
        var commit = repo.Head.Tip.Sha;
        Task<ReconcileResult> Apply(string cluster) => reconciler.ReconcileAsync(new ReconcileRequest(cluster, "bench", new GitSourceSpec(repo.Info.WorkingDirectory), "app") { Commit = commit, Options = options }, cancellationToken);
        await Apply(names[^1]);
        await simulator.WipeAsync(names[^1], cancellationToken);
        var stopwatch = Stopwatch.StartNew();
        var firstApply = await Apply(names[^1]);
        var firstApplyTime = stopwatch.Elapsed;
        var applied = new ReconcileResult[names.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, names.Count - 1), new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken },
            async (i, _) => applied[i] = await Apply(names[i]));
        applied[^1] = firstApply;
        if (applied.FirstOrDefault(r => !r.Succeeded) is { } failed)
        {
            Console.Error.WriteLine($"apply failed: {failed}: {string.Join(" | ", failed.Errors.Take(3))}");
            return 1;
        }

        Console.WriteLine($"simulator: separate process (pid {simulator.ProcessId}), {clusterCount} clusters x {ObjectsPerCluster} objects, ready delay 0; machine: {Environment.ProcessorCount} cores");
        Console.WriteLine();
        var exit = 0;

        // 1. Sweep, against reading every object once with the same concurrency.
        var references = (await inventory.GetAsync(names[0], "bench", cancellationToken))!.Entries;
        await ReadAllAsync(clients, names, references, cancellationToken);
        stopwatch.Restart();
        await ReadAllAsync(clients, names, references, cancellationToken);
        var baseline = stopwatch.Elapsed;
        await sweeper.SweepAsync(cancellationToken);
        var inSync = await sweeper.SweepAsync(cancellationToken);
        var configMap = references.First(e => e.Reference.Kind == "ConfigMap");
        foreach (var name in names)
        {
            await EditAsync(editors, name, configMap, "swept", cancellationToken);
        }

        var drifted = await sweeper.SweepAsync(cancellationToken);
        var objects = clusterCount * ObjectsPerCluster;
        Console.WriteLine("| sweep | pairs | objects | seconds | objects/s | vs reading every object once |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
        Console.WriteLine(Row("read every object once (baseline)", clusterCount, objects, baseline, baseline));
        Console.WriteLine(Row($"in sync ({inSync.Count(DriftOutcome.InSync)} in sync)", clusterCount, objects, inSync.Duration, baseline));
        Console.WriteLine(Row($"1 edit per cluster ({drifted.Count(DriftOutcome.Healed)} healed)", clusterCount, objects, drifted.Duration, baseline));
        var sweepOk = inSync.Count(DriftOutcome.InSync) == clusterCount && drifted.Count(DriftOutcome.Healed) == clusterCount;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"sweep target <= 5 s at 50 clusters: {(drifted.Duration.TotalSeconds <= 5 && sweepOk ? "met" : "MISSED")} ({Math.Max(inSync.Duration.TotalSeconds, drifted.Duration.TotalSeconds):0.00} s)"));
        exit |= sweepOk ? 0 : 1;
        Console.WriteLine();

        // 2. Watch mode: edit -> healed latency; one direct check of an edit is the baseline.
        await EditAsync(editors, names[0], configMap, "direct", cancellationToken);
        stopwatch.Restart();
        await checker.CheckAsync((await platform.GetCurrentAsync(cancellationToken)).Config, (await platform.GetCurrentAsync(cancellationToken)).Config.Fleets["bench"],
            (await platform.GetCurrentAsync(cancellationToken)).Config.Clusters[0], "benchmark", 16, cancellationToken);
        var directCheck = stopwatch.Elapsed;
        var watcher = new DriftWatcher(platform, inventory, clients, checker, new DriftWatchOptions { Debounce = TimeSpan.FromMilliseconds(50), ObjectConcurrency = 16 });
        using var stopWatching = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var watching = watcher.RunAsync(stopWatching.Token);
        var expectedWatches = clusterCount * 4;
        stopwatch.Restart();
        while (watcher.ConnectedWatches < expectedWatches && stopwatch.Elapsed < TimeSpan.FromSeconds(60))
        {
            await Task.Delay(50, cancellationToken);
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"watch: {watcher.ConnectedWatches} of {expectedWatches} watches connected in {stopwatch.Elapsed.TotalSeconds:0.00} s"));
        var latencies = new List<double>();
        for (var i = 0; i < edits; i++)
        {
            var cluster = names[i % names.Count];
            var client = await clients.GetClientAsync(cluster, cancellationToken);
            var resource = await client.ResolveAsync(configMap.ApiVersion, "ConfigMap", null, cancellationToken);
            var started = Stopwatch.StartNew();
            await EditAsync(editors, cluster, configMap, $"edit-{i}", cancellationToken);
            while (started.Elapsed < TimeSpan.FromSeconds(10))
            {
                var live = await client.GetAsync(resource, configMap.Reference.Namespace, configMap.Reference.Name, cancellationToken);
                if (live?["data"]?["index"]?.GetValue<string>() is { } value && !value.StartsWith("edit-", StringComparison.Ordinal))
                {
                    break;
                }

                await Task.Delay(2, cancellationToken);
            }

            latencies.Add(started.Elapsed.TotalSeconds);
            await Task.Delay(100, cancellationToken);
        }

        latencies.Sort();
        var p50 = Percentile(latencies, 0.50);
        var p99 = Percentile(latencies, 0.99);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"watch edit -> healed over {edits} edits on {Math.Min(edits, clusterCount)} clusters: p50 {p50 * 1000:0} ms, p99 {p99 * 1000:0} ms, max {latencies[^1] * 1000:0} ms; " +
            $"baseline: one direct detect+record+heal {directCheck.TotalMilliseconds:0} ms; target p50 <= 500 ms: {(p50 <= 0.5 ? "met" : "MISSED")}"));
        exit |= p50 <= 0.5 ? 0 : 1;

        // 3. A wiped cluster, caught by its watches (ended early), back to healthy.
        var target = names[0];
        var wipedAt = DateTimeOffset.UtcNow;
        stopwatch.Restart();
        await simulator.WipeAsync(target, cancellationToken);
        TimeSpan? detected = null;
        while (detected is null && stopwatch.Elapsed < TimeSpan.FromSeconds(30))
        {
            if ((await events.GetAsync(target, "bench", cancellationToken))?.LastDrift is { } last && last.DetectedAt >= wipedAt.AddMilliseconds(-5) && last.DriftCount >= ObjectsPerCluster)
            {
                detected = stopwatch.Elapsed;
            }
            else
            {
                await Task.Delay(5, cancellationToken);
            }
        }

        var health = await new HealthChecker(await clients.GetClientAsync(target, cancellationToken)).WaitAsync(
            [.. references.Select(e => (e.Reference, e.ApiVersion))], new HealthOptions { PollInterval = TimeSpan.FromMilliseconds(20), Timeout = TimeSpan.FromSeconds(60), Concurrency = 16 }, cancellationToken);
        var healthy = stopwatch.Elapsed;
        await stopWatching.CancelAsync();
        await watching;
        var recovery = healthy - (detected ?? healthy);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"wiped cluster ({ObjectsPerCluster} objects): drift recorded {detected?.TotalSeconds ?? double.NaN:0.00} s after the wipe, healthy {healthy.TotalSeconds:0.00} s after ({(health.Healthy ? "all healthy" : "NOT healthy")}); " +
            $"detection -> healthy {recovery.TotalSeconds:0.00} s (target <= 2 s: {(health.Healthy && detected is not null && recovery.TotalSeconds <= 2 ? "met" : "MISSED")}); baseline first apply of the same 200 objects {firstApplyTime.TotalSeconds:0.00} s"));
        exit |= health.Healthy && detected is not null ? 0 : 1;

        using var self = Process.GetCurrentProcess();
        self.Refresh();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"controller peak RSS: {self.PeakWorkingSet64 / (1024.0 * 1024):0} MiB"));
        TryDelete(work);
        return exit;
    }

    private static async Task ReadAllAsync(ClusterClientFactory clients, IReadOnlyList<string> clusters, IReadOnlyList<InventoryEntry> entries, CancellationToken cancellationToken) =>
        await Parallel.ForEachAsync(clusters, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken }, async (cluster, ct) =>
        {
            var client = await clients.GetClientAsync(cluster, ct);
            await Parallel.ForEachAsync(entries, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = ct }, async (entry, ct2) =>
            {
                var resource = await client.ResolveAsync(entry.ApiVersion, entry.Reference.Kind, entry.Reference, ct2);
                await client.GetAsync(resource, entry.Reference.Namespace, entry.Reference.Name, ct2);
            });
        });

    /// <summary>Changes the ConfigMap's <c>data.index</c> as another field manager (server-side apply, forced), as an operator's edit would.</summary>
    private static async Task EditAsync(ClusterClientFactory editors, string cluster, InventoryEntry configMap, string value, CancellationToken cancellationToken)
    {
        var client = await editors.GetClientAsync(cluster, cancellationToken);
        var resource = await client.ResolveAsync(configMap.ApiVersion, "ConfigMap", configMap.Reference, cancellationToken);
        await client.ApplyAsync(resource, new JsonObject
        {
            ["apiVersion"] = configMap.ApiVersion,
            ["kind"] = "ConfigMap",
            ["metadata"] = new JsonObject { ["name"] = configMap.Reference.Name, ["namespace"] = configMap.Reference.Namespace },
            ["data"] = new JsonObject { ["index"] = value },
        }, force: true, cancellationToken: cancellationToken);
    }

    private static string Row(string what, int pairs, int objects, TimeSpan elapsed, TimeSpan baseline) => string.Create(CultureInfo.InvariantCulture,
        $"| {what} | {pairs} | {objects} | {elapsed.TotalSeconds:0.00} | {objects / elapsed.TotalSeconds:0} | {elapsed.TotalSeconds / baseline.TotalSeconds:0.00}x |");

    private static double Percentile(List<double> sorted, double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];

    private static void TryDelete(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (IOException)
        {
            // Temp folder: best effort.
        }
    }
}
