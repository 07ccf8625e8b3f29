using Azure.Storage.Queues;
using FleetFunctions.Core.Webhooks;
using FleetFunctions.TestSupport;
using Xunit;

namespace FleetFunctions.Core.Tests.Webhooks;

public sealed class DeliveryStoreTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private const string After = "1111111111111111111111111111111111111111";

    [Fact]
    public async Task EnqueueAsync_RecordedDelivery_SendsOneMessageAndLeavesTheRecordReceived()
    {
        var (store, queue) = await CreateAsync();
        var record = Record("d-1", DateTimeOffset.UtcNow);
        await store.TryAddAsync(record);

        await store.EnqueueAsync(record);

        Assert.Equal(DeliveryStatus.Received, (await store.GetAsync(WebhookProvider.GitHub, "d-1"))!.Status);
        var message = Assert.Single((await queue.ReceiveMessagesAsync(32)).Value);
        Assert.Equal(new DeliveryMessage(WebhookProvider.GitHub, "d-1"), DeliveryStore.ParseMessage(message.Body.ToString()));
    }

    [Fact]
    public async Task RequeueStaleAsync_StaleProcessedAndFreshDeliveries_RequeuesOnlyTheStaleReceivedOneAndOnlyOnce()
    {
        var (store, queue) = await CreateAsync();
        var old = DateTimeOffset.UtcNow - DeliveryStore.StaleAfter - TimeSpan.FromMinutes(1);
        await store.TryAddAsync(Record("stale", old));
        await store.TryAddAsync(Record("fresh", DateTimeOffset.UtcNow));
        await store.TryAddAsync(Record("done", old) with { Status = DeliveryStatus.Processed, Message = "started 1 rollout(s)" });

        var first = await store.RequeueStaleAsync(DeliveryStore.StaleAfter, DateTimeOffset.UtcNow);
        var second = await store.RequeueStaleAsync(DeliveryStore.StaleAfter, DateTimeOffset.UtcNow);

        Assert.Equal(1, first);
        Assert.Equal(0, second);
        Assert.Equal(DeliveryStatus.Queued, (await store.GetAsync(WebhookProvider.GitHub, "stale"))!.Status);
        Assert.Equal(DeliveryStatus.Received, (await store.GetAsync(WebhookProvider.GitHub, "fresh"))!.Status);
        var done = await store.GetAsync(WebhookProvider.GitHub, "done");
        Assert.Equal(DeliveryStatus.Processed, done!.Status);
        Assert.Equal("started 1 rollout(s)", done.Message);
        var message = Assert.Single((await queue.ReceiveMessagesAsync(32)).Value);
        Assert.Equal("stale", DeliveryStore.ParseMessage(message.Body.ToString()).DeliveryId);
    }

    [Fact]
    public async Task RequeueAsync_DeliveryNoLongerReceived_SendsNothingAndKeepsItsRecord()
    {
        var (store, queue) = await CreateAsync();
        var failed = Record("failed", DateTimeOffset.UtcNow.AddHours(-1)) with { Status = DeliveryStatus.Failed, Message = "processing failed for good: x" };
        await store.TryAddAsync(failed);

        var requeued = await store.RequeueAsync(WebhookProvider.GitHub, "failed");
        var unknown = await store.RequeueAsync(WebhookProvider.GitHub, "never-recorded");

        Assert.False(requeued);
        Assert.False(unknown);
        Assert.Equal(failed, await store.GetAsync(WebhookProvider.GitHub, "failed"), new RecordComparer());
        Assert.Empty((await queue.ReceiveMessagesAsync(32)).Value);
    }

    [Fact]
    public async Task TryAddAsync_PushFollowedByThousandFleets_RecordsEveryRolloutAndTheWholeMessage()
    {
        var (store, _) = await CreateAsync();
        var rollouts = Enumerable.Range(0, 1000).Select(i => new CandidateRollout($"fleet-{i:D4}", After, $"fleet-{i:D4}-{After}")).ToList();
        var message = "not touched: " + string.Join("; ", Enumerable.Range(0, 1000).Select(i => $"ClusterFleet/fleet-{i:D4} (apps/fleet-{i:D4}/overlays/eu)"));
        var record = Record("wide", DateTimeOffset.UtcNow) with { Rollouts = rollouts };

        var (added, _) = await store.TryAddAsync(record);
        await store.UpdateAsync(record with { Status = DeliveryStatus.Processed, Message = message, Rollouts = rollouts[..3] });
        var read = await store.GetAsync(WebhookProvider.GitHub, "wide");

        Assert.True(added);
        Assert.True(message.Length > 30_000, "the message must span several table properties");
        Assert.Equal(message, read!.Message);
        Assert.Equal(rollouts[..3], read.Rollouts);
        Assert.Equal(DeliveryStatus.Processed, read.Status);
        Assert.True((await store.TryAddAsync(record)).Record.Rollouts.Count == 3, "a redelivery reads the stored record back");
    }

    [Fact]
    public async Task PurgeExpiredAsync_FinishedDeliveriesPastTheRetention_DeletedOthersKeptOncePerHour()
    {
        var (store, _) = await CreateAsync();
        var now = DateTimeOffset.UtcNow;
        var old = now - TimeSpan.FromDays(31);
        await store.TryAddAsync(Record("old-processed", old) with { Status = DeliveryStatus.Processed });
        await store.TryAddAsync(Record("old-ignored", old) with { Status = DeliveryStatus.Ignored });
        await store.TryAddAsync(Record("old-failed", old) with { Status = DeliveryStatus.Failed });
        await store.TryAddAsync(Record("old-waiting", old));
        await store.TryAddAsync(Record("recent-processed", now - TimeSpan.FromDays(29)) with { Status = DeliveryStatus.Processed });

        var purged = await store.PurgeExpiredAsync(now);
        await store.TryAddAsync(Record("old-processed-2", old) with { Status = DeliveryStatus.Processed });
        var withinTheHour = await store.PurgeExpiredAsync(now + TimeSpan.FromMinutes(30));
        var nextHour = await store.PurgeExpiredAsync(now + TimeSpan.FromMinutes(61));

        Assert.Equal(3, purged);
        Assert.Equal(0, withinTheHour);
        Assert.Equal(1, nextHour);
        Assert.Null(await store.GetAsync(WebhookProvider.GitHub, "old-processed"));
        Assert.Null(await store.GetAsync(WebhookProvider.GitHub, "old-failed"));
        Assert.Equal(DeliveryStatus.Received, (await store.GetAsync(WebhookProvider.GitHub, "old-waiting"))!.Status);
        Assert.NotNull(await store.GetAsync(WebhookProvider.GitHub, "recent-processed"));
    }

    [Fact]
    public async Task PurgeExpiredAsync_NoRetention_KeepsEveryRecord()
    {
        var options = new DeliveryStoreOptions(AzuriteFixture.NewName("deliveries"), AzuriteFixture.NewName("deliveries")) { Retention = null };
        var store = new DeliveryStore(azurite.ConnectionString, options);
        await store.EnsureCreatedAsync();
        await store.TryAddAsync(Record("ancient", DateTimeOffset.UtcNow - TimeSpan.FromDays(400)) with { Status = DeliveryStatus.Processed });

        Assert.Equal(0, await store.PurgeExpiredAsync(DateTimeOffset.UtcNow));
        Assert.NotNull(await store.GetAsync(WebhookProvider.GitHub, "ancient"));
    }

    private static DeliveryRecord Record(string id, DateTimeOffset receivedAt) => new(
        WebhookProvider.GitHub, id, receivedAt, DeliveryStatus.Received, "received", ["apps"],
        [new RefUpdate("refs/heads/main", null, After)], [new CandidateRollout("web", After, "web-" + After)]);

    private async Task<(DeliveryStore Store, QueueClient Queue)> CreateAsync()
    {
        var options = new DeliveryStoreOptions(AzuriteFixture.NewName("deliveries"), AzuriteFixture.NewName("deliveries"));
        var store = new DeliveryStore(azurite.ConnectionString, options);
        await store.EnsureCreatedAsync();
        return (store, new QueueClient(azurite.ConnectionString, options.QueueName));
    }

    /// <summary>Records hold lists, which compare by reference: compare what is stored.</summary>
    private sealed class RecordComparer : IEqualityComparer<DeliveryRecord?>
    {
        public bool Equals(DeliveryRecord? x, DeliveryRecord? y) =>
            x is not null && y is not null && x.Status == y.Status && x.Message == y.Message
            && x.Sources.SequenceEqual(y.Sources) && x.Updates.SequenceEqual(y.Updates) && x.Rollouts.SequenceEqual(y.Rollouts);

        public int GetHashCode(DeliveryRecord? obj) => obj?.DeliveryId.GetHashCode(StringComparison.Ordinal) ?? 0;
    }
}
