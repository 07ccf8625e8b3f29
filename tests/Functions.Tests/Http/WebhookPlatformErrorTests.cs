using System.Net;
using System.Text.Json.Nodes;
using FleetFunctions.Core.Secrets;
using FleetFunctions.Core.Webhooks;
using FleetFunctions.Functions.Hosting;
using FleetFunctions.Functions.Tests.EndToEnd;
using FleetFunctions.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace FleetFunctions.Functions.Tests.Http;

/// <summary>A webhook that arrives while the app cannot read its platform repository is the app's fault, not the sender's.</summary>
public sealed class WebhookPlatformErrorTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Theory]
    [InlineData("missing")]
    [InlineData("invalid")]
    public async Task Post_PlatformRepositoryMissingOrInvalid_Is503WithTheReasonAndRecordsNothing(string problem)
    {
        using var platform = GitTestRepo.Create();
        platform.Write("cluster.yaml", "apiVersion: fleetfunctions.io/v1alpha1\nkind: Cluster\nmetadata: {name: c1}\nspec: {server: https://c1.example.com}\n");
        platform.Commit("a cluster without its region");
        var deliveries = new DeliveryStore(azurite.ConnectionString, new DeliveryStoreOptions(AzuriteFixture.NewName("deliveries"), AzuriteFixture.NewName("deliveries")));
        var options = new AppOptions
        {
            StorageConnectionString = azurite.ConnectionString,
            PlatformRepository = problem == "missing" ? Path.Combine(platform.Root, "no-such-repository") : platform.Url,
            TaskHub = AzuriteFixture.NewName("hub"),
            CacheDirectory = Path.Combine(platform.Root, "cache"),
        };
        await using var app = await TestApp.StartAsync(options, platform: null, services =>
        {
            services.AddSingleton<ISecretStore>(new InMemorySecretStore(new Dictionary<string, string>()));
            services.AddSingleton(deliveries);
        });

        using var response = await app.Client.SendAsync(PushWebhooks.GitHub("p-1", "https://git.example.com/org/app.git", null, new string('a', 40), "secret"));
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.NotNull(response.Headers.RetryAfter);
        var detail = body["detail"]!.GetValue<string>();
        Assert.Contains("platform configuration cannot be read", detail, StringComparison.Ordinal);
        Assert.Contains(problem == "missing" ? "no-such-repository" : "cluster.yaml", detail, StringComparison.Ordinal);
        Assert.Null(await deliveries.GetAsync(WebhookProvider.GitHub, "p-1"));
    }
}
