using FleetFunctions.Core.Reconcile;
using FleetFunctions.TestSupport;
using Xunit;

namespace FleetFunctions.Core.Tests.Reconcile;

/// <summary>The reconcile history on Azurite: newest first, and entries past the retention deleted as the partition is written.</summary>
public sealed class ReconcileHistoryStoreTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task RecordAsync_EntriesOlderThanTheRetention_DeletedTheRestAndTheLatestKept()
    {
        var table = AzuriteFixture.NewName("hist");
        var keepsAll = new ReconcileHistoryStore(azurite.ConnectionString, table) { Retention = null };
        var now = DateTimeOffset.UtcNow;
        await keepsAll.RecordAsync(Result("old", now - TimeSpan.FromDays(40)));
        await keepsAll.RecordAsync(Result("recent", now - TimeSpan.FromDays(10)));
        Assert.Equal(["recent", "old"], (await keepsAll.ListAsync("c1", "web")).Select(e => e.Commit));

        // Another process, with the default 30 days, records the next reconcile of the same cluster and fleet; the
        // clean-up it starts runs after the record returns.
        await new ReconcileHistoryStore(azurite.ConnectionString, table).RecordAsync(Result("new", now));

        var listed = await keepsAll.ListAsync("c1", "web");
        for (var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15); listed.Count > 2 && DateTime.UtcNow < deadline; listed = await keepsAll.ListAsync("c1", "web"))
        {
            await Task.Delay(50);
        }

        Assert.Equal(["new", "recent"], listed.Select(e => e.Commit));
        Assert.Equal("new", await keepsAll.LastCommitAsync("c1", "web"));
    }

    [Fact]
    public async Task RecordAsync_NoRetention_KeepsEveryEntry()
    {
        var store = new ReconcileHistoryStore(azurite.ConnectionString, AzuriteFixture.NewName("hist")) { Retention = null };
        var now = DateTimeOffset.UtcNow;
        await store.RecordAsync(Result("ancient", now - TimeSpan.FromDays(400)));
        await store.RecordAsync(Result("new", now));

        Assert.Equal(["new", "ancient"], (await store.ListAsync("c1", "web")).Select(e => e.Commit));
    }

    [Fact]
    public async Task RecordAsync_KubernetesErrorsLongerEscapedThanRaw_ListedTruncated()
    {
        // Quotes, backticks, < > & + are escaped as six characters each in the stored JSON.
        var store = new ReconcileHistoryStore(azurite.ConnectionString, AzuriteFixture.NewName("hist"));
        var errors = Enumerable.Range(1, 150).Select(i =>
            $"c1/Deployment/web/web-{i:D3}: Deployment.apps \"web-{i:D3}\" is invalid: spec.template.metadata.labels: Invalid value: " +
            $"map[string]string{{\"app\":\"web-{i:D3}\"}}: `selector` does not match template `labels`").ToList();
        Assert.True(errors.Sum(e => e.Length) < 30_000, "the raw text fits; only the escaped text does not");

        await store.RecordAsync(Result("c1", DateTimeOffset.UtcNow) with { Phase = ReconcilePhase.Apply, Errors = errors });

        var listed = Assert.Single(await store.ListAsync("c1", "web")).Errors;
        Assert.InRange(listed.Count, 2, errors.Count);
        Assert.Equal(errors.Take(listed.Count - 1), listed.SkipLast(1));
        Assert.Equal("… (truncated)", listed[^1]);
    }

    [Fact]
    public async Task RecordAsync_JapaneseErrors_ListedTruncated()
    {
        // Every non-ASCII character is escaped as six characters: 6,000 of them are 36,000 stored.
        var store = new ReconcileHistoryStore(azurite.ConnectionString, AzuriteFixture.NewName("hist"));
        var errors = Enumerable.Range(1, 6).Select(i => $"c1/ConfigMap/web/messages-{i}: " + string.Concat(Enumerable.Repeat("設定が無効です。", 125))).ToList();

        await store.RecordAsync(Result("c1", DateTimeOffset.UtcNow) with { Phase = ReconcilePhase.Apply, Errors = errors });

        var listed = Assert.Single(await store.ListAsync("c1", "web")).Errors;
        Assert.InRange(listed.Count, 2, errors.Count);
        Assert.Equal(errors.Take(listed.Count - 1), listed.SkipLast(1));
        Assert.Equal("… (truncated)", listed[^1]);
    }

    private static ReconcileResult Result(string commit, DateTimeOffset startedAt) =>
        new() { Cluster = "c1", Fleet = "web", Commit = commit, Path = "apps/web", StartedAt = startedAt, Phase = ReconcilePhase.Done };
}
