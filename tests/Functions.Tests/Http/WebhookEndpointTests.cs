using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Storage.Queues;
using FleetFunctions.Core.Fleet;
using FleetFunctions.Core.Secrets;
using FleetFunctions.Core.Webhooks;
using FleetFunctions.Functions.Hosting;
using FleetFunctions.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace FleetFunctions.Functions.Tests.Http;

public sealed class WebhookEndpointTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private const string Secret = "hook-secret";
    private const string Repo = "https://git.example.com/org/app.git";
    private const string Commit = "3333333333333333333333333333333333333333";

    private static readonly PlatformConfig s_platform = PlatformLoader.Load([("p.yaml", """
        apiVersion: fleetfunctions.io/v1alpha1
        kind: GitSource
        metadata: {name: apps}
        spec: {url: "https://git.example.com/org/app.git", webhookSecretRef: {name: hook}}
        ---
        apiVersion: fleetfunctions.io/v1alpha1
        kind: ClusterFleet
        metadata: {name: web}
        spec: {source: {gitSource: apps, path: web}}
        """)]);

    [Fact]
    public async Task Post_SignedGitHubPush_Is202WithStatusLinksAndIsRecordedAndQueued()
    {
        var (app, queue) = await StartAsync();
        await using var _ = app;

        using var response = await app.Client.SendAsync(GitHubPush("d-1", Secret));
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("Accepted", body["outcome"]!.GetValue<string>());
        var rollout = body["rollouts"]![0]!;
        Assert.Equal($"web-{Commit}", rollout["instanceId"]!.GetValue<string>());
        Assert.Equal(new Uri(app.BaseAddress, $"api/rollouts/web-{Commit}").ToString(), rollout["statusQueryGetUri"]!.GetValue<string>());

        // Counted rather than received: the app's own delivery poller may hold the message already (invisible, still
        // queued until processed, which takes retries here since the repository does not resolve).
        Assert.Equal(1, (await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount);

        using var delivery = await app.Client.GetAsync(body["deliveryStatusUri"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, delivery.StatusCode);
        Assert.Contains("\"Received\"", await delivery.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Post_RedeliveryOfAFailedOrIgnoredDelivery_Is202AndQueuedAgain()
    {
        var (app, queue) = await StartAsync();
        await using var _ = app;
        var store = app.Services.GetRequiredService<DeliveryStore>();
        var update = new RefUpdate("refs/heads/main", null, Commit);
        // Failed after every retry of a Git outage; ignored while no ClusterFleet used the source (web exists now).
        await store.TryAddAsync(new DeliveryRecord(WebhookProvider.GitHub, "d-failed", DateTimeOffset.UtcNow.AddMinutes(-5), DeliveryStatus.Failed,
            "processing failed for good: git.example.com: connection refused", ["apps"], [update], [new CandidateRollout("web", Commit, $"web-{Commit}")]));
        await store.TryAddAsync(new DeliveryRecord(WebhookProvider.GitHub, "d-ignored", DateTimeOffset.UtcNow.AddMinutes(-5), DeliveryStatus.Ignored,
            "no ClusterFleet uses the pushed GitSource", ["apps"], [update], []));

        foreach (var id in new[] { "d-failed", "d-ignored" })
        {
            using var response = await app.Client.SendAsync(GitHubPush(id, Secret));
            var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
            using var again = await app.Client.SendAsync(GitHubPush(id, Secret));

            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            Assert.Equal($"web-{Commit}", body["rollouts"]![0]!["instanceId"]!.GetValue<string>());
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
            Assert.Contains("Duplicate", await again.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.Contains("the earlier attempt failed: processing failed for good: git.example.com: connection refused",
            (await store.GetAsync(WebhookProvider.GitHub, "d-failed"))!.Message, StringComparison.Ordinal);
        Assert.Equal(2, (await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount);
    }

    [Fact]
    public async Task Post_BadSignature_Is401ProblemDetails()
    {
        var (app, _) = await StartAsync();
        await using var _ = app;

        using var response = await app.Client.SendAsync(GitHubPush("d-2", "wrong"));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(401, problem["status"]!.GetValue<int>());
        Assert.Contains("signature does not match", problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Post_BodyOverLimitOrUnknownProvider_Is413Or404()
    {
        var (app, _) = await StartAsync(o => o with { WebhookMaxBodyBytes = 1024 });
        await using var _ = app;

        using var big = GitHubPush("d-3", Secret, padding: new string(' ', 4096));
        using var chunked = GitHubPush("d-4", Secret, padding: new string(' ', 4096));
        chunked.Content = new StreamContent(new MemoryStream(await chunked.Content!.ReadAsByteArrayAsync()));
        using var tooLarge = await app.Client.SendAsync(big);
        using var tooLargeChunked = await app.Client.SendAsync(chunked);
        using var unknown = await app.Client.PostAsync("api/webhooks/sourceforge", new StringContent("{}"));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLargeChunked.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Contains("github", await unknown.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Post_ThousandMalformedOrMisSignedRequests_All4xxNothingRecordedOrQueued()
    {
        var (app, queue) = await StartAsync();
        await using var _ = app;
        var random = new Random(7);
        var statuses = new Dictionary<int, int>();

        for (var i = 0; i < 1000; i++)
        {
            using var request = Mutate(GitHubPush($"fuzz-{i}", Secret), i, random);
            using var response = await app.Client.SendAsync(request);
            var status = (int)response.StatusCode;
            statuses[status] = statuses.GetValueOrDefault(status) + 1;
            Assert.True(status is >= 400 and < 500, $"request {i} answered {status}: {await response.Content.ReadAsStringAsync()}");
        }

        Assert.Equal(0, (await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount);
        var store = app.Services.GetRequiredService<DeliveryStore>();
        Assert.Null(await store.GetAsync(WebhookProvider.GitHub, "fuzz-0"));
        Assert.True(statuses.Count >= 2, $"the fuzz should exercise several rejections, got {string.Join(", ", statuses)}");
    }

    private static HttpRequestMessage Mutate(HttpRequestMessage request, int i, Random random)
    {
        var body = request.Content!.ReadAsByteArrayAsync().GetAwaiter().GetResult();
        var headers = request.Headers.ToDictionary(h => h.Key, h => h.Value.First());
        switch (i % 6)
        {
            case 0:
                body[random.Next(body.Length)] ^= (byte)(1 + random.Next(255));
                break;
            case 1:
                body = body[..random.Next(body.Length)];
                break;
            case 2:
                headers["X-Hub-Signature-256"] = "sha256=" + Convert.ToHexStringLower(RandomBytes(random, 32));
                break;
            case 3:
                headers.Remove("X-Hub-Signature-256");
                break;
            case 4:
                body = RandomBytes(random, random.Next(1, 300));
                break;
            default:
                headers["X-Hub-Signature-256"] = "sha1=" + new string('z', random.Next(0, 80));
                break;
        }

        var mutated = new HttpRequestMessage(HttpMethod.Post, request.RequestUri) { Content = new ByteArrayContent(body) };
        mutated.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        foreach (var (key, value) in headers)
        {
            mutated.Headers.TryAddWithoutValidation(key, value);
        }

        return mutated;
    }

    private static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    private static HttpRequestMessage GitHubPush(string deliveryId, string secret, string padding = "")
    {
        var body = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new
        {
            @ref = "refs/heads/main",
            before = "0000000000000000000000000000000000000000",
            after = Commit,
            repository = new { clone_url = Repo },
            padding,
        }));
        var request = new HttpRequestMessage(HttpMethod.Post, "api/webhooks/github") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Add("X-GitHub-Event", "push");
        request.Headers.Add("X-GitHub-Delivery", deliveryId);
        request.Headers.Add("X-Hub-Signature-256", WebhookSignature.Sign(WebhookProvider.GitHub, secret, body));
        return request;
    }

    private async Task<(TestApp App, QueueClient Queue)> StartAsync(Func<AppOptions, AppOptions>? configure = null)
    {
        var deliveries = new DeliveryStoreOptions(AzuriteFixture.NewName("deliveries"), AzuriteFixture.NewName("deliveries"));
        var options = new AppOptions { StorageConnectionString = azurite.ConnectionString, PlatformRepository = "unused: the platform is given", TaskHub = AzuriteFixture.NewName("hub") };
        var store = new DeliveryStore(azurite.ConnectionString, deliveries);
        await store.EnsureCreatedAsync();
        var app = await TestApp.StartAsync(configure?.Invoke(options) ?? options, s_platform, services =>
        {
            services.AddSingleton<ISecretStore>(new InMemorySecretStore(new Dictionary<string, string> { ["hook"] = Secret }));
            services.AddSingleton(store);
        });
        return (app, new QueueClient(azurite.ConnectionString, deliveries.QueueName));
    }
}
