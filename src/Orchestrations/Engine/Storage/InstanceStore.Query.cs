using Azure;
using Azure.Data.Tables;
using FleetFunctions.Orchestrations.Engine.History;

namespace FleetFunctions.Orchestrations.Engine.Storage;

internal sealed partial class InstanceStore
{
    /// <summary>One page of state rows matching a filter; the token is a <see cref="QueryContinuation"/> one.</summary>
    public async Task<(IReadOnlyList<InstanceState> Items, string? ContinuationToken)> QueryAsync(
        string filter, int pageSize, string? continuationToken, CancellationToken cancellationToken)
    {
        string? position = null;
        if (!string.IsNullOrEmpty(continuationToken) && !QueryContinuation.TryDecode(continuationToken, out position))
        {
            throw new ArgumentException($"'{continuationToken}' is not a continuation token of an instance query.", nameof(continuationToken));
        }

        var pages = table.QueryAsync<TableEntity>(filter, maxPerPage: pageSize, cancellationToken: cancellationToken).AsPages(position, pageSize);
        await foreach (var page in pages)
        {
            return (page.Values.Select(InstanceState.FromEntity).ToList(), QueryContinuation.Encode(page.ContinuationToken));
        }

        return ([], null);
    }

    /// <summary>Builds the OData filter for a state-row query.</summary>
    public static string BuildFilter(
        IReadOnlyCollection<OrchestrationRuntimeStatus>? statuses,
        DateTime? createdFrom,
        DateTime? createdTo,
        string? namePrefix,
        string? instanceIdPrefix = null)
    {
        var parts = new List<string> { TableClient.CreateQueryFilter($"RowKey eq {InstanceState.RowKey}") };
        if (!string.IsNullOrEmpty(instanceIdPrefix))
        {
            // The encoding maps each character on its own, so the encoded prefix is a prefix of every encoded id it starts.
            var lower = KeyEncoding.ToPartitionKey(instanceIdPrefix);
            parts.Add(TableClient.CreateQueryFilter($"PartitionKey ge {lower} and PartitionKey lt {lower + char.MaxValue}"));
        }

        if (statuses is { Count: > 0 })
        {
            parts.Add("(" + string.Join(" or ", statuses.Distinct().Select(s => TableClient.CreateQueryFilter($"RuntimeStatus eq {s.ToString()}"))) + ")");
        }

        if (createdFrom is { } from)
        {
            parts.Add(TableClient.CreateQueryFilter($"CreatedTime ge {DateTime.SpecifyKind(from, DateTimeKind.Utc)}"));
        }

        if (createdTo is { } to)
        {
            parts.Add(TableClient.CreateQueryFilter($"CreatedTime le {DateTime.SpecifyKind(to, DateTimeKind.Utc)}"));
        }

        if (!string.IsNullOrEmpty(namePrefix))
        {
            var upper = namePrefix + char.MaxValue;
            parts.Add(TableClient.CreateQueryFilter($"Name ge {namePrefix} and Name lt {upper}"));
        }

        return string.Join(" and ", parts);
    }

    /// <summary>Deletes every row of an instance's partition; returns true when a state row existed.</summary>
    public async Task<bool> DeletePartitionAsync(string instanceId, CancellationToken cancellationToken)
    {
        var pk = KeyEncoding.ToPartitionKey(instanceId);
        var keys = new List<string>();
        await foreach (var entity in table.QueryAsync<TableEntity>(
            TableClient.CreateQueryFilter($"PartitionKey eq {pk}"), select: ["RowKey"], cancellationToken: cancellationToken))
        {
            keys.Add(entity.RowKey);
        }

        var hadState = keys.Contains(InstanceState.RowKey);
        // State row last, so a purge interrupted half-way is still visible and can be repeated.
        keys.Remove(InstanceState.RowKey);
        await DeleteRowsAsync(instanceId, keys, cancellationToken);
        if (hadState)
        {
            await DeleteRowsAsync(instanceId, [InstanceState.RowKey], cancellationToken);
        }

        return hadState;
    }

    /// <summary>The state row and the outbox rows of one instance, with their last-modified times (one query of its partition).</summary>
    public async Task<(InstanceState? State, IReadOnlyList<(DateTimeOffset Timestamp, OutboxRow Row)> Outbox)> ReadOutboxAsync(string instanceId, CancellationToken cancellationToken)
    {
        var pk = KeyEncoding.ToPartitionKey(instanceId);
        InstanceState? state = null;
        var outbox = new List<(DateTimeOffset, OutboxRow)>();
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {pk} and (RowKey eq {InstanceState.RowKey} or (RowKey ge {"o-"} and RowKey lt {"o."}))");
        await foreach (var entity in table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            if (entity.RowKey == InstanceState.RowKey)
            {
                state = InstanceState.FromEntity(entity);
            }
            else
            {
                outbox.Add((entity.Timestamp ?? DateTimeOffset.MinValue, new OutboxRow(entity.RowKey, EngineJson.Deserialize<List<OutboundMessage>>(await ReadDataAsync(entity, cancellationToken)))));
            }
        }

        return (state, outbox);
    }

    /// <summary>Ids of pending or running instances whose state row was last updated before <paramref name="olderThan"/>.</summary>
    public async Task<IReadOnlyList<string>> FindStalledAsync(DateTime olderThan, CancellationToken cancellationToken)
    {
        var filter = BuildFilter([OrchestrationRuntimeStatus.Pending, OrchestrationRuntimeStatus.Running], null, null, null)
            + " and " + TableClient.CreateQueryFilter($"LastUpdatedTime lt {olderThan}");
        var ids = new List<string>();
        await foreach (var entity in table.QueryAsync<TableEntity>(filter, select: ["InstanceId"], cancellationToken: cancellationToken))
        {
            ids.Add(entity.GetString("InstanceId"));
        }

        return ids;
    }

    /// <summary>Writes a row with an explicit ETag check (used to fail an instance outside an episode).</summary>
    public async Task<bool> TryReplaceStateAsync(InstanceState state, ETag etag, CancellationToken cancellationToken)
    {
        try
        {
            await table.UpdateEntityAsync(state.ToEntity(), etag, TableUpdateMode.Replace, cancellationToken);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            return false;
        }
    }

    /// <summary>Creates the state row and the outbox row of a new instance together (client start); returns the outbox row.</summary>
    public async Task<OutboxRow> CreateOrReplaceAsync(InstanceState state, ETag? replacing, TaskMessage startMessage, CancellationToken cancellationToken)
    {
        var checkpoint = new Checkpoint(state, replacing, state.ExecutionId, 0, [], [new OutboundMessage(TaskHubQueue.Control, startMessage)], [], []);
        return (await CommitAsync(checkpoint, cancellationToken)).Outbox[0];
    }

    /// <summary>Counts an instance's rows whose key starts with <paramref name="prefix"/> (diagnostics and tests).</summary>
    internal async Task<int> CountRowsAsync(string instanceId, string prefix, CancellationToken cancellationToken)
    {
        var pk = KeyEncoding.ToPartitionKey(instanceId);
        var upper = prefix[..^1] + (char)(prefix[^1] + 1);
        var count = 0;
        await foreach (var unused in table.QueryAsync<TableEntity>(
            TableClient.CreateQueryFilter($"PartitionKey eq {pk} and RowKey ge {prefix} and RowKey lt {upper}"), select: ["RowKey"], cancellationToken: cancellationToken))
        {
            count++;
        }

        return count;
    }
}
