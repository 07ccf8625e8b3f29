using System.Globalization;
using System.Text;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using FleetFunctions.Core.Storage;

namespace FleetFunctions.Core.Webhooks;

/// <summary>Lifecycle of a recorded delivery.</summary>
public enum DeliveryStatus
{
    /// <summary>
    /// Recorded and queued for processing (a crash between the two leaves it unqueued: after
    /// <see cref="DeliveryStore.StaleAfter"/> a redelivery or <see cref="DeliveryStore.RequeueStaleAsync"/> queues it again).
    /// </summary>
    Received,

    /// <summary>Still unprocessed after <see cref="DeliveryStore.StaleAfter"/>, so queued once more; not requeued again.</summary>
    Queued,

    /// <summary>Processed: the rollouts it started are recorded.</summary>
    Processed,

    /// <summary>
    /// Authentic but starts nothing (kept so operators can see why). A redelivery is evaluated again against the
    /// platform of the moment: once a ClusterFleet uses the pushed source it is recorded Received and queued.
    /// </summary>
    Ignored,

    /// <summary>
    /// Processing failed for good; the message says why. A redelivery records it Received again (the message keeps
    /// the earlier failure) and queues it.
    /// </summary>
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
public sealed record DeliveryStoreOptions(string TableName = "webhookdeliveries", string QueueName = "webhook-deliveries")
{
    /// <summary>Finished deliveries (processed, ignored, failed) received longer ago than this are deleted (null: kept).</summary>
    public TimeSpan? Retention { get; init; } = TimeSpan.FromDays(30);
}

/// <summary>
/// Records each delivery once (partition = provider, row = delivery id) and queues it for processing: record
/// first, queue second, two storage writes on the request path. A crash between the two leaves a Received record
/// that, once older than <see cref="StaleAfter"/>, a redelivery or <see cref="RequeueStaleAsync"/> queues again and
/// marks Queued (at most once, and only if processing has not changed the record meanwhile), so no accepted delivery
/// is lost; a delivery whose first message was merely slow is processed twice, which is harmless because processing
/// skips processed deliveries and rollout instance ids are derived from fleet and commit. A redelivery of a delivery
/// that rolled nothing out (Failed or Ignored) may replace its record, conditionally on the entity's ETag
/// (<see cref="TryReplaceAsync"/>).
/// </summary>
public sealed class DeliveryStore
{
    /// <summary>How long a delivery may stay Received before it is queued again.</summary>
    public static readonly TimeSpan StaleAfter = TimeSpan.FromMinutes(2);

    private const int MaxPropertyChars = 30_000;
    private const int MaxMessageChars = 100_000;
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);
    private static readonly TimeSpan s_purgeInterval = TimeSpan.FromHours(1);
    private readonly TableClient _table;
    private readonly QueueClient _queue;
    private readonly TimeSpan? _retention;
    private int _created;
    private long _nextPurgeTicks;

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
        _retention = options.Retention;
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

    /// <summary>
    /// Replaces the record of a redelivered delivery by <paramref name="replacement"/> if it still has the status
    /// <paramref name="expected"/> (Failed or Ignored as the redelivery read it), conditionally on the entity's ETag:
    /// of two concurrent redeliveries one replaces it, the other gets false and the record as now stored.
    /// </summary>
    public async Task<(bool Replaced, DeliveryRecord Record)> TryReplaceAsync(DeliveryRecord replacement, DeliveryStatus expected, CancellationToken cancellationToken = default)
    {
        await EnsureCreatedAsync(cancellationToken);
        var response = await _table.GetEntityIfExistsAsync<TableEntity>(replacement.Provider.ToString(), TableKey.Escape(replacement.DeliveryId), cancellationToken: cancellationToken);
        if (!response.HasValue)
        {
            // Purged since it was read: the redelivery is recorded as new.
            return await TryAddAsync(replacement, cancellationToken);
        }

        var current = FromEntity(response.Value!);
        if (current.Status != expected)
        {
            return (false, current);
        }

        try
        {
            await _table.UpdateEntityAsync(ToEntity(replacement), response.Value!.ETag, TableUpdateMode.Replace, cancellationToken);
            return (true, replacement);
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 412)
        {
            // Changed since it was read (another redelivery won, or processing), or purged.
            return await GetAsync(replacement.Provider, replacement.DeliveryId, cancellationToken) is { } now
                ? (false, now)
                : await TryAddAsync(replacement, cancellationToken);
        }
    }

    /// <summary>Sends the processing message of a recorded delivery; the record stays Received until it is processed.</summary>
    public async Task EnqueueAsync(DeliveryRecord record, CancellationToken cancellationToken = default)
    {
        await EnsureCreatedAsync(cancellationToken);
        await _queue.SendMessageAsync(JsonSerializer.Serialize(new DeliveryMessage(record.Provider, record.DeliveryId), s_json), cancellationToken);
    }

    /// <summary>
    /// Queues a delivery that stayed Received too long once more and marks it Queued, unless processing changed the
    /// record meanwhile (then the mark is dropped: it must not overwrite a Processed or Failed record). Returns false
    /// when the record is no longer Received.
    /// </summary>
    public async Task<bool> RequeueAsync(WebhookProvider provider, string deliveryId, CancellationToken cancellationToken = default)
    {
        await EnsureCreatedAsync(cancellationToken);
        var response = await _table.GetEntityIfExistsAsync<TableEntity>(provider.ToString(), TableKey.Escape(deliveryId), cancellationToken: cancellationToken);
        return response.HasValue && await RequeueAsync(response.Value!, cancellationToken);
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
            if (FromEntity(entity).ReceivedAt <= cutoff && await RequeueAsync(entity, cancellationToken))
            {
                count++;
            }
        }

