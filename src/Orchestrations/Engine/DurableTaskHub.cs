using Azure;
using Azure.Core;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using FleetFunctions.Orchestrations.Engine.History;
using FleetFunctions.Orchestrations.Engine.Storage;

namespace FleetFunctions.Orchestrations.Engine;

/// <summary>
/// The storage of one task hub: table <c>{hub}Instances</c> (state, history, inbox and outbox rows, one
/// partition per instance), table <c>{hub}Poison</c> (parked messages), table <c>{hub}OutboxIndex</c> (instances
/// that may have outbox rows, for the sweeper), queues <c>{hub}-control</c> (messages
/// to orchestrations) and <c>{hub}-workitems</c> (activity executions), container <c>{hub}-payloads</c> (large
/// payloads). Thread-safe; share one per process between clients and workers.
/// </summary>
public sealed class DurableTaskHub
{
    /// <summary>Longest delay Azure Queues accept for a message's first visibility (7 days), minus a margin.</summary>
    internal static readonly TimeSpan MaxQueueDelay = TimeSpan.FromDays(7) - TimeSpan.FromMinutes(5);

    public DurableTaskHub(DurableTaskHubOptions options)
    {
        Options = options ?? throw new ArgumentNullException(nameof(options));
        var hub = options.TaskHubName;
        var retry = new Action<RetryOptions>(r =>
        {
            r.MaxRetries = 6;
            r.Mode = RetryMode.Exponential;
            r.Delay = TimeSpan.FromMilliseconds(100);
            r.MaxDelay = TimeSpan.FromSeconds(5);
            r.NetworkTimeout = TimeSpan.FromSeconds(30);
        });
        var tableOptions = new TableClientOptions();
        retry(tableOptions.Retry);
        var queueOptions = new QueueClientOptions { MessageEncoding = QueueMessageEncoding.None };
        retry(queueOptions.Retry);
        var blobOptions = new BlobClientOptions();
        retry(blobOptions.Retry);

        var tables = options.Storage.CreateTableServiceClient(tableOptions);
        InstancesTable = tables.GetTableClient(hub + "Instances");
        PoisonTable = tables.GetTableClient(hub + "Poison");
        OutboxIndexTable = tables.GetTableClient(hub + "OutboxIndex");
        ControlQueue = options.Storage.CreateQueueClient(hub + "-control", queueOptions);
        WorkItemQueue = options.Storage.CreateQueueClient(hub + "-workitems", queueOptions);
        PayloadContainer = options.Storage.CreateBlobContainerClient(hub + "-payloads", blobOptions);
        Payloads = new PayloadStore(PayloadContainer, options.LargePayloadThresholdBytes);
        Store = new InstanceStore(InstancesTable, Payloads, new OutboxIndex(OutboxIndexTable));
    }

    public DurableTaskHubOptions Options { get; }

    public string ControlQueueName => ControlQueue.Name;

    public string WorkItemQueueName => WorkItemQueue.Name;

    internal TableClient InstancesTable { get; }

    internal TableClient PoisonTable { get; }

    internal TableClient OutboxIndexTable { get; }

    internal QueueClient ControlQueue { get; }

    internal QueueClient WorkItemQueue { get; }

    internal BlobContainerClient PayloadContainer { get; }

    internal PayloadStore Payloads { get; }

    internal InstanceStore Store { get; }

    internal JsonDataConverter Converter => Options.DataConverter;

    /// <summary>Raised after a message was sent from this process, so local pollers can look right away.</summary>
    internal event Action<TaskHubQueue>? MessageSent;

    /// <summary>
    /// A worker of this process that takes committed start messages directly (null: none). Returns false when it
    /// cannot (stopping), and the caller sends them through the control queue.
    /// </summary>
    internal Func<LocalStart, bool>? LocalStarts { get; set; }

    /// <summary>
    /// The same worker, creating a new instance by committing its first episode (see
    /// <see cref="Processing.OrchestrationProcessor.SeedNew"/>); null when there is none.
    /// </summary>
    internal Func<InstanceState, TaskMessage, CancellationToken, Task<LocalCreateOutcome>>? LocalCreates { get; set; }

    /// <summary>Creates the tables, queues and container if missing.</summary>
    public async Task CreateIfNotExistsAsync(CancellationToken cancellationToken = default)
    {
        await Task.WhenAll(
            InstancesTable.CreateIfNotExistsAsync(cancellationToken),
            PoisonTable.CreateIfNotExistsAsync(cancellationToken),
            OutboxIndexTable.CreateIfNotExistsAsync(cancellationToken),
            ControlQueue.CreateIfNotExistsAsync(cancellationToken: cancellationToken),
            WorkItemQueue.CreateIfNotExistsAsync(cancellationToken: cancellationToken),
            PayloadContainer.CreateIfNotExistsAsync(cancellationToken: cancellationToken));
    }

