using FleetFunctions.Core.Manifests;
using FleetFunctions.Core.Rendering;
using Xunit;

namespace FleetFunctions.Core.Tests.Rendering;

/// <summary>
/// What the render cache keeps in memory: a result evicted from memory is read back from disk, so a result whose disk
/// file is deleted can be read only while memory still holds it.
/// </summary>
public sealed class RenderCacheTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "ff-tests", "render-cache-" + Guid.NewGuid().ToString("N")[..12]);

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public async Task StoreAsync_ResultsBeyondTheByteBudget_OldestLeaveMemoryFirst()
    {
        var (first, second, third) = (Result('a', 20), Result('b', 20), Result('c', 20));
        var oneResult = await MemoryOfOneAsync(first);
        var cache = new RenderCache(_directory, memoryEntries: 64, memoryBytes: oneResult * 2 + oneResult / 2);

        await cache.StoreAsync(first);
        await cache.StoreAsync(second);
        await cache.StoreAsync(third);
        Directory.Delete(_directory, recursive: true);

        Assert.Null(await cache.TryGetAsync(first.Commit, first.Path));
        Assert.NotNull(await cache.TryGetAsync(second.Commit, second.Path));
        Assert.NotNull(await cache.TryGetAsync(third.Commit, third.Path));
        Assert.Equal(oneResult * 2, cache.MemoryInUse);
    }

    [Fact]
    public async Task StoreAsync_OneResultLargerThanTheBudget_TheNewestStays()
    {
        var (small, large) = (Result('a', 2), Result('b', 200));
        var cache = new RenderCache(_directory, memoryBytes: 1024);

        await cache.StoreAsync(small);
        await cache.StoreAsync(large);
        Directory.Delete(_directory, recursive: true);

        Assert.Null(await cache.TryGetAsync(small.Commit, small.Path));
        Assert.Equal(200, (await cache.TryGetAsync(large.Commit, large.Path))?.Manifests.Count);
        Assert.True(cache.MemoryInUse > 1024, $"{cache.MemoryInUse}");
    }

    [Fact]
    public async Task StoreAsync_MoreResultsThanEntries_OldestLeaveMemoryWhateverTheBudget()
    {
        var results = new[] { Result('a', 1), Result('b', 1), Result('c', 1) };
        var cache = new RenderCache(_directory, memoryEntries: 2);

        foreach (var result in results)
        {
            await cache.StoreAsync(result);
        }

        Directory.Delete(_directory, recursive: true);

        var inMemory = await Task.WhenAll(results.Select(async r => await cache.TryGetAsync(r.Commit, r.Path) is not null));
        Assert.Equal([false, true, true], inMemory);
    }

    /// <summary>The estimate one result is held at: what the cache's use grows by when it is stored.</summary>
    private async Task<long> MemoryOfOneAsync(RenderResult result)
    {
        var probe = new RenderCache(Path.Combine(_directory, "probe"));
        await probe.StoreAsync(result);
        Assert.True(probe.MemoryInUse > 0);
        return probe.MemoryInUse;
    }

    /// <summary>A render of <paramref name="objects"/> ConfigMaps at a commit made of <paramref name="commit"/>.</summary>
    private static RenderResult Result(char commit, int objects)
    {
        var yaml = string.Join("---\n", Enumerable.Range(1, objects).Select(i =>
            $"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cm-{i}, namespace: shop}}\ndata: {{payload: \"{new string('x', 500)}\"}}\n"));
        return new RenderResult(new string(commit, 40), "apps/shop", RenderEngine.Plain, ManifestSet.Create(ManifestParser.Parse(yaml, "apps/shop/all.yaml")), FromCache: false);
    }
}
