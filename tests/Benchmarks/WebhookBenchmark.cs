using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using FleetFunctions.Core.Secrets;
using FleetFunctions.Core.Webhooks;
using FleetFunctions.Functions.Hosting;
using FleetFunctions.Orchestrations.Rollouts;
using FleetFunctions.TestSupport;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace FleetFunctions.Benchmarks;

/// <summary>
/// The webhook accept path and the fleet listing of the real app (Kestrel on loopback, Azurite, a Git platform
/// repository with many fleets), measured from an HTTP client. The app runs in its custom-handler shape so that no
/// queue processing competes with the requests: what is measured is verify, record, queue, answer.
/// </summary>
internal sealed class WebhookBenchmark : IBenchmark
{
    public string Name => "webhook";

    public string Description => "signed GitHub push accept latency p50/p99 with 1,000 fleets, sequential and concurrent (p99 <= 50 ms); GET /api/fleets with 1,000 fleets vs one state read per fleet. Options: [fleets=1000] [requests=1000] [concurrency=8] [fleets-per-source=10]";

    public async Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken cancellationToken)
    {
        var fleets = args.Count > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1000;
        var requests = args.Count > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1000;
        var concurrency = args.Count > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 8;
        var fleetsPerSource = args.Count > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 10;
        var sources = Math.Max(1, fleets / fleetsPerSource);
        const int clusters = 50;

        await using var server = Environment.GetEnvironmentVariable(AzuriteFixture.ConnectionStringVariable) is { Length: > 0 } ? null : await AzuriteServer.StartAsync(cancellationToken: cancellationToken);
        var storage = server?.ConnectionString ?? Environment.GetEnvironmentVariable(AzuriteFixture.ConnectionStringVariable)!;
        using var platformRepo = GitTestRepo.Create();
        platformRepo.Write("platform.yaml", PlatformYaml(sources, fleets, clusters));
        platformRepo.Commit("platform");

        var secrets = Enumerable.Range(0, sources).ToDictionary(i => $"hook-{i}", i => $"secret-{i}");
        var fleetState = new FleetStateStore(storage, AzuriteFixture.NewName("fleets"));
        var deliveries = new DeliveryStore(storage, new DeliveryStoreOptions(AzuriteFixture.NewName("deliveries"), AzuriteFixture.NewName("deliveries")));
        var options = new AppOptions
        {
            StorageConnectionString = storage,
            PlatformRepository = platformRepo.Url,
            TaskHub = AzuriteFixture.NewName("bench"),
            CacheDirectory = Path.Combine(platformRepo.Root, "app-cache"),
            CustomHandlerPort = FreePort.Next(),
        };
        await using var app = AppHost.Build(options, services =>
        {
            services.AddSingleton<ISecretStore>(new InMemorySecretStore(secrets));
            services.AddSingleton(fleetState);
            services.AddSingleton(deliveries);
        }, ["--Logging:LogLevel:Default=Warning"]);
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        using var client = new HttpClient { BaseAddress = new Uri(address + "/") };

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"platform: {fleets} fleets over {sources} GitSources ({fleets / sources} fleets each), {clusters} clusters; {requests} pushes per run, concurrency {concurrency}"));
        var random = new Random(42);
        var sequence = 0;
        HttpRequestMessage NextPush()
        {
            var n = Interlocked.Increment(ref sequence);
            int source;
            lock (random)
            {
                source = random.Next(sources);
            }

            return Push($"bench-{n}", source, secrets[$"hook-{source}"], Sha(n));
        }

        // Warm up: the platform snapshot, connections, JIT.
        await MeasureAsync(client, NextPush, 50, 4, HttpStatusCode.Accepted, cancellationToken);
        var health = await MeasureAsync(client, () => new HttpRequestMessage(HttpMethod.Get, "api/healthz"), requests, 1, HttpStatusCode.OK, cancellationToken);
        var floor = await StorageFloorAsync(storage, requests, 1, cancellationToken);
        var floorConcurrent = await StorageFloorAsync(storage, requests, concurrency, cancellationToken);
        var sequential = await MeasureAsync(client, NextPush, requests, 1, HttpStatusCode.Accepted, cancellationToken);
        var concurrent = await MeasureAsync(client, NextPush, requests, concurrency, HttpStatusCode.Accepted, cancellationToken);

        Console.WriteLine(Line("GET /api/healthz (baseline: HTTP round trip)", health, null));
        Console.WriteLine(Line("storage floor (table insert + queue send)", floor, null));
        Console.WriteLine(Line($"storage floor, concurrency {concurrency}", floorConcurrent, null));
        Console.WriteLine(Line("webhook accept, sequential", sequential, 50));
        Console.WriteLine(Line($"webhook accept, concurrency {concurrency}", concurrent, 50));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  ratios to the storage floor: sequential p50 {sequential.P50 / floor.P50:F2}x, p99 {sequential.P99 / floor.P99:F2}x; concurrency {concurrency} p50 {concurrent.P50 / floorConcurrent.P50:F2}x, p99 {concurrent.P99 / floorConcurrent.P99:F2}x; concurrent throughput {concurrent.PerSecond:F0} deliveries/s"));

        // GET /api/fleets: every fleet with a state row, as after a day of rollouts.
        await Parallel.ForEachAsync(Enumerable.Range(0, fleets), new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken }, async (i, ct) =>
            await fleetState.RecordAsync(new RecordInput(FleetName(i), $"{FleetName(i)}-{Sha(i)}", Sha(i), RolloutPhase.Succeeded, "rolled out"), DateTimeOffset.UtcNow, ct));
        await MeasureAsync(client, () => new HttpRequestMessage(HttpMethod.Get, "api/fleets"), 3, 1, HttpStatusCode.OK, cancellationToken);
        var listing = await MeasureAsync(client, () => new HttpRequestMessage(HttpMethod.Get, "api/fleets"), 20, 1, HttpStatusCode.OK, cancellationToken);
        var names = Enumerable.Range(0, fleets).Select(FleetName).ToList();
        var batched = await TimeAsync(5, async () => await fleetState.GetManyAsync(names, cancellationToken));
        var perFleet = await TimeAsync(3, async () =>
        {
            foreach (var name in names)
            {
                await fleetState.GetAsync(name, cancellationToken);
            }
        });
        Console.WriteLine(Line($"GET /api/fleets ({fleets} fleets, all with state)", listing, null));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  state reads for {fleets} fleets: one query {Median(batched),7:F1} ms vs one read per fleet (before) {Median(perFleet),7:F1} ms: {Median(perFleet) / Median(batched):F1}x faster"));

        await app.StopAsync(cancellationToken);
        return sequential.P99 <= 50 && concurrent.P99 <= 50 ? 0 : 1;
    }

    private static string FleetName(int i) => $"fleet-{i:D4}";

    private static string Sha(int n) => Convert.ToHexStringLower(System.Security.Cryptography.SHA1.HashData(BitConverter.GetBytes(n)));

    private static string PlatformYaml(int sources, int fleets, int clusters)
    {
        var yaml = new System.Text.StringBuilder();
        for (var c = 0; c < clusters; c++)
        {
            yaml.Append(CultureInfo.InvariantCulture, $"apiVersion: fleetfunctions.io/v1alpha1\nkind: Cluster\nmetadata:\n  name: cluster-{c:D3}\n  labels: {{env: prod, shard: s{c % 10}}}\nspec:\n  server: https://cluster-{c:D3}.example.com\n  region: {(c % 2 == 0 ? "eu" : "us")}\n---\n");
        }

        for (var s = 0; s < sources; s++)
        {
            yaml.Append(CultureInfo.InvariantCulture, $"apiVersion: fleetfunctions.io/v1alpha1\nkind: GitSource\nmetadata: {{name: src-{s:D3}}}\nspec:\n  url: https://git.example.com/org/app-{s:D3}.git\n  branch: main\n  webhookSecretRef: {{name: hook-{s}}}\n---\n");
        }

        for (var f = 0; f < fleets; f++)
        {
            yaml.Append(CultureInfo.InvariantCulture, $"apiVersion: fleetfunctions.io/v1alpha1\nkind: ClusterFleet\nmetadata: {{name: {FleetName(f)}}}\nspec:\n  source: {{gitSource: src-{f % sources:D3}, path: apps/{FleetName(f)}}}\n  clusterSelector:\n    matchLabels: {{shard: s{f % 10}}}\n---\n");
        }

        return yaml.ToString();
    }

    private static HttpRequestMessage Push(string deliveryId, int source, string secret, string after)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(new
        {
            @ref = "refs/heads/main",
            before = new string('0', 40),
            after,
            repository = new { clone_url = $"https://git.example.com/org/app-{source:D3}.git", full_name = $"org/app-{source:D3}" },
        });
        var request = new HttpRequestMessage(HttpMethod.Post, "api/webhooks/github") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Add("X-GitHub-Event", "push");
        request.Headers.Add("X-GitHub-Delivery", deliveryId);
        request.Headers.Add("X-Hub-Signature-256", WebhookSignature.Sign(WebhookProvider.GitHub, secret, body));
        return request;
    }

    /// <summary>Sends <paramref name="count"/> requests, <paramref name="concurrency"/> at a time; latency is measured per request from the client.</summary>
    private static async Task<Latencies> MeasureAsync(HttpClient client, Func<HttpRequestMessage> next, int count, int concurrency, HttpStatusCode expected, CancellationToken cancellationToken)
    {
        var samples = new double[count];
        var total = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken }, async (i, ct) =>
        {
            using var request = next();
            var stopwatch = Stopwatch.StartNew();
            using var response = await client.SendAsync(request, ct);
            var body = await response.Content.ReadAsStringAsync(ct);
            samples[i] = stopwatch.Elapsed.TotalMilliseconds;
            if (response.StatusCode != expected)
            {
                throw new InvalidOperationException($"{request.Method} {request.RequestUri} answered {(int)response.StatusCode}, expected {(int)expected}: {body}");
            }
        });
        return new Latencies(samples, total.Elapsed);
    }

    /// <summary>The storage work of one accepted delivery done directly: record (table insert), then queue (send).</summary>
    private static async Task<Latencies> StorageFloorAsync(string storage, int count, int concurrency, CancellationToken cancellationToken)
    {
        var table = new TableClient(storage, AzuriteFixture.NewName("floor"));
        var queue = new QueueClient(storage, AzuriteFixture.NewName("floor"));
        await table.CreateIfNotExistsAsync(cancellationToken);
        await queue.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        var samples = new double[count];
        var total = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken }, async (i, ct) =>
        {
            var stopwatch = Stopwatch.StartNew();
            await table.AddEntityAsync(new TableEntity("GitHub", $"floor-{i}") { ["Status"] = "Received", ["Rollouts"] = new string('x', 600) }, ct);
            await queue.SendMessageAsync($"{{\"provider\":\"GitHub\",\"deliveryId\":\"floor-{i}\"}}", ct);
            samples[i] = stopwatch.Elapsed.TotalMilliseconds;
        });
        return new Latencies(samples, total.Elapsed);
    }

    private static async Task<List<double>> TimeAsync(int runs, Func<Task> action)
    {
        var times = new List<double>();
        for (var i = 0; i < runs; i++)
        {
            var stopwatch = Stopwatch.StartNew();
            await action();
            times.Add(stopwatch.Elapsed.TotalMilliseconds);
        }

        return times;
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    private static string Line(string what, Latencies l, double? p99Target)
    {
        var verdict = p99Target is { } t ? string.Create(CultureInfo.InvariantCulture, $"  target p99 <= {t:F0} ms  {(l.P99 <= t ? "MET" : "MISSED")}") : string.Empty;
        return string.Create(CultureInfo.InvariantCulture,
            $"{what,-50} p50 {l.P50,6:F1} ms  p90 {l.P90,6:F1} ms  p99 {l.P99,6:F1} ms  max {l.Max,6:F1} ms  ({l.Count} requests, {l.PerSecond:F0}/s){verdict}");
    }

    private sealed class Latencies(double[] samples, TimeSpan elapsed)
    {
        private readonly double[] _sorted = [.. samples.Order()];

        public int Count => _sorted.Length;

        public double P50 => Percentile(0.50);

        public double P90 => Percentile(0.90);

        public double P99 => Percentile(0.99);

        public double Max => _sorted[^1];

        public double PerSecond => Count / elapsed.TotalSeconds;

        private double Percentile(double p) => _sorted[Math.Clamp((int)Math.Ceiling(p * Count) - 1, 0, Count - 1)];
    }
}
