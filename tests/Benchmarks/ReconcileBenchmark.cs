using System.Diagnostics;
using System.Globalization;
using System.Text;
using FleetFunctions.Core.Apply;
using FleetFunctions.Core.Clusters;
using FleetFunctions.Core.Inventory;
using FleetFunctions.Core.Reconcile;
using FleetFunctions.Core.Rendering;
using FleetFunctions.Core.Sources;
using FleetFunctions.TestSupport;
using LibGit2Sharp;

namespace FleetFunctions.Benchmarks;

/// <summary>
/// Reconcile throughput against the simulator running in its own process: 1, 5, 10, 20 and 50 clusters ×
/// 200 objects, for first apply, no-op re-reconcile and a one-object change; kubectl apply --server-side
/// for one cluster; the controller's peak RSS.
/// </summary>
internal sealed class ReconcileBenchmark : IBenchmark
{
    private const int ObjectsPerCluster = 200;

    /// <summary>
    /// Requests in flight per cluster on one cluster, for the pipeline (apply and client gate) and the raw client alike:
    /// where the simulator's SSA capacity for one cluster peaks (6.3k/s at 8, 10.2k/s at 32; 64 measured no faster).
    /// </summary>
    private const int OneClusterConcurrency = 32;

    /// <summary>
    /// Requests in flight per cluster with more clusters, for both alike: the simulator's two cores are shared by then,
    /// and the controller's memory (the RSS target is taken at 50 clusters) grows with the requests in flight.
    /// </summary>
    private const int ManyClustersConcurrency = 16;

    /// <summary>
    /// First applies (each followed by a no-op) on the warm-up cluster before anything is measured, for the controller and
    /// the raw client alike: what is measured is a long-running controller whose JIT has settled (kubectl starts cold by
    /// nature). Measured: the controller's CPU per first apply falls for about five of them.
    /// </summary>
    private const int WarmUpCycles = 5;

    public string Name => "reconcile";

    public string Description => "reconcile throughput (1-50 clusters x 200 objects: first apply, no-op, one change), vs kubectl, controller RSS";

