using System.Diagnostics;
using System.Globalization;
using FleetFunctions.Orchestrations.Engine;
using FleetFunctions.Orchestrations.Engine.Client;
using FleetFunctions.Orchestrations.Engine.Worker;
using FleetFunctions.TestSupport;

namespace FleetFunctions.Benchmarks;

/// <summary>The durable engine on Azurite: fan-out latency, activity throughput, chain step latency.</summary>
internal sealed class EngineBenchmark : IBenchmark
{
    public string Name => "engine";

    public string Description => "durable engine on Azurite: 50-way fan-out latency (<= 1 s), activities/s with 100 orchestrations (>= 500/s), 20-step chain per-step latency (<= 20 ms)";

    public async Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken cancellationToken)
    {
        await using var server = Environment.GetEnvironmentVariable(AzuriteFixture.ConnectionStringVariable) is { Length: > 0 } ? null : await AzuriteServer.StartAsync(cancellationToken: cancellationToken);
        var connectionString = server?.ConnectionString ?? Environment.GetEnvironmentVariable(AzuriteFixture.ConnectionStringVariable)!;
        var hubName = AzuriteFixture.NewName("bench");
        var hub = new DurableTaskHub(new DurableTaskHubOptions(connectionString, hubName));

        // The status polling of this benchmark goes to "localhost" so that the request counter sees only the engine.
        var pollingHub = new DurableTaskHub(new DurableTaskHubOptions(connectionString.Replace("127.0.0.1", "localhost", StringComparison.Ordinal), hubName));
        using var counter = new StorageRequestCounter(connectionString);
        var registry = new DurableTaskRegistry()
            .AddActivity<int, int>("Inc", x => x + 1)
            .AddOrchestrator<int, int>("FanOut", async (ctx, n) => (await Task.WhenAll(Enumerable.Range(0, n).Select(i => ctx.CallActivityAsync<int>("Inc", i)))).Sum())
            .AddOrchestrator<int, int>("Chain", async (ctx, n) =>
            {
                var x = 0;
                for (var i = 0; i < n; i++)
                {
                    x = await ctx.CallActivityAsync<int>("Inc", x);
                }

                return x;
            })
            .AddOrchestrator<int, int>("Waves", async (ctx, waves) =>
            {
                var total = 0;
                for (var w = 0; w < waves; w++)
                {
                    total += (await Task.WhenAll(Enumerable.Range(0, 10).Select(i => ctx.CallActivityAsync<int>("Inc", i)))).Sum();
                }

                return total;
            });
        await using var worker = new DurableWorker(hub, registry, new DurableWorkerOptions { MaxConcurrentActivities = 200, MaxConcurrentOrchestrations = 200 });
        await worker.StartAsync(cancellationToken);
        var client = new DurableClient(hub);
        var poller = new DurableClient(pollingHub);
        try
        {
            var baseline = await StorageBaseline.MeasureAsync(connectionString, hubName + "raw", cancellationToken);

            // Warm up connections and code paths.
            await RunAsync(client, poller, "FanOut", 10, cancellationToken);
            await RunAsync(client, poller, "Chain", 3, cancellationToken);

            var before = counter.Snapshot();
            var fanOut = new List<double>();
            for (var i = 0; i < 5; i++)
            {
                fanOut.Add((await RunAsync(client, poller, "FanOut", 50, cancellationToken)).TotalMilliseconds);
            }

            var fanOutCounts = StorageRequestCounter.Format(before, counter.Snapshot(), 5 * 50, "activity");

            before = counter.Snapshot();
            var chain = new List<double>();
            for (var i = 0; i < 5; i++)
            {
                chain.Add((await RunAsync(client, poller, "Chain", 20, cancellationToken)).TotalMilliseconds / 20);
            }

            var chainCounts = StorageRequestCounter.Format(before, counter.Snapshot(), 5 * 20, "step");

            const int orchestrations = 100;
            const int waves = 3;
            const int activities = orchestrations * waves * 10;
            before = counter.Snapshot();
            var stopwatch = Stopwatch.StartNew();
            var ids = await Task.WhenAll(Enumerable.Range(0, orchestrations).Select(_ => client.ScheduleNewOrchestrationInstanceAsync("Waves", waves, cancellationToken: cancellationToken)));
            foreach (var id in ids)
            {
                await WaitAsync(poller, id, cancellationToken);
            }

            var elapsed = stopwatch.Elapsed;
            var throughputCounts = StorageRequestCounter.Format(before, counter.Snapshot(), activities, "activity");
            var throughput = activities / elapsed.TotalSeconds;

            var fanOutMedian = Median(fanOut);
            var chainMedian = Median(chain);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"baseline: raw Azurite queue send+receive+delete  {baseline.QueueCycleMs,6:F2} ms sequential, {baseline.QueueCyclesPerSecond,6:F0} cycles/s with 16 in parallel; table transaction (2 rows) {baseline.TransactionMs,6:F2} ms"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"fan-out 50 end-to-end   median {fanOutMedian,8:F0} ms  (runs: {string.Join(", ", fanOut.Select(v => v.ToString("F0", CultureInfo.InvariantCulture)))})  target <= 1000 ms  {Verdict(fanOutMedian <= 1000)}"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"activities/s (100 orch)  {throughput,8:F0} /s  ({activities} activities in {elapsed.TotalSeconds:F1} s; {throughput / baseline.QueueCyclesPerSecond:F2} x raw queue cycles/s)  target >= 500/s  {Verdict(throughput >= 500)}"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"chain step latency       median {chainMedian,8:F1} ms  (runs: {string.Join(", ", chain.Select(v => v.ToString("F1", CultureInfo.InvariantCulture)))}; {chainMedian / baseline.QueueCycleMs:F2} x one raw queue cycle, {chainMedian / baseline.TransactionMs:F2} x one table transaction)  target <= 20 ms  {Verdict(chainMedian <= 20)}"));
            Console.WriteLine("storage requests by the engine, fan-out 50 (5 runs):");
            Console.WriteLine(fanOutCounts);
            Console.WriteLine("storage requests by the engine, 20-step chain (5 runs):");
            Console.WriteLine(chainCounts);
            Console.WriteLine("storage requests by the engine, 100 orchestrations x 3 waves x 10 activities:");
            Console.WriteLine(throughputCounts);
            return 0;
        }
        finally
        {
            await worker.StopAsync(cancellationToken);
            await hub.DeleteAsync(cancellationToken);
        }
    }

    private static string Verdict(bool met) => met ? "MET" : "MISSED";

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    private static async Task<TimeSpan> RunAsync(DurableClient client, DurableClient poller, string name, int input, CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        var id = await client.ScheduleNewOrchestrationInstanceAsync(name, input, cancellationToken: cancellationToken);
        await WaitAsync(poller, id, cancellationToken);
        return stopwatch.Elapsed;
    }

    private static async Task WaitAsync(DurableClient client, string id, CancellationToken cancellationToken)
    {
        while (true)
        {
            var status = await client.GetInstanceAsync(id, cancellationToken: cancellationToken);
            if (status is { IsCompleted: true })
            {
                if (status.RuntimeStatus != OrchestrationRuntimeStatus.Completed)
                {
                    throw new InvalidOperationException($"benchmark instance {id} ended {status.RuntimeStatus}: {status.FailureDetails}");
                }

                return;
            }

            await Task.Delay(5, cancellationToken);
        }
    }
}