        return count;
    }

    /// <summary>
    /// Deletes the finished deliveries (processed, ignored, failed) received more than the retention before
    /// <paramref name="now"/>, at most once an hour per store (one query over the table); returns how many. Deliveries
    /// still waiting to be processed are kept, however old. A provider redelivering a purged delivery gets it processed
    /// again, which starts nothing new: rollout ids derive from fleet and commit, and older commits are refused.
    /// </summary>
    public async Task<int> PurgeExpiredAsync(DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        if (_retention is not { } retention || now.UtcTicks < Interlocked.Read(ref _nextPurgeTicks))
        {
            return 0;
        }

        Interlocked.Exchange(ref _nextPurgeTicks, (now + s_purgeInterval).UtcTicks);
        await EnsureCreatedAsync(cancellationToken);
        var count = 0;
        var filter = TableClient.CreateQueryFilter($"ReceivedAt lt {now - retention}");
        await foreach (var entity in _table.QueryAsync<TableEntity>(filter, select: ["PartitionKey", "RowKey", "Status"], cancellationToken: cancellationToken))
        {
            if (entity.GetString("Status") is nameof(DeliveryStatus.Received) or nameof(DeliveryStatus.Queued))
            {
                continue;
            }

            try
            {
                await _table.DeleteEntityAsync(entity.PartitionKey, entity.RowKey, entity.ETag, cancellationToken);
                count++;
            }
            catch (RequestFailedException ex) when (ex.Status is 404 or 412)
            {
                // Gone already, or changed since the query (a redelivery): left for the next pass.
            }
        }

        return count;
    }

    private async Task<bool> RequeueAsync(TableEntity entity, CancellationToken cancellationToken)
    {
        var record = FromEntity(entity);
        if (record.Status != DeliveryStatus.Received)
        {
            return false;
        }

        await EnqueueAsync(record, cancellationToken);
        try
        {
            var mark = new TableEntity(entity.PartitionKey, entity.RowKey) { ["Status"] = nameof(DeliveryStatus.Queued) };
            await _table.UpdateEntityAsync(mark, entity.ETag, TableUpdateMode.Merge, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 412)
        {
            // Processed (or failed) while we queued it: the record says so already, the extra message is skipped.
        }

        return true;
    }

    private static TableEntity ToEntity(DeliveryRecord record)
    {
        var entity = new TableEntity(record.Provider.ToString(), TableKey.Escape(record.DeliveryId))
        {
            ["DeliveryId"] = record.DeliveryId,
            ["ReceivedAt"] = record.ReceivedAt,
            ["Status"] = record.Status.ToString(),
        };
        SetLong(entity, "Message", record.Message.Length > MaxMessageChars ? record.Message[..MaxMessageChars] + " … (truncated)" : record.Message);
        SetLong(entity, "Sources", JsonSerializer.Serialize(record.Sources, s_json));
        SetLong(entity, "Updates", JsonSerializer.Serialize(record.Updates, s_json));
        SetLong(entity, "Rollouts", JsonSerializer.Serialize(record.Rollouts, s_json));
        return entity;
    }

    private static DeliveryRecord FromEntity(TableEntity entity) => new(
        Enum.Parse<WebhookProvider>(entity.PartitionKey),
        entity.GetString("DeliveryId"),
        entity.GetDateTimeOffset("ReceivedAt") ?? DateTimeOffset.MinValue,
        Enum.Parse<DeliveryStatus>(entity.GetString("Status")),
        GetLong(entity, "Message") ?? string.Empty,
        JsonSerializer.Deserialize<List<string>>(GetLong(entity, "Sources") ?? "[]", s_json) ?? [],
        JsonSerializer.Deserialize<List<RefUpdate>>(GetLong(entity, "Updates") ?? "[]", s_json) ?? [],
        JsonSerializer.Deserialize<List<CandidateRollout>>(GetLong(entity, "Rollouts") ?? "[]", s_json) ?? []);

    /// <summary>
    /// Stores text of any length as <c>Name</c>, <c>Name1</c>, <c>Name2</c>… of at most <see cref="MaxPropertyChars"/>
    /// each (a table property holds 64 KiB): a push to a repository that hundreds of fleets follow names hundreds of
    /// candidate rollouts. The entity's 1 MiB limit still bounds a record (about 3,000 rollouts).
    /// </summary>
    private static void SetLong(TableEntity entity, string name, string text)
    {
        entity[name] = text.Length <= MaxPropertyChars ? text : text[..MaxPropertyChars];
        for (var part = 1; part * MaxPropertyChars < text.Length; part++)
        {
            var start = part * MaxPropertyChars;
            entity[name + part.ToString(CultureInfo.InvariantCulture)] = text.Substring(start, Math.Min(MaxPropertyChars, text.Length - start));
        }
    }

    private static string? GetLong(TableEntity entity, string name)
    {
        if (entity.GetString(name) is not { } first)
        {
            return null;
        }

        var text = new StringBuilder(first);
        for (var part = 1; entity.GetString(name + part.ToString(CultureInfo.InvariantCulture)) is { } next; part++)
        {
            text.Append(next);
        }

        return text.ToString();
    }
}
