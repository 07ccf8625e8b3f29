using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using FleetFunctions.Core.Clusters;
using FleetFunctions.Core.Fleet;
using FleetFunctions.Core.Inventory;
using FleetFunctions.Core.Reconcile;
using FleetFunctions.Core.Rendering;
using FleetFunctions.Core.Secrets;
using FleetFunctions.Core.Sources;
using FleetFunctions.Orchestrations.Engine;
using FleetFunctions.Orchestrations.Engine.Client;
using FleetFunctions.Orchestrations.Engine.Worker;
using FleetFunctions.Orchestrations.Rollouts;
using FleetFunctions.TestSupport;
using LibGit2Sharp;

namespace FleetFunctions.Benchmarks;

/// <summary>
/// A Progressive rollout of a realistic app (a few dozen objects) to 50 simulated clusters in 5 waves with no soak,
/// end to end through the durable engine (in this process, on Azurite) with the simulator in its own process.
/// Orchestration overhead = (end-to-end − reconcile time on the critical path) / reconcile time on the critical path,
/// where the critical path is, per wave, the longest reconcile activity (measured inside the activity), summed.
/// </summary>
internal sealed class RolloutBenchmark : IBenchmark
{
    private const int Waves = 5;
    private const double TargetOverhead = 0.10;

    public string Name => "rollout";

    public string Description => "50-cluster Progressive rollout (5 waves, no soak) end to end; orchestration overhead vs reconcile time on the critical path (<= 10%)";

