using System.Collections.Frozen;
using System.Globalization;
using System.Text.Json.Nodes;
using Azure;
using Azure.Data.Tables;
using FleetFunctions.Core.Drift;
using FleetFunctions.Core.Manifests;
using FleetFunctions.Core.Storage;

using FleetFunctions.Orchestrations.Engine.Storage;

namespace FleetFunctions.Orchestrations.Drift;

/// <summary>One drifted object as recorded: <c>Kind/namespace/name</c>, Modified or Missing, and the field paths.</summary>
public sealed record DriftedObject(string Object, string Kind, IReadOnlyList<string> Fields)
{
    /// <summary>The field managers that set the drifted fields on the cluster, where managedFields tell.</summary>
    public IReadOnlyList<string> ChangedBy { get; init; } = [];

    /// <summary>
    /// True when the object was not healed because the same fields had been healed <see cref="DriftHealOptions.MaxHeals"/>
    /// times within <see cref="DriftHealOptions.Window"/> and set again each time: another controller fights Git for them.
    /// </summary>
    public bool Fought { get; init; }
}

/// <summary>A recorded drift event: what was found on a cluster against a commit, and whether it was healed.</summary>
/// <param name="Id">Row key of the event (unique per (cluster, fleet), newest first).</param>
/// <param name="Trigger">What found it: <c>sweep</c> or <c>watch</c>.</param>
/// <param name="DriftCount">Drifted objects (may exceed <see cref="Objects"/>, which is truncated to fit a table property).</param>
/// <param name="Healed">True once re-applying Git succeeded; false while pending, when it failed, or without selfHeal.</param>
public sealed record DriftEvent(
    string Cluster,
    string Fleet,
    string Id,
    string Commit,
    DateTimeOffset DetectedAt,
    string Trigger,
    int DriftCount,
    IReadOnlyList<DriftedObject> Objects,
    bool SelfHeal,
    bool Healed,
    DateTimeOffset? HealedAt,
    string? HealError);

/// <summary>The drift state of one (cluster, fleet): the last check, its error if it failed, and the latest drift found.</summary>
/// <param name="InSync">True when the last successful check found no drift.</param>
/// <param name="Error">Why the last check failed (unreachable cluster, ...); null when it succeeded.</param>
public sealed record DriftStatus(string Cluster, string Fleet, DateTimeOffset? CheckedAt, bool InSync, string? Error, DateTimeOffset? ErrorAt, DriftEvent? LastDrift);

/// <summary>
/// Drift events in an Azure Table (default <c>fleetdrift</c>), one partition per fleet: a <c>latest~cluster</c> row per
/// cluster (last check, last error, latest drift) and <c>event~cluster~time~id</c> rows, newest first. A drift is
/// recorded (event row and latest row in one transaction) before anything is healed; the heal outcome is written after.
/// Object lists are truncated to fit a table property. Events older than <see cref="Retention"/> are deleted as new ones
/// of the same cluster and fleet are recorded, at most once a day per pair and process. Thread-safe.
/// </summary>
public sealed class DriftEventStore
{
    private const int MaxObjectsChars = 30_000;
    private const int MaxFields = 50;
    private const int MaxFieldChars = 500;
    private readonly TableClient _table;
    private readonly Lazy<Task> _created;
    private readonly TablePurge _purge;

    public DriftEventStore(string connectionString, string tableName = "fleetdrift")
        : this(StorageAccount.FromConnectionString(connectionString), tableName)
    {
    }

    public DriftEventStore(StorageAccount storage, string tableName = "fleetdrift")
    {
        _table = (storage ?? throw new ArgumentNullException(nameof(storage))).CreateTableClient(tableName);
        _created = new Lazy<Task>(() => _table.CreateIfNotExistsAsync());
        _purge = new TablePurge(_table);
    }

    /// <summary>Drift events older than this are deleted (default 30 days; null keeps every event). The latest state of each cluster is always kept.</summary>
    public TimeSpan? Retention { get; init; } = TimeSpan.FromDays(30);

