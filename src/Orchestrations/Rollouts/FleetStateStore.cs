using System.Collections.Concurrent;
using Azure;
using Azure.Data.Tables;
using FleetFunctions.Core.Storage;

using FleetFunctions.Orchestrations.Engine.Storage;

namespace FleetFunctions.Orchestrations.Rollouts;

/// <summary>What is known about one fleet: its active rollout, its last good commit and its last rollout's outcome.</summary>
public sealed record FleetState(
    string Fleet,
    string? ActiveInstance,
    string? ActiveCommit,
    string? LastGoodCommit,
    string? LastGoodInstance,
    DateTimeOffset? LastGoodAt,
    string? LastRolloutInstance,
    RolloutPhase? LastRolloutPhase,
    string? LastRolloutReason,
    DateTimeOffset? LastRolloutAt);

/// <summary>
/// Fleet state in two Azure Tables, partition = fleet: in the state table (default <c>fleetstate</c>) one <c>state</c>
/// row per fleet (active rollout, last good commit, last outcome) updated with ETag concurrency; in the commit table
/// (the state table's name + <c>commits</c>) one row per finished rollout, keyed by commit, which <c>dependsOn</c>
/// checks read. Commit rows older than <see cref="CommitRetention"/> are deleted as the fleet records its next rollout,
/// at most once a day per fleet and process. Reasons are cut to fit a table property.
/// </summary>
public sealed class FleetStateStore
{
    private const string StateRow = "state";

    /// <summary>Row key prefix of the commit rows that earlier builds kept in the state table, beside the state row.</summary>
    private const string LegacyCommitPrefix = "commit-";

    /// <summary>Sorts right after every key with <see cref="LegacyCommitPrefix"/>.</summary>
    private const string LegacyCommitEnd = "commit.";

    /// <summary>
    /// The longest reason stored, in UTF-16 code units (the unit of the service's 32K-character limit on a string
    /// property), marker included.
    /// </summary>

    /// <summary>A dependsOn wait lasts at most <see cref="RolloutOrchestrator.DependencyTimeout"/>: the rows it reads are kept far longer.</summary>
    private static readonly TimeSpan s_minimumCommitRetention = TimeSpan.FromDays(1);

    private readonly TableClient _table;
    private readonly TableClient _commits;
    private readonly TablePurge _purge;

    /// <summary>Fleets whose commit rows in the state table (written by earlier builds) this process has moved.</summary>
    private readonly ConcurrentDictionary<string, bool> _moved = new(StringComparer.Ordinal);

    /// <summary>Each state row as this store last read or wrote it, with its ETag: the first guess of an update.</summary>
    private readonly ConcurrentDictionary<string, (FleetState State, ETag ETag)> _known = new(StringComparer.Ordinal);
    private int _created;

    public FleetStateStore(string connectionString, string tableName = "fleetstate")
        : this(StorageAccount.FromConnectionString(connectionString), tableName)
    {
    }

    public FleetStateStore(StorageAccount storage, string tableName = "fleetstate")
    {
        ArgumentNullException.ThrowIfNull(storage);
        _table = storage.CreateTableClient(tableName);
        _commits = storage.CreateTableClient(tableName + "commits");
        _purge = new TablePurge(_commits);
    }

    /// <summary>
    /// Commit rows (the outcome of each finished rollout, which <c>dependsOn</c> reads) older than this are deleted
    /// (default 30 days; null keeps every row). Never less than a day, so no dependsOn wait loses the row it waits for.
    /// </summary>
    public TimeSpan? CommitRetention { get; init; } = TimeSpan.FromDays(30);

    public async Task EnsureCreatedAsync(CancellationToken cancellationToken = default)
    {
        if (Volatile.Read(ref _created) == 0)
        {
            await _table.CreateIfNotExistsAsync(cancellationToken);
            await _commits.CreateIfNotExistsAsync(cancellationToken);
            Volatile.Write(ref _created, 1);
        }
    }

