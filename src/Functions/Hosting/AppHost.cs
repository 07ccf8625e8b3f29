using System.Text.Json.Serialization;
using FleetFunctions.Functions.Http;
using FleetFunctions.Functions.Triggers;
using FleetFunctions.Orchestrations.Engine.Client;
using FleetFunctions.Orchestrations.Engine.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FleetFunctions.Functions.Hosting;

/// <summary>
/// Builds the web application shared by both ways of running: as an Azure Functions custom handler
/// (listening on <c>FUNCTIONS_CUSTOMHANDLER_PORT</c>; forwarded HTTP requests keep their path; queue and timer
/// triggers arrive as <c>POST /&lt;Function&gt;</c>) and standalone (Kestrel on <see cref="AppOptions.Urls"/> with
/// its own queue pollers and timer scheduler). The same handlers serve both.
/// </summary>
public static class AppHost
{
    /// <param name="configureServices">Registrations made before the app's own (which only fill gaps): tests replace services here.</param>
    public static WebApplication Build(AppOptions options, Action<IServiceCollection>? configureServices = null, string[]? args = null)
    {
        var builder = WebApplication.CreateSlimBuilder(args ?? []);
        builder.WebHost.UseUrls(options.IsCustomHandler ? $"http://127.0.0.1:{options.CustomHandlerPort}" : options.Urls);
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });
        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter());
            o.SerializerOptions.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        });
        builder.Services.AddProblemDetails();
        configureServices?.Invoke(builder.Services);
        builder.Services.AddFleetFunctions(options);
        builder.Services.AddHostedService<StorageInitializer>();
        if (options.ExitWithParent)
        {
            builder.Services.AddHostedService<ParentWatch>();
        }

        if (!options.IsCustomHandler)
        {
            builder.Services.AddHostedService<EngineWorkerService>();
            builder.Services.AddHostedService<DeliveryQueuePoller>();
            builder.Services.AddHostedService<TimerScheduler>();
            if (options.DriftWatch)
            {
                builder.Services.AddHostedService<DriftWatchService>();
            }
        }

        var app = builder.Build();
        app.UseExceptionHandler();
        app.MapGet("/api/healthz", () => Results.Json(new { status = "ok", mode = options.IsCustomHandler ? "custom-handler" : "standalone" }));
        app.MapWebhooks();
        app.MapStatusApi();
        app.MapSealing();

        // The Durable-Functions-shaped management API: its usual path standalone, and /api/durabletask behind the
        // Functions host (which reserves /runtime/webhooks for its own extensions). It can approve, terminate and purge
        // rollouts, so it takes the API key like the status API. Its Location headers name the public address, as status links do.
        var client = app.Services.GetRequiredService<DurableClient>();
        var keyed = app.MapGroup(string.Empty).AddEndpointFilter<ApiKeyFilter>();
        keyed.MapDurableTaskApi(client, publicBaseUrl: options.PublicBaseUrl);
        keyed.MapDurableTaskApi(client, "/api/durabletask", options.PublicBaseUrl);
        if (options.IsCustomHandler)
        {
            app.MapInvocations();
        }

        return app;
    }
}