    public async Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken cancellationToken)
    {
        if (args is [RawApplyProcess.ChildFlag, var manifests, var concurrency])
        {
            return await RawApplyProcess.RunChildAsync(manifests, int.Parse(concurrency, CultureInfo.InvariantCulture), cancellationToken);
        }

        var rounds = 3;
        var numbers = new List<int>();
        for (var a = 0; a < args.Count; a++)
        {
            if (args[a] == "--rounds" && a + 1 < args.Count)
            {
                rounds = int.Parse(args[++a], CultureInfo.InvariantCulture);
            }
            else
            {
                numbers.Add(int.Parse(args[a], CultureInfo.InvariantCulture));
            }
        }

        int[] counts = numbers.Count > 0 ? [.. numbers] : [1, 5, 10, 20, 50];
        var work = Path.Combine(Path.GetTempPath(), $"ff-bench-reconcile-{Guid.NewGuid().ToString("N")[..8]}");
        Directory.CreateDirectory(work);
        // One extra cluster warms up the controller (JIT, Git fetch, render, tables) before anything is measured.
        await using var simulator = await SimulatorProcess.StartAsync(counts.Max() + 1, Path.Combine(work, "kubeconfig"), cancellationToken);
        await using var azurite = Environment.GetEnvironmentVariable(AzuriteFixture.ConnectionStringVariable) is { Length: > 0 } ? null : await AzuriteServer.StartAsync(cancellationToken: cancellationToken);
        var storage = azurite?.ConnectionString ?? Environment.GetEnvironmentVariable(AzuriteFixture.ConnectionStringVariable)!;

        var repo = CreateRepository(Path.Combine(work, "repo"));
        using var clusters = new ClusterClientFactory(new KubeconfigCredentialsProvider(simulator.Kubeconfig), new ClusterClientOptions { MaxConcurrentRequestsPerCluster = OneClusterConcurrency });
        var reconciler = new Reconciler(
            new GitRepositories(new GitCacheOptions { CacheDirectory = Path.Combine(work, "git") }),
            new ManifestRenderer(new RenderOptions { CacheDirectory = Path.Combine(work, "rendered") }),
            clusters,
            new InventoryStore(storage, new InventoryOptions { TableName = "benchinv" + Guid.NewGuid().ToString("N")[..8] }),
            new ReconcileHistoryStore(storage, "benchhist" + Guid.NewGuid().ToString("N")[..8]));
        var options = new ReconcileOptions
        {
            Apply = new ApplyOptions { Concurrency = ManyClustersConcurrency },
            Health = new Core.Health.HealthOptions { Timeout = TimeSpan.FromMinutes(2), PollInterval = TimeSpan.FromMilliseconds(200), Concurrency = 16 },
        };

        var warmup = $"c{counts.Max() + 1}";
        for (var cycle = 1; cycle <= WarmUpCycles; cycle++)
        {
            await simulator.WipeAsync(warmup, cancellationToken);
            await ReconcileAllAsync(reconciler, [warmup], $"warmup{cycle}", repo, repo.Head.Tip.Sha, options, cancellationToken);
            await ReconcileAllAsync(reconciler, [warmup], $"warmup{cycle}", repo, repo.Head.Tip.Sha, options, cancellationToken);
        }

        Console.WriteLine($"simulator: separate process (pid {simulator.ProcessId}), {counts.Max()} clusters + 1 warm-up cluster ({WarmUpCycles} first applies and no-ops before measuring), ready delay 0; objects per cluster: {ObjectsPerCluster}");
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores; controller: this process (server GC off)");
        Console.WriteLine();
        await using var raw = await RawApplyProcess.StartAsync(Path.Combine(repo.Info.WorkingDirectory, "app"), OneClusterConcurrency, cancellationToken);
        var servers = new Dictionary<string, Uri>(StringComparer.Ordinal);
        foreach (var name in Enumerable.Range(1, counts.Max()).Select(i => $"c{i}"))
        {
            servers[name] = await simulator.ServerAsync(name, cancellationToken);
        }

        // raw capacity warm-up on the warm-up cluster (JIT of the client and of the simulator's create path)
        await simulator.WipeAsync(warmup, cancellationToken);
        for (var cycle = 1; cycle <= WarmUpCycles; cycle++)
        {
            await raw.ApplyAsync([await simulator.ServerAsync(warmup, cancellationToken)], OneClusterConcurrency, cancellationToken);
            await simulator.WipeAsync(warmup, cancellationToken);
        }

        Console.WriteLine($"each figure: the best of {rounds} rounds (--rounds N); the machine is shared, so noise only ever adds time");
        Console.WriteLine($"raw = the same SSA PATCHes sent straight to the simulator (HttpClient in a child process, no pipeline), same concurrency per cluster " +
            $"({OneClusterConcurrency} requests in flight on one cluster, {ManyClustersConcurrency} per cluster with more, for both); " +
            "first apply vs raw create, no-op and one change vs raw re-apply (every PATCH a server-side no-op)");
        Console.WriteLine();
        Console.WriteLine("| clusters | raw create (res/s) | first apply (res/s) | first / raw | raw re-apply (res/s) | no-op (res/s) | no-op / raw | no-op / first | no-op writes | one change (res/s) | one change / raw | one-change writes |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        var exit = 0;
        var firstApplyOneCluster = TimeSpan.Zero;
        var noOpOneCluster = TimeSpan.Zero;
        var rawOneCluster = TimeSpan.Zero;
        var missed = new List<string>();
        foreach (var n in counts)
        {
            var names = Enumerable.Range(1, n).Select(i => $"c{i}").ToList();
            var inFlight = n == 1 ? OneClusterConcurrency : ManyClustersConcurrency;
            var runOptions = options with { Apply = options.Apply with { Concurrency = inFlight } };
            var rawCreate = TimeSpan.MaxValue;
            var rawAgain = TimeSpan.MaxValue;
            var first = TimeSpan.MaxValue;
            var noOp = TimeSpan.MaxValue;
            var change = TimeSpan.MaxValue;
            long noOpWrites = 0;
            long changeWrites = 0;
            for (var round = 1; round <= rounds; round++)
            {
                await WipeAsync(simulator, names, cancellationToken);
                rawCreate = Min(rawCreate, await raw.ApplyAsync([.. names.Select(c => servers[c])], inFlight, cancellationToken));
                rawAgain = Min(rawAgain, await raw.ApplyAsync([.. names.Select(c => servers[c])], inFlight, cancellationToken));
                await WipeAsync(simulator, names, cancellationToken);

                var fleet = $"bench{n}r{round}";
                var baseCommit = repo.Head.Tip.Sha;
                var (firstRound, firstOk) = await ReconcileAllAsync(reconciler, names, fleet, repo, baseCommit, runOptions, cancellationToken);
                var writesBefore = await simulator.TotalWritesAsync(names, cancellationToken);
                var (noOpRound, noOpOk) = await ReconcileAllAsync(reconciler, names, fleet, repo, baseCommit, runOptions, cancellationToken);
                noOpWrites = Math.Max(noOpWrites, await simulator.TotalWritesAsync(names, cancellationToken) - writesBefore);
                var changed = ChangeOneObject(repo, $"{n}-{round}");
                writesBefore = await simulator.TotalWritesAsync(names, cancellationToken);
                var (changeRound, changeOk) = await ReconcileAllAsync(reconciler, names, fleet, repo, changed, runOptions, cancellationToken);
                changeWrites = Math.Max(changeWrites, await simulator.TotalWritesAsync(names, cancellationToken) - writesBefore);
                ResetRepository(repo, baseCommit);
                if (!(firstOk && noOpOk && changeOk))
                {
                    exit = 1;
                }

                first = Min(first, firstRound);
                noOp = Min(noOp, noOpRound);
                change = Min(change, changeRound);
            }

            if (n == 1)
            {
                firstApplyOneCluster = first;
                noOpOneCluster = noOp;
                rawOneCluster = rawCreate;
            }

            var total = (double)n * ObjectsPerCluster;
            var firstRatio = rawCreate.TotalSeconds / first.TotalSeconds;
            var noOpVsFirst = first.TotalSeconds / noOp.TotalSeconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {n} | {total / rawCreate.TotalSeconds:0} | {total / first.TotalSeconds:0} | {firstRatio:0%} | {total / rawAgain.TotalSeconds:0} | {total / noOp.TotalSeconds:0} | " +
                $"{rawAgain.TotalSeconds / noOp.TotalSeconds:0%} | {noOpVsFirst:0.0}x | {noOpWrites} | {total / change.TotalSeconds:0} | {rawAgain.TotalSeconds / change.TotalSeconds:0%} | {changeWrites} |"));
            if (noOpVsFirst < 3)
            {
                missed.Add(string.Create(CultureInfo.InvariantCulture, $"no-op >= 3x first apply at {n} clusters: {noOpVsFirst:0.0}x"));
            }

            if (n == 50 && firstRatio < 0.6)
            {
                missed.Add(string.Create(CultureInfo.InvariantCulture, $"first apply at 50 clusters >= 60% of raw: {firstRatio:0%}"));
            }
        }

        Console.WriteLine();
        if (counts.Contains(1) && await CompareWithKubectlAsync(simulator, repo, firstApplyOneCluster, noOpOneCluster, rawOneCluster, rounds, cancellationToken) is { } kubectlFirst && kubectlFirst < 10)
        {
            missed.Add(string.Create(CultureInfo.InvariantCulture, $">= 10x faster than kubectl on first apply: {kubectlFirst:0.0}x"));
        }

        using var self = Process.GetCurrentProcess();
        self.Refresh();
        var peak = self.PeakWorkingSet64 / (1024.0 * 1024);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"controller peak RSS: {peak:0} MiB (current {self.WorkingSet64 / (1024.0 * 1024):0} MiB, managed heap {GC.GetTotalMemory(false) / (1024.0 * 1024):0} MiB, GC committed {GC.GetGCMemoryInfo().TotalCommittedBytes / (1024.0 * 1024):0} MiB{RssBreakdown()})"));
        if (counts.Contains(50) && peak > 200)
        {
            missed.Add(string.Create(CultureInfo.InvariantCulture, $"controller RSS <= 200 MiB in the 50-cluster run: {peak:0} MiB"));
        }

        Console.WriteLine(missed.Count == 0 ? "targets: all met" : $"targets missed: {string.Join("; ", missed)}");
        repo.Dispose();
        TryDelete(work);
        return exit;
    }

    private static async Task<(TimeSpan Elapsed, bool Ok)> ReconcileAllAsync(
        Reconciler reconciler, IReadOnlyList<string> clusters, string fleet, Repository repo, string commit, ReconcileOptions options, CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        var results = await Task.WhenAll(clusters.Select(c => reconciler.ReconcileAsync(
            new ReconcileRequest(c, fleet, new GitSourceSpec(repo.Info.WorkingDirectory), "app") { Commit = commit, Options = options }, cancellationToken)));
        stopwatch.Stop();
        foreach (var failed in results.Where(r => !r.Succeeded).Take(3))
        {
            Console.Error.WriteLine($"reconcile failed: {failed}: {string.Join(" | ", failed.Errors.Take(3))}");
        }

        return (stopwatch.Elapsed, results.All(r => r.Succeeded));
    }

    private static async Task WipeAsync(SimulatorProcess simulator, IEnumerable<string> clusters, CancellationToken cancellationToken)
    {
        foreach (var name in clusters)
        {
            await simulator.WipeAsync(name, cancellationToken);
        }
    }

    /// <summary>kubectl apply --server-side of the same objects on one cluster, first and again (best of the rounds); returns how many times faster the first apply of the pipeline was.</summary>
    private static async Task<double?> CompareWithKubectlAsync(SimulatorProcess simulator, Repository repo, TimeSpan ours, TimeSpan oursNoOp, TimeSpan raw, int rounds, CancellationToken cancellationToken)
    {
        var kubectl = RenderOptions.DefaultKustomizeCommand();
        if (!Path.GetFileName(kubectl).StartsWith("kubectl", StringComparison.Ordinal))
        {
            Console.WriteLine("kubectl comparison skipped: no kubectl found");
            return null;
        }

        var dir = Path.Combine(repo.Info.WorkingDirectory, "app");
        string[] arguments = ["apply", "--server-side", "--field-manager", "kubectl-bench", "-f", dir, "--kubeconfig", simulator.Kubeconfig, "--context", "c1"];
        var kubectlFirst = TimeSpan.MaxValue;
        var kubectlNoOp = TimeSpan.MaxValue;
        for (var round = 0; round < rounds; round++)
        {
            await simulator.WipeAsync("c1", cancellationToken);
            var stopwatch = Stopwatch.StartNew();
            var first = await ExternalProcess.RunAsync(kubectl, arguments, timeout: TimeSpan.FromMinutes(5), cancellationToken: cancellationToken);
            kubectlFirst = Min(kubectlFirst, stopwatch.Elapsed);
            stopwatch.Restart();
            var second = await ExternalProcess.RunAsync(kubectl, arguments, timeout: TimeSpan.FromMinutes(5), cancellationToken: cancellationToken);
            kubectlNoOp = Min(kubectlNoOp, stopwatch.Elapsed);
            if (first.ExitCode != 0 || second.ExitCode != 0)
            {
                Console.WriteLine($"kubectl apply failed: {first.StandardError}{second.StandardError}");
                return null;
            }
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"one cluster, {ObjectsPerCluster} objects: kubectl apply --server-side {kubectlFirst.TotalSeconds:0.00}s first / {kubectlNoOp.TotalSeconds:0.00}s again; " +
            $"fleetfunctions {ours.TotalSeconds:0.000}s first / {oursNoOp.TotalSeconds:0.000}s no-op; ratio {kubectlFirst.TotalSeconds / ours.TotalSeconds:0.0}x first, {kubectlNoOp.TotalSeconds / oursNoOp.TotalSeconds:0.0}x no-op; " +
            $"raw SSA PATCHes alone {raw.TotalSeconds:0.000}s = {kubectlFirst.TotalSeconds / raw.TotalSeconds:0.0}x kubectl (the ceiling of the first-apply ratio on one cluster)"));
        return kubectlFirst.TotalSeconds / ours.TotalSeconds;
    }

    internal static Repository CreateRepository(string path)
    {
        Repository.Init(path);
        var repo = new Repository(path);
        repo.Refs.UpdateTarget("HEAD", "refs/heads/main");
        var app = Path.Combine(path, "app");
        Directory.CreateDirectory(app);
        var yaml = new StringBuilder();
        yaml.Append("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: bench\n");
        File.WriteAllText(Path.Combine(app, "namespace.yaml"), yaml.ToString());
        for (var i = 0; i < ObjectsPerCluster - 1; i++)
        {
            var text = (i % 4) switch
            {
                0 => $"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-{i}\n  namespace: bench\n  labels: {{app: app-{i}}}\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {{app: app-{i}}}\n  template:\n    metadata:\n      labels: {{app: app-{i}}}\n    spec:\n      containers:\n        - name: app\n          image: nginx:1.27\n          ports:\n            - containerPort: 80\n",
                1 => $"apiVersion: v1\nkind: Service\nmetadata:\n  name: svc-{i}\n  namespace: bench\nspec:\n  selector: {{app: app-{i - 1}}}\n  ports:\n    - port: 80\n      targetPort: 80\n",
                _ => $"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config-{i}\n  namespace: bench\ndata:\n  index: \"{i}\"\n  payload: \"{new string('x', 200)}\"\n",
            };
            File.WriteAllText(Path.Combine(app, $"object-{i:D3}.yaml"), text);
        }

        Commit(repo, "200 objects");
        return repo;
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    /// <summary>Linux: the resident memory by kind (anonymous, mapped files such as the runtime's libraries, shared memory such as JIT code).</summary>
    private static string RssBreakdown()
    {
        const string status = "/proc/self/status";
        if (!File.Exists(status))
        {
            return string.Empty;
        }

        var parts = File.ReadAllLines(status)
            .Where(l => l.StartsWith("RssAnon:", StringComparison.Ordinal) || l.StartsWith("RssFile:", StringComparison.Ordinal) || l.StartsWith("RssShmem:", StringComparison.Ordinal))
            .Select(l => l.Split(':', StringSplitOptions.TrimEntries))
            .Select(p => string.Create(CultureInfo.InvariantCulture, $"{p[0][3..].ToLowerInvariant()} {long.Parse(p[1].Split(' ')[0], CultureInfo.InvariantCulture) / 1024.0:0} MiB"));
        return "; now " + string.Join(", ", parts);
    }

    private static string ChangeOneObject(Repository repo, string run)
    {
        var file = Path.Combine(repo.Info.WorkingDirectory, "app", "object-002.yaml");
        File.WriteAllText(file, File.ReadAllText(file).Replace("index: \"2\"", $"index: \"2-run{run}\"", StringComparison.Ordinal));
        return Commit(repo, $"change one object (run {run})");
    }

    private static void ResetRepository(Repository repo, string commit) => repo.Reset(ResetMode.Hard, repo.Lookup<Commit>(commit));

    private static string Commit(Repository repo, string message)
    {
        Commands.Stage(repo, "*");
        var signature = new Signature("bench", "bench@example.com", DateTimeOffset.UtcNow);
        return repo.Commit(message, signature, signature).Sha;
    }

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
