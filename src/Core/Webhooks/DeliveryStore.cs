using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using FleetFunctions.Core.Storage;

namespace FleetFunctions.Core.Webhooks;

/// <summary>Lifecycle of a recorded delivery.</summary>
public enum DeliveryStatus
{
    /// <summary>Recorded; its queue message may not have been sent yet (requeued by <see cref="DeliveryStore.RequeueStaleAsync"/>).</summary>
    Received,

    /// <summary>Queued for processing.</summary>
    Queued,

    /// <summary>Processed: the rollouts it started are recorded.</summary>
    Processed,

    /// <summary>Authentic but starts nothing (kept so operators can see why).</summary>
    Ignored,

    /// <summary>Processing failed for good; the message says why.</summary>
    Failed,
}

/// <summary>A delivery as recorded.</summary>
public sealed record DeliveryRecord(
    WebhookProvider Provider,
    string DeliveryId,
    DateTimeOffset ReceivedAt,
    DeliveryStatus Status,
    string Message,
    IReadOnlyList<string> Sources,
    IReadOnlyList<RefUpdate> Updates,
    IReadOnlyList<CandidateRollout> Rollouts);

/// <summary>The queue message that asks for a delivery to be processed (it carries only the key: the record holds the rest).</summary>
public sealed record DeliveryMessage(WebhookProvider Provider, string DeliveryId);

/// <summary>Options for <see cref="DeliveryStore"/>.</summary>
/// <param name="TableName">Azure Table for delivery records (default <c>webhookdeliveries</c>).</param>
/// <param name="QueueName">Queue processed off the request path (default <c>webhook-deliveries</c>).</param>
public sealed record DeliveryStoreOptions(string TableName = "webhookdeliveries", string QueueName = "webhook-deliveries");

/// <summary>
/// Records each delivery once (partition = provider, row = delivery id) and queues it for processing.
/// Record first, queue second, then mark Queued: a crash between the two leaves a Received record that a
/// redelivery or <see cref="RequeueStaleAsync"/> queues again, so no accepted delivery is lost; processing
/// is idempotent because rollout instance ids are derived from fleet and commit.
/// </summary>
public sealed class DeliveryStore
{
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);
    private readonly TableClient _table;
    private readonly QueueClient _queue;
    private int _created;

    public DeliveryStore(string connectionString, DeliveryStoreOptions? options = null)
        : this(StorageAccount.FromConnectionString(connectionString), options)
    {
    }

    public DeliveryStore(StorageAccount storage, DeliveryStoreOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(storage);
        options ??= new DeliveryStoreOptions();
        _table = storage.CreateTableClient(options.TableName);
        _queue = storage.CreateQueueClient(options.QueueName, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.None });
    }

    public string QueueName => _queue.Name;

    /// <summary>Creates the table and the queue when missing (once per instance).</summary>
    public async Task EnsureCreatedAsync(CancellationToken cancellationToken = default)
    {
        if (Volatile.Read(ref _created) == 1)
        {
            return;
        }

        await _table.CreateIfNotExistsAsync(cancellationToken);
        await _queue.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        Volatile.Write(ref _created, 1);
    }

    /// <summary>Records a new delivery; returns the existing record instead when the id was seen before.</summary>
    public async Task<(bool Added, DeliveryRecord Record)> TryAddAsync(DeliveryRecord record, CancellationToken cancellationToken = default)
    {
        await EnsureCreatedAsync(cancellationToken);
        try
        {
            await _table.AddEntityAsync(ToEntity(record), cancellationToken);
            return (true, record);
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            var existing = await GetAsync(record.Provider, record.DeliveryId, cancellationToken)
                ?? throw new InvalidOperationException($"delivery {record.Provider}/{record.DeliveryId} conflicted but cannot be read back", ex);
            return (false, existing);
        }
    }

    /// <summary>Sends the processing message and marks the record Queued.</summary>
    public async Task EnqueueAsync(DeliveryRecord record, CancellationToken cancellationToken = default)
    {
        await EnsureCreatedAsync(cancellationToken);
        await _queue.SendMessageAsync(JsonSerializer.Serialize(new DeliveryMessage(record.Provider, record.DeliveryId), s_json), cancellationToken);
        await UpdateAsync(record with { Status = DeliveryStatus.Queued }, cancellationToken);
    }

    public async Task UpdateAsync(DeliveryRecord record, CancellationToken cancellationToken = default)
    {
        await EnsureCreatedAsync(cancellationToken);
        await _table.UpsertEntityAsync(ToEntity(record), TableUpdateMode.Replace, cancellationToken);
    }

    public async Task<DeliveryRecord?> GetAsync(WebhookProvider provider, string deliveryId, CancellationToken cancellationToken = default)
    {
        await EnsureCreatedAsync(cancellationToken);
        var response = await _table.GetEntityIfExistsAsync<TableEntity>(provider.ToString(), TableKey.Escape(deliveryId), cancellationToken: cancellationToken);
        return response.HasValue ? FromEntity(response.Value!) : null;
    }

    /// <summary>Parses a queue message body into its delivery key.</summary>
    public static DeliveryMessage ParseMessage(string text) =>
        JsonSerializer.Deserialize<DeliveryMessage>(text, s_json) ?? throw new FormatException($"not a delivery message: {text}");

    /// <summary>Queues again every delivery still Received after <paramref name="olderThan"/> (a crash between record and queue).</summary>
    public async Task<int> RequeueStaleAsync(TimeSpan olderThan, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        await EnsureCreatedAsync(cancellationToken);
        var count = 0;
        var cutoff = now - olderThan;
        await foreach (var entity in _table.QueryAsync<TableEntity>(e => e.GetString("Status") == nameof(DeliveryStatus.Received), cancellationToken: cancellationToken))
        {
            var record = FromEntity(entity);
            if (record.ReceivedAt <= cutoff)
            {
                await EnqueueAsync(record, cancellationToken);
                count++;
            }
        }

        return count;
    }

    private static TableEntity ToEntity(DeliveryRecord record) => new(record.Provider.ToString(), TableKey.Escape(record.DeliveryId))
    {
        ["DeliveryId"] = record.DeliveryId,
        ["ReceivedAt"] = record.ReceivedAt,
        ["Status"] = record.Status.ToString(),
        ["Message"] = record.Message,
        ["Sources"] = JsonSerializer.Serialize(record.Sources, s_json),
        ["Updates"] = JsonSerializer.Serialize(record.Updates, s_json),
        ["Rollouts"] = JsonSerializer.Serialize(record.Rollouts, s_json),
    };

    private static DeliveryRecord FromEntity(TableEntity entity) => new(
        Enum.Parse<WebhookProvider>(entity.PartitionKey),
        entity.GetString("DeliveryId"),
        entity.GetDateTimeOffset("ReceivedAt") ?? DateTimeOffset.MinValue,
        Enum.Parse<DeliveryStatus>(entity.GetString("Status")),
        entity.GetString("Message") ?? string.Empty,
        JsonSerializer.Deserialize<List<string>>(entity.GetString("Sources") ?? "[]", s_json) ?? [],
        JsonSerializer.Deserialize<List<RefUpdate>>(entity.GetString("Updates") ?? "[]", s_json) ?? [],
        JsonSerializer.Deserialize<List<CandidateRollout>>(entity.GetString("Rollouts") ?? "[]", s_json) ?? []);
}
