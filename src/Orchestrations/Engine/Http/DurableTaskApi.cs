using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using FleetFunctions.Orchestrations.Engine.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace FleetFunctions.Orchestrations.Engine.Http;

/// <summary>
/// The Durable Functions HTTP management API over a <see cref="DurableClient"/>: instance status (202 while
/// running with <c>Location</c>/<c>Retry-After</c>, 200 when finished, 404 unknown), listing with filters and
/// <c>x-ms-continuation-token</c> paging, raise event, terminate, suspend, resume, purge one and purge by filter.
/// </summary>
public static class DurableTaskApi
{
    public const string DefaultBasePath = "/runtime/webhooks/durabletask";
    public const string ContinuationHeader = "x-ms-continuation-token";

    /// <summary>
    /// Maps the management endpoints under <paramref name="basePath"/>. The <c>Location</c> of a running instance is
    /// under <paramref name="publicBaseUrl"/> when given, else the request's own scheme and host.
    /// </summary>
    public static IEndpointRouteBuilder MapDurableTaskApi(this IEndpointRouteBuilder endpoints, DurableClient client, string basePath = DefaultBasePath, Uri? publicBaseUrl = null)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(client);
        var group = endpoints.MapGroup(basePath.TrimEnd('/') + "/instances");
        group.MapGet("/{instanceId}", (HttpContext http, string instanceId, CancellationToken ct) => GetStatusAsync(client, http, instanceId, basePath, publicBaseUrl, ct));
        group.MapGet("/", (HttpContext http, CancellationToken ct) => ListAsync(client, http, ct));
        group.MapPost("/{instanceId}/raiseEvent/{eventName}", (HttpContext http, string instanceId, string eventName, CancellationToken ct) => RaiseEventAsync(client, http, instanceId, eventName, ct));
        group.MapPost("/{instanceId}/terminate", (string instanceId, string? reason, CancellationToken ct) =>
            SignalAsync(client, instanceId, ct, () => client.TerminateAsync(instanceId, reason, ct)));
        group.MapPost("/{instanceId}/suspend", (string instanceId, string? reason, CancellationToken ct) =>
            SignalAsync(client, instanceId, ct, () => client.SuspendAsync(instanceId, reason, ct)));
        group.MapPost("/{instanceId}/resume", (string instanceId, string? reason, CancellationToken ct) =>
            SignalAsync(client, instanceId, ct, () => client.ResumeAsync(instanceId, reason, ct)));
        group.MapDelete("/{instanceId}", (string instanceId, CancellationToken ct) => PurgeAsync(client, instanceId, ct));
        group.MapDelete("/", (HttpContext http, CancellationToken ct) => PurgeManyAsync(client, http, ct));
        return endpoints;
    }

    private static async Task<IResult> GetStatusAsync(DurableClient client, HttpContext http, string instanceId, string basePath, Uri? publicBaseUrl, CancellationToken ct)
    {
        if (InvalidInstanceId(instanceId) is { } invalid)
        {
            return invalid;
        }

        var query = http.Request.Query;
        var showHistory = Flag(query["showHistory"], false);
        var showInput = Flag(query["showInput"], true);
        var metadata = await client.GetInstanceAsync(instanceId, getInputsAndOutputs: true, includeHistory: showHistory, ct);
        if (metadata is null)
        {
            return Results.NotFound(new { error = $"orchestration instance '{instanceId}' does not exist." });
        }

        var body = ToJson(metadata, showInput, showHistory);
        if (metadata.IsRunning)
        {
            var payload = DurableHttpResponses.CreateCheckStatusPayload(http.Request, instanceId, basePath, publicBaseUrl);
            http.Response.Headers.RetryAfter = "10";
            return new WithLocation(Results.Json(body, statusCode: StatusCodes.Status202Accepted), payload.StatusQueryGetUri);
        }

        var failed = metadata.RuntimeStatus is OrchestrationRuntimeStatus.Failed or OrchestrationRuntimeStatus.Terminated;
        return Results.Json(body, statusCode: failed && Flag(query["returnInternalServerErrorOnFailure"], false) ? 500 : 200);
    }

    private static async Task<IResult> ListAsync(DurableClient client, HttpContext http, CancellationToken ct)
    {
        var query = http.Request.Query;
        List<OrchestrationRuntimeStatus>? statuses = null;
        foreach (var value in query["runtimeStatus"].SelectMany(v => (v ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
        {
            if (!Enum.TryParse<OrchestrationRuntimeStatus>(value, ignoreCase: true, out var status))
            {
                return Results.BadRequest(new { error = $"runtimeStatus '{value}' is not one of {string.Join(", ", Enum.GetNames<OrchestrationRuntimeStatus>())}." });
            }

            (statuses ??= []).Add(status);
        }

        if (!TryDate(query["createdTimeFrom"], out var from) || !TryDate(query["createdTimeTo"], out var to))
        {
            return Results.BadRequest(new { error = "createdTimeFrom/createdTimeTo must be ISO 8601 timestamps." });
        }

        var top = 100;
        if (query["top"].FirstOrDefault() is { } topText && (!int.TryParse(topText, CultureInfo.InvariantCulture, out top) || top is < 1 or > 1000))
        {
            return Results.BadRequest(new { error = "top must be an integer between 1 and 1000." });
        }

        var continuation = http.Request.Headers[ContinuationHeader].FirstOrDefault();
        if (continuation is { Length: > 0 } && !DurableClient.IsContinuationToken(continuation))
        {
            return Results.BadRequest(new { error = $"{ContinuationHeader} '{continuation}' is not a continuation token of this API: send the one the previous page returned, or none for the first page." });
        }

        var page = await client.QueryInstancesAsync(
            new OrchestrationQuery
            {
                Statuses = statuses, CreatedFrom = from, CreatedTo = to, PageSize = top,
                NamePrefix = query["namePrefix"].FirstOrDefault(),
                InstanceIdPrefix = query["instanceIdPrefix"].FirstOrDefault(),
                ContinuationToken = continuation is { Length: > 0 } ? continuation : null,
                FetchInputsAndOutputs = Flag(query["showInput"], false),
            },
            ct);
        if (page.ContinuationToken is not null)
        {
            http.Response.Headers[ContinuationHeader] = page.ContinuationToken;
        }

        return Results.Json(page.Instances.Select(i => ToJson(i, Flag(query["showInput"], false), false)).ToList());
    }

    private static async Task<IResult> RaiseEventAsync(DurableClient client, HttpContext http, string instanceId, string eventName, CancellationToken ct)
    {
        if (InvalidInstanceId(instanceId) is { } invalid)
        {
            return invalid;
        }

        JsonNode? data;
        try
        {
            data = http.Request.ContentLength is 0 ? null : await JsonNode.ParseAsync(http.Request.Body, cancellationToken: ct);
        }
        catch (JsonException ex)
        {
            return Results.BadRequest(new { error = $"event '{eventName}' for instance '{instanceId}': the body is not JSON: {ex.Message}" });
        }

        return await SignalAsync(client, instanceId, ct, () => client.RaiseEventAsync(instanceId, eventName, data, ct));
    }

    private static async Task<IResult> SignalAsync(DurableClient client, string instanceId, CancellationToken ct, Func<Task> send)
    {
        if (InvalidInstanceId(instanceId) is { } invalid)
        {
            return invalid;
        }

        var metadata = await client.GetInstanceAsync(instanceId, cancellationToken: ct);
        if (metadata is null)
        {
            return Results.NotFound(new { error = $"orchestration instance '{instanceId}' does not exist." });
        }

        if (metadata.IsCompleted)
        {
            return Results.Json(new { error = $"orchestration instance '{instanceId}' is already {metadata.RuntimeStatus}." }, statusCode: StatusCodes.Status410Gone);
        }

        await send();
        return Results.Accepted();
    }

    private static async Task<IResult> PurgeAsync(DurableClient client, string instanceId, CancellationToken ct)
    {
        if (InvalidInstanceId(instanceId) is { } invalid)
        {
            return invalid;
        }

        try
        {
            var result = await client.PurgeInstanceAsync(instanceId, ct);
            return result.PurgedInstanceCount == 0
                ? Results.NotFound(new { error = $"orchestration instance '{instanceId}' does not exist." })
                : Results.Ok(new { instancesDeleted = result.PurgedInstanceCount });
        }
        catch (InvalidOperationException ex)
        {
            return Results.Conflict(new { error = ex.Message });
        }
    }

    private static async Task<IResult> PurgeManyAsync(DurableClient client, HttpContext http, CancellationToken ct)
    {
        var query = http.Request.Query;
        if (!TryDate(query["createdTimeFrom"], out var from) || !TryDate(query["createdTimeTo"], out var to))
        {
            return Results.BadRequest(new { error = "createdTimeFrom/createdTimeTo must be ISO 8601 timestamps." });
        }

        var statuses = query["runtimeStatus"].SelectMany(v => (v ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Select(v => Enum.TryParse<OrchestrationRuntimeStatus>(v, true, out var s) ? s : (OrchestrationRuntimeStatus?)null)
            .ToList();
        if (statuses.Any(s => s is null))
        {
            return Results.BadRequest(new { error = "runtimeStatus must list Completed, Failed or Terminated." });
        }

        var result = await client.PurgeInstancesAsync(new PurgeInstancesFilter(from, to, statuses.Count == 0 ? null : statuses.Select(s => s!.Value).ToList()), ct);
        return result.PurgedInstanceCount == 0
            ? Results.NotFound(new { error = "no finished instance matches the filter." })
            : Results.Ok(new { instancesDeleted = result.PurgedInstanceCount });
    }

    /// <summary>A 400 for an instance id the engine cannot hold (no instance can have it); null for any other.</summary>
    private static IResult? InvalidInstanceId(string instanceId) =>
        DurableClient.InstanceIdProblem(instanceId) is { } problem ? Results.BadRequest(new { error = problem + "." }) : null;

    private static JsonObject ToJson(OrchestrationMetadata m, bool showInput, bool showHistory)
    {
        var body = new JsonObject
        {
            ["name"] = m.Name,
            ["instanceId"] = m.InstanceId,
            ["runtimeStatus"] = m.RuntimeStatus.ToString(),
            ["input"] = showInput ? Parse(m.SerializedInput) : null,
            ["customStatus"] = Parse(m.SerializedCustomStatus),
            ["output"] = m.RuntimeStatus == OrchestrationRuntimeStatus.Failed && m.FailureDetails is { } f
                ? JsonSerializer.SerializeToNode(f, JsonDataConverter.Default.Options)
                : Parse(m.SerializedOutput),
            ["createdTime"] = m.CreatedAt.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            ["lastUpdatedTime"] = m.LastUpdatedAt.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
        };
        if (showHistory && m.History is { } history)
        {
            body["historyEvents"] = new JsonArray(history.Select(e => (JsonNode?)new JsonObject
            {
                ["EventType"] = e.EventType.ToString(),
                ["EventId"] = e.EventId,
                ["TaskScheduledId"] = e.TaskScheduledId >= 0 ? e.TaskScheduledId : null,
                ["Name"] = e.Name,
                ["Input"] = Parse(e.Input),
                ["Result"] = Parse(e.Result),
                ["FailureDetails"] = e.FailureDetails is null ? null : JsonSerializer.SerializeToNode(e.FailureDetails, JsonDataConverter.Default.Options),
                ["FireAt"] = e.FireAt?.ToString("o", CultureInfo.InvariantCulture),
                ["Timestamp"] = e.Timestamp.ToString("o", CultureInfo.InvariantCulture),
            }).ToArray());
        }

        return body;
    }

    private static JsonNode? Parse(string? json)
    {
        if (json is null)
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(json);
        }
        catch (JsonException)
        {
            return JsonValue.Create(json);
        }
    }

    private static bool Flag(Microsoft.Extensions.Primitives.StringValues value, bool defaultValue) =>
        value.FirstOrDefault() is { } text && bool.TryParse(text, out var parsed) ? parsed : defaultValue;

    private static bool TryDate(Microsoft.Extensions.Primitives.StringValues value, out DateTime? date)
    {
        date = null;
        if (value.FirstOrDefault() is not { Length: > 0 } text)
        {
            return true;
        }

        if (DateTime.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var parsed))
        {
            date = parsed;
            return true;
        }

        return false;
    }

    /// <summary>Adds a Location header to another result.</summary>
    private sealed class WithLocation(IResult inner, string location) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers.Location = location;
            return inner.ExecuteAsync(httpContext);
        }
    }
}