    /// <param name="args">[clusters] [runs] [--timeline]: defaults 50 clusters, 3 runs of each kind; --timeline prints each run's episodes.</param>
    public async Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken cancellationToken)
    {
        var timeline = args.Contains("--timeline");
        var numbers = args.Where(a => a != "--timeline").ToList();
        var clusterCount = numbers.Count > 0 ? int.Parse(numbers[0], CultureInfo.InvariantCulture) : 50;
        var runs = numbers.Count > 1 ? int.Parse(numbers[1], CultureInfo.InvariantCulture) : 3;
        if (clusterCount < Waves)
        {
            Console.Error.WriteLine($"need at least {Waves} clusters (one per wave)");
            return 2;
        }

        var work = Path.Combine(Path.GetTempPath(), $"ff-bench-rollout-{Guid.NewGuid().ToString("N")[..8]}");
        Directory.CreateDirectory(work);
        var kubeconfig = Path.Combine(work, "kubeconfig");
        var warmupCluster = $"c{clusterCount + 1}";
        await using var simulator = await SimulatorProcess.StartAsync(clusterCount + 1, kubeconfig, cancellationToken);
        await using var azurite = Environment.GetEnvironmentVariable(AzuriteFixture.ConnectionStringVariable) is { Length: > 0 } ? null : await AzuriteServer.StartAsync(cancellationToken: cancellationToken);
        var storage = azurite?.ConnectionString ?? Environment.GetEnvironmentVariable(AzuriteFixture.ConnectionStringVariable)!;

        using var repo = App.Create(Path.Combine(work, "app"));
        var platform = new StaticPlatformProvider(PlatformLoader.Load([("platform.yaml", PlatformYaml(clusterCount, kubeconfig, repo.Info.WorkingDirectory))]));
        var secrets = new InMemorySecretStore(new Dictionary<string, string>());
        var git = new Core.Sources.GitRepositories(new GitCacheOptions { CacheDirectory = Path.Combine(work, "git") });
        using var clients = new ClusterClientFactory(new PlatformClusterCredentials(platform, secrets));
        var reconciler = new Reconciler(
            git,
            new ManifestRenderer(new RenderOptions { CacheDirectory = Path.Combine(work, "rendered") }),
            clients,
            new InventoryStore(storage, new InventoryOptions { TableName = AzuriteFixture.NewName("benchinv") }),
            new ReconcileHistoryStore(storage, AzuriteFixture.NewName("benchhist")));
        var timed = new TimedReconciler(new PipelineClusterReconciler(reconciler, secrets));

        var hub = new DurableTaskHub(new DurableTaskHubOptions(storage, AzuriteFixture.NewName("rollout")));
        await hub.CreateIfNotExistsAsync(cancellationToken);
        var registry = new DurableTaskRegistry();
        var client = new DurableClient(hub);
        new RolloutActivities(platform, timed, new FleetStateStore(storage, AzuriteFixture.NewName("benchfleets")), new RolloutAncestry(git, secrets), client)
            .Register(registry).AddRolloutOrchestrator();
        AddEngineFloor(registry, clusterCount / Waves);
        var completions = new CompletionRecorder();
        await using var worker = new DurableWorker(hub, registry, loggerFactory: completions);
        await worker.StartAsync(cancellationToken);

        var exit = 0;
        try
        {
            // Warm-up: JIT, connections, tables, Git fetch and render on a cluster that is not measured.
            for (var i = 0; i < 2; i++)
            {
                await RolloutAsync(client, completions, timed, "warmup", App.Change(repo, $"warm-up {i}"), cancellationToken);
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"simulator: separate process (pid {simulator.ProcessId}), {clusterCount} clusters + 1 warm-up, ready delay 0; app: {App.ObjectCount} objects (plain YAML); engine: this process, one worker, Azurite"));
            Console.WriteLine($"fleet: Progressive, {Waves} waves of {clusterCount / Waves}, soak 0, maxParallel {clusterCount / Waves}; machine: {Environment.ProcessorCount} cores");
            Console.WriteLine();
            await FloorAsync(client, completions, cancellationToken);
            Console.WriteLine("| run | end to end (ms) | reconcile critical path (ms) | overhead | overhead (ms) | engine floor (ms) | before wave 1 | between waves | inside waves | after last wave |");
            Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            var results = new Dictionary<string, List<RunResult>> { ["first apply"] = [], ["update"] = [] };
            for (var run = 1; run <= runs; run++)
            {
                // First apply: every object created on empty clusters.
                for (var c = 1; c <= clusterCount; c++)
                {
                    await simulator.WipeAsync($"c{c}", cancellationToken);
                }

                var floor = await FloorAsync(client, completions, cancellationToken);
                var first = await RolloutAsync(client, completions, timed, "fleet", App.Change(repo, $"first apply {run}"), cancellationToken) with { Floor = floor };
                results["first apply"].Add(first);
                Report($"first apply {run}", first);

                // Update: one object changed on every cluster.
                var update = await RolloutAsync(client, completions, timed, "fleet", App.Change(repo, $"update {run}"), cancellationToken) with { Floor = await FloorAsync(client, completions, cancellationToken) };
                results["update"].Add(update);
                Report($"update {run}", update);
                if (timeline)
                {
                    await PrintTimelineAsync(client, registry, timed, first, cancellationToken);
                    await PrintTimelineAsync(client, registry, timed, update, cancellationToken);
                }
                if (!first.Succeeded || !update.Succeeded)
                {
                    exit = 1;
                }
            }

            Console.WriteLine();
            foreach (var (kind, list) in results)
            {
                var median = Median(list.Select(r => r.Overhead));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{kind}: median overhead {median:P1} (runs: {string.Join(", ", list.Select(r => r.Overhead.ToString("P1", CultureInfo.InvariantCulture)))})  target <= {TargetOverhead:P0}  {(median <= TargetOverhead ? "met" : "MISSED")}; " +
                    $"median {Median(list.Select(r => (r.EndToEnd - r.CriticalPath).TotalMilliseconds)):0} ms over a {Median(list.Select(r => r.CriticalPath.TotalMilliseconds)):0} ms critical path, engine floor of the same shape {Median(list.Select(r => r.Floor.TotalMilliseconds)):0} ms"));
            }
        }
        finally
        {
            await worker.StopAsync(CancellationToken.None);
            await hub.DeleteAsync(CancellationToken.None);
            TryDelete(work);
        }

        return exit;
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }

    private static void Report(string run, RunResult r) => Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"| {run} | {r.EndToEnd.TotalMilliseconds:0} | {r.CriticalPath.TotalMilliseconds:0} | {r.Overhead:P1} | {(r.EndToEnd - r.CriticalPath).TotalMilliseconds:0} | {r.Floor.TotalMilliseconds:0} | {r.BeforeFirstWave.TotalMilliseconds:0} | {r.BetweenWaves.TotalMilliseconds:0} | {r.InsideWaves.TotalMilliseconds:0} | {r.AfterLastWave.TotalMilliseconds:0} |{(r.Succeeded ? string.Empty : " FAILED: " + r.Message)}"));

    private static async Task<RunResult> RolloutAsync(DurableClient client, CompletionRecorder completions, TimedReconciler timed, string fleet, string commit, CancellationToken cancellationToken)
    {
        var id = RolloutInstanceId.For(fleet, commit);
        var startedUtc = DateTime.UtcNow;
        var started = Stopwatch.GetTimestamp();
        await RolloutOrchestrator.StartAsync(client, new RolloutRequest(fleet, commit), id, cancellationToken: cancellationToken);
        var (metadata, ended) = await WaitForCompletionAsync(client, completions, id, getInputsAndOutputs: true, cancellationToken);
        var status = metadata.ReadCustomStatusAs<RolloutStatus>();
        var outcome = metadata.ReadOutputAs<RolloutOutcome>();
        var succeeded = metadata.RuntimeStatus == OrchestrationRuntimeStatus.Completed && outcome?.Phase == RolloutPhase.Succeeded;

        // Per wave: when its first activity started, when its last ended, and its longest activity.
        var spans = (status?.Waves ?? []).Select(w => w.Clusters.Select(c => timed.Get(commit, c)).ToList()).ToList();
        var critical = TimeSpan.Zero;
        var inside = TimeSpan.Zero;
        var between = TimeSpan.Zero;
        for (var w = 0; w < spans.Count; w++)
        {
            var longest = spans[w].Max(s => s.Duration);
            var waveStart = spans[w].Min(s => s.Start);
            var waveEnd = spans[w].Max(s => s.End);
            critical += longest;
            inside += Stopwatch.GetElapsedTime(waveStart, waveEnd) - longest;
            if (w > 0)
            {
                between += Stopwatch.GetElapsedTime(spans[w - 1].Max(s => s.End), waveStart);
            }
        }

        var endToEnd = Stopwatch.GetElapsedTime(started, ended);
        return new RunResult(
            id,
            commit,
            startedUtc,
            started,
            succeeded,
            outcome?.Reason ?? metadata.FailureDetails?.ErrorMessage ?? metadata.RuntimeStatus.ToString(),
            endToEnd,
            critical,
            spans.Count == 0 ? TimeSpan.Zero : Stopwatch.GetElapsedTime(started, spans[0].Min(s => s.Start)),
            between,
            inside,
            spans.Count == 0 ? TimeSpan.Zero : Stopwatch.GetElapsedTime(spans[^1].Max(s => s.End), ended));
    }

    /// <summary>
    /// The engine's own cost for a rollout's shape, measured in the same run: an orchestration with the same steps
    /// (plan-and-claim, one fan-out per wave, record) whose activities do nothing.
    /// </summary>
    private static void AddEngineFloor(DurableTaskRegistry registry, int perWave) => registry
        .AddActivity<int, int>("Nothing", x => x)
        .AddOrchestrator<int, int>("RolloutShape", async (context, waves) =>
        {
            var total = await context.CallActivityAsync<int>("Nothing", 1);
            for (var w = 0; w < waves; w++)
            {
                total += (await Task.WhenAll(Enumerable.Range(0, perWave).Select(i => context.CallActivityAsync<int>("Nothing", i)))).Sum();
            }

            return total + await context.CallActivityAsync<int>("Nothing", 1);
        });

    private static async Task<TimeSpan> FloorAsync(DurableClient client, CompletionRecorder completions, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var id = await client.ScheduleNewOrchestrationInstanceAsync("RolloutShape", Waves, cancellationToken: cancellationToken);
        var (_, ended) = await WaitForCompletionAsync(client, completions, id, getInputsAndOutputs: false, cancellationToken);
        return Stopwatch.GetElapsedTime(started, ended);
    }

    /// <summary>
    /// Waits until the instance is complete; returns it and the <see cref="Stopwatch"/> timestamp its terminal commit
    /// returned (the client's polling only says when to look, so its interval does not enter the figures).
    /// </summary>
    private static async Task<(OrchestrationMetadata Metadata, long Ended)> WaitForCompletionAsync(
        DurableClient client, CompletionRecorder completions, string id, bool getInputsAndOutputs, CancellationToken cancellationToken)
    {
        var metadata = await client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs, cancellationToken);
        return (metadata, await completions.CompletedAtAsync(id, TimeSpan.FromSeconds(10), cancellationToken));
    }

    /// <summary>Where a run's time went: each orchestration episode (from its history) and each reconcile activity, in ms from the start.</summary>
    private static async Task PrintTimelineAsync(DurableClient client, DurableTaskRegistry registry, TimedReconciler timed, RunResult run, CancellationToken cancellationToken)
    {
        var history = (await client.GetInstanceAsync(run.InstanceId, getInputsAndOutputs: true, includeHistory: true, cancellationToken))!.History!;
        var names = history.Where(e => e.IsSchedulingEvent).ToDictionary(e => e.EventId, e => e.Name);
        var lines = new List<(double At, string Text)>();
        var episode = new List<string>();
        var episodeAt = 0.0;
        foreach (var e in history)
        {
            switch (e.EventType)
            {
                case Orchestrations.Engine.History.HistoryEventType.OrchestratorStarted:
                    episodeAt = (e.Timestamp - run.StartedUtc).TotalMilliseconds;
                    episode.Clear();
                    break;
                case Orchestrations.Engine.History.HistoryEventType.OrchestratorCompleted:
                    lines.Add((episodeAt, "episode: " + string.Join(", ", episode)));
                    break;
                case Orchestrations.Engine.History.HistoryEventType.TaskScheduled:
                    episode.Add("schedule " + e.Name);
                    break;
                default:
                    episode.Add(e.IsCompletionEvent ? "done " + names.GetValueOrDefault(e.TaskScheduledId) : e.EventType.ToString());
                    break;
            }
        }

        foreach (var (cluster, span) in timed.All(run.Commit))
        {
            lines.Add((Stopwatch.GetElapsedTime(run.Started, span.Start).TotalMilliseconds, $"reconcile {cluster} runs {span.Duration.TotalMilliseconds:0} ms"));
        }

        // What one episode pays to replay the orchestrator over the whole history (the last episodes of the run do this).
        var past = history.TakeWhile(e => e.EventType != Orchestrations.Engine.History.HistoryEventType.ExecutionCompleted).ToList();
        var replays = new List<double>();
        for (var i = 0; i < 20; i++)
        {
            var replayStart = Stopwatch.GetTimestamp();
            Orchestrations.Engine.Replay.OrchestrationExecutor.Execute(run.InstanceId, past, [], registry, JsonDataConverter.Default, v => v, out _);
            replays.Add(Stopwatch.GetElapsedTime(replayStart).TotalMilliseconds);
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"timeline of {run.InstanceId} (replaying its {past.Count} history events takes {replays.Order().ElementAt(10):0.00} ms):"));
        foreach (var (at, text) in lines.OrderBy(l => l.At))
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {at,7:0.0} ms  {text}"));
        }
    }

    private static string PlatformYaml(int clusters, string kubeconfig, string appRepository)
    {
        var yaml = new StringBuilder();
        for (var i = 1; i <= clusters + 1; i++)
        {
            var role = i <= clusters ? "fleet" : "warmup";
            yaml.Append(CultureInfo.InvariantCulture, $$"""
                apiVersion: fleetfunctions.io/v1alpha1
                kind: Cluster
                metadata:
                  name: c{{i}}
                  labels: {role: {{role}}}
                spec:
                  kubeconfig: {path: "{{kubeconfig}}", context: c{{i}}}
                  region: r{{i % 3}}
                ---

                """);
        }

        var perWave = clusters / Waves;
        var waves = string.Join(", ", Enumerable.Repeat($"{{count: {perWave}}}", Waves - 1));
        yaml.Append(CultureInfo.InvariantCulture, $$"""
            apiVersion: fleetfunctions.io/v1alpha1
            kind: GitSource
            metadata: {name: apps}
            spec: {url: "{{appRepository}}", branch: main}
            ---
            apiVersion: fleetfunctions.io/v1alpha1
            kind: ClusterFleet
            metadata: {name: fleet}
            spec:
              source: {gitSource: apps, path: app}
              clusterSelector:
                matchLabels: {role: fleet}
              healthTimeout: 2m
              rollout:
                strategy: Progressive
                maxParallel: {{perWave}}
                progressive:
                  waves: [{{waves}}]
                  soak: 0s
            ---
            apiVersion: fleetfunctions.io/v1alpha1
            kind: ClusterFleet
            metadata: {name: warmup}
            spec:
              source: {gitSource: apps, path: app}
              clusterSelector:
                matchLabels: {role: warmup}
              rollout: {strategy: AllAtOnce}

            """);
        return yaml.ToString();
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

    private sealed record RunResult(
        string InstanceId,
        string Commit,
        DateTime StartedUtc,
        long Started,
        bool Succeeded,
        string Message,
        TimeSpan EndToEnd,
        TimeSpan CriticalPath,
        TimeSpan BeforeFirstWave,
        TimeSpan BetweenWaves,
        TimeSpan InsideWaves,
        TimeSpan AfterLastWave)
    {
        /// <summary>End to end of the engine-only orchestration of the same shape, run just before.</summary>
        public TimeSpan Floor { get; init; }

        public double Overhead => CriticalPath > TimeSpan.Zero ? (EndToEnd - CriticalPath) / CriticalPath : double.NaN;
    }

    /// <summary>When a reconcile activity ran (Stopwatch timestamps).</summary>
    private readonly record struct ActivitySpan(long Start, long End)
    {
        public TimeSpan Duration => Stopwatch.GetElapsedTime(Start, End);
    }

    /// <summary>Times each reconcile inside the activity; the last run of a (commit, cluster) counts.</summary>
    private sealed class TimedReconciler(IClusterReconciler inner) : IClusterReconciler
    {
        private readonly ConcurrentDictionary<(string Commit, string Cluster), ActivitySpan> _spans = new();

        public ActivitySpan Get(string commit, string cluster) =>
            _spans.TryGetValue((commit, cluster), out var span) ? span : throw new InvalidOperationException($"{cluster}: no reconcile of {commit} was timed");

        public IEnumerable<(string Cluster, ActivitySpan Span)> All(string commit) =>
            _spans.Where(s => s.Key.Commit == commit).Select(s => (s.Key.Cluster, s.Value));

        public async Task<ClusterReconcileSummary> ReconcileAsync(ClusterReconcileInput input, CancellationToken cancellationToken = default)
        {
            var start = Stopwatch.GetTimestamp();
            var summary = await inner.ReconcileAsync(input, cancellationToken);
            _spans[(input.Commit, input.Cluster.Name)] = new ActivitySpan(start, Stopwatch.GetTimestamp());
            if (!summary.Succeeded)
            {
                Console.Error.WriteLine($"reconcile failed: {summary.Message}");
            }

            return summary;
        }
    }

    /// <summary>The app: a namespace with RBAC, eight services (Deployment, Service, two ConfigMaps each).</summary>
    private static class App
    {
        private const int Services = 8;

        public static int ObjectCount => 4 + (Services * 4);

        public static Repository Create(string path)
        {
            Repository.Init(path);
            var repo = new Repository(path);
            repo.Refs.UpdateTarget("HEAD", "refs/heads/main");
            var app = Path.Combine(path, "app");
            Directory.CreateDirectory(app);
            File.WriteAllText(Path.Combine(app, "namespace.yaml"), """
                apiVersion: v1
                kind: Namespace
                metadata: {name: shop, labels: {team: shop}}
                ---
                apiVersion: v1
                kind: ServiceAccount
                metadata: {name: shop, namespace: shop}
                ---
                apiVersion: rbac.authorization.k8s.io/v1
                kind: Role
                metadata: {name: shop-reader, namespace: shop}
                rules:
                  - apiGroups: [""]
                    resources: [configmaps, services]
                    verbs: [get, list, watch]
                ---
                apiVersion: rbac.authorization.k8s.io/v1
                kind: RoleBinding
                metadata: {name: shop-reader, namespace: shop}
                roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: shop-reader}
                subjects:
                  - {kind: ServiceAccount, name: shop, namespace: shop}
                """);
            foreach (var name in new[] { "frontend", "cart", "checkout", "catalog", "payment", "shipping", "email", "recommendation" }.Take(Services))
            {
                File.WriteAllText(Path.Combine(app, $"{name}.yaml"), """
                    apiVersion: apps/v1
                    kind: Deployment
                    metadata: {name: NAME, namespace: shop, labels: {app: NAME}}
                    spec:
                      replicas: 2
                      selector: {matchLabels: {app: NAME}}
                      template:
                        metadata: {labels: {app: NAME}}
                        spec:
                          serviceAccountName: shop
                          containers:
                            - name: NAME
                              image: registry.example.com/shop/NAME:1.4.2
                              ports: [{containerPort: 8080, name: http}]
                              envFrom: [{configMapRef: {name: NAME-config}}]
                              resources: {requests: {cpu: 100m, memory: 128Mi}, limits: {memory: 256Mi}}
                              readinessProbe: {httpGet: {path: /healthz, port: http}, periodSeconds: 5}
                    ---
                    apiVersion: v1
                    kind: Service
                    metadata: {name: NAME, namespace: shop, labels: {app: NAME}}
                    spec:
                      selector: {app: NAME}
                      ports: [{name: http, port: 80, targetPort: http}]
                    ---
                    apiVersion: v1
                    kind: ConfigMap
                    metadata: {name: NAME-config, namespace: shop}
                    data: {LOG_LEVEL: info, UPSTREAM_TIMEOUT: 2s, FEATURE_FLAGS: "search,recommendations"}
                    ---
                    apiVersion: v1
                    kind: ConfigMap
                    metadata: {name: NAME-settings, namespace: shop}
                    data: {revision: "0", settings.json: '{"retries": 3, "cache": true}'}
                    """.Replace("NAME", name, StringComparison.Ordinal));
            }

            Commit(repo, $"{ObjectCount} objects");
            return repo;
        }

        /// <summary>Changes one ConfigMap (so the commit differs) and commits.</summary>
        public static string Change(Repository repo, string label)
        {
            var file = Path.Combine(repo.Info.WorkingDirectory, "app", "frontend.yaml");
            var text = File.ReadAllText(file);
            var at = text.IndexOf("revision: \"", StringComparison.Ordinal) + "revision: \"".Length;
            var end = text.IndexOf('"', at);
            File.WriteAllText(file, string.Concat(text.AsSpan(0, at), label, text.AsSpan(end)));
            return Commit(repo, label);
        }

        private static string Commit(Repository repo, string message)
        {
            Commands.Stage(repo, "*");
            var signature = new Signature("bench", "bench@example.com", DateTimeOffset.UtcNow);
            return repo.Commit(message, signature, signature).Sha;
        }
    }
}
