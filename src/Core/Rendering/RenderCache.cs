using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FleetFunctions.Core.Manifests;
using FleetFunctions.Core.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FleetFunctions.Core.Rendering;

/// <summary>
/// Rendered output keyed by (commit, path), in memory and on disk. A commit never changes, so entries
/// never go stale. Drift checks read it through <see cref="TryGetAsync"/>, which never renders. Memory holds
/// the most recently stored results, at most <see cref="MemoryEntries"/> of them and at most <see cref="MemoryBytes"/>
/// by estimate (oldest evicted first; the newest stays whatever its size); disk holds one folder per
/// commit, deleted once no read or store has used the commit for the retention (the folder's write time records the
/// last use, refreshed at most hourly, so it survives restarts: <see cref="CacheFolder"/>). Thread-safe.
/// </summary>
public sealed class RenderCache
{
    /// <summary>How often a commit's folder time is refreshed by reads, and how often old folders are looked for.</summary>
    private static readonly TimeSpan s_touchInterval = TimeSpan.FromHours(1);

    private readonly string _directory;
    private readonly TimeSpan _retention;
    private readonly ILogger _logger;
    /// <summary>
    /// Bytes a parsed result holds per byte of its cached JSON file: about 12 (measured 711 KiB in memory, with the
    /// serialised bodies and checksums the apply adds, for 200 typical Deployments, Services and ConfigMaps whose JSON
    /// is ~60 KB). The file's length is known where a result is remembered, so nothing is serialised to estimate it.
    /// </summary>
    private const int BytesPerJsonByte = 12;

    private readonly ConcurrentDictionary<string, (RenderResult Result, long Bytes)> _memory = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _order = new();
    private readonly ConcurrentDictionary<string, DateTimeOffset> _touched = new(StringComparer.Ordinal);
    private long _nextSweep;
    private long _memoryInUse;

    public RenderCache(string directory, int memoryEntries = 64, TimeSpan? retention = null, ILogger? logger = null, long memoryBytes = RenderOptions.DefaultMemoryCacheBytes)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        ArgumentOutOfRangeException.ThrowIfLessThan(memoryEntries, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(memoryBytes, 1);
        _retention = retention ?? TimeSpan.FromDays(7);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(_retention, TimeSpan.Zero);
        _directory = directory;
        _logger = logger ?? NullLogger.Instance;
        MemoryEntries = memoryEntries;
        MemoryBytes = memoryBytes;
    }

    /// <summary>How many rendered results stay in memory.</summary>
    public int MemoryEntries { get; }

    /// <summary>Estimated bytes of rendered results kept in memory.</summary>
    public long MemoryBytes { get; }

    /// <summary>Estimated bytes the results in memory hold now.</summary>
    public long MemoryInUse => Interlocked.Read(ref _memoryInUse);

    /// <summary>The cached output of (commit, path), or null when it was never rendered here.</summary>
    public async Task<RenderResult?> TryGetAsync(string commit, string path, CancellationToken cancellationToken = default)
    {
        var key = Key(commit, path);
        if (_memory.TryGetValue(key, out var cached))
        {
            Touch(commit);
            return cached.Result;
        }

        var file = FilePath(commit, path);
        if (!File.Exists(file))
        {
            return null;
        }

        Touch(commit);
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
        Remember(key, result, stream.Length);
        return result;
    }

    /// <summary>Stores a result in memory and on disk (atomically).</summary>
    public async Task StoreAsync(RenderResult result, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(result);
        var objects = new JsonArray();
        foreach (var obj in result.Manifests.Objects)
        {
            objects.Add(new JsonObject { ["source"] = obj.Source, ["line"] = obj.Line, ["object"] = obj.Object.DeepClone() });
        }

        var document = new JsonObject { ["commit"] = result.Commit, ["path"] = result.Path, ["engine"] = result.Engine.ToString(), ["objects"] = objects }.ToJsonString();
        Remember(Key(result.Commit, result.Path), result with { FromCache = true }, document.Length);
        var file = FilePath(result.Commit, result.Path);
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        var temp = file + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp";
        await File.WriteAllTextAsync(temp, document, cancellationToken);
        File.Move(temp, file, overwrite: true);
        Touch(result.Commit);
        RemoveExpired();
    }

    /// <summary>Records a use of <paramref name="commit"/> on its folder, at most once per <see cref="s_touchInterval"/>.</summary>
    private void Touch(string commit)
    {
        var now = DateTimeOffset.UtcNow;
        if (_touched.TryGetValue(commit, out var last) && now - last < s_touchInterval)
        {
            return;
        }

        _touched[commit] = now;
        CacheFolder.Touch(Path.Combine(_directory, commit), now);
    }

    /// <summary>Deletes the folders of commits unused for the retention; looks at most once per <see cref="s_touchInterval"/>.</summary>
    private void RemoveExpired()
    {
        var now = DateTimeOffset.UtcNow;
        var next = Interlocked.Read(ref _nextSweep);
        if (now.UtcTicks < next || Interlocked.CompareExchange(ref _nextSweep, (now + s_touchInterval).UtcTicks, next) != next)
        {
            return;
        }

        var removed = 0;
        foreach (var folder in Directory.EnumerateDirectories(_directory))
        {
            if (now - CacheFolder.LastUse(folder) < _retention)
            {
                continue;
            }

            _touched.TryRemove(Path.GetFileName(folder), out _);
            try
            {
                Directory.Delete(folder, recursive: true);
                removed++;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Log.RenderCacheRemovalFailed(_logger, folder, e.Message);
            }
        }

        if (removed > 0)
        {
            Log.RenderCacheRemoved(_logger, removed, _retention.TotalDays);
        }
    }

    /// <param name="jsonLength">The length of the result's JSON file, from which its memory is estimated.</param>
    private void Remember(string key, RenderResult result, long jsonLength)
    {
        var bytes = jsonLength * BytesPerJsonByte;
        if (_memory.TryAdd(key, (result, bytes)))
        {
            _order.Enqueue(key);
            Interlocked.Add(ref _memoryInUse, bytes);
        }

        while ((_memory.Count > MemoryEntries || MemoryInUse > MemoryBytes) && _memory.Count > 1 && _order.TryDequeue(out var oldest))
        {
            if (_memory.TryRemove(oldest, out var evicted))
            {
                Interlocked.Add(ref _memoryInUse, -evicted.Bytes);
            }
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
