using System.Diagnostics;
using Azure.Data.Tables;
using Azure.Storage.Queues;

namespace FleetFunctions.Benchmarks;

/// <summary>
/// Raw storage round trips measured in the same run as a benchmark, so figures on a noisy shared machine can be
/// read as ratios: a queue send+receive+delete cycle (the minimum an activity dispatched through a queue costs),
/// sequential and 16 in parallel, and one two-row entity-group transaction.
/// </summary>
internal sealed record StorageBaseline(double QueueCycleMs, double QueueCyclesPerSecond, double TransactionMs)
{
    public static async Task<StorageBaseline> MeasureAsync(string connectionString, string name, CancellationToken cancellationToken)
    {
        var queue = new QueueClient(connectionString, name);
        var table = new TableServiceClient(connectionString).GetTableClient(name);
        await queue.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        await table.CreateIfNotExistsAsync(cancellationToken);
        try
        {
            for (var i = 0; i < 20; i++)
            {
                await CycleAsync(queue, cancellationToken);
            }

            const int sequential = 200;
            var stopwatch = Stopwatch.StartNew();
            for (var i = 0; i < sequential; i++)
            {
                await CycleAsync(queue, cancellationToken);
            }

            var cycleMs = stopwatch.Elapsed.TotalMilliseconds / sequential;

            const int parallel = 16;
            const int perLoop = 60;
            stopwatch.Restart();
            await Task.WhenAll(Enumerable.Range(0, parallel).Select(async _ =>
            {
                for (var i = 0; i < perLoop; i++)
                {
                    await CycleAsync(queue, cancellationToken);
                }
            }));
            var cyclesPerSecond = parallel * perLoop / stopwatch.Elapsed.TotalSeconds;

            const int transactions = 100;
            stopwatch.Restart();
            for (var i = 0; i < transactions; i++)
            {
                var pk = $"p{i}";
                await table.SubmitTransactionAsync(
                    [
                        new TableTransactionAction(TableTransactionActionType.UpsertReplace, new TableEntity(pk, "state") { ["Data"] = new string('x', 300) }),
                        new TableTransactionAction(TableTransactionActionType.Add, new TableEntity(pk, "h-1") { ["Data"] = new string('y', 600) }),
                    ],
                    cancellationToken);
            }

            return new StorageBaseline(cycleMs, cyclesPerSecond, stopwatch.Elapsed.TotalMilliseconds / transactions);
        }
        finally
        {
            await queue.DeleteIfExistsAsync(cancellationToken);
            await table.DeleteAsync(cancellationToken);
        }
    }

    private static async Task CycleAsync(QueueClient queue, CancellationToken cancellationToken)
    {
        await queue.SendMessageAsync("{\"id\":\"baseline\"}", cancellationToken);
        while (true)
        {
            var received = (await queue.ReceiveMessagesAsync(1, TimeSpan.FromSeconds(30), cancellationToken)).Value;
            if (received.Length > 0)
            {
                await queue.DeleteMessageAsync(received[0].MessageId, received[0].PopReceipt, cancellationToken);
                return;
            }
        }
    }
}
