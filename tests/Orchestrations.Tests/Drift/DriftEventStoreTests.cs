using FleetFunctions.Core.Drift;
using FleetFunctions.Core.Manifests;
using FleetFunctions.Orchestrations.Drift;
using FleetFunctions.TestSupport;
using Xunit;

namespace FleetFunctions.Orchestrations.Tests.Drift;

/// <summary>Retention of drift events in Azurite: old events go as new ones of the same cluster and fleet are recorded.</summary>
public sealed class DriftEventStoreTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    [Fact]
    public async Task RecordDetectedAsync_EventsPastTheRetention_DeletedForThatClusterOnly()
    {
        var store = new DriftEventStore(azurite.ConnectionString, AzuriteFixture.NewName("drift")) { Retention = TimeSpan.FromDays(30) };
        await store.RecordDetectedAsync(Report("c1", 1), selfHeal: true, "sweep", Now.AddDays(-40));
        await store.RecordDetectedAsync(Report("c1", 2), selfHeal: true, "sweep", Now.AddDays(-10));
        await store.RecordDetectedAsync(Report("c10", 3), selfHeal: true, "sweep", Now.AddDays(-40));

        await store.RecordDetectedAsync(Report("c1", 4), selfHeal: true, "sweep", Now);
        var c1 = await WaitAsync(() => store.ListEventsAsync("c1", "web"), events => events.Count == 2);

        Assert.Equal([4, 2], c1.Select(e => e.DriftCount));
        Assert.Equal(3, Assert.Single(await store.ListEventsAsync("c10", "web")).DriftCount);
        Assert.Equal(4, (await store.GetAsync("c1", "web"))?.LastDrift?.DriftCount);
    }

    [Fact]
    public async Task RecordDetectedAsync_WithoutRetention_KeepsEveryEvent()
    {
        var store = new DriftEventStore(azurite.ConnectionString, AzuriteFixture.NewName("drift")) { Retention = null };
        await store.RecordDetectedAsync(Report("c1", 1), selfHeal: false, "watch", Now.AddDays(-400));

        await store.RecordDetectedAsync(Report("c1", 2), selfHeal: false, "watch", Now);
        await Task.Delay(500);

        Assert.Equal([2, 1], (await store.ListEventsAsync("c1", "web")).Select(e => e.DriftCount));
    }

    [Fact]
    public async Task RecordHealAsync_ErrorLongerThanATablePropertyHolds_RecordedCutWithTheCountLeftOut()
    {
        var store = new DriftEventStore(azurite.ConnectionString, AzuriteFixture.NewName("drift"));
        var id = await store.RecordDetectedAsync(Report("c1", 1), selfHeal: true, "sweep", Now);
        var error = "re-applied but the server kept " + string.Join(", ", Enumerable.Range(0, 4000).Select(i => $".spec.field{i}"));

        await store.RecordHealAsync("c1", "web", id, healed: false, error, Now);

        var recorded = Assert.Single(await store.ListEventsAsync("c1", "web")).HealError;
        Assert.NotNull(recorded);
        Assert.True(recorded.Length <= 30_000, $"{recorded.Length} characters");
        Assert.StartsWith(error[..1000], recorded, StringComparison.Ordinal);
        Assert.Matches(@"… \(\d+ more characters\)$", recorded);
    }

    /// <summary>A report of <paramref name="count"/> drifted ConfigMaps (the count tells the events apart).</summary>
    private static DriftReport Report(string cluster, int count) => new(cluster, "web", "abc123",
        [.. Enumerable.Range(1, count).Select(i => new ObjectDrift(new ObjectReference(string.Empty, "ConfigMap", "shop", $"cm{i}"), "v1", DriftKind.Modified, [".data.key"]))], []);

    private static async Task<T> WaitAsync<T>(Func<Task<T>> read, Func<T, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var value = await read();
            if (done(value) || DateTime.UtcNow > deadline)
            {
                return value;
            }

            await Task.Delay(50);
        }
    }
}
