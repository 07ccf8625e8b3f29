using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using FleetFunctions.Core.Apply;
using FleetFunctions.Core.Storage;

namespace FleetFunctions.Core.Reconcile;

/// <summary>One recorded reconcile, newest first when listed.</summary>
public sealed record ReconcileHistoryEntry(
    string Cluster,
    string Fleet,
    string Commit,
    string Path,
    ReconcilePhase Phase,
    DateTimeOffset StartedAt,
    TimeSpan Duration,
    int Created,
    int Configured,
    int Unchanged,
    int Pruned,
    int Failed,
    int Drifted,
    IReadOnlyList<string> Errors,
    IReadOnlyList<string> Changes)
{
    public bool Succeeded => Phase == ReconcilePhase.Done;
}

/// <summary>
/// Reconcile history in Azure Tables: one partition per (cluster, fleet), row keys in reverse time order
/// so the newest comes first. Lists of errors and changes are truncated to fit a table property. Entries older than
/// <see cref="Retention"/> are deleted as the partition is written, at most once a day per partition and process.
/// </summary>
public sealed class ReconcileHistoryStore
{
    /// <summary>Sorts after every entry (inverted-tick keys are digits), so listings reach it last and skip it.</summary>
    private const string LatestRow = "~latest";

    private const int MaxPropertyChars = 30_000;

    /// <summary>Ends a list cut to fit <see cref="MaxPropertyChars"/>.</summary>
    private const string Truncated = "… (truncated)";

    /// <summary>The marker as serialised, with the comma before it.</summary>
    private static readonly int s_truncatedChars = JsonValue.Create(Truncated).ToJsonString().Length + 1;

    private readonly TableClient _table;
    private readonly Lazy<Task> _created;
    private readonly TablePurge _purge;

    public ReconcileHistoryStore(TableServiceClient service, string tableName = "fleetreconciles")
    {
        ArgumentNullException.ThrowIfNull(service);
        _table = service.GetTableClient(tableName);
        _created = new Lazy<Task>(() => _table.CreateIfNotExistsAsync());
        _purge = new TablePurge(_table);
    }

    public ReconcileHistoryStore(string connectionString, string tableName = "fleetreconciles")
        : this(StorageAccount.FromConnectionString(connectionString), tableName)
    {
    }

    public ReconcileHistoryStore(StorageAccount storage, string tableName = "fleetreconciles")
        : this((storage ?? throw new ArgumentNullException(nameof(storage))).CreateTableServiceClient(), tableName)
    {
    }

    /// <summary>Entries older than this are deleted (default 30 days; null keeps every entry).</summary>
    public TimeSpan? Retention { get; init; } = TimeSpan.FromDays(30);

    /// <summary>
    /// Records a result; the first record of a partition in a day (per process) also starts deleting its entries past
    /// <see cref="Retention"/>, without waiting for that.
    /// </summary>
    public async Task RecordAsync(ReconcileResult result, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(result);
        await _created.Value;
        var row = InvertedTicks(result.StartedAt) + "-" + Guid.NewGuid().ToString("N")[..8];
        var changes = result.Changes.Changes.Concat(result.Pruned.Changes).Where(c => c.Action != ChangeAction.Unchanged).Select(c => c.ToString());
        var entity = new TableEntity(TableKey.Join(result.Cluster, result.Fleet), row)
        {
            ["Cluster"] = result.Cluster,
            ["Fleet"] = result.Fleet,
            ["Commit"] = result.Commit,
            ["Path"] = result.Path,
            ["Phase"] = result.Phase.ToString(),
            ["StartedAt"] = result.StartedAt,
            ["DurationMs"] = (long)result.Duration.TotalMilliseconds,
            ["Created"] = result.Changes.Count(ChangeAction.Created),
            ["Configured"] = result.Changes.Count(ChangeAction.Configured),
            ["Unchanged"] = result.Changes.Count(ChangeAction.Unchanged),
            ["Pruned"] = result.Pruned.Count(ChangeAction.Deleted),
            ["Failed"] = result.Changes.Count(ChangeAction.Failed) + result.Pruned.Count(ChangeAction.Failed),
            ["Drifted"] = result.Drift.Count,
            ["Errors"] = Serialise(result.Errors),
            ["Changes"] = Serialise(changes),
        };
        // With the row, in the same transaction: the partition's "latest" row, which a no-op reads with one point read.
        var latest = new TableEntity(entity.PartitionKey, LatestRow) { ["Commit"] = result.Commit };
        await _table.SubmitTransactionAsync(
            [new TableTransactionAction(TableTransactionActionType.Add, entity), new TableTransactionAction(TableTransactionActionType.UpsertReplace, latest)],
            cancellationToken);

        // Off the reconcile's path: the record is what the caller waits for.
        _ = PurgeExpiredAsync(entity.PartitionKey);
    }

