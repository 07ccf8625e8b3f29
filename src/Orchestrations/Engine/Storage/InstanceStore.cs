using Azure;
using Azure.Data.Tables;
using FleetFunctions.Orchestrations.Engine.History;

namespace FleetFunctions.Orchestrations.Engine.Storage;

/// <summary>
/// What one episode commits, atomically, in the instance's partition. <see cref="LocalWork"/> are work items the
/// committing worker runs itself instead of sending them: they are written as outbox rows of their own, which stay
/// until every result is recorded (a crash leaves them to be sent like any orphaned outbox row).
/// </summary>
internal sealed record Checkpoint(
    InstanceState State,
    ETag? ExpectedETag,
    string HistoryExecutionId,
    int Episode,
    IReadOnlyList<HistoryEvent> NewHistory,
    IReadOnlyList<OutboundMessage> Outbox,
    IReadOnlyList<string> InboxDeletes,
    IReadOnlyList<TaskMessage> InboxParks)
{
    public IReadOnlyList<OutboundMessage> LocalWork { get; init; } = [];

    /// <summary>Outbox rows of local work whose results this checkpoint records: deleted with it.</summary>
    public IReadOnlyList<string> OutboxDeletes { get; init; } = [];
}

/// <summary>
/// What a commit produced: the new state ETag, the outbox rows to flush, the outbox rows holding local work,
/// the history rows written.
/// </summary>
internal sealed record CommitResult(ETag ETag, IReadOnlyList<OutboxRow> Outbox, IReadOnlyList<OutboxRow> LocalOutbox, IReadOnlyList<string> HistoryRowKeys);

/// <summary>The commit lost a race with another worker (ETag mismatch or row already created): reload and retry.</summary>
internal sealed class CheckpointConflictException(string message, Exception inner) : Exception(message, inner);

/// <summary>
/// The first commit of an instance created in the worker's process found the id holding another execution (created
/// by another client meanwhile, or an earlier one): the client reads what is there and decides as for any existing id.
/// </summary>
internal sealed class InstanceIdTakenException(string instanceId, Exception inner)
    : Exception($"orchestration '{instanceId}': the id was taken by another execution before this one was created.", inner);

/// <summary>
/// The instances table. Every row of an instance lives in its partition (partition key = instance id):
/// <c>state</c>; history rows <c>h-{execution}-{episode}-{part}</c>; outbox rows <c>o-{execution}-{episode}-{part}</c>;
/// inbox rows <c>i-{message id}</c>; heartbeat rows <c>r-{execution}-{task id}</c> of long-running activities. One
/// partition means one entity-group transaction per checkpoint.
/// </summary>
internal sealed partial class InstanceStore(TableClient table, PayloadStore payloads, OutboxIndex outboxIndex)
{
    /// <summary>Row content above this many characters is split into several rows.</summary>
    private const int MaxRowChars = 400_000;

    /// <summary>A transaction above this many characters spills its history/outbox content to blobs (the service limit is 4 MB).</summary>
    private const int MaxTransactionChars = 1_500_000;

    public TableClient Table => table;

    public OutboxIndex OutboxIndex => outboxIndex;

    public static string HistoryRowKey(string executionId, int episode, int part) => $"h-{executionId}-{episode:D6}-{part:D2}";

    public static string OutboxRowKey(string executionId, int episode, int part) => $"o-{executionId}-{episode:D6}-{part:D2}";

    public static string InboxRowKey(string messageId) => $"i-{messageId}";

    public static string HeartbeatRowKey(string executionId, int taskId) => $"r-{executionId}-{taskId:D6}";