    public async Task<FleetState> GetAsync(string fleet, CancellationToken cancellationToken = default)
    {
        await EnsureCreatedAsync(cancellationToken);
        return (await ReadStateAsync(fleet, cancellationToken))?.State ?? Empty(fleet);
    }

    /// <summary>
    /// The state of each of <paramref name="fleets"/> (an empty state for a fleet without a row), read with one query
    /// for the <c>state</c> rows of all partitions, paged by the service: a listing costs one round trip per thousand
    /// fleets instead of one per fleet, and the state table holds nothing else to scan past. States of fleets not asked
    /// for are skipped.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, FleetState>> GetManyAsync(IEnumerable<string> fleets, CancellationToken cancellationToken = default)
    {
        await EnsureCreatedAsync(cancellationToken);
        var states = fleets.Distinct(StringComparer.Ordinal).ToDictionary(f => f, Empty, StringComparer.Ordinal);
        await foreach (var entity in _table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"RowKey eq {StateRow}"), cancellationToken: cancellationToken))
        {
            if (states.ContainsKey(entity.PartitionKey))
            {
                states[entity.PartitionKey] = FromEntity(entity);
            }
        }

        return states;
    }

    /// <summary>
    /// Makes <paramref name="instanceId"/> the fleet's active rollout and returns the one it replaces (if another was
    /// active), unless <paramref name="refuse"/> gives a reason not to: then nothing is written and the claim carries it.
    /// </summary>
    /// <param name="refuse">Asked with the state the claim would replace (again if another rollout changed it meanwhile).</param>
    public async Task<FleetClaim> ClaimAsync(string fleet, string instanceId, string commit,
        Func<FleetState, CancellationToken, Task<string?>>? refuse = null, CancellationToken cancellationToken = default)
    {
        return await UpdateAsync<FleetClaim>(fleet, async state =>
        {
            if (refuse is not null && await refuse(state, cancellationToken) is { } reason)
            {
                return (null, new FleetClaim(null, state.LastGoodCommit, reason));
            }

            var previous = state.ActiveInstance is { } active && active != instanceId ? active : null;
            return (state with { ActiveInstance = instanceId, ActiveCommit = commit }, new FleetClaim(previous, state.LastGoodCommit));
        }, cancellationToken);
    }

    /// <summary>
    /// Records how a rollout ended; a success becomes the last good commit. Releases the claim if still held. A reason
    /// longer than a table property holds is stored cut, with a count of the characters left out.
    /// </summary>
    /// <remarks>
    /// The commit row is written first (the state row is in another table, so not in the same transaction): if the state
    /// row's write then fails, the rollout's dependents still see how it ended; a record run again writes the same
    /// commit row. The first record of a fleet in a day (per process) also starts deleting its commit rows past
    /// <see cref="CommitRetention"/>, without waiting for that.
    /// </remarks>
    public async Task RecordAsync(RecordInput input, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        await EnsureCreatedAsync(cancellationToken);
        var reason = TableText.Cut(input.Reason);
        await _commits.UpsertEntityAsync(CommitRow(input.Fleet, input.Commit, input.Phase.ToString(), input.InstanceId, reason, now), TableUpdateMode.Replace, cancellationToken);
        await UpdateAsync<bool>(input.Fleet, state =>
        {
            var next = state with
            {
                LastRolloutInstance = input.InstanceId,
                LastRolloutPhase = input.Phase,
                LastRolloutReason = reason,
                LastRolloutAt = now,
            };
            if (input.Phase == RolloutPhase.Succeeded)
            {
                next = next with { LastGoodCommit = input.Commit, LastGoodInstance = input.InstanceId, LastGoodAt = now };
            }

            if (state.ActiveInstance == input.InstanceId)
            {
                next = next with { ActiveInstance = null, ActiveCommit = null };
            }

            return ValueTask.FromResult<(FleetState?, bool)>((next, true));
        }, cancellationToken);

        // Off the rollout's path: the record is what the caller waits for.
        _ = MoveEarlierCommitRowsAsync(input.Fleet, now);
        if (CommitRetention is { } retention)
        {
            var before = now - (retention < s_minimumCommitRetention ? s_minimumCommitRetention : retention);
            _ = _purge.PurgeWhereAsync(input.Fleet, now, input.Fleet, TableClient.CreateQueryFilter($"RecordedAt lt {before}"));
        }
    }

    /// <summary>
    /// Clears the fleet's claim if <paramref name="instanceId"/> still holds it: for a rollout that ended without
    /// recording its end (terminated, or its last activity failed). Returns whether it was released.
    /// </summary>
    public async Task<bool> ReleaseAsync(string fleet, string instanceId, CancellationToken cancellationToken = default) =>
        await UpdateAsync<bool>(fleet, state => ValueTask.FromResult<(FleetState?, bool)>(state.ActiveInstance == instanceId
            ? (state with { ActiveInstance = null, ActiveCommit = null }, true)
            : (null, false)), cancellationToken);

    /// <summary>
    /// The phase a fleet's rollout of <paramref name="commit"/> ended in, or null when none has ended (or its row is past
    /// <see cref="CommitRetention"/>).
    /// </summary>
    public async Task<RolloutPhase?> GetCommitPhaseAsync(string fleet, string commit, CancellationToken cancellationToken = default)
    {
        await EnsureCreatedAsync(cancellationToken);
        var response = await _commits.GetEntityIfExistsAsync<TableEntity>(fleet, commit, ["Phase"], cancellationToken);
        if (!response.HasValue)
        {
            // Recorded by an earlier build, and not yet moved into the commit table.
            response = await _table.GetEntityIfExistsAsync<TableEntity>(fleet, LegacyCommitPrefix + commit, ["Phase"], cancellationToken);
        }

        return response.HasValue && Enum.TryParse<RolloutPhase>(response.Value!.GetString("Phase"), out var phase) ? phase : null;
    }

    /// <summary>
    /// Moves the fleet's commit rows that earlier builds wrote beside its state row into the commit table (recorded at
    /// their last write), once per fleet and process, so the state table holds state rows only. A row the commit table
    /// already has is not overwritten. Storage failures are swallowed: the move is tried again at the next record.
    /// </summary>
    private async Task MoveEarlierCommitRowsAsync(string fleet, DateTimeOffset now)
    {
        if (!_moved.TryAdd(fleet, true))
        {
            return;
        }

        try
        {
            var filter = TableClient.CreateQueryFilter($"PartitionKey eq {fleet} and RowKey gt {LegacyCommitPrefix} and RowKey lt {LegacyCommitEnd}");
            await foreach (var row in _table.QueryAsync<TableEntity>(filter))
            {
                var moved = CommitRow(fleet, row.RowKey[LegacyCommitPrefix.Length..], row.GetString("Phase"), row.GetString("InstanceId"), row.GetString("Reason"), row.Timestamp ?? now);
                try
                {
                    await _commits.AddEntityAsync(moved);
                }
                catch (RequestFailedException ex) when (ex.Status == 409)
                {
                    // Recorded again since: the commit table's row is the newer one.
                }

                await _table.DeleteEntityAsync(fleet, row.RowKey, ETag.All);
            }
        }
        catch (Exception ex) when (ex is RequestFailedException or HttpRequestException or IOException)
        {
            _moved.TryRemove(fleet, out _);
        }
    }

    private static TableEntity CommitRow(string fleet, string commit, string? phase, string? instanceId, string? reason, DateTimeOffset recordedAt) => new(fleet, commit)
    {
        ["Phase"] = phase,
        ["InstanceId"] = instanceId,
        ["Reason"] = reason,
        ["RecordedAt"] = recordedAt,
    };

    /// <summary>
    /// Applies <paramref name="change"/> to the state row and writes it with ETag concurrency; a null state writes
    /// nothing. The row as this store last read or wrote it is tried first, so the usual update (this process made the
    /// last change, as a rollout's claim and record do) is one write instead of a read and a write. The ETag makes that
    /// safe: a row changed elsewhere fails the write and the change is applied again to the row as stored. A decision
    /// to write nothing counts only when the stored row still has the ETag it was taken on.
    /// </summary>
    private async Task<T> UpdateAsync<T>(string fleet, Func<FleetState, ValueTask<(FleetState? State, T Result)>> change, CancellationToken cancellationToken)
    {
        await EnsureCreatedAsync(cancellationToken);
        var fresh = !_known.TryGetValue(fleet, out var known);
        var row = fresh ? await ReadStateAsync(fleet, cancellationToken) : known;
        while (true)
        {
            var (next, result) = await change(row?.State ?? Empty(fleet));
            if (next is null)
            {
                if (fresh)
                {
                    return result;
                }

                var stored = await ReadStateAsync(fleet, cancellationToken);
                if (stored?.ETag == row?.ETag)
                {
                    return result;
                }

                row = stored;
            }
            else if (await TryWriteAsync(next, row?.ETag, cancellationToken))
            {
                return result;
            }
            else
            {
                // Changed elsewhere since this store saw it (another rollout of this fleet, another process): read it
                // again and re-apply the change.
                row = await ReadStateAsync(fleet, cancellationToken);
            }

            fresh = true;
        }
    }

    /// <summary>Reads the state row (null when there is none) and remembers it.</summary>
    private async Task<(FleetState State, ETag ETag)?> ReadStateAsync(string fleet, CancellationToken cancellationToken)
    {
        var response = await _table.GetEntityIfExistsAsync<TableEntity>(fleet, StateRow, cancellationToken: cancellationToken);
        if (!response.HasValue)
        {
            _known.TryRemove(fleet, out _);
            return null;
        }

        var row = (FromEntity(response.Value!), response.Value!.ETag);
        _known[fleet] = row;
        return row;
    }

    /// <summary>
    /// Writes <paramref name="state"/> over the row with <paramref name="etag"/> (creates it when null); false when the
    /// row is not as expected (changed, created or deleted meanwhile), and then it is forgotten.
    /// </summary>
    private async Task<bool> TryWriteAsync(FleetState state, ETag? etag, CancellationToken cancellationToken)
    {
        var entity = ToEntity(state);
        try
        {
            var response = etag is { } match
                ? await _table.UpdateEntityAsync(entity, match, TableUpdateMode.Replace, cancellationToken)
                : await _table.AddEntityAsync(entity, cancellationToken);

            if (response.Headers.ETag is { } written)
            {
                _known[state.Fleet] = (state, written);
            }
            else
            {
                _known.TryRemove(state.Fleet, out _);
            }

            return true;
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 409 or 412)
        {
            _known.TryRemove(state.Fleet, out _);
            return false;
        }
    }

    private static FleetState Empty(string fleet) => new(fleet, null, null, null, null, null, null, null, null, null);

    private static TableEntity ToEntity(FleetState state) => new(state.Fleet, StateRow)
    {
        ["ActiveInstance"] = state.ActiveInstance,
        ["ActiveCommit"] = state.ActiveCommit,
        ["LastGoodCommit"] = state.LastGoodCommit,
        ["LastGoodInstance"] = state.LastGoodInstance,
        ["LastGoodAt"] = state.LastGoodAt,
        ["LastRolloutInstance"] = state.LastRolloutInstance,
        ["LastRolloutPhase"] = state.LastRolloutPhase?.ToString(),
        ["LastRolloutReason"] = state.LastRolloutReason,
        ["LastRolloutAt"] = state.LastRolloutAt,
    };

    private static FleetState FromEntity(TableEntity e) => new(
        e.PartitionKey,
        e.GetString("ActiveInstance"),
        e.GetString("ActiveCommit"),
        e.GetString("LastGoodCommit"),
        e.GetString("LastGoodInstance"),
        e.GetDateTimeOffset("LastGoodAt"),
        e.GetString("LastRolloutInstance"),
        Enum.TryParse<RolloutPhase>(e.GetString("LastRolloutPhase"), out var phase) ? phase : null,
        e.GetString("LastRolloutReason"),
        e.GetDateTimeOffset("LastRolloutAt"));
}
