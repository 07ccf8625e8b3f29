using System.Net;
using FleetFunctions.Core.Fleet;
using FleetFunctions.Functions.Hosting;
using FleetFunctions.Orchestrations.Engine.Client;
using FleetFunctions.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace FleetFunctions.Functions.Tests.Http;

/// <summary>The app's Durable-Functions-shaped management API, on both of its paths.</summary>
public sealed class DurableTaskApiTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Theory]
    [InlineData("runtime/webhooks/durabletask")]
    [InlineData("api/durabletask")]
    public async Task Status_RunningInstanceWithAPublicBaseUrl_LocationNamesThePublicAddress(string basePath)
    {
        // Behind the Functions host the request arrives over plain HTTP on a loopback port: Location must name the
        // public address, as the status links of webhook answers do.
        var options = new AppOptions
        {
            StorageConnectionString = azurite.ConnectionString,
            PlatformRepository = "unused: the platform is given",
            TaskHub = AzuriteFixture.NewName("hub"),
            CacheDirectory = Path.Combine(Path.GetTempPath(), "ff-tests", AzuriteFixture.NewName("cache")),
            PublicBaseUrl = new Uri("https://fleet.example.com/"),
        };
        await using var app = await TestApp.StartAsync(options, PlatformLoader.Load([]));
        var id = await app.Services.GetRequiredService<DurableClient>().ScheduleNewOrchestrationInstanceAsync(
            "Later", options: new StartOrchestrationOptions { StartAt = DateTime.UtcNow.AddHours(1) });

        using var response = await app.Client.GetAsync($"{basePath}/instances/{id}");

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal($"https://fleet.example.com/{basePath}/instances/{id}", response.Headers.Location?.ToString());
    }
}