    /// <summary>Loads the whole partition of an instance (one query, usually one page).</summary>
    public async Task<InstanceSession> LoadAsync(string instanceId, CancellationToken cancellationToken)
    {
        var session = new InstanceSession(instanceId);
        var pk = KeyEncoding.ToPartitionKey(instanceId);
        var historyRows = new List<TableEntity>();
        var outboxRows = new List<TableEntity>();
        await foreach (var entity in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {pk}"), cancellationToken: cancellationToken))
        {
            var rk = entity.RowKey;
            if (rk == InstanceState.RowKey)
            {
                session.State = InstanceState.FromEntity(entity);
                session.ETag = entity.ETag;
            }
            else if (rk.StartsWith("h-", StringComparison.Ordinal))
            {
                historyRows.Add(entity);
            }
            else if (rk.StartsWith("o-", StringComparison.Ordinal))
            {
                outboxRows.Add(entity);
            }
            else if (rk.StartsWith("i-", StringComparison.Ordinal))
            {
                session.Inbox.Add(new InboxRow(rk, EngineJson.Deserialize<TaskMessage>(TableText.Get(entity, "Data")!)));
            }
        }

        var currentPrefix = session.State is null ? null : $"h-{session.State.ExecutionId}-";
        foreach (var row in historyRows.OrderBy(r => r.RowKey, StringComparer.Ordinal))
        {
            if (currentPrefix is not null && row.RowKey.StartsWith(currentPrefix, StringComparison.Ordinal))
            {
                session.HistoryRowKeys.Add(row.RowKey);
                session.AppendHistory(EngineJson.Deserialize<List<HistoryEvent>>(await ReadDataAsync(row, cancellationToken)));
            }
            else
            {
                session.StaleRowKeys.Add(row.RowKey);
            }
        }

        foreach (var row in outboxRows)
        {
            session.LeftoverOutbox.Add((row.Timestamp ?? DateTimeOffset.MinValue, new OutboxRow(row.RowKey, EngineJson.Deserialize<List<OutboundMessage>>(await ReadDataAsync(row, cancellationToken)))));
        }

        session.Inbox.Sort((a, b) => (a.Message.Event.Timestamp, a.RowKey).CompareTo((b.Message.Event.Timestamp, b.RowKey)));
        return session;
    }

    /// <summary>Reads the state row only.</summary>
    public async Task<(InstanceState State, ETag ETag)?> ReadStateAsync(string instanceId, CancellationToken cancellationToken)
    {
        var response = await table.GetEntityIfExistsAsync<TableEntity>(KeyEncoding.ToPartitionKey(instanceId), InstanceState.RowKey, cancellationToken: cancellationToken);
        return response.HasValue ? (InstanceState.FromEntity(response.Value!), response.Value!.ETag) : null;
    }

    /// <summary>Reads the history of the instance's current execution.</summary>
    public async Task<IReadOnlyList<HistoryEvent>> ReadHistoryAsync(string instanceId, string executionId, CancellationToken cancellationToken)
    {
        var pk = KeyEncoding.ToPartitionKey(instanceId);
        var from = $"h-{executionId}-";
        var to = $"h-{executionId}.";
        var rows = new List<TableEntity>();
        await foreach (var entity in table.QueryAsync<TableEntity>(
            TableClient.CreateQueryFilter($"PartitionKey eq {pk} and RowKey ge {from} and RowKey lt {to}"), cancellationToken: cancellationToken))
        {
            rows.Add(entity);
        }

        var events = new List<HistoryEvent>();
        foreach (var row in rows.OrderBy(r => r.RowKey, StringComparer.Ordinal))
        {
            events.AddRange(EngineJson.Deserialize<List<HistoryEvent>>(await ReadDataAsync(row, cancellationToken)));
        }

        return events;
    }

    /// <summary>
    /// Commits a checkpoint as one entity-group transaction: the state row (ETag-checked, or created), the new
    /// history and outbox rows, consumed inbox rows deleted and parked messages written. Returns the new state ETag
    /// and the outbox row keys to delete once their messages are sent.
    /// </summary>
    public async Task<CommitResult> CommitAsync(Checkpoint checkpoint, CancellationToken cancellationToken)
    {
        var pk = KeyEncoding.ToPartitionKey(checkpoint.State.InstanceId);
        var historyJson = SplitJson(checkpoint.NewHistory.Select(EngineJson.Serialize));
        var outboxJson = SplitJson(checkpoint.Outbox.Concat(checkpoint.LocalWork).Select(EngineJson.Serialize));
        var spill = historyJson.Sum(s => s.Length) + outboxJson.Sum(s => s.Length) > MaxTransactionChars;

        if (checkpoint.Outbox.Count + checkpoint.LocalWork.Count > 0)
        {
            // Listed first, so that the sweeper finds the outbox rows if this process dies right after the commit.
            await outboxIndex.EnsureListedAsync(checkpoint.State.InstanceId, checkpoint.State.ExecutionId, cancellationToken);
        }

        var actions = new List<TableTransactionAction>();
        var stateEntity = checkpoint.State.ToEntity();
        actions.Add(checkpoint.ExpectedETag is { } etag
            ? new TableTransactionAction(TableTransactionActionType.UpdateReplace, stateEntity, etag)
            : new TableTransactionAction(TableTransactionActionType.Add, stateEntity));

        for (var i = 0; i < historyJson.Count; i++)
        {
            var row = new TableEntity(pk, HistoryRowKey(checkpoint.HistoryExecutionId, checkpoint.Episode, i));
            TableText.Set(row, "Data", spill ? await payloads.UploadAsync(checkpoint.State.InstanceId, historyJson[i], cancellationToken) : historyJson[i]);
            actions.Add(new TableTransactionAction(TableTransactionActionType.Add, row));
        }

        var outboxRows = new List<OutboxRow>();
        var localRows = new List<OutboxRow>();
        var outboxGroups = GroupForRows(checkpoint.Outbox);
        var localGroups = GroupForRows(checkpoint.LocalWork);
        for (var i = 0; i < outboxGroups.Count + localGroups.Count; i++)
        {
            var key = OutboxRowKey(checkpoint.HistoryExecutionId, checkpoint.Episode, i);
            var group = i < outboxGroups.Count ? outboxGroups[i] : localGroups[i - outboxGroups.Count];
            var json = EngineJson.Serialize(group);
            var row = new TableEntity(pk, key);
            TableText.Set(row, "Data", spill ? await payloads.UploadAsync(checkpoint.State.InstanceId, json, cancellationToken) : json);
            actions.Add(new TableTransactionAction(TableTransactionActionType.Add, row));
            (i < outboxGroups.Count ? outboxRows : localRows).Add(new OutboxRow(key, group));
        }

        foreach (var key in checkpoint.InboxDeletes.Concat(checkpoint.OutboxDeletes))
        {
            actions.Add(new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(pk, key), ETag.All));
        }

        foreach (var message in checkpoint.InboxParks)
        {
            var row = new TableEntity(pk, InboxRowKey(message.Id));
            TableText.Set(row, "Data", EngineJson.Serialize(message));
            actions.Add(new TableTransactionAction(TableTransactionActionType.UpsertReplace, row));
        }

        if (actions.Count > 100)
        {
            throw new InvalidOperationException(
                $"orchestration '{checkpoint.State.InstanceId}': checkpoint needs {actions.Count} table operations; the limit of one transaction is 100.");
        }

        try
        {
            var response = await table.SubmitTransactionAsync(actions, cancellationToken);
            var newETag = response.Value.Count > 0 ? response.Value[0].Headers.ETag : null;
            if (newETag is null)
            {
                var read = await ReadStateAsync(checkpoint.State.InstanceId, cancellationToken);
                newETag = read?.ETag;
            }

            return new CommitResult(newETag ?? default, outboxRows, localRows, Enumerable.Range(0, historyJson.Count).Select(i => HistoryRowKey(checkpoint.HistoryExecutionId, checkpoint.Episode, i)).ToList());
        }
        catch (TableTransactionFailedException ex) when (ex.Status == 404 && checkpoint.OutboxDeletes.Count > 0)
        {
            // An outbox row to delete is gone already (a sweeper took it for orphaned): commit without deleting it.
            return await CommitAsync(checkpoint with { OutboxDeletes = [] }, cancellationToken);
        }
        catch (TableTransactionFailedException ex) when (ex.Status is 409 or 412)
        {
            throw new CheckpointConflictException($"orchestration '{checkpoint.State.InstanceId}': another worker committed first ({ex.Status}).", ex);
        }
    }

