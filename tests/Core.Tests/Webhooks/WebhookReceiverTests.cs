using System.Text;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using FleetFunctions.Core.Fleet;
using FleetFunctions.Core.Secrets;
using FleetFunctions.Core.Webhooks;
using FleetFunctions.TestSupport;
using Xunit;

namespace FleetFunctions.Core.Tests.Webhooks;

public sealed class WebhookReceiverTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private const string RepoUrl = "https://git.example.com/org/app.git";
    private const string Secret = "apps-hook-secret";

    private static readonly PlatformConfig s_platform = PlatformLoader.Load([("platform.yaml", """
        apiVersion: fleetfunctions.io/v1alpha1
        kind: GitSource
        metadata: {name: apps}
        spec: {url: "https://git.example.com/org/app", branch: main, webhookSecretRef: {name: apps-hook}}
        ---
        apiVersion: fleetfunctions.io/v1alpha1
        kind: GitSource
        metadata: {name: open}
        spec: {url: "https://git.example.com/org/open.git"}
        ---
        apiVersion: fleetfunctions.io/v1alpha1
        kind: GitSource
        metadata: {name: unused}
        spec: {url: "https://git.example.com/org/unused.git", webhookSecretRef: {name: apps-hook}}
        ---
        apiVersion: fleetfunctions.io/v1alpha1
        kind: ClusterFleet
        metadata: {name: web}
        spec: {source: {gitSource: apps, path: web}}
        ---
        apiVersion: fleetfunctions.io/v1alpha1
        kind: ClusterFleet
        metadata: {name: api}
        spec: {source: {gitSource: apps, path: api}}
        ---
        apiVersion: fleetfunctions.io/v1alpha1
        kind: ClusterFleet
        metadata: {name: docs}
        spec: {source: {gitSource: open, path: docs}}
        """)]);

    [Theory]
    [InlineData(WebhookProvider.GitHub)]
    [InlineData(WebhookProvider.GitLab)]
    [InlineData(WebhookProvider.Gitea)]
    [InlineData(WebhookProvider.Bitbucket)]
    [InlineData(WebhookProvider.AzureDevOps)]
    public async Task ReceiveAsync_SignedPushToFollowedBranch_RecordsQueuesAndNamesTheRollouts(WebhookProvider provider)
    {
        var (receiver, store, queue) = await CreateAsync();

        var result = await receiver.ReceiveAsync(WebhookPayloads.Push(provider, RepoUrl, "main", Secret, "delivery-1"));

        Assert.Equal(202, result.StatusCode);
        Assert.Equal(WebhookOutcome.Accepted, result.Outcome);
        Assert.Equal(["api", "web"], result.Rollouts.Select(r => r.Fleet).Order(StringComparer.Ordinal));
        Assert.All(result.Rollouts, r => Assert.Equal($"{r.Fleet}-{WebhookPayloads.After}", r.InstanceId));
        var record = await store.GetAsync(provider, "delivery-1");
        Assert.Equal(DeliveryStatus.Received, record?.Status);
        Assert.Equal(["apps"], record?.Sources);
        var message = Assert.Single((await queue.ReceiveMessagesAsync(32)).Value);
        Assert.Equal(new DeliveryMessage(provider, "delivery-1"), DeliveryStore.ParseMessage(message.Body.ToString()));
    }

    [Fact]
    public async Task ReceiveAsync_Redelivery_IsDuplicateWithTheSameRolloutsAndQueuesNothingNew()
    {
        var (receiver, _, queue) = await CreateAsync();
        var first = await receiver.ReceiveAsync(WebhookPayloads.Push(WebhookProvider.GitHub, RepoUrl, "main", Secret, "same"));

        var second = await receiver.ReceiveAsync(WebhookPayloads.Push(WebhookProvider.GitHub, RepoUrl, "main", Secret, "same"));

        Assert.Equal(WebhookOutcome.Duplicate, second.Outcome);
        Assert.Equal(200, second.StatusCode);
        Assert.Equal(first.Rollouts, second.Rollouts);
        Assert.Single((await queue.ReceiveMessagesAsync(32)).Value);
    }

    [Fact]
    public async Task ReceiveAsync_DeliveryRecordedButNeverQueued_IsQueuedByRedeliveryAndBySweep()
    {
        var (receiver, store, queue) = await CreateAsync();
        var stranded = new DeliveryRecord(WebhookProvider.GitHub, "stranded", DateTimeOffset.UtcNow.AddMinutes(-10), DeliveryStatus.Received, "received",
            ["apps"], [new RefUpdate("refs/heads/main", null, WebhookPayloads.After)], [new CandidateRollout("web", WebhookPayloads.After, "web-x")]);
        await store.TryAddAsync(stranded);
        await store.TryAddAsync(stranded with { DeliveryId = "stranded-2" });

        var redelivered = await receiver.ReceiveAsync(WebhookPayloads.Push(WebhookProvider.GitHub, RepoUrl, "main", Secret, "stranded"));
        var swept = await store.RequeueStaleAsync(TimeSpan.FromMinutes(5), DateTimeOffset.UtcNow);

        Assert.Equal(WebhookOutcome.Duplicate, redelivered.Outcome);
        Assert.Equal(1, swept);
        Assert.Equal(DeliveryStatus.Queued, (await store.GetAsync(WebhookProvider.GitHub, "stranded-2"))?.Status);
        Assert.Equal(2, (await queue.ReceiveMessagesAsync(32)).Value.Length);
    }

    [Fact]
    public async Task ReceiveAsync_RedeliveryOfAFailedDelivery_IsRecordedAgainQueuedAndAcceptedOnce()
    {
        var (receiver, store, queue) = await CreateAsync();
        var first = await receiver.ReceiveAsync(WebhookPayloads.Push(WebhookProvider.GitHub, RepoUrl, "main", Secret, "failed"));
        await queue.ClearMessagesAsync();
        var failed = (await store.GetAsync(WebhookProvider.GitHub, "failed"))! with { Status = DeliveryStatus.Failed, Message = "processing failed for good: git.example.com is unreachable" };
        await store.UpdateAsync(failed);

        var redelivered = await receiver.ReceiveAsync(WebhookPayloads.Push(WebhookProvider.GitHub, RepoUrl, "main", Secret, "failed"));
        var again = await receiver.ReceiveAsync(WebhookPayloads.Push(WebhookProvider.GitHub, RepoUrl, "main", Secret, "failed"));

        Assert.Equal((202, WebhookOutcome.Accepted), (redelivered.StatusCode, redelivered.Outcome));
        Assert.Equal(first.Rollouts, redelivered.Rollouts);
        var record = await store.GetAsync(WebhookProvider.GitHub, "failed");
        Assert.Equal(DeliveryStatus.Received, record?.Status);
        Assert.Contains("the earlier attempt failed: processing failed for good: git.example.com is unreachable", record!.Message, StringComparison.Ordinal);
        Assert.Equal(WebhookOutcome.Duplicate, again.Outcome);
        var message = Assert.Single((await queue.ReceiveMessagesAsync(32)).Value);
        Assert.Equal(new DeliveryMessage(WebhookProvider.GitHub, "failed"), DeliveryStore.ParseMessage(message.Body.ToString()));
    }

    [Fact]
    public async Task ReceiveAsync_ConcurrentRedeliveriesOfAFailedDelivery_OneIsAcceptedAndQueuedTheOthersAreDuplicates()
    {
        var (receiver, store, queue) = await CreateAsync();
        await store.TryAddAsync(new DeliveryRecord(WebhookProvider.GitHub, "raced", DateTimeOffset.UtcNow, DeliveryStatus.Failed, "processing failed for good: timeout",
            ["apps"], [new RefUpdate("refs/heads/main", null, WebhookPayloads.After)], []));

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
            receiver.ReceiveAsync(WebhookPayloads.Push(WebhookProvider.GitHub, RepoUrl, "main", Secret, "raced")))));

        Assert.Single(results, r => r.Outcome == WebhookOutcome.Accepted);
        Assert.Equal(7, results.Count(r => r.Outcome == WebhookOutcome.Duplicate));
        Assert.Single((await queue.ReceiveMessagesAsync(32)).Value);
    }

    [Fact]
    public async Task ReceiveAsync_RedeliveryOfAnIgnoredPushOnceAFleetUsesTheSource_IsRecordedAgainAndQueued()
    {
        var (receiver, store, queue) = await CreateAsync();
        var unused = "https://git.example.com/org/unused.git";
        var ignored = await receiver.ReceiveAsync(WebhookPayloads.Push(WebhookProvider.GitHub, unused, "main", Secret, "ignored"));
        var stillIgnored = await receiver.ReceiveAsync(WebhookPayloads.Push(WebhookProvider.GitHub, unused, "main", Secret, "ignored"));
        var withFleet = new WebhookReceiver(new StaticPlatformProvider(PlatformLoader.Load([("platform.yaml", """
            apiVersion: fleetfunctions.io/v1alpha1
            kind: GitSource
            metadata: {name: unused}
            spec: {url: "https://git.example.com/org/unused.git", webhookSecretRef: {name: apps-hook}}
            ---
            apiVersion: fleetfunctions.io/v1alpha1
            kind: ClusterFleet
            metadata: {name: batch}
            spec: {source: {gitSource: unused, path: batch}}
            """)])), new InMemorySecretStore(new Dictionary<string, string> { ["apps-hook"] = Secret }), store);

        var redelivered = await withFleet.ReceiveAsync(WebhookPayloads.Push(WebhookProvider.GitHub, unused, "main", Secret, "ignored"));

        Assert.Equal(DeliveryStatus.Received, (await store.GetAsync(WebhookProvider.GitHub, "ignored"))?.Status);
        Assert.Equal(WebhookOutcome.Ignored, ignored.Outcome);
        Assert.Equal((200, WebhookOutcome.Ignored), (stillIgnored.StatusCode, stillIgnored.Outcome));
        Assert.Contains("no ClusterFleet uses GitSource/unused", stillIgnored.Message, StringComparison.Ordinal);
        Assert.Equal((202, WebhookOutcome.Accepted), (redelivered.StatusCode, redelivered.Outcome));
        Assert.Equal(["batch"], redelivered.Rollouts.Select(r => r.Fleet));
        Assert.Single((await queue.ReceiveMessagesAsync(32)).Value);
    }

    [Fact]
    public async Task ReceiveAsync_WrongSecretOrNoSignature_Is401AndRecordsNothing()
    {
        var (receiver, store, queue) = await CreateAsync();

        var wrong = await receiver.ReceiveAsync(WebhookPayloads.Push(WebhookProvider.GitHub, RepoUrl, "main", "guess", "w1"));
        var missing = await receiver.ReceiveAsync(WebhookPayloads.Push(WebhookProvider.GitHub, RepoUrl, "main", null, "w2"));

        Assert.Equal(401, wrong.StatusCode);
        Assert.Contains("does not match", wrong.Message, StringComparison.Ordinal);
        Assert.Equal(401, missing.StatusCode);
        Assert.Contains("X-Hub-Signature-256", missing.Message, StringComparison.Ordinal);
        Assert.Null(await store.GetAsync(WebhookProvider.GitHub, "w1"));
        Assert.Empty((await queue.ReceiveMessagesAsync(32)).Value);
    }

    [Fact]
    public async Task ReceiveAsync_SourceWithoutWebhookSecret_RefusesEveryDelivery()
    {
        var (receiver, _, _) = await CreateAsync();

        var result = await receiver.ReceiveAsync(WebhookPayloads.Push(WebhookProvider.GitHub, "https://git.example.com/org/open.git", "main", "anything"));

        Assert.Equal(403, result.StatusCode);
        Assert.Contains("GitSource/open has no spec.webhookSecretRef", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReceiveAsync_UnknownRepositoryOtherBranchOrUnusedSource_Is200AndStartsNothing()
    {
        var (receiver, _, queue) = await CreateAsync();

        var unknown = await receiver.ReceiveAsync(WebhookPayloads.Push(WebhookProvider.GitHub, "https://elsewhere.example/x.git", "main", Secret, "u1"));
        var branch = await receiver.ReceiveAsync(WebhookPayloads.Push(WebhookProvider.GitHub, RepoUrl, "feature/x", Secret, "u2"));
        var unused = await receiver.ReceiveAsync(WebhookPayloads.Push(WebhookProvider.GitHub, "https://git.example.com/org/unused.git", "main", Secret, "u3"));

        Assert.All([unknown, branch, unused], r => Assert.Equal((200, WebhookOutcome.Ignored), (r.StatusCode, r.Outcome)));
        Assert.Contains("no GitSource follows repository", unknown.Message, StringComparison.Ordinal);
        Assert.Contains("GitSource/apps follows branch main", branch.Message, StringComparison.Ordinal);
        Assert.Contains("no ClusterFleet uses GitSource/unused", unused.Message, StringComparison.Ordinal);
        Assert.Empty((await queue.ReceiveMessagesAsync(32)).Value);
    }

    [Fact]
    public async Task ReceiveAsync_UnknownRepositoryWithForeignSignature_Is401AndRevealsNothing()
    {
        var (receiver, _, _) = await CreateAsync();

        var result = await receiver.ReceiveAsync(WebhookPayloads.Push(WebhookProvider.GitHub, "https://elsewhere.example/x.git", "main", "their-secret"));

        Assert.Equal(401, result.StatusCode);
        Assert.DoesNotContain("elsewhere", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReceiveAsync_UnknownRepositoryWithForeignSignature_SameRefusalAsAMisSignedFollowedOne()
    {
        var (receiver, _, _) = await CreateAsync();

        var unknown = await receiver.ReceiveAsync(WebhookPayloads.Push(WebhookProvider.GitHub, "https://elsewhere.example/x.git", "main", "their-secret"));
        var followed = await receiver.ReceiveAsync(WebhookPayloads.Push(WebhookProvider.GitHub, RepoUrl, "main", "their-secret"));

        Assert.Equal((401, followed.Message), (unknown.StatusCode, unknown.Message));
        Assert.Contains("does not match the webhook secret of any GitSource that follows the pushed repository", unknown.Message, StringComparison.Ordinal);
        Assert.Contains("add such a GitSource if there is none", unknown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReceiveAsync_UnknownRepositorySignedWhenNoGitSourceHasASecret_Is403SayingSoAndWhatToAdd()
    {
        var (receiver, _, queue) = await CreateAsync(PlatformLoader.Load([("platform.yaml", """
            apiVersion: fleetfunctions.io/v1alpha1
            kind: GitSource
            metadata: {name: open}
            spec: {url: "https://git.example.com/org/open.git"}
            """)]));

        var result = await receiver.ReceiveAsync(WebhookPayloads.Push(WebhookProvider.GitHub, "https://elsewhere.example/x.git", "main", Secret));

        Assert.Equal(403, result.StatusCode);
        Assert.DoesNotContain("carries no", result.Message, StringComparison.Ordinal);
        Assert.Contains("no GitSource follows repository https://elsewhere.example/x.git, and no webhook secret can be read", result.Message, StringComparison.Ordinal);
        Assert.Contains("add a GitSource whose spec.url is https://elsewhere.example/x.git", result.Message, StringComparison.Ordinal);
        Assert.Empty((await queue.ReceiveMessagesAsync(32)).Value);
    }

    [Fact]
    public async Task ReceiveAsync_UnknownRepositoryAuthentic_IgnoredNamingTheGitSourceToAdd()
    {
        var (receiver, _, _) = await CreateAsync();

        var result = await receiver.ReceiveAsync(WebhookPayloads.Push(WebhookProvider.GitHub, "https://elsewhere.example/x.git", "main", Secret));

        Assert.Equal((200, WebhookOutcome.Ignored), (result.StatusCode, result.Outcome));
        Assert.Contains("add a GitSource whose spec.url is https://elsewhere.example/x.git", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReceiveAsync_PushDeletingTheFollowedBranch_IgnoredSayingItWasDeletedAndNothingRollsOut()
    {
        var (receiver, store, queue) = await CreateAsync();

        var result = await receiver.ReceiveAsync(WebhookPayloads.Push(WebhookProvider.GitHub, RepoUrl, "main", Secret, "del-1", after: "0000000000000000000000000000000000000000"));

        Assert.Equal((200, WebhookOutcome.Ignored), (result.StatusCode, result.Outcome));
        Assert.StartsWith("refs/heads/main was deleted: nothing is rolled out, and clusters keep running what they last applied (GitSource/apps follows branch main", result.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("no GitSource follows", result.Message, StringComparison.Ordinal);
        Assert.Null(await store.GetAsync(WebhookProvider.GitHub, "del-1"));
        Assert.Empty((await queue.ReceiveMessagesAsync(32)).Value);
    }

    [Fact]
    public async Task ReceiveAsync_ThousandMutatedRequests_AllRejectedWith4xxNothingQueued()
    {
        var (receiver, _, queue) = await CreateAsync();
        var random = new Random(20261123);
        var valid = WebhookPayloads.Push(WebhookProvider.GitHub, RepoUrl, "main", Secret);
        var body = valid.Body.ToArray();

        for (var i = 0; i < 1000; i++)
        {
            var mutated = (byte[])body.Clone();
            var headers = new Dictionary<string, string>(valid.Headers, StringComparer.OrdinalIgnoreCase) { ["X-GitHub-Delivery"] = $"fuzz-{i}" };
            switch (i % 4)
            {
                case 0:
                    mutated[random.Next(mutated.Length)] = (byte)random.Next(256);
                    break;
                case 1:
                    mutated = mutated[..random.Next(mutated.Length)];
                    break;
                case 2:
                    headers["X-Hub-Signature-256"] = "sha256=" + Convert.ToHexStringLower(Encoding.UTF8.GetBytes(new string('x', 32)));
                    break;
                default:
                    headers.Remove(random.Next(2) == 0 ? "X-GitHub-Event" : "X-Hub-Signature-256");
                    break;
            }

            var result = await receiver.ReceiveAsync(WebhookRequest.Create(WebhookProvider.GitHub, headers, mutated));

            Assert.True(result.Outcome == WebhookOutcome.Rejected && result.StatusCode is >= 400 and < 500, $"request {i}: {result.StatusCode} {result.Outcome}: {result.Message}");
        }

        Assert.Empty((await queue.ReceiveMessagesAsync(32)).Value);
    }

    private async Task<(WebhookReceiver Receiver, DeliveryStore Store, QueueClient Queue)> CreateAsync(PlatformConfig? platform = null)
    {
        var options = new DeliveryStoreOptions(AzuriteFixture.NewName("deliveries"), AzuriteFixture.NewName("deliveries"));
        var store = new DeliveryStore(azurite.ConnectionString, options);
        await store.EnsureCreatedAsync();
        var receiver = new WebhookReceiver(new StaticPlatformProvider(platform ?? s_platform),
            new InMemorySecretStore(new Dictionary<string, string> { ["apps-hook"] = Secret }), store);
        return (receiver, store, new QueueClient(azurite.ConnectionString, options.QueueName));
    }
}
