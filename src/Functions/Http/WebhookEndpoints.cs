using Azure;
using FleetFunctions.Core.Fleet;
using FleetFunctions.Core.Sources;
using FleetFunctions.Core.Webhooks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using FleetFunctions.Functions.Hosting;

namespace FleetFunctions.Functions.Http;

/// <summary>
/// <c>POST /api/webhooks/{provider}</c>: Git push webhooks (anonymous, signature-verified). Answers in
/// milliseconds: the receiver only verifies, records and queues. Bad input gets a 4xx problem, never a 5xx;
/// a storage outage gets 503 with Retry-After so the provider redelivers.
/// </summary>
internal static class WebhookEndpoints
{
    private static readonly Dictionary<string, WebhookProvider> s_providers = new(StringComparer.OrdinalIgnoreCase)
    {
        ["github"] = WebhookProvider.GitHub,
        ["gitlab"] = WebhookProvider.GitLab,
        ["gitea"] = WebhookProvider.Gitea,
        ["forgejo"] = WebhookProvider.Gitea,
        ["bitbucket"] = WebhookProvider.Bitbucket,
        ["azuredevops"] = WebhookProvider.AzureDevOps,
    };

    public static IEndpointRouteBuilder MapWebhooks(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/webhooks/{provider}", ReceiveAsync);
        app.MapGet("/api/deliveries/{provider}/{deliveryId}", GetDeliveryAsync).AddEndpointFilter<ApiKeyFilter>();
        return app;
    }

    private static async Task<IResult> ReceiveAsync(string provider, HttpRequest request, WebhookReceiver receiver, AppOptions options, CancellationToken cancellationToken)
    {
        if (!s_providers.TryGetValue(provider, out var kind))
        {
            return Problem.NotFound($"unknown webhook provider '{provider}'; use one of: {string.Join(", ", s_providers.Keys)}");
        }

        if (request.ContentLength > options.WebhookMaxBodyBytes)
        {
            return TooLarge(options);
        }

        var body = await ReadBodyAsync(request, options.WebhookMaxBodyBytes, cancellationToken);
        if (body is null)
        {
            return TooLarge(options);
        }

        var headers = request.Headers.Select(h => KeyValuePair.Create(h.Key, h.Value.ToString()));
        WebhookResult result;
        try
        {
            result = await receiver.ReceiveAsync(WebhookRequest.Create(kind, headers, body), cancellationToken);
        }
        catch (RequestFailedException ex)
        {
            request.HttpContext.Response.Headers.RetryAfter = "30";
            return Problem.Of(StatusCodes.Status503ServiceUnavailable, "Service Unavailable",
                $"the delivery could not be recorded (storage answered {ex.Status} {ex.ErrorCode}); nothing was started; redeliver it");
        }
        catch (Exception ex) when (ex is SourceException or ResourceValidationException)
        {
            // The sender is not at fault: the app cannot read its own platform configuration yet (first load).
            request.HttpContext.Response.Headers.RetryAfter = "60";
            return Problem.Of(StatusCodes.Status503ServiceUnavailable, "Service Unavailable",
                $"the platform configuration cannot be read, so the delivery was not recorded and nothing was started: {ex.Message}; fix the platform repository (FLEETFUNCTIONS_PlatformRepository) and redeliver");
        }

        if (result.Outcome == WebhookOutcome.Rejected)
        {
            return Problem.Of(result.StatusCode, result.StatusCode switch { 401 => "Unauthorized", 403 => "Forbidden", _ => "Bad Request" }, result.Message);
        }

        var links = StatusLinks.For(request, options);
        return Results.Json(new
        {
            outcome = result.Outcome.ToString(),
            message = result.Message,
            deliveryId = result.DeliveryId,
            deliveryStatusUri = result.DeliveryId is null || result.Outcome == WebhookOutcome.Ignored ? null : links.Delivery(provider.ToLowerInvariant(), result.DeliveryId),
            rollouts = result.Rollouts.Select(r => new { fleet = r.Fleet, commit = r.Commit, instanceId = r.InstanceId, statusQueryGetUri = links.Rollout(r.InstanceId) }),
        }, statusCode: result.StatusCode);
    }

    private static async Task<IResult> GetDeliveryAsync(string provider, string deliveryId, DeliveryStore store, CancellationToken cancellationToken)
    {
        if (!s_providers.TryGetValue(provider, out var kind))
        {
            return Problem.NotFound($"unknown webhook provider '{provider}'");
        }

        if (!WebhookParser.IsDeliveryId(deliveryId))
        {
            // Such a delivery was refused when it arrived, so none is recorded; the table could not even hold some of these keys.
            return Problem.BadRequest(
                $"'{(deliveryId.Length > 80 ? deliveryId[..80] + "..." : deliveryId)}' is not a delivery id: a delivery id {WebhookParser.DeliveryIdRule} (the provider's delivery header, such as X-GitHub-Delivery, or the deliveryId of a webhook answer)");
        }

        return await store.GetAsync(kind, deliveryId, cancellationToken) is { } record
            ? Results.Json(record)
            : Problem.NotFound($"no delivery {provider}/{deliveryId} was recorded (rejected and ignored deliveries that name no fleet are not recorded)");
    }

    /// <summary>Reads at most <paramref name="limit"/> bytes; null when the body is longer.</summary>
    private static async Task<byte[]?> ReadBodyAsync(HttpRequest request, long limit, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    private static IResult TooLarge(AppOptions options) =>
        Problem.Of(StatusCodes.Status413PayloadTooLarge, "Payload Too Large",
            $"webhook bodies are limited to {options.WebhookMaxBodyBytes} bytes (FLEETFUNCTIONS_WebhookMaxBodyBytes)");
}
