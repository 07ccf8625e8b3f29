using Azure;
using Azure.Data.Tables;
using FleetFunctions.Core.Manifests;
using FleetFunctions.Core.Storage;

namespace FleetFunctions.Core.Inventory;

/// <summary>
/// Inventories in Azure Tables: one partition per (cluster, fleet), one row per object plus a header row
/// with the commit. Saving writes only rows that changed (entity-group transactions of up to 100).
/// Thread-safe.
/// </summary>
public sealed class InventoryStore
{
    private const string HeaderRow = "!header";
    private const int BatchSize = 100;
    private readonly TableClient _table;
    private readonly Lazy<Task> _created;

    public InventoryStore(TableServiceClient service, InventoryOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(service);
        var validated = (options ?? new InventoryOptions()).Validate();
        _table = service.GetTableClient(validated.TableName);
        _created = new Lazy<Task>(() => _table.CreateIfNotExistsAsync());
    }

    public InventoryStore(string connectionString, InventoryOptions? options = null)
        : this(new TableServiceClient(connectionString), options)
    {
    }

    /// <summary>The inventory of <paramref name="fleet"/> on <paramref name="cluster"/>, or null when it never applied.</summary>
    public async Task<FleetInventory?> GetAsync(string cluster, string fleet, CancellationToken cancellationToken = default)
    {
        await _created.Value;
        var partition = TableKey.Join(cluster, fleet);
        TableEntity? header = null;
        var entries = new List<InventoryEntry>();
        await foreach (var entity in _table.QueryAsync<TableEntity>(e => e.PartitionKey == partition, cancellationToken: cancellationToken))
        {
            if (entity.RowKey == HeaderRow)
            {
                header = entity;
                continue;
            }

            entries.Add(new InventoryEntry(
                ObjectReference.FromKey(TableKey.Unescape(entity.RowKey)),
                entity.GetString("ApiVersion") ?? string.Empty,
                entity.GetString("Checksum") ?? string.Empty));
        }

        return header is null
            ? null
            : new FleetInventory(cluster, fleet, header.GetString("Commit") ?? string.Empty, header.GetString("Path") ?? string.Empty, entries, header.GetDateTimeOffset("UpdatedAt") ?? header.Timestamp ?? DateTimeOffset.MinValue);
    }

    /// <summary>
    /// Replaces the stored inventory with <paramref name="inventory"/>, writing only rows that differ from
    /// <paramref name="previous"/> (what <see cref="GetAsync"/> returned before the apply). Returns the number of rows written.
    /// </summary>
    public async Task<int> SaveAsync(FleetInventory inventory, FleetInventory? previous, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inventory);
        await _created.Value;
        var partition = TableKey.Join(inventory.Cluster, inventory.Fleet);
        var before = previous?.ToDictionary() ?? new Dictionary<ObjectReference, InventoryEntry>();
        var actions = new List<TableTransactionAction>();
        foreach (var entry in inventory.Entries)
        {
            if (before.TryGetValue(entry.Reference, out var old) && old == entry)
            {
                continue;
            }

            actions.Add(new TableTransactionAction(TableTransactionActionType.UpsertReplace, new TableEntity(partition, TableKey.Escape(entry.Reference.Key))
            {
                ["ApiVersion"] = entry.ApiVersion,
                ["Checksum"] = entry.Checksum,
                ["Commit"] = inventory.Commit,
            }));
        }

        var keep = inventory.Entries.Select(e => e.Reference).ToHashSet();
        foreach (var removed in before.Keys.Where(r => !keep.Contains(r)))
        {
            actions.Add(new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(partition, TableKey.Escape(removed.Key)), ETag.All));
        }

        if (actions.Count > 0 || previous is null || previous.Commit != inventory.Commit || previous.Path != inventory.Path)
        {
            actions.Add(new TableTransactionAction(TableTransactionActionType.UpsertReplace, new TableEntity(partition, HeaderRow)
            {
                ["Commit"] = inventory.Commit,
                ["Path"] = inventory.Path,
                ["Count"] = inventory.Entries.Count,
                ["UpdatedAt"] = inventory.UpdatedAt,
            }));
        }

        foreach (var batch in actions.Chunk(BatchSize))
        {
            await _table.SubmitTransactionAsync(batch, cancellationToken);
        }

        return actions.Count;
    }

    /// <summary>Deletes the inventory of a fleet on a cluster (after the fleet was removed and pruned).</summary>
    public async Task DeleteAsync(string cluster, string fleet, CancellationToken cancellationToken = default)
    {
        await _created.Value;
        var partition = TableKey.Join(cluster, fleet);
        var actions = new List<TableTransactionAction>();
        await foreach (var entity in _table.QueryAsync<TableEntity>(e => e.PartitionKey == partition, select: ["PartitionKey", "RowKey"], cancellationToken: cancellationToken))
        {
            actions.Add(new TableTransactionAction(TableTransactionActionType.Delete, entity, ETag.All));
        }

        foreach (var batch in actions.Chunk(BatchSize))
        {
            await _table.SubmitTransactionAsync(batch, cancellationToken);
        }
    }
}