    /// <summary>Deletes every table, queue and container of the hub (all instances are lost).</summary>
    public async Task DeleteAsync(CancellationToken cancellationToken = default)
    {
        await Task.WhenAll(
            InstancesTable.DeleteAsync(cancellationToken),
            PoisonTable.DeleteAsync(cancellationToken),
            OutboxIndexTable.DeleteAsync(cancellationToken),
            ControlQueue.DeleteIfExistsAsync(cancellationToken),
            WorkItemQueue.DeleteIfExistsAsync(cancellationToken),
            PayloadContainer.DeleteIfExistsAsync(cancellationToken: cancellationToken));
    }

    internal QueueClient GetQueue(TaskHubQueue queue) => queue == TaskHubQueue.Control ? ControlQueue : WorkItemQueue;

    /// <summary>
    /// Sends one message; timers become delayed messages (at most ~7 days ahead; re-armed on receipt). A message whose
    /// text is over the large-payload threshold (payloads just under it grow when escaped as JSON strings, failure details
    /// are never offloaded) is uploaded as a blob and sent as its reference, which <see cref="Processing.MessageIntake"/>
    /// resolves: queue messages cap at 64 KiB, and the 45 KB default leaves room for a host that base64-encodes them.
    /// </summary>
    internal async Task SendAsync(OutboundMessage outbound, CancellationToken cancellationToken)
    {
        var text = outbound.Message.ToJson();
        if (Payloads.IsLarge(text))
        {
            text = await Payloads.UploadAsync(outbound.Message.InstanceId, text, cancellationToken);
        }

        TimeSpan? delay = null;
        if (outbound.Message.VisibleAt is { } visibleAt)
        {
            var wait = visibleAt - DateTime.UtcNow;
            if (wait > TimeSpan.Zero)
            {
                // Queues count visibility in whole seconds: round up so a timer never fires early.
                var seconds = TimeSpan.FromSeconds(Math.Ceiling(wait.TotalSeconds));
                delay = seconds > MaxQueueDelay ? MaxQueueDelay : seconds;
            }
        }

        var queue = GetQueue(outbound.Queue);
        var copies = Options.FaultInjection?.DuplicateEveryMessage == true ? 2 : 1;
        for (var i = 0; i < copies; i++)
        {
            await queue.SendMessageAsync(text, delay, TimeSpan.FromSeconds(-1), cancellationToken);
        }

        MessageSent?.Invoke(outbound.Queue);
    }

    /// <summary>Sends messages concurrently.</summary>
    internal Task SendAllAsync(IEnumerable<OutboundMessage> messages, CancellationToken cancellationToken) =>
        Parallel.ForEachAsync(messages, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken },
            async (m, ct) => await SendAsync(m, ct));

    /// <summary>Sends the messages of outbox rows, then deletes the rows (a crash in between only causes duplicates, which receivers drop).</summary>
    internal async Task FlushOutboxAsync(string instanceId, IReadOnlyList<OutboxRow> rows, CancellationToken cancellationToken)
    {
        if (rows.Count == 0)
        {
            return;
        }

        await SendAllAsync(rows.SelectMany(r => r.Messages), cancellationToken);
        await Store.DeleteRowsAsync(instanceId, rows.Select(r => r.RowKey).ToList(), cancellationToken);
    }

    /// <summary>Deletes a received message, ignoring one already gone or re-received elsewhere.</summary>
    internal static async Task DeleteMessageAsync(QueueClient queue, string messageId, string popReceipt, CancellationToken cancellationToken)
    {
        try
        {
            await queue.DeleteMessageAsync(messageId, popReceipt, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 400)
        {
            // Deleted already, or its visibility lapsed and another receiver holds it now: that receiver deletes it.
        }
    }
}

/// <summary>
/// A start committed by a client of this process (its instance's state row and the outbox row holding the start).
/// </summary>
internal sealed record LocalStart(string InstanceId, OutboxRow Row);

/// <summary>How a create handed to the worker of the client's process ended.</summary>
internal enum LocalCreateOutcome
{
    /// <summary>Created: the instance and its first episode are committed.</summary>
    Created,

    /// <summary>Nothing written: the id holds another execution.</summary>
    IdTaken,

    /// <summary>Not attempted (the worker is stopping, busy with the id, or has no free orchestration slot).</summary>
    NotTaken,
}
