using FleetFunctions.Core.Fleet;
using FleetFunctions.Core.Secrets;
using FleetFunctions.Core.Sources;
using FleetFunctions.Core.Webhooks;
using FleetFunctions.Orchestrations.Engine;
using FleetFunctions.Orchestrations.Engine.Client;
using FleetFunctions.Orchestrations.Rollouts;
using FleetFunctions.TestSupport;
using Xunit;

namespace FleetFunctions.Orchestrations.Tests.Rollouts;

/// <summary>Which fleets a push starts: decided off the request path from the Git diff and kustomize references.</summary>
public sealed class DeliveryProcessorTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task ProcessAsync_PushToASharedBase_StartsTheFleetsWhoseOverlaysUseItAndNoOther()
    {
        using var repo = GitTestRepo.Create(RepoPaths.Examples);
        var before = repo.Commit("baseline");
        var after = repo.Replace("apps/podinfo/base/configmap.yaml", "hello from the fleet", "hello again").Commit("change the base");
        var (processor, store, client, hub, _) = await CreateAsync(repo);
        await using var _ = new HubCleanup(hub);
        await store.TryAddAsync(Delivery("d1", before, after));

        var processed = await processor.ProcessAsync(new DeliveryMessage(WebhookProvider.GitHub, "d1"));
        var again = await processor.ProcessAsync(new DeliveryMessage(WebhookProvider.GitHub, "d1"));

        Assert.Equal(DeliveryStatus.Processed, processed?.Status);
        Assert.Equal([RolloutInstanceId.For("podinfo", after)], processed!.Rollouts.Select(r => r.InstanceId));
        Assert.Contains("ClusterFleet/hello", processed.Message, StringComparison.Ordinal);
        Assert.NotNull(await client.GetInstanceAsync(RolloutInstanceId.For("podinfo", after)));
        Assert.Null(await client.GetInstanceAsync(RolloutInstanceId.For("hello", after)));
        Assert.Equal(processed.Rollouts, again?.Rollouts);
    }

    [Fact]
    public async Task ProcessAsync_NewBranchWithoutAnOldCommit_StartsEveryFleetOfTheSource()
    {
        using var repo = GitTestRepo.Create(RepoPaths.Examples);
        var after = repo.Commit("first push");
        var (processor, store, _, hub, _) = await CreateAsync(repo);
        await using var _ = new HubCleanup(hub);
        await store.TryAddAsync(Delivery("d2", null, after));

        var processed = await processor.ProcessAsync(new DeliveryMessage(WebhookProvider.GitHub, "d2"));

        Assert.Equal(["hello", "podinfo"], processed!.Rollouts.Select(r => r.Fleet).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task ProcessAsync_DelayedPushOfAnAncestorOfTheLastGoodCommit_RefusedAndRecordedOnTheDelivery()
    {
        using var repo = GitTestRepo.Create(RepoPaths.Examples);
        var (baseline, older, newer) = ThreeCommitsOfPodinfo(repo);
        var (processor, store, client, hub, fleets) = await CreateAsync(repo);
        await using var _ = new HubCleanup(hub);
        await fleets.RecordAsync(new RecordInput("podinfo", RolloutInstanceId.For("podinfo", newer), newer, RolloutPhase.Succeeded, "rolled out"), DateTimeOffset.UtcNow);
        await store.TryAddAsync(Delivery("d3", baseline, older));

        var processed = await processor.ProcessAsync(new DeliveryMessage(WebhookProvider.GitHub, "d3"));

        Assert.Equal(DeliveryStatus.Processed, processed?.Status);
        Assert.Empty(processed!.Rollouts);
        Assert.Contains("refused 1: ClusterFleet/podinfo: commit " + older[..12] + " is an ancestor of " + newer[..12], processed.Message, StringComparison.Ordinal);
        Assert.Null(await client.GetInstanceAsync(RolloutInstanceId.For("podinfo", older)));
        Assert.Equal(newer, (await fleets.GetAsync("podinfo")).LastGoodCommit);
    }

    [Fact]
    public async Task ProcessAsync_AncestorOfAClaimWhoseRolloutIsNoLongerRunning_Started()
    {
        using var repo = GitTestRepo.Create(RepoPaths.Examples);
        var (baseline, older, newer) = ThreeCommitsOfPodinfo(repo);
        var (processor, store, client, hub, fleets) = await CreateAsync(repo);
        await using var _ = new HubCleanup(hub);
        // The claim of a rollout that ended without recording its end (terminated, then purged: no such instance).
        await fleets.ClaimAsync("podinfo", RolloutInstanceId.For("podinfo", newer), newer);
        await store.TryAddAsync(Delivery("d7", baseline, older));

        var processed = await processor.ProcessAsync(new DeliveryMessage(WebhookProvider.GitHub, "d7"));

        Assert.False(processed!.Message.Contains("refused", StringComparison.Ordinal), processed.Message);
        Assert.Equal([RolloutInstanceId.For("podinfo", older)], processed.Rollouts.Select(r => r.InstanceId));
        Assert.NotNull(await client.GetInstanceAsync(RolloutInstanceId.For("podinfo", older)));
    }

    [Fact]
    public async Task ProcessAsync_ForcePushOverACommitThisCloneNeverHeld_StartsEveryFleetOfTheSourceAndSaysWhy()
    {
        using var repo = GitTestRepo.Create(RepoPaths.Examples);
        repo.Commit("baseline");
        var pushed = repo.Replace("apps/podinfo/base/configmap.yaml", "hello from the fleet", "hello again").Commit("change the base");
        var forced = repo.Amend("change the base, reworded");
        var (processor, store, client, hub, _) = await CreateAsync(repo);
        await using var _ = new HubCleanup(hub);
        await store.TryAddAsync(Delivery("d8", pushed, forced));

        var processed = await processor.ProcessAsync(new DeliveryMessage(WebhookProvider.GitHub, "d8"), isLastAttempt: true);

        Assert.Equal(DeliveryStatus.Processed, processed?.Status);
        Assert.Equal(["hello", "podinfo"], processed!.Rollouts.Select(r => r.Fleet).Order(StringComparer.Ordinal));
        Assert.Contains(
            $"the previous commit {pushed[..12]} is not in the repository (force-pushed away?), so every fleet following GitSource/apps was considered touched",
            processed.Message, StringComparison.Ordinal);
        Assert.NotNull(await client.GetInstanceAsync(RolloutInstanceId.For("hello", forced)));
    }

    /// <summary>A baseline, then two successive changes to the podinfo base, which the podinfo fleet's path uses.</summary>
    private static (string Baseline, string Older, string Newer) ThreeCommitsOfPodinfo(GitTestRepo repo) => (
        repo.Commit("baseline"),
        repo.Replace("apps/podinfo/base/configmap.yaml", "hello from the fleet", "hello again").Commit("older change"),
        repo.Replace("apps/podinfo/base/configmap.yaml", "hello again", "hello once more").Commit("newer change"));

    private static DeliveryRecord Delivery(string id, string? before, string after) =>
        new(WebhookProvider.GitHub, id, DateTimeOffset.UtcNow, DeliveryStatus.Queued, "queued", ["apps"],
            [new RefUpdate("refs/heads/main", before, after)], []);

    [Fact]
    public async Task ProcessAsync_SuspendedFleet_NotStartedAndTheDeliverySaysWhy()
    {
        using var repo = GitTestRepo.Create(RepoPaths.Examples);
        var after = repo.Commit("first push");
        var (processor, store, client, hub, _) = await CreateAsync(repo, suspendHello: true);
        await using var _ = new HubCleanup(hub);
        await store.TryAddAsync(Delivery("d6", null, after));

        var processed = await processor.ProcessAsync(new DeliveryMessage(WebhookProvider.GitHub, "d6"));

        Assert.Equal(["podinfo"], processed!.Rollouts.Select(r => r.Fleet));
        Assert.Contains($"ClusterFleet/hello is suspended (spec.suspend), so commit {after[..12]} was not rolled out to it", processed.Message, StringComparison.Ordinal);
        Assert.Null(await client.GetInstanceAsync(RolloutInstanceId.For("hello", after)));
    }

    [Fact]
    public async Task ProcessAsync_SourceSecretMissingFromTheStore_FailsNamingTheSecretAndItsVariableInsteadOfFetchingAnonymously()
    {
        using var repo = GitTestRepo.Create(RepoPaths.Examples);
        var after = repo.Commit("first push");
        var (processor, store, client, hub, _) = await CreateAsync(repo, secretRef: "apps-git");
        await using var _ = new HubCleanup(hub);
        await store.TryAddAsync(Delivery("d4", null, after));

        var error = await Assert.ThrowsAsync<SourceException>(() => processor.ProcessAsync(new DeliveryMessage(WebhookProvider.GitHub, "d4"), isLastAttempt: true));
        var recorded = await store.GetAsync(WebhookProvider.GitHub, "d4");

        Assert.Contains("secret 'apps-git' named by spec.secretRef of GitSource/apps is not in the secret store", error.Message, StringComparison.Ordinal);
        Assert.Contains(EnvironmentSecretStore.VariableFor("apps-git"), error.Message, StringComparison.Ordinal);
        Assert.Equal(DeliveryStatus.Failed, recorded?.Status);
        Assert.Contains("apps-git", recorded!.Message, StringComparison.Ordinal);
        Assert.Null(await client.GetInstanceAsync(RolloutInstanceId.For("hello", after)));
    }

    [Fact]
    public async Task ProcessAsync_SourceSecretInTheStore_FetchesWithItsCredentialsAndStartsTheRollouts()
    {
        using var repo = GitTestRepo.Create(RepoPaths.Examples);
        var after = repo.Commit("first push");
        await using var server = await GitHttpsServer.StartAsync(repo.Root, "git", "token");
        var (processor, store, _, hub, _) = await CreateAsync(repo, secretRef: "apps-git", secrets: new Dictionary<string, string> { ["apps-git"] = "git:token" }, https: server);
        await using var _ = new HubCleanup(hub);
        await store.TryAddAsync(Delivery("d5", null, after));

        var processed = await processor.ProcessAsync(new DeliveryMessage(WebhookProvider.GitHub, "d5"));

        Assert.Equal(DeliveryStatus.Processed, processed?.Status);
        Assert.Equal(["hello", "podinfo"], processed!.Rollouts.Select(r => r.Fleet).Order(StringComparer.Ordinal));
        Assert.Contains(server.Requests, r => r.Path.EndsWith("/git-upload-pack", StringComparison.Ordinal) && r.User == "git");
    }

    private async Task<(DeliveryProcessor, DeliveryStore, DurableClient, DurableTaskHub, FleetStateStore)> CreateAsync(
        GitTestRepo repo, string? secretRef = null, Dictionary<string, string>? secrets = null, bool suspendHello = false, GitHttpsServer? https = null)
    {
        // Served over HTTPS with Basic authentication when given (the repository is the server root's "work" folder).
        var url = https is null ? repo.Url : https.BaseUrl + "/work";
        var secretLine = secretRef is null ? string.Empty : $", secretRef: {{name: {secretRef}}}";
        var platform = new StaticPlatformProvider(PlatformLoader.Load([("platform.yaml", $$$"""
            apiVersion: fleetfunctions.io/v1alpha1
            kind: GitSource
            metadata: {name: apps}
            spec: {url: "{{{url}}}", branch: main{{{secretLine}}}}
            ---
            apiVersion: fleetfunctions.io/v1alpha1
            kind: Cluster
            metadata: {name: c1}
            spec: {server: "http://127.0.0.1:1", region: eu}
            ---
            apiVersion: fleetfunctions.io/v1alpha1
            kind: ClusterFleet
            metadata: {name: podinfo}
            spec: {source: {gitSource: apps, path: "apps/podinfo/overlays/${cluster.region}"}}
            ---
            apiVersion: fleetfunctions.io/v1alpha1
            kind: ClusterFleet
            metadata: {name: hello}
            spec: {source: {gitSource: apps, path: apps/hello}, suspend: {{{(suspendHello ? "true" : "false")}}}}
            """)]));
        var store = new DeliveryStore(azurite.ConnectionString, new DeliveryStoreOptions(AzuriteFixture.NewName("deliveries"), AzuriteFixture.NewName("deliveries")));
        var hub = new DurableTaskHub(new DurableTaskHubOptions(azurite.ConnectionString, AzuriteFixture.NewName("h")));
        await hub.CreateIfNotExistsAsync();
        var client = new DurableClient(hub, "test");
        var git = new Core.Sources.GitRepositories(new GitCacheOptions
        {
            CacheDirectory = Path.Combine(repo.CacheDir, "git"),
            TrustedCertificateAuthorities = https is null ? [] : GitCacheOptions.ReadCertificateAuthorities(https.CaPem, "test"),
        });
        var secretStore = new InMemorySecretStore(secrets ?? []);
        var fleets = new FleetStateStore(azurite.ConnectionString, AzuriteFixture.NewName("fleets"));
        var processor = new DeliveryProcessor(store, platform, git, secretStore, client, fleets, new RolloutAncestry(git, secretStore));
        return (processor, store, client, hub, fleets);
    }

    private sealed class HubCleanup(DurableTaskHub hub) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await hub.DeleteAsync();
    }
}
