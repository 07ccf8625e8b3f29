using FleetFunctions.Core.Storage;
using FleetFunctions.Core.Tests.Support;
using Xunit;

namespace FleetFunctions.Core.Tests.Storage;

public sealed class RecentCacheTests
{
    [Fact]
    public void Add_OverTheSize_ForgetsTheLeastRecentlyUsedUntilAQuarterIsFree()
    {
        var time = new ManualTime();
        var forgotten = new List<string>();
        var cache = new RecentCache<int, string>(maxSize: 8, sizeOf: _ => 1, time, forgotten: forgotten.Add);
        for (var i = 0; i < 8; i++)
        {
            cache.Add(i, $"v{i}");
            time.Now += TimeSpan.FromSeconds(1);
        }

        // 0 and 1 used again: 2 and 3 are now the least recently used
        Assert.True(cache.TryGet(0, out _));
        Assert.True(cache.TryGet(1, out _));
        time.Now += TimeSpan.FromSeconds(1);

        cache.Add(8, "v8");

        Assert.Equal(["v2", "v3", "v4"], forgotten.Order());
        Assert.Equal(6, cache.Count);
        Assert.True(cache.TryGet(0, out var first));
        Assert.Equal("v0", first);
        Assert.True(cache.TryGet(8, out _));
        Assert.False(cache.TryGet(2, out _));
    }

    [Fact]
    public void ForgetIdle_UnusedLongerThanTheLifetime_ForgottenOthersKept()
    {
        var time = new ManualTime();
        var forgotten = new List<string>();
        var cache = new RecentCache<string, string>(maxSize: 100, sizeOf: v => v.Length, time, idleLifetime: TimeSpan.FromMinutes(1), forgotten: forgotten.Add);
        cache.Add("old", "old");
        time.Now += TimeSpan.FromSeconds(50);
        cache.Add("new", "new");
        time.Now += TimeSpan.FromSeconds(20);

        cache.ForgetIdle();

        Assert.Equal(["old"], forgotten);
        Assert.False(cache.TryGet("old", out _));
        Assert.True(cache.TryGet("new", out _));
    }

    [Fact]
    public void Add_LargerThanTheWholeCache_NotKeptAndHandedBack()
    {
        var forgotten = new List<string>();
        var cache = new RecentCache<int, string>(maxSize: 4, sizeOf: v => v.Length, new ManualTime(), forgotten: forgotten.Add);

        cache.Add(1, "too large");

        Assert.Equal(["too large"], forgotten);
        Assert.Equal(0, cache.Count);
    }
}
