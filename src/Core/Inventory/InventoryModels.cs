using FleetFunctions.Core.Manifests;

namespace FleetFunctions.Core.Inventory;

/// <summary>One object a fleet applied to a cluster: its identity, apiVersion and the checksum of what was applied.</summary>
public sealed record InventoryEntry(ObjectReference Reference, string ApiVersion, string Checksum);

/// <summary>
/// What a fleet last applied to a cluster: the commit and path it came from and every object, keyed by
/// identity. Built from the apply ChangeSet; prune is "previous entries minus new entries".
/// </summary>
public sealed record FleetInventory(string Cluster, string Fleet, string Commit, string Path, IReadOnlyList<InventoryEntry> Entries, DateTimeOffset UpdatedAt)
{
    /// <summary>The entry for <paramref name="reference"/>, or null.</summary>
    public InventoryEntry? Find(ObjectReference reference) => Entries.FirstOrDefault(e => e.Reference == reference);

    /// <summary>Entries keyed by identity.</summary>
    public IReadOnlyDictionary<ObjectReference, InventoryEntry> ToDictionary() => Entries.ToDictionary(e => e.Reference);
}

/// <summary>Options of <see cref="InventoryStore"/>.</summary>
public sealed record InventoryOptions
{
    /// <summary>Azure Table holding inventories (one partition per cluster and fleet).</summary>
    public string TableName { get; init; } = "fleetinventory";

    public InventoryOptions Validate()
    {
        if (string.IsNullOrWhiteSpace(TableName) || !TableName.All(char.IsAsciiLetterOrDigit) || !char.IsAsciiLetter(TableName[0]))
        {
            throw new ArgumentException($"InventoryOptions.TableName '{TableName}' must be letters and digits, starting with a letter.");
        }

        return this;
    }
}
