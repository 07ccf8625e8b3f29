using FleetFunctions.Core.Fleet;
using FleetFunctions.Functions.Hosting;
using FleetFunctions.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace FleetFunctions.Functions.Tests;

/// <summary>The real app on a free loopback port, talking to Azurite.</summary>
internal sealed class TestApp : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TestApp(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
        Client = new HttpClient { BaseAddress = baseAddress };
    }

    public Uri BaseAddress { get; }

    public HttpClient Client { get; }

    public IServiceProvider Services => _app.Services;

    /// <param name="platform">A fixed platform configuration; null keeps the app's own (the Git platform repository of the options).</param>
    public static async Task<TestApp> StartAsync(AppOptions options, PlatformConfig? platform, Action<IServiceCollection>? configure = null)
    {
        var app = AppHost.Build(options with { Urls = "http://127.0.0.1:0" }, services =>
        {
            if (platform is not null)
            {
                services.AddSingleton<IPlatformProvider>(new StaticPlatformProvider(platform));
            }

            configure?.Invoke(services);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new TestApp(app, new Uri(address + "/"));
    }

    /// <summary>The app on its own task hub and cache, behind <paramref name="apiKey"/>, with a fixed platform (empty when not given).</summary>
    public static Task<TestApp> StartKeyedAsync(string storage, string apiKey, PlatformConfig? platform = null) => StartAsync(
        new AppOptions
        {
            StorageConnectionString = storage,
            PlatformRepository = "unused: the platform is given",
            TaskHub = AzuriteFixture.NewName("hub"),
            ApiKey = apiKey,
            CacheDirectory = Path.Combine(Path.GetTempPath(), "ff-tests", AzuriteFixture.NewName("cache")),
        },
        platform ?? PlatformLoader.Load([]));

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
