using System.Text.Json.Serialization;
using FleetFunctions.Core.Fleet;
using FleetFunctions.Core.Secrets;
using FleetFunctions.Core.Webhooks;
using FleetFunctions.Functions.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FleetFunctions.Functions.Hosting;

/// <summary>
/// Builds the web application shared by both ways of running: as an Azure Functions custom handler
/// (listening on <c>FUNCTIONS_CUSTOMHANDLER_PORT</c>, forwarded HTTP requests keep their path) and standalone
/// (Kestrel on <see cref="AppOptions.Urls"/>). The same handlers serve both.
/// </summary>
public static class AppHost
{
    /// <param name="platform">Where the platform configuration comes from.</param>
    /// <param name="configureServices">Extra registrations (tests replace services here).</param>
    public static WebApplication Build(AppOptions options, IPlatformProvider platform, Action<IServiceCollection>? configureServices = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(options.IsCustomHandler ? $"http://127.0.0.1:{options.CustomHandlerPort}" : options.Urls);
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });
        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter());
            o.SerializerOptions.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        });
        builder.Services.AddProblemDetails();

        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(platform);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<ISecretStore>(_ => new CompositeSecretStore(
            options.SecretsDirectory is { } dir ? [new EnvironmentSecretStore(), new DirectorySecretStore(dir)] : [new EnvironmentSecretStore()]));
        builder.Services.AddSingleton(_ => new DeliveryStore(options.StorageConnectionString));
        builder.Services.AddSingleton<WebhookReceiver>();
        configureServices?.Invoke(builder.Services);

        var app = builder.Build();
        app.UseExceptionHandler();
        app.MapGet("/api/healthz", () => Results.Json(new { status = "ok" }));
        app.MapWebhooks();
        return app;
    }
}