    private static string InvertedTicks(DateTimeOffset at) => TablePurge.InvertedTicks(at);

    /// <summary>Deletes the partition's entries older than <see cref="Retention"/>, unless this process did so within a day.</summary>
    private Task PurgeExpiredAsync(string partition)
    {
        var now = DateTimeOffset.UtcNow;
        // Older entries have larger inverted-tick keys; the "latest" row sorts after every entry and is kept.
        return Retention is { } retention ? _purge.PurgeAsync(partition, now, partition, InvertedTicks(now - retention), "~") : Task.CompletedTask;
    }

    /// <summary>
    /// The commit of the newest entry of a fleet on a cluster: one point read of the partition's "latest" row (null when
    /// there is none, also for history recorded before that row existed).
    /// </summary>
    public async Task<string?> LastCommitAsync(string cluster, string fleet, CancellationToken cancellationToken = default)
    {
        await _created.Value;
        var latest = await _table.GetEntityIfExistsAsync<TableEntity>(TableKey.Join(cluster, fleet), LatestRow, ["Commit"], cancellationToken);
        return latest.HasValue ? latest.Value!.GetString("Commit") : null;
    }

    /// <summary>The newest <paramref name="max"/> entries of a fleet on a cluster.</summary>
    public async Task<IReadOnlyList<ReconcileHistoryEntry>> ListAsync(string cluster, string fleet, int max = 20, CancellationToken cancellationToken = default)
    {
        await _created.Value;
        var partition = TableKey.Join(cluster, fleet);
        var entries = new List<ReconcileHistoryEntry>();
        await foreach (var e in _table.QueryAsync<TableEntity>(x => x.PartitionKey == partition, maxPerPage: max, cancellationToken: cancellationToken))
        {
            if (e.RowKey == LatestRow)
            {
                continue;
            }

            entries.Add(new ReconcileHistoryEntry(
                e.GetString("Cluster") ?? cluster,
                e.GetString("Fleet") ?? fleet,
                e.GetString("Commit") ?? string.Empty,
                e.GetString("Path") ?? string.Empty,
                Enum.TryParse<ReconcilePhase>(e.GetString("Phase"), out var phase) ? phase : ReconcilePhase.Source,
                e.GetDateTimeOffset("StartedAt") ?? DateTimeOffset.MinValue,
                TimeSpan.FromMilliseconds(e.GetInt64("DurationMs") ?? 0),
                e.GetInt32("Created") ?? 0,
                e.GetInt32("Configured") ?? 0,
                e.GetInt32("Unchanged") ?? 0,
                e.GetInt32("Pruned") ?? 0,
                e.GetInt32("Failed") ?? 0,
                e.GetInt32("Drifted") ?? 0,
                Deserialise(e.GetString("Errors")),
                Deserialise(e.GetString("Changes"))));
            if (entries.Count >= max)
            {
                break;
            }
        }

        return entries;
    }

    /// <summary>
    /// The lines as a JSON array of at most <see cref="MaxPropertyChars"/> characters, ended with a truncation marker
    /// when they do not all fit. Measured as serialised: the JSON writer escapes quotes, <c>&lt; &gt; &amp; ' + `</c> and
    /// every non-ASCII character as six characters (<c>\u0022</c>), so a Kubernetes error or Japanese text grows
    /// several times over.
    /// </summary>
    private static string Serialise(IEnumerable<string> lines)
    {
        var array = new JsonArray();
        var length = 2;
        foreach (var line in lines)
        {
            var text = line.Length > 2000 ? line[..2000] + "…" : line;
            var serialised = JsonValue.Create(text).ToJsonString().Length + 1;
            if (length + serialised + s_truncatedChars > MaxPropertyChars)
            {
                array.Add(Truncated);
                break;
            }

            length += serialised;
            array.Add(text);
        }

        return array.ToJsonString();
    }

    private static IReadOnlyList<string> Deserialise(string? json)
    {
        if (string.IsNullOrEmpty(json))
        {
            return [];
        }

        try
        {
            return JsonNode.Parse(json) is JsonArray array ? [.. array.Select(n => n?.GetValue<string>() ?? string.Empty)] : [];
        }
        catch (JsonException)
        {
            return [json];
        }
    }
}
