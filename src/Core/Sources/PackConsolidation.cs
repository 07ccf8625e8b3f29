using System.Buffers.Binary;
using LibGit2Sharp;

namespace FleetFunctions.Core.Sources;

/// <summary>
/// Keeps a cached bare repository's pack count bounded. Every fetch that brings new objects adds a pack, and an
/// object lookup may search every pack's index, so a repository fetched after each of thousands of pushes slows
/// down for good. Past a limit, the objects of every pack except the largest (the initial clone, usually) are
/// written into one new pack through libgit2's pack builder and the packs they came from are deleted: the cost is
/// that of the recent objects only, never a repack of the whole history.
/// </summary>
internal static class PackConsolidation
{
    private static ReadOnlySpan<byte> IndexMagic => [0xff, 0x74, 0x4f, 0x63];

    /// <summary>Consolidates when the repository holds more than <paramref name="maxPacks"/> packs; returns how many packs were merged (0: nothing to do).</summary>
    /// <exception cref="InvalidDataException">A pack index is not in the version 2, SHA-1 format this reads.</exception>
    public static int Consolidate(Repository repo, int maxPacks)
    {
        var directory = Path.Combine(repo.Info.Path, "objects", "pack");
        if (!Directory.Exists(directory))
        {
            return 0;
        }

        var all = Directory.GetFiles(directory, "pack-*.pack");
        var packs = all
            .Select(pack => (Pack: pack, Index: Path.ChangeExtension(pack, ".idx"), Size: new FileInfo(pack).Length))
            .Where(p => File.Exists(p.Index) && !File.Exists(Path.ChangeExtension(p.Pack, ".keep")))
            .OrderByDescending(p => p.Size)
            .ToList();
        if (packs.Count <= maxPacks)
        {
            return 0;
        }

        var merged = packs.Skip(1).ToList();
        var ids = merged.SelectMany(p => ReadObjectIds(p.Index)).Distinct().ToList();
        repo.ObjectDatabase.Pack(new PackBuilderOptions(directory) { MaximumNumberOfThreads = 1 }, builder =>
        {
            foreach (var id in ids)
            {
                builder.Add(id);
            }
        });
        if (Directory.GetFiles(directory, "pack-*.pack").All(all.Contains))
        {
            // The new pack has the name of an existing one (the same objects): deleting would lose it.
            return 0;
        }

        // The new pack holds every object of the merged ones: they can go (an open handle keeps reading a deleted file).
        foreach (var pack in merged.Select(p => p.Pack))
        {
            foreach (var file in Directory.EnumerateFiles(directory, Path.GetFileNameWithoutExtension(pack) + ".*"))
            {
                File.Delete(file);
            }
        }

        return merged.Count;
    }

    /// <summary>The object names listed by a version 2 pack index (<c>gitformat-pack</c>): magic, version, 256 fan-out counts, then the sorted names.</summary>
    internal static IEnumerable<ObjectId> ReadObjectIds(string indexFile)
    {
        var bytes = File.ReadAllBytes(indexFile);
        const int header = 8;
        const int fanout = 256 * 4;
        if (bytes.Length < header + fanout || !bytes.AsSpan(0, 4).SequenceEqual(IndexMagic) || BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(4)) != 2)
        {
            throw new InvalidDataException($"{indexFile}: not a version 2 pack index");
        }

        var count = (int)BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(header + fanout - 4));
        if (bytes.Length < header + fanout + (count * 20))
        {
            throw new InvalidDataException($"{indexFile}: truncated ({count} objects announced)");
        }

        var ids = new ObjectId[count];
        for (var i = 0; i < count; i++)
        {
            ids[i] = new ObjectId(bytes.AsSpan(header + fanout + (i * 20), 20).ToArray());
        }

        return ids;
    }
}
