using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http;

namespace FleetFunctions.Orchestrations.Engine.Http;

/// <summary>The check-status payload of the Durable Functions HTTP API: where to poll, signal, stop and purge one instance.</summary>
public sealed record HttpManagementPayload(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("statusQueryGetUri")] string StatusQueryGetUri,
    [property: JsonPropertyName("sendEventPostUri")] string SendEventPostUri,
    [property: JsonPropertyName("terminatePostUri")] string TerminatePostUri,
    [property: JsonPropertyName("purgeHistoryDeleteUri")] string PurgeHistoryDeleteUri,
    [property: JsonPropertyName("suspendPostUri")] string SuspendPostUri,
    [property: JsonPropertyName("resumePostUri")] string ResumePostUri);

/// <summary>Builds start responses that point at the management endpoints mapped by <see cref="DurableTaskApi.MapDurableTaskApi"/>.</summary>
public static class DurableHttpResponses
{
    /// <summary>
    /// The management URIs of an instance, absolute: under <paramref name="publicBaseUrl"/> when given (an app behind a
    /// proxy or the Functions host, which forwards requests over plain HTTP), else the request's scheme and host.
    /// </summary>
    public static HttpManagementPayload CreateCheckStatusPayload(HttpRequest request, string instanceId, string basePath = DurableTaskApi.DefaultBasePath, Uri? publicBaseUrl = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        var origin = publicBaseUrl is not null ? publicBaseUrl.ToString().TrimEnd('/') : $"{request.Scheme}://{request.Host}{request.PathBase}";
        var instance = $"{origin}{basePath.TrimEnd('/')}/instances/{Uri.EscapeDataString(instanceId)}";
        return new HttpManagementPayload(
            instanceId,
            instance,
            instance + "/raiseEvent/{eventName}",
            instance + "/terminate?reason={text}",
            instance,
            instance + "/suspend?reason={text}",
            instance + "/resume?reason={text}");
    }

    /// <summary>202 Accepted with <c>Location</c> (the status URI), <c>Retry-After</c> and the check-status payload.</summary>
    public static IResult CreateCheckStatusResponse(HttpRequest request, string instanceId, string basePath = DurableTaskApi.DefaultBasePath, Uri? publicBaseUrl = null)
    {
        var payload = CreateCheckStatusPayload(request, instanceId, basePath, publicBaseUrl);
        request.HttpContext.Response.Headers.RetryAfter = "10";
        return Results.Accepted(payload.StatusQueryGetUri, payload);
    }
}
