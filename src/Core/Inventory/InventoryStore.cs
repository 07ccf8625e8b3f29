using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;
using Azure;
using Azure.Data.Tables;
using FleetFunctions.Core.Manifests;
using FleetFunctions.Core.Storage;

namespace FleetFunctions.Core.Inventory;

/// <summary>
/// Inventories in Azure Tables: one entity per (cluster, fleet) holding the commit, the path and every
/// entry as gzip-compressed JSON split over binary properties of at most 60 KB (about 20,000 objects fit
/// in the 1 MB entity limit). Saving an unchanged inventory writes nothing; any change is one write.
/// Remembers each inventory as this process last read or wrote it (<see cref="Remembered"/>). Thread-safe.
/// </summary>
public sealed class InventoryStore
{
    private const int ChunkBytes = 60 * 1024;
    private const int MaxChunks = 15;
    private readonly TableClient _table;
    private readonly Lazy<Task> _created;
    private readonly ForgetfulMap<(string Cluster, string Fleet), FleetInventory> _remembered = new(10_000);

    public InventoryStore(TableServiceClient service, InventoryOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(service);
        var validated = (options ?? new InventoryOptions()).Validate();
        _table = service.GetTableClient(validated.TableName);
        _created = new Lazy<Task>(() => _table.CreateIfNotExistsAsync());
    }

    public InventoryStore(string connectionString, InventoryOptions? options = null)
        : this(StorageAccount.FromConnectionString(connectionString), options)
    {
    }

    public InventoryStore(StorageAccount storage, InventoryOptions? options = null)
        : this((storage ?? throw new ArgumentNullException(nameof(storage))).CreateTableServiceClient(), options)
    {
    }

    /// <summary>The inventory of <paramref name="fleet"/> on <paramref name="cluster"/>, or null when it never applied.</summary>
    public async Task<FleetInventory?> GetAsync(string cluster, string fleet, CancellationToken cancellationToken = default)
    {
        await _created.Value;
        var response = await _table.GetEntityIfExistsAsync<TableEntity>(PartitionKey(cluster), RowKey(fleet), cancellationToken: cancellationToken);
        if (!response.HasValue || response.Value is not { } entity)
        {
            _remembered.Remove((cluster, fleet));
            return null;
        }

        return Remember(await FromEntityAsync(cluster, fleet, entity, cancellationToken));
    }

    /// <summary>
    /// Which other fleet lists each of <paramref name="references"/> in its inventory on <paramref name="cluster"/> (one
    /// query of the cluster's inventories): an object that left one fleet's Git for another's, and that the other fleet
    /// has applied since, is that fleet's now.
    /// </summary>
    /// <param name="candidates">
    /// The fleets that select the cluster now: the inventory of any other fleet (one that stopped selecting the cluster, or
    /// was deleted) is left where it is and ignored. Null: every fleet with an inventory on the cluster.
    /// </param>
    public async Task<IReadOnlyDictionary<ObjectReference, string>> OtherOwnersAsync(
        string cluster, string fleet, IReadOnlyCollection<ObjectReference> references, IReadOnlySet<string>? candidates = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(references);
        var owners = new Dictionary<ObjectReference, string>();
        if (references.Count == 0)
        {
            return owners;
        }

        await _created.Value;
        var wanted = references.ToHashSet();
        var partition = PartitionKey(cluster);
        var own = RowKey(fleet);
        await foreach (var entity in _table.QueryAsync<TableEntity>(e => e.PartitionKey == partition, cancellationToken: cancellationToken))
        {
            var other = TableKey.Unescape(entity.RowKey);
            if (entity.RowKey == own || candidates?.Contains(other) == false)
            {
                continue;
            }

            var inventory = await FromEntityAsync(cluster, other, entity, cancellationToken);
            foreach (var entry in inventory.Entries.Where(e => wanted.Contains(e.Reference)))
            {
                owners.TryAdd(entry.Reference, inventory.Fleet);
            }
        }

        return owners;
    }

