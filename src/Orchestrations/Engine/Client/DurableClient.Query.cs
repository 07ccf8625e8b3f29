using FleetFunctions.Orchestrations.Engine.Storage;

namespace FleetFunctions.Orchestrations.Engine.Client;

public sealed partial class DurableClient
{
    private static readonly OrchestrationRuntimeStatus[] s_terminal =
        [OrchestrationRuntimeStatus.Completed, OrchestrationRuntimeStatus.Failed, OrchestrationRuntimeStatus.Terminated];

    /// <summary>Why <paramref name="instanceId"/> cannot be an instance id (empty, only whitespace, too long); null when it can.</summary>
    public static string? InstanceIdProblem(string instanceId) => KeyEncoding.InstanceIdProblem(instanceId);

    /// <summary>Whether <paramref name="token"/> is a continuation token that <see cref="QueryInstancesAsync"/> returned.</summary>
    public static bool IsContinuationToken(string token) => QueryContinuation.TryDecode(token, out _);

    /// <summary>Status of an instance, or null when it does not exist.</summary>
    public async Task<OrchestrationMetadata?> GetInstanceAsync(
        string instanceId, bool getInputsAndOutputs = false, bool includeHistory = false, CancellationToken cancellationToken = default)
    {
        KeyEncoding.ValidateInstanceId(instanceId);
        var found = await hub.Store.ReadStateAsync(instanceId, cancellationToken);
        if (found is null)
        {
            return null;
        }

        var metadata = await ToMetadataAsync(found.Value.State, getInputsAndOutputs, cancellationToken);
        if (!includeHistory)
        {
            return metadata;
        }

        var history = await hub.Store.ReadHistoryAsync(instanceId, found.Value.State.ExecutionId, cancellationToken);
        var resolved = await Task.WhenAll(history.Select(async e => e with
        {
            Input = await hub.Payloads.ResolveAsync(e.Input, cancellationToken),
            Result = await hub.Payloads.ResolveAsync(e.Result, cancellationToken),
        }));
        return metadata with { History = resolved };
    }

    /// <summary>
    /// One page of instances matching the query; pass the returned token back for the next page (any other token is an
    /// <see cref="ArgumentException"/>: check it with <see cref="IsContinuationToken"/>).
    /// </summary>
    public async Task<OrchestrationQueryResult> QueryInstancesAsync(OrchestrationQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.PageSize is < 1 or > 1000)
        {
            throw new ArgumentOutOfRangeException(nameof(query), query.PageSize, "OrchestrationQuery.PageSize must be between 1 and 1000.");
        }

        var filter = InstanceStore.BuildFilter(query.Statuses, query.CreatedFrom, query.CreatedTo, query.NamePrefix, query.InstanceIdPrefix);
        var (items, token) = await hub.Store.QueryAsync(filter, query.PageSize, query.ContinuationToken, cancellationToken);
        var instances = await Task.WhenAll(items.Select(s => ToMetadataAsync(s, query.FetchInputsAndOutputs, cancellationToken)));
        return new OrchestrationQueryResult(instances, string.IsNullOrEmpty(token) ? null : token);
    }

    /// <summary>Deletes a finished instance: state, history, parked messages and payload blobs. Returns 0 when it does not exist.</summary>
    public async Task<PurgeResult> PurgeInstanceAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        KeyEncoding.ValidateInstanceId(instanceId);
        var found = await hub.Store.ReadStateAsync(instanceId, cancellationToken);
        if (found is null)
        {
            return new PurgeResult(0);
        }

        if (!found.Value.State.Status.IsTerminal())
        {
            throw new InvalidOperationException(
                $"orchestration '{instanceId}' is {found.Value.State.Status}: only Completed, Failed or Terminated instances can be purged; terminate it first.");
        }

        var deleted = await hub.Store.DeletePartitionAsync(instanceId, cancellationToken);
        await hub.Payloads.DeleteAllAsync(instanceId, cancellationToken);
        return new PurgeResult(deleted ? 1 : 0);
    }

    /// <summary>Purges the finished instances last updated before <paramref name="cutoff"/> (UTC): the upkeep's retention.</summary>
    public Task<PurgeResult> PurgeFinishedBeforeAsync(DateTime cutoff, CancellationToken cancellationToken = default) =>
        // Finished before the cutoff implies created before it: the query narrows by creation, the predicate by last update.
        PurgeMatchingAsync(new OrchestrationQuery { Statuses = s_terminal, CreatedTo = cutoff }, i => i.LastUpdatedAt < cutoff, cancellationToken);

    /// <summary>Purges every finished instance matching the filter (only Completed, Failed and Terminated are ever purged).</summary>
    public async Task<PurgeResult> PurgeInstancesAsync(PurgeInstancesFilter filter, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var statuses = (filter.Statuses is { Count: > 0 } ? filter.Statuses : s_terminal).Where(s => s.IsTerminal()).ToList();
        return statuses.Count == 0
            ? new PurgeResult(0)
            : await PurgeMatchingAsync(new OrchestrationQuery { Statuses = statuses, CreatedFrom = filter.CreatedFrom, CreatedTo = filter.CreatedTo }, _ => true, cancellationToken);
    }

    /// <summary>
    /// Purges the instances <paramref name="query"/> finds (a page of 500 at a time) that <paramref name="purge"/> accepts;
    /// one started again under the same id since the query (no longer finished) is skipped.
    /// </summary>
    private async Task<PurgeResult> PurgeMatchingAsync(OrchestrationQuery query, Func<OrchestrationMetadata, bool> purge, CancellationToken cancellationToken)
    {
        var count = 0;
        string? token = null;
        do
        {
            var page = await QueryInstancesAsync(query with { PageSize = 500, ContinuationToken = token }, cancellationToken);
            foreach (var instance in page.Instances.Where(purge))
            {
                try
                {
                    count += (await PurgeInstanceAsync(instance.InstanceId, cancellationToken)).PurgedInstanceCount;
                }
                catch (InvalidOperationException)
                {
                    // Started again since the query: not finished any more.
                }
            }

            token = page.ContinuationToken;
        }
        while (token is not null);

        return new PurgeResult(count);
    }

    private async Task<OrchestrationMetadata> ToMetadataAsync(InstanceState state, bool getInputsAndOutputs, CancellationToken cancellationToken) =>
        new(state.Name, state.InstanceId)
        {
            RuntimeStatus = state.Status,
            Version = state.Version,
            CreatedAt = state.CreatedTime,
            LastUpdatedAt = state.LastUpdatedTime,
            CompletedAt = state.CompletedTime,
            ExecutionId = state.ExecutionId,
            FailureDetails = state.Failure,
            SerializedCustomStatus = await hub.Payloads.ResolveAsync(state.CustomStatus, cancellationToken),
            SerializedInput = getInputsAndOutputs ? await hub.Payloads.ResolveAsync(state.Input, cancellationToken) : null,
            SerializedOutput = getInputsAndOutputs ? await hub.Payloads.ResolveAsync(state.Output, cancellationToken) : null,
            Converter = hub.Converter,
        };
}