    /// <summary>
    /// Records a drift before it is healed; returns the event id for <see cref="RecordHealAsync"/>.
    /// <paramref name="fought"/>: objects that will not be healed because another controller fights Git for their fields.
    /// </summary>
    public async Task<string> RecordDetectedAsync(
        DriftReport report, bool selfHeal, string trigger, DateTimeOffset now, IReadOnlySet<ObjectReference>? fought = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(report);
        await _created.Value;
        var id = TableKey.Join("event", report.Cluster, TablePurge.InvertedTicks(now), Guid.NewGuid().ToString("N")[..8]);
        var fields = new Dictionary<string, object?>
        {
            ["Cluster"] = report.Cluster,
            ["Fleet"] = report.Fleet,
            ["Commit"] = report.Commit,
            ["DetectedAt"] = now,
            ["Trigger"] = trigger,
            ["DriftCount"] = report.Objects.Count,
            ["Objects"] = SerialiseObjects(report.Objects, fought ?? FrozenSet<ObjectReference>.Empty),
            ["SelfHeal"] = selfHeal,
            ["Healed"] = false,
        };
        var latest = Entity(report.Fleet, LatestRow(report.Cluster), fields);
        latest["EventId"] = id;
        latest["CheckedAt"] = now;
        latest["InSync"] = false;
        latest["Error"] = string.Empty;
        await _table.SubmitTransactionAsync(
            [
                new TableTransactionAction(TableTransactionActionType.Add, Entity(report.Fleet, id, fields)),
                new TableTransactionAction(TableTransactionActionType.UpsertReplace, latest),
            ],
            cancellationToken);
        if (Retention is { } retention)
        {
            // Off the check's path: older events of this cluster have larger inverted-tick keys.
            var prefix = TableKey.Join("event", report.Cluster) + "~";
            _ = _purge.PurgeAsync(Key(report.Fleet) + "|" + prefix, now, Key(report.Fleet), prefix + TablePurge.InvertedTicks(now - retention), prefix + "~");
        }

        return id;
    }

    /// <summary>Records the outcome of healing the drift <paramref name="eventId"/>.</summary>
    public async Task RecordHealAsync(string cluster, string fleet, string eventId, bool healed, string? error, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        await _created.Value;
        var outcome = new Dictionary<string, object?> { ["Healed"] = healed, ["HealError"] = error is null ? string.Empty : TableText.Cut(error) };
        if (healed)
        {
            outcome["HealedAt"] = now;
        }

        var actions = new List<TableTransactionAction> { new(TableTransactionActionType.UpdateMerge, Entity(fleet, eventId, outcome), ETag.All) };
        var latest = await _table.GetEntityIfExistsAsync<TableEntity>(Key(fleet), LatestRow(cluster), ["EventId"], cancellationToken);
        if (latest.HasValue && latest.Value!.GetString("EventId") == eventId)
        {
            // Only when no newer drift replaced it meanwhile (ETag).
            actions.Add(new TableTransactionAction(TableTransactionActionType.UpdateMerge, Entity(fleet, LatestRow(cluster), outcome), latest.Value.ETag));
        }

        try
        {
            await _table.SubmitTransactionAsync(actions, cancellationToken);
        }
        catch (TableTransactionFailedException) when (actions.Count > 1)
        {
            // A newer check replaced the latest row in between: record the outcome on the event alone.
            await _table.UpdateEntityAsync(Entity(fleet, eventId, outcome), ETag.All, TableUpdateMode.Merge, cancellationToken);
        }
    }

    /// <summary>Records a check that found the cluster in sync with Git.</summary>
    public async Task RecordInSyncAsync(string cluster, string fleet, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        await _created.Value;
        var entity = Entity(fleet, LatestRow(cluster), new Dictionary<string, object?> { ["Cluster"] = cluster, ["Fleet"] = fleet, ["CheckedAt"] = now, ["InSync"] = true, ["Error"] = string.Empty });
        await _table.UpsertEntityAsync(entity, TableUpdateMode.Merge, cancellationToken);
    }

    /// <summary>Records a check that found the latest recorded drift still there (not recorded again).</summary>
    public async Task RecordStillDriftedAsync(string cluster, string fleet, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        await _created.Value;
        var entity = Entity(fleet, LatestRow(cluster), new Dictionary<string, object?> { ["Cluster"] = cluster, ["Fleet"] = fleet, ["CheckedAt"] = now, ["InSync"] = false, ["Error"] = string.Empty });
        await _table.UpsertEntityAsync(entity, TableUpdateMode.Merge, cancellationToken);
    }

    /// <summary>Records a check that failed (unreachable cluster, uncached render, ...); the latest drift is kept.</summary>
    public async Task RecordErrorAsync(string cluster, string fleet, string error, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        await _created.Value;
        var entity = Entity(fleet, LatestRow(cluster), new Dictionary<string, object?> { ["Cluster"] = cluster, ["Fleet"] = fleet, ["CheckedAt"] = now, ["Error"] = error, ["ErrorAt"] = now });
        await _table.UpsertEntityAsync(entity, TableUpdateMode.Merge, cancellationToken);
    }

    /// <summary>The drift state of every cluster of <paramref name="fleet"/> that was checked (one partition query).</summary>
    public async Task<IReadOnlyDictionary<string, DriftStatus>> GetFleetAsync(string fleet, CancellationToken cancellationToken = default)
    {
        await _created.Value;
        var partition = Key(fleet);
        var result = new Dictionary<string, DriftStatus>(StringComparer.Ordinal);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey gt {"latest~"} and RowKey lt {"latest~~"}");
        await foreach (var entity in _table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            var status = ToStatus(entity);
            result[status.Cluster] = status;
        }

        return result;
    }

    /// <summary>The drift state of <paramref name="fleet"/> on <paramref name="cluster"/>, or null when never checked.</summary>
    public async Task<DriftStatus?> GetAsync(string cluster, string fleet, CancellationToken cancellationToken = default)
    {
        await _created.Value;
        var response = await _table.GetEntityIfExistsAsync<TableEntity>(Key(fleet), LatestRow(cluster), cancellationToken: cancellationToken);
        return response.HasValue ? ToStatus(response.Value!) : null;
    }