    private static async Task<FleetInventory> FromEntityAsync(string cluster, string fleet, TableEntity entity, CancellationToken cancellationToken)
    {
        var compressed = new MemoryStream();
        for (var i = 0; entity.GetBinary($"Entries{i}") is { } chunk; i++)
        {
            compressed.Write(chunk);
        }

        compressed.Position = 0;
        var entries = new List<InventoryEntry>();
        if (compressed.Length > 0)
        {
            await using var gzip = new GZipStream(compressed, CompressionMode.Decompress);
            var array = await JsonNode.ParseAsync(gzip, cancellationToken: cancellationToken) as JsonArray ?? [];
            foreach (var item in array.OfType<JsonArray>())
            {
                entries.Add(new InventoryEntry(ObjectReference.FromKey(item[0]!.GetValue<string>()), item[1]!.GetValue<string>(), item[2]!.GetValue<string>()));
            }
        }

        return new FleetInventory(
            cluster,
            fleet,
            entity.GetString("Commit") ?? string.Empty,
            entity.GetString("Path") ?? string.Empty,
            entries,
            entity.GetDateTimeOffset("UpdatedAt") ?? entity.Timestamp ?? DateTimeOffset.MinValue);
    }

    /// <summary>
    /// The inventory of <paramref name="fleet"/> on <paramref name="cluster"/> as this process last read or wrote it, or
    /// null when it has not seen one. Another process may have changed it since: good for a head start (an apply that
    /// would be the same with any inventory), never for a decision such as what to prune.
    /// </summary>
    public FleetInventory? Remembered(string cluster, string fleet) => _remembered.TryGetValue((cluster, fleet), out var inventory) ? inventory : null;

    /// <summary>
    /// Replaces the stored inventory with <paramref name="inventory"/>. Writes nothing when it equals
    /// <paramref name="previous"/> (what <see cref="GetAsync"/> returned before the apply). Returns the number of writes (0 or 1).
    /// </summary>
    /// <exception cref="InvalidOperationException">The inventory is too large for one entity.</exception>
    public async Task<int> SaveAsync(FleetInventory inventory, FleetInventory? previous, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inventory);
        if (previous is not null && previous.Commit == inventory.Commit && previous.Path == inventory.Path
            && previous.Entries.Count == inventory.Entries.Count && !inventory.Entries.Except(previous.Entries).Any())
        {
            return 0;
        }

        await _created.Value;
        var entity = new TableEntity(PartitionKey(inventory.Cluster), RowKey(inventory.Fleet))
        {
            ["Commit"] = inventory.Commit,
            ["Path"] = inventory.Path,
            ["Count"] = inventory.Entries.Count,
            ["UpdatedAt"] = inventory.UpdatedAt,
        };
        var chunks = Compress(inventory.Entries).Chunk(ChunkBytes).ToList();
        if (chunks.Count > MaxChunks)
        {
            throw new InvalidOperationException(
                $"{inventory.Cluster}: the inventory of fleet {inventory.Fleet} ({inventory.Entries.Count} objects) does not fit one table entity; split the fleet.");
        }

        for (var i = 0; i < chunks.Count; i++)
        {
            entity[$"Entries{i}"] = chunks[i];
        }

        await _table.UpsertEntityAsync(entity, TableUpdateMode.Replace, cancellationToken);
        Remember(inventory);
        return 1;
    }

    /// <summary>Deletes the inventory of a fleet on a cluster (after the fleet was removed and pruned).</summary>
    public async Task DeleteAsync(string cluster, string fleet, CancellationToken cancellationToken = default)
    {
        await _created.Value;
        _remembered.Remove((cluster, fleet));
        await _table.DeleteEntityAsync(PartitionKey(cluster), RowKey(fleet), ETag.All, cancellationToken);
    }

    private FleetInventory Remember(FleetInventory inventory)
    {
        _remembered.Set((inventory.Cluster, inventory.Fleet), inventory);
        return inventory;
    }

    private static byte[] Compress(IReadOnlyList<InventoryEntry> entries)
    {
        var array = new JsonArray();
        foreach (var entry in entries.OrderBy(e => e.Reference.Key, StringComparer.Ordinal))
        {
            array.Add(new JsonArray(entry.Reference.Key, entry.ApiVersion, entry.Checksum));
        }

        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest))
        {
            gzip.Write(Encoding.UTF8.GetBytes(array.ToJsonString()));
        }

        return buffer.ToArray();
    }

    private static string PartitionKey(string cluster) => TableKey.Escape(cluster);

    private static string RowKey(string fleet) => TableKey.Escape(fleet);
}
