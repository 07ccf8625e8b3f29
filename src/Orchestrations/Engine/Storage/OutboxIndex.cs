using Azure;
using Azure.Data.Tables;
using FleetFunctions.Core.Storage;

namespace FleetFunctions.Orchestrations.Engine.Storage;

/// <summary>An instance execution listed in the outbox index, as read by the sweeper.</summary>
internal sealed record OutboxIndexEntry(string InstanceId, string ExecutionId, DateTimeOffset RegisteredAt, ETag ETag);

/// <summary>
/// Table <c>{hub}OutboxIndex</c>, one partition: the instances that may have outbox rows, so the sweeper looks into
/// those partitions only instead of scanning the whole instances table. An instance execution is listed before
/// its first checkpoint with outbox rows commits (each process remembers what it listed, so that costs one write
/// per execution and process), and stays listed until the sweeper finds it finished with no outbox rows left.
/// </summary>
internal sealed class OutboxIndex(TableClient table)
{
    private const string Partition = "pending";
    private readonly ForgetfulMap<string, string> _listed = new(20_000, StringComparer.Ordinal);

    public TableClient Table => table;

    /// <summary>Lists an execution (once per process) before a checkpoint of it writes outbox rows.</summary>
    public async Task EnsureListedAsync(string instanceId, string executionId, CancellationToken cancellationToken)
    {
        if (_listed.TryGetValue(instanceId, out var listed) && listed == executionId)
        {
            return;
        }

        var entity = new TableEntity(Partition, KeyEncoding.ToPartitionKey(instanceId)) { ["InstanceId"] = instanceId, ["ExecutionId"] = executionId };
        await table.UpsertEntityAsync(entity, TableUpdateMode.Replace, cancellationToken);
        _listed.Set(instanceId, executionId);
    }

    /// <summary>One page of listed executions, oldest key first; pass the returned token to continue.</summary>
    public async Task<(IReadOnlyList<OutboxIndexEntry> Entries, string? ContinuationToken)> PageAsync(int pageSize, string? continuationToken, CancellationToken cancellationToken)
    {
        var pages = table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {Partition}"), maxPerPage: pageSize, cancellationToken: cancellationToken)
            .AsPages(continuationToken, pageSize);
        await foreach (var page in pages)
        {
            return (page.Values.Select(e => new OutboxIndexEntry(
                e.GetString("InstanceId"), e.GetString("ExecutionId") ?? string.Empty, e.Timestamp ?? DateTimeOffset.MinValue, e.ETag)).ToList(), page.ContinuationToken);
        }

        return ([], null);
    }

    /// <summary>Unlists an execution unless it was listed again since it was read (ETag).</summary>
    public async Task RemoveAsync(OutboxIndexEntry entry, CancellationToken cancellationToken)
    {
        try
        {
            await table.DeleteEntityAsync(Partition, KeyEncoding.ToPartitionKey(entry.InstanceId), entry.ETag, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 412)
        {
            // Gone already, or listed again by a new checkpoint: keep it.
        }
    }
}