    /// <summary>Writes (or refreshes) the heartbeat row of an activity still running: its Timestamp tells the stall redrive to leave it be.</summary>
    public async Task HeartbeatAsync(string instanceId, string rowKey, CancellationToken cancellationToken) =>
        await table.UpsertEntityAsync(new TableEntity(KeyEncoding.ToPartitionKey(instanceId), rowKey), TableUpdateMode.Replace, cancellationToken);

    /// <summary>The last heartbeat of each activity of an execution that wrote one, by task id (one query of the partition's heartbeat rows).</summary>
    public async Task<IReadOnlyDictionary<int, DateTimeOffset>> ReadHeartbeatsAsync(string instanceId, string executionId, CancellationToken cancellationToken)
    {
        var pk = KeyEncoding.ToPartitionKey(instanceId);
        var prefix = $"r-{executionId}-";
        var upper = prefix[..^1] + (char)(prefix[^1] + 1);
        var beats = new Dictionary<int, DateTimeOffset>();
        await foreach (var entity in table.QueryAsync<TableEntity>(
            TableClient.CreateQueryFilter($"PartitionKey eq {pk} and RowKey ge {prefix} and RowKey lt {upper}"), cancellationToken: cancellationToken))
        {
            if (int.TryParse(entity.RowKey.AsSpan(prefix.Length), System.Globalization.CultureInfo.InvariantCulture, out var taskId))
            {
                beats[taskId] = entity.Timestamp ?? DateTimeOffset.MinValue;
            }
        }

        return beats;
    }