    /// <summary>The newest <paramref name="max"/> drift events of <paramref name="fleet"/> on <paramref name="cluster"/>.</summary>
    public async Task<IReadOnlyList<DriftEvent>> ListEventsAsync(string cluster, string fleet, int max = 20, CancellationToken cancellationToken = default)
    {
        await _created.Value;
        var prefix = TableKey.Join("event", cluster) + "~";
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {Key(fleet)} and RowKey gt {prefix} and RowKey lt {prefix + "~"}");
        var events = new List<DriftEvent>();
        await foreach (var entity in _table.QueryAsync<TableEntity>(filter, maxPerPage: max, cancellationToken: cancellationToken))
        {
            events.Add(ToEvent(entity, entity.RowKey));
            if (events.Count >= max)
            {
                break;
            }
        }

        return events;
    }

    /// <summary>The field paths of a drifted object as an event records them: the first 50, each cut at 500 characters.</summary>
    internal static IEnumerable<string> AsRecorded(IReadOnlyList<string> fields) => fields.Take(MaxFields).Select(f => f.Length > MaxFieldChars ? f[..MaxFieldChars] : f);

    private static string Key(string fleet) => TableKey.Escape(fleet);

    private static string LatestRow(string cluster) => TableKey.Join("latest", cluster);

    private static TableEntity Entity(string fleet, string row, Dictionary<string, object?> fields)
    {
        var entity = new TableEntity(Key(fleet), row);
        foreach (var (name, value) in fields)
        {
            entity[name] = value;
        }

        return entity;
    }

    private static DriftStatus ToStatus(TableEntity e)
    {
        var cluster = e.GetString("Cluster") ?? string.Empty;
        var fleet = e.GetString("Fleet") ?? string.Empty;
        var error = e.GetString("Error");
        return new DriftStatus(
            cluster,
            fleet,
            e.GetDateTimeOffset("CheckedAt"),
            e.GetBoolean("InSync") ?? false,
            string.IsNullOrEmpty(error) ? null : error,
            string.IsNullOrEmpty(error) ? null : e.GetDateTimeOffset("ErrorAt"),
            e.GetString("EventId") is { Length: > 0 } id ? ToEvent(e, id) : null);
    }

    private static DriftEvent ToEvent(TableEntity e, string id) => new(
        e.GetString("Cluster") ?? string.Empty,
        e.GetString("Fleet") ?? string.Empty,
        id,
        e.GetString("Commit") ?? string.Empty,
        e.GetDateTimeOffset("DetectedAt") ?? DateTimeOffset.MinValue,
        e.GetString("Trigger") ?? string.Empty,
        e.GetInt32("DriftCount") ?? 0,
        DeserialiseObjects(e.GetString("Objects")),
        e.GetBoolean("SelfHeal") ?? false,
        e.GetBoolean("Healed") ?? false,
        e.GetDateTimeOffset("HealedAt"),
        e.GetString("HealError") is { Length: > 0 } healError ? healError : null);

    private static string SerialiseObjects(IReadOnlyList<ObjectDrift> objects, IReadOnlySet<ObjectReference> fought)
    {
        var array = new JsonArray();
        var length = 2;
        foreach (var o in objects)
        {
            var fields = new JsonArray([.. AsRecorded(o.Fields).Select(f => (JsonNode)JsonValue.Create(f))]);
            var item = new JsonObject { ["object"] = o.Reference.ToString(), ["kind"] = o.Kind.ToString(), ["fields"] = fields };
            if (o.ChangedBy.Count > 0)
            {
                item["changedBy"] = new JsonArray([.. o.ChangedBy.Select(m => (JsonNode)JsonValue.Create(m))]);
            }

            if (fought.Contains(o.Reference))
            {
                item["fought"] = true;
            }

            var text = item.ToJsonString();
            if (length + text.Length + 1 > MaxObjectsChars)
            {
                break;
            }

            length += text.Length + 1;
            array.Add(item);
        }

        return array.ToJsonString();
    }

    private static IReadOnlyList<DriftedObject> DeserialiseObjects(string? json)
    {
        if (string.IsNullOrEmpty(json) || JsonNode.Parse(json) is not JsonArray array)
        {
            return [];
        }

        return [.. array.OfType<JsonObject>().Select(o => new DriftedObject(
            o["object"]?.GetValue<string>() ?? string.Empty,
            o["kind"]?.GetValue<string>() ?? string.Empty,
            [.. (o["fields"] as JsonArray ?? []).Select(f => f?.GetValue<string>() ?? string.Empty)])
        {
            ChangedBy = [.. (o["changedBy"] as JsonArray ?? []).Select(m => m?.GetValue<string>() ?? string.Empty)],
            Fought = o["fought"]?.GetValue<bool>() ?? false,
        })];
    }
}
