using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FleetFunctions.Core.Manifests;

namespace FleetFunctions.Core.Rendering;

/// <summary>
/// Rendered output keyed by (commit, path), in memory and on disk. A commit never changes, so entries
/// never go stale. Drift checks read it through <see cref="TryGetAsync"/>, which never renders. Memory holds
/// the most recently stored <see cref="MemoryEntries"/> results (oldest evicted first); disk holds all. Thread-safe.
/// </summary>
public sealed class RenderCache
{
    private readonly string _directory;
    private readonly ConcurrentDictionary<string, RenderResult> _memory = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _order = new();

    public RenderCache(string directory, int memoryEntries = 64)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        ArgumentOutOfRangeException.ThrowIfLessThan(memoryEntries, 1);
        _directory = directory;
        MemoryEntries = memoryEntries;
    }

    /// <summary>How many rendered results stay in memory.</summary>
    public int MemoryEntries { get; }

    /// <summary>The cached output of (commit, path), or null when it was never rendered here.</summary>
    public async Task<RenderResult?> TryGetAsync(string commit, string path, CancellationToken cancellationToken = default)
    {
        var key = Key(commit, path);
        if (_memory.TryGetValue(key, out var cached))
        {
            return cached;
        }

        var file = FilePath(commit, path);
        if (!File.Exists(file))
        {
            return null;
        }

        await using var stream = File.OpenRead(file);
        var document = await JsonNode.ParseAsync(stream, cancellationToken: cancellationToken) as JsonObject
            ?? throw new InvalidDataException($"{file}: not a rendered-output file; delete it to render again.");
        var engine = Enum.Parse<RenderEngine>(document.GetString("engine") ?? nameof(RenderEngine.Plain));
        var objects = new List<ManifestObject>();
        foreach (var item in document["objects"] as JsonArray ?? [])
        {
            if (item is JsonObject entry && entry["object"] is JsonObject obj)
            {
                objects.Add(new ManifestObject((JsonObject)obj.DeepClone(), entry.GetString("source") ?? path, (int)(entry.Int64At("line") ?? 0)));
            }
        }

        var result = new RenderResult(commit, path, engine, ManifestSet.Create(objects), FromCache: true);
        Remember(key, result);
        return result;
    }

    /// <summary>Stores a result in memory and on disk (atomically).</summary>
    public async Task StoreAsync(RenderResult result, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(result);
        Remember(Key(result.Commit, result.Path), result with { FromCache = true });
        var objects = new JsonArray();
        foreach (var obj in result.Manifests.Objects)
        {
            objects.Add(new JsonObject { ["source"] = obj.Source, ["line"] = obj.Line, ["object"] = obj.Object.DeepClone() });
        }

        var document = new JsonObject { ["commit"] = result.Commit, ["path"] = result.Path, ["engine"] = result.Engine.ToString(), ["objects"] = objects };
        var file = FilePath(result.Commit, result.Path);
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        var temp = file + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp";
        await File.WriteAllTextAsync(temp, document.ToJsonString(), cancellationToken);
        File.Move(temp, file, overwrite: true);
    }

    private void Remember(string key, RenderResult result)
    {
        if (_memory.TryAdd(key, result))
        {
            _order.Enqueue(key);
        }

        while (_memory.Count > MemoryEntries && _order.TryDequeue(out var oldest))
        {
            _memory.TryRemove(oldest, out _);
        }
    }

    internal static string NormalisePath(string path)
    {
        var normal = path.Replace('\\', '/').Trim('/');
        while (normal.StartsWith("./", StringComparison.Ordinal))
        {
            normal = normal[2..];
        }

        return normal is "." ? string.Empty : normal;
    }

    private static string Key(string commit, string path) => $"{commit}:{NormalisePath(path)}";

    private string FilePath(string commit, string path)
    {
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(NormalisePath(path))))[..16];
        return Path.Combine(_directory, commit, hash + ".json");
    }
}
