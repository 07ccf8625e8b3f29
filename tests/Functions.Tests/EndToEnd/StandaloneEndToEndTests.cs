using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using FleetFunctions.Core.Webhooks;
using FleetFunctions.TestSupport;
using Xunit;

namespace FleetFunctions.Functions.Tests.EndToEnd;

/// <summary>
/// The app in its standalone shape, end to end over real HTTP: a push to the app repository and its signed webhook
/// become a rollout that the app's own engine worker and delivery poller carry to every simulated cluster.
/// </summary>
public sealed class StandaloneEndToEndTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task Push_SignedGitHubThenGitLabWebhooks_RollOutToEveryClusterAndRedeliveriesStartNothing()
    {
        await using var env = await FleetEnvironment.StartAsync(azurite.ConnectionString);
        var before = env.AppRepo.Commit("base");
        var first = env.CommitApp("example/web:1.1");

        // A signed GitHub push: 202 with the rollout's status URL, then the rollout completes on every cluster.
        using var accepted = await env.Client.SendAsync(PushWebhooks.GitHub("gh-1", env.AppRepo.Url, before, first, FleetEnvironment.WebhookSecret));
        var acceptedBody = await BodyAsync(accepted);
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        Assert.Equal("Accepted", acceptedBody["outcome"]!.GetValue<string>());
        var rollout = Assert.Single(acceptedBody["rollouts"]!.AsArray())!;
        var firstId = $"{FleetEnvironment.Fleet}-{first}";
        Assert.Equal(firstId, rollout["instanceId"]!.GetValue<string>());
        var statusUrl = rollout["statusQueryGetUri"]!.GetValue<string>();
        Assert.Equal(new Uri(env.App.BaseAddress, $"api/rollouts/{firstId}").ToString(), statusUrl);

        var done = await env.WaitForRolloutAsync(statusUrl);
        Assert.True(done["runtimeStatus"]!.GetValue<string>() == "Completed", done.ToJsonString());
        Assert.Equal("Succeeded", done["output"]!["phase"]!.GetValue<string>());

        // Enums read as names, not numbers, wherever a person reads the status.
        Assert.Equal("Succeeded", done["status"]!["phase"]!.GetValue<string>());
        Assert.Equal("AllAtOnce", done["status"]!["strategy"]!.GetValue<string>());
        Assert.All(done["status"]!["clusters"]!.AsArray(), c => Assert.Equal("Healthy", c!["state"]!.GetValue<string>()));
        foreach (var cluster in env.Clusters)
        {
            Assert.Equal("example/web:1.1", env.ImageOn(cluster));
            Assert.NotNull(cluster.GetObject("v1", "Namespace", null, "web"));
        }

        var createdTime = done["createdTime"]!.ToString();

        // The provider redelivers the same delivery: same instance, nothing new started.
        using var redelivered = await env.Client.SendAsync(PushWebhooks.GitHub("gh-1", env.AppRepo.Url, before, first, FleetEnvironment.WebhookSecret));
        var redeliveredBody = await BodyAsync(redelivered);
        Assert.Equal(HttpStatusCode.OK, redelivered.StatusCode);
        Assert.Equal("Duplicate", redeliveredBody["outcome"]!.GetValue<string>());
        Assert.Equal(firstId, Assert.Single(redeliveredBody["rollouts"]!.AsArray())!["instanceId"]!.GetValue<string>());

        // A new delivery of the same commit (another hook, a manual resend): same instance id, no second rollout.
        using var again = await env.Client.SendAsync(PushWebhooks.GitHub("gh-2", env.AppRepo.Url, before, first, FleetEnvironment.WebhookSecret));
        var againBody = await BodyAsync(again);
        Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
        Assert.Equal(firstId, Assert.Single(againBody["rollouts"]!.AsArray())!["instanceId"]!.GetValue<string>());
        var processed = await WaitForDeliveryAsync(env, "github", "gh-2");
        Assert.Equal(firstId, Assert.Single(processed["rollouts"]!.AsArray())!["instanceId"]!.GetValue<string>());
        var unchanged = await BodyAsync(await env.Client.GetAsync(statusUrl));
        Assert.Equal(createdTime, unchanged["createdTime"]!.ToString());
        Assert.Equal("Completed", unchanged["runtimeStatus"]!.GetValue<string>());
        Assert.Equal([firstId], await RolloutIdsAsync(env));

        // The next commit arrives from another provider (GitLab, token-authenticated) and rolls out the same way.
        var second = env.CommitApp("example/web:1.2");
        using var gitlab = await env.Client.SendAsync(PushWebhooks.GitLab(Guid.NewGuid().ToString(), env.AppRepo.Url, first, second, FleetEnvironment.WebhookSecret));
        var gitlabBody = await BodyAsync(gitlab);
        Assert.Equal(HttpStatusCode.Accepted, gitlab.StatusCode);
        var secondId = $"{FleetEnvironment.Fleet}-{second}";
        var secondUrl = Assert.Single(gitlabBody["rollouts"]!.AsArray())!["statusQueryGetUri"]!.GetValue<string>();
        Assert.EndsWith($"api/rollouts/{secondId}", secondUrl, StringComparison.Ordinal);
        var secondDone = await env.WaitForRolloutAsync(secondUrl);
        Assert.True(secondDone["runtimeStatus"]!.GetValue<string>() == "Completed", secondDone.ToJsonString());
        Assert.All(env.Clusters, c => Assert.Equal("example/web:1.2", env.ImageOn(c)));
        Assert.Equal(new[] { firstId, secondId }.Order(StringComparer.Ordinal), (await RolloutIdsAsync(env)).Order(StringComparer.Ordinal));

        var fleets = await BodyAsync(await env.Client.GetAsync("api/fleets"));
        var fleet = Assert.Single(fleets["fleets"]!.AsArray())!;
        Assert.Equal(second, fleet["syncedCommit"]!.GetValue<string>());
        Assert.Equal(3, fleet["clusters"]!.GetValue<int>());
    }

    internal static async Task<JsonObject> BodyAsync(HttpResponseMessage response)
    {
        using (response)
        {
            return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        }
    }

    private static async Task<List<string>> RolloutIdsAsync(FleetEnvironment env) =>
        (await BodyAsync(await env.Client.GetAsync($"api/rollouts?fleet={FleetEnvironment.Fleet}")))["rollouts"]!.AsArray()
            .Select(r => r!["instanceId"]!.GetValue<string>())
            .ToList();

    private static async Task<JsonObject> WaitForDeliveryAsync(FleetEnvironment env, string provider, string deliveryId)
    {
        var deadline = DateTime.UtcNow + FleetEnvironment.Timeout;
        JsonObject? last = null;
        while (DateTime.UtcNow < deadline)
        {
            last = await BodyAsync(await env.Client.GetAsync($"api/deliveries/{provider}/{deliveryId}"));
            if (last["status"]?.GetValue<string>() == nameof(DeliveryStatus.Processed))
            {
                return last;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"delivery {provider}/{deliveryId} was not processed within {FleetEnvironment.Timeout}; last: {last?.ToJsonString()}");
    }
}
