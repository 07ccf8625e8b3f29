using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using FleetFunctions.Core.Policy;
using FleetFunctions.TestSupport;

namespace FleetFunctions.Benchmarks;

/// <summary>
/// <c>policy</c>: the pod-security (baseline + restricted) and best-practices policies of the conformance corpus over
/// generated pod controllers (Deployment, StatefulSet, DaemonSet, Job, CronJob), one object at a time.
/// Options: <c>--count N</c> (default 10000), <c>--seed S</c>, <c>--with-pss</c> and <c>--with-cel</c> (add our own
/// <c>validate.podSecurity</c> test policies, 4, or <c>validate.cel</c> ones, 3).
/// </summary>
internal sealed class PolicyBenchmark : IBenchmark
{
    public string Name => "policy";

    public string Description => "Kyverno pod-security + best-practices rules per pod controller: p50/p99 per object, objects/s (target p50 <= 0.2 ms)";

    public Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken cancellationToken)
    {
        var count = IntOption(args, "--count", 10_000);
        var seed = IntOption(args, "--seed", 42);
        var corpus = Path.Combine(RepoPaths.Shared, "conformance", "kyverno", "policies");
        var loadWatch = Stopwatch.StartNew();
        var own = Path.Combine(RepoPaths.Root, "tests", "Core.Tests", "testdata", "policy");
        var policies = PolicySet.LoadPaths(
        [
            Path.Combine(corpus, "pod-security", "baseline"),
            Path.Combine(corpus, "pod-security", "restricted"),
            Path.Combine(corpus, "best-practices"),
            .. args.Contains("--with-pss") ? [Path.Combine(own, "pod-security", "policy.yaml")] : Array.Empty<string>(),
            .. args.Contains("--with-cel") ? [Path.Combine(own, "cel", "policy.yaml")] : Array.Empty<string>(),
        ]);
        loadWatch.Stop();
        var objects = Generate(count, seed);

        // Warm-up: JIT, expression caches.
        for (var i = 0; i < Math.Min(500, objects.Count); i++)
        {
            PolicyEngine.Validate(policies, objects[i]);
        }

        var latencies = new double[objects.Count];
        var rules = 0L;
        var failures = 0L;
        var errors = 0L;
        var total = Stopwatch.StartNew();
        for (var i = 0; i < objects.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var start = Stopwatch.GetTimestamp();
            var report = PolicyEngine.Validate(policies, objects[i]);
            latencies[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            rules += report.Results.Count;
            failures += report.Results.Count(r => r.Status == RuleStatus.Fail);
            errors += report.Results.Count(r => r.Status == RuleStatus.Error);
        }

        total.Stop();
        var parallelWatch = Stopwatch.StartNew();
        Parallel.ForEach(objects, new ParallelOptions { CancellationToken = cancellationToken }, o => PolicyEngine.Validate(policies, o));
        parallelWatch.Stop();

        if (args.Contains("--by-policy"))
        {
            foreach (var policy in policies.Policies)
            {
                var one = policies.Only(policy.Name);
                var watch = Stopwatch.StartNew();
                foreach (var o in objects)
                {
                    PolicyEngine.Validate(one, o);
                }

                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {policy.Name,-40} {watch.Elapsed.TotalMilliseconds * 1000 / objects.Count,8:F1} µs/object"));
            }
        }

        Array.Sort(latencies);
        var p50 = Percentile(latencies, 0.50);
        var p99 = Percentile(latencies, 0.99);
        var perObject = (double)rules / objects.Count;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"policies: {policies.Policies.Count} (compiled in {loadWatch.Elapsed.TotalMilliseconds:F0} ms), rules evaluated per object: {perObject:F1}, failing rule results: {failures}, errors: {errors}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"objects: {objects.Count}  p50: {p50:F3} ms  p90: {Percentile(latencies, 0.90):F3} ms  p99: {p99:F3} ms  max: {latencies[^1]:F3} ms  mean: {latencies.Average():F3} ms"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"gen0/1/2 collections: {GC.CollectionCount(0)}/{GC.CollectionCount(1)}/{GC.CollectionCount(2)}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"throughput: {objects.Count / total.Elapsed.TotalSeconds:F0} objects/s on one thread, {objects.Count / parallelWatch.Elapsed.TotalSeconds:F0} objects/s on {Environment.ProcessorCount} cores"));
        var ok = p50 <= 0.2;
        Console.WriteLine(ok ? "target p50 <= 0.2 ms: met" : "target p50 <= 0.2 ms: MISSED");
        return Task.FromResult(ok ? 0 : 1);
    }

    private static double Percentile(double[] sorted, double q) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];

    private static int IntOption(IReadOnlyList<string> args, string name, int fallback)
    {
        for (var i = 0; i < args.Count - 1; i++)
        {
            if (args[i] == name && int.TryParse(args[i + 1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
            {
                return value;
            }
        }

        return fallback;
    }

    private static readonly string[] s_kinds = ["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"];
    private static readonly string[] s_images = ["bar.io/shop/api:1.4.2", "eu.foo.io/web:latest", "nginx", "bar.io/tools/sidecar@sha256:0123456789abcdef"];
    private static readonly string[] s_capabilities = ["NET_BIND_SERVICE", "SYS_ADMIN", "CHOWN"];

    /// <summary>Pod controllers with 1-3 containers, optional init container, volumes, probes, security contexts; about a third comply fully.</summary>
    internal static List<JsonObject> Generate(int count, int seed)
    {
        var random = new Random(seed);
        var result = new List<JsonObject>(count);
        for (var i = 0; i < count; i++)
        {
            var compliant = random.Next(3) == 0;
            var containers = new JsonArray();
            for (var c = 0; c < 1 + random.Next(3); c++)
            {
                containers.Add(Container($"c{c}", compliant, random));
            }

            var podSpec = new JsonObject
            {
                ["containers"] = containers,
                ["securityContext"] = new JsonObject { ["runAsNonRoot"] = true, ["seccompProfile"] = new JsonObject { ["type"] = "RuntimeDefault" } },
                ["volumes"] = new JsonArray(
                    new JsonObject { ["name"] = "config", ["configMap"] = new JsonObject { ["name"] = "cfg" } },
                    compliant || random.Next(4) > 0
                        ? new JsonObject { ["name"] = "scratch", ["emptyDir"] = new JsonObject() }
                        : new JsonObject { ["name"] = "host", ["hostPath"] = new JsonObject { ["path"] = "/var/run" } }),
            };
            if (random.Next(3) == 0)
            {
                podSpec["initContainers"] = new JsonArray(Container("init", compliant, random));
            }

            if (!compliant && random.Next(5) == 0)
            {
                podSpec["hostNetwork"] = true;
            }

            var template = new JsonObject
            {
                ["metadata"] = new JsonObject { ["labels"] = new JsonObject { ["app.kubernetes.io/name"] = $"app-{i}" } },
                ["spec"] = podSpec,
            };
            var kind = s_kinds[i % s_kinds.Length];
            var metadata = new JsonObject { ["name"] = $"app-{i}", ["namespace"] = compliant || random.Next(2) == 0 ? $"team-{i % 40}" : "default", ["labels"] = new JsonObject { ["app.kubernetes.io/name"] = $"app-{i}" } };
            JsonObject spec = kind switch
            {
                "CronJob" => new JsonObject { ["schedule"] = "*/5 * * * *", ["jobTemplate"] = new JsonObject { ["spec"] = new JsonObject { ["template"] = template } } },
                "Job" => new JsonObject { ["template"] = template },
                _ => new JsonObject { ["replicas"] = 3, ["selector"] = new JsonObject { ["matchLabels"] = new JsonObject { ["app"] = $"app-{i}" } }, ["template"] = template },
            };
            result.Add(new JsonObject
            {
                ["apiVersion"] = kind is "Job" or "CronJob" ? "batch/v1" : "apps/v1",
                ["kind"] = kind,
                ["metadata"] = metadata,
                ["spec"] = spec,
            });
        }

        return result;
    }

    private static JsonObject Container(string name, bool compliant, Random random)
    {
        var drop = compliant || random.Next(2) == 0 ? new JsonArray("ALL") : new JsonArray("NET_RAW");
        var capabilities = new JsonObject { ["drop"] = drop };
        if (!compliant && random.Next(3) == 0)
        {
            capabilities["add"] = new JsonArray(s_capabilities[random.Next(s_capabilities.Length)]);
        }

        var container = new JsonObject
        {
            ["name"] = name,
            ["image"] = compliant ? s_images[0] : s_images[random.Next(s_images.Length)],
            ["ports"] = new JsonArray(new JsonObject { ["containerPort"] = 8080, ["hostPort"] = compliant || random.Next(4) > 0 ? 0 : 80 }),
            ["resources"] = new JsonObject
            {
                ["requests"] = new JsonObject { ["cpu"] = "100m", ["memory"] = "128Mi" },
                ["limits"] = new JsonObject { ["memory"] = "256Mi" },
            },
            ["securityContext"] = new JsonObject
            {
                ["allowPrivilegeEscalation"] = !compliant && random.Next(4) == 0,
                ["privileged"] = false,
                ["runAsUser"] = compliant ? 1000 : random.Next(2) * 1000,
                ["capabilities"] = capabilities,
            },
        };
        if (compliant || random.Next(2) == 0)
        {
            container["livenessProbe"] = new JsonObject { ["httpGet"] = new JsonObject { ["path"] = "/healthz", ["port"] = 8080 } };
        }

        return container;
    }
}