    /// <summary>
    /// Touches an outbox row holding work run by this worker, so that its age (the row's Timestamp) does not mark it
    /// orphaned while the work is still running. Returns false when the row is gone (another worker resent it).
    /// </summary>
    public async Task<bool> TouchOutboxRowAsync(string instanceId, string rowKey, CancellationToken cancellationToken)
    {
        try
        {
            var entity = new TableEntity(KeyEncoding.ToPartitionKey(instanceId), rowKey) { ["HeldAt"] = DateTimeOffset.UtcNow };
            await table.UpdateEntityAsync(entity, ETag.All, TableUpdateMode.Merge, cancellationToken);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return false;
        }
    }

    /// <summary>Deletes rows of a partition, ignoring rows already gone.</summary>
    public async Task DeleteRowsAsync(string instanceId, IReadOnlyCollection<string> rowKeys, CancellationToken cancellationToken)
    {
        if (rowKeys.Count == 0)
        {
            return;
        }

        var pk = KeyEncoding.ToPartitionKey(instanceId);
        foreach (var chunk in rowKeys.Chunk(100))
        {
            try
            {
                await table.SubmitTransactionAsync(
                    chunk.Select(k => new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(pk, k), ETag.All)),
                    cancellationToken);
            }
            catch (TableTransactionFailedException ex) when (ex.Status == 404)
            {
                foreach (var key in chunk)
                {
                    await DeleteRowIfExistsAsync(pk, key, cancellationToken);
                }
            }
        }
    }

    /// <summary>
    /// <see cref="DeleteRowsAsync"/> for clean-up whose rows every reader can live with: a storage failure is returned
    /// (its message) for the caller to log instead of thrown; null when the rows are gone.
    /// </summary>
    public async Task<string?> TryDeleteRowsAsync(string instanceId, IReadOnlyCollection<string> rowKeys, CancellationToken cancellationToken)
    {
        try
        {
            await DeleteRowsAsync(instanceId, rowKeys, cancellationToken);
            return null;
        }
        catch (Exception ex) when (ex is RequestFailedException or HttpRequestException or IOException)
        {
            return ex.Message;
        }
    }

    private async Task DeleteRowIfExistsAsync(string pk, string rowKey, CancellationToken cancellationToken)
    {
        try
        {
            await table.DeleteEntityAsync(pk, rowKey, ETag.All, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            // Already deleted by another worker.
        }
    }

    private async Task<string> ReadDataAsync(TableEntity row, CancellationToken cancellationToken)
    {
        var data = TableText.Get(row, "Data") ?? "[]";
        return PayloadStore.IsReference(data) ? (await payloads.ResolveAsync(data, cancellationToken))! : data;
    }

    /// <summary>Joins serialized items into JSON arrays of at most <see cref="MaxRowChars"/> characters each.</summary>
    private static List<string> SplitJson(IEnumerable<string> items)
    {
        var result = new List<string>();
        var sb = new System.Text.StringBuilder("[");
        foreach (var item in items)
        {
            if (sb.Length > 1 && sb.Length + item.Length + 2 > MaxRowChars)
            {
                result.Add(sb.Append(']').ToString());
                sb.Clear().Append('[');
            }

            if (sb.Length > 1)
            {
                sb.Append(',');
            }

            sb.Append(item);
        }

        if (sb.Length > 1)
        {
            result.Add(sb.Append(']').ToString());
        }

        return result;
    }

    private static List<List<OutboundMessage>> GroupForRows(IReadOnlyList<OutboundMessage> messages)
    {
        var groups = new List<List<OutboundMessage>>();
        if (messages.Count == 0)
        {
            return groups;
        }

        var current = new List<OutboundMessage>();
        var size = 0;
        foreach (var message in messages)
        {
            var length = EngineJson.Serialize(message).Length;
            if (current.Count > 0 && size + length > MaxRowChars)
            {
                groups.Add(current);
                current = [];
                size = 0;
            }

            current.Add(message);
            size += length + 1;
        }

        groups.Add(current);
        return groups;
    }
}
