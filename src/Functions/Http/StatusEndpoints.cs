using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using FleetFunctions.Core.Fleet;
using FleetFunctions.Core.Reconcile;
using FleetFunctions.Orchestrations.Drift;
using FleetFunctions.Orchestrations.Engine;
using FleetFunctions.Orchestrations.Engine.Client;
using FleetFunctions.Orchestrations.Rollouts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace FleetFunctions.Functions.Http;

/// <summary>
/// The status API: fleets, clusters and rollouts, and the approve/abort decisions of paused or gated rollouts.
/// Protected by function keys behind the Functions host and by the API key standalone. Errors are RFC 7807.
/// </summary>
internal static partial class StatusEndpoints
{
    public static IEndpointRouteBuilder MapStatusApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api").AddEndpointFilter<ApiKeyFilter>();
        api.MapGet("/fleets", ListFleetsAsync);
        api.MapGet("/fleets/{name}", GetFleetAsync);
        api.MapGet("/clusters/{name}", GetClusterAsync);
        api.MapGet("/rollouts", ListRolloutsAsync);
        api.MapGet("/rollouts/{instanceId}", GetRolloutAsync);
        api.MapPost("/rollouts/{instanceId}/{decision}", DecideAsync);
        return app;
    }

    private static async Task<IResult> ListFleetsAsync(IPlatformProvider platform, FleetStateStore fleets, DurableClient client, CancellationToken cancellationToken)
    {
        var snapshot = await platform.GetCurrentAsync(cancellationToken);
        var states = await fleets.GetManyAsync(snapshot.Config.Fleets.Keys, cancellationToken);
        var ordered = snapshot.Config.Fleets.Values.OrderBy(f => f.Name, StringComparer.Ordinal).ToList();
        var active = await Task.WhenAll(ordered.Select(f => RunningRolloutAsync(client, states[f.Name], cancellationToken)));
        var result = new List<object>();
        for (var i = 0; i < ordered.Count; i++)
        {
            var fleet = ordered[i];
            var state = states[fleet.Name];
            result.Add(new
            {
                name = fleet.Name,
                strategy = fleet.Rollout.Strategy.ToString(),
                suspended = fleet.Suspend,
                clusters = snapshot.Config.ClustersOf(fleet).Count,
                syncedCommit = state.LastGoodCommit,
                activeRollout = active[i],
                lastRollout = state.LastRolloutInstance is null ? null : new { instanceId = state.LastRolloutInstance, phase = state.LastRolloutPhase?.ToString(), at = state.LastRolloutAt },
            });
        }

        return Results.Json(new { platformCommit = snapshot.Commit, fleets = result });
    }

    /// <summary>
    /// The fleet's active rollout while it runs. A claim left by a rollout that was terminated, or ended without
    /// recording its end, is not shown as active (the next drift check releases it).
    /// </summary>
    private static async Task<string?> RunningRolloutAsync(DurableClient client, FleetState state, CancellationToken cancellationToken) =>
        (await client.WithoutStaleClaimAsync(state, cancellationToken: cancellationToken)).ActiveInstance;

    private static async Task<IResult> GetFleetAsync(
        string name, IPlatformProvider platform, FleetStateStore fleets, ReconcileHistoryStore history, DriftEventStore drift, DurableClient client, CancellationToken cancellationToken)
    {
        var snapshot = await platform.GetCurrentAsync(cancellationToken);
        if (!snapshot.Config.Fleets.TryGetValue(name, out var fleet))
        {
            return Problem.NotFound($"ClusterFleet/{name} is not defined in the platform repository; GET /api/fleets lists the fleets");
        }

        var state = await fleets.GetAsync(name, cancellationToken);
        var drifts = await drift.GetFleetAsync(name, cancellationToken);
        var clusters = new List<object>();
        foreach (var cluster in snapshot.Config.ClustersOf(fleet))
        {
            var last = (await history.ListAsync(cluster.Name, fleet.Name, 1, cancellationToken)).FirstOrDefault();
            clusters.Add(new
            {
                name = cluster.Name,
                region = cluster.Region,
                path = PlatformConfig.ResolvePath(fleet.Source, cluster),
                lastReconcile = last,
                drift = drifts.GetValueOrDefault(cluster.Name),
            });
        }

        return Results.Json(new
        {
            name,
            source = new { gitSource = fleet.Source.GitSource, path = fleet.Source.Path },
            strategy = fleet.Rollout.Strategy.ToString(),
            suspended = fleet.Suspend,
            syncedCommit = state.LastGoodCommit,
            syncedAt = state.LastGoodAt,
            activeRollout = await RunningRolloutAsync(client, state, cancellationToken),
            lastRollout = state.LastRolloutInstance is null ? null : new { instanceId = state.LastRolloutInstance, phase = state.LastRolloutPhase?.ToString(), reason = state.LastRolloutReason, at = state.LastRolloutAt },
            clusters,
        });
    }

    private static async Task<IResult> GetClusterAsync(string name, IPlatformProvider platform, ReconcileHistoryStore history, DriftEventStore drift, CancellationToken cancellationToken)
    {
        var snapshot = await platform.GetCurrentAsync(cancellationToken);
        var cluster = snapshot.Config.Clusters.FirstOrDefault(c => c.Name == name);
        if (cluster is null)
        {
            return Problem.NotFound($"cluster {name} is not defined in the platform repository");
        }

        var fleets = new List<object>();
        foreach (var fleet in snapshot.Config.Fleets.Values.Where(f => f.Selects(cluster)).OrderBy(f => f.Name, StringComparer.Ordinal))
        {
            fleets.Add(new { name = fleet.Name, recent = await history.ListAsync(cluster.Name, fleet.Name, 5, cancellationToken), drift = await drift.GetAsync(cluster.Name, fleet.Name, cancellationToken) });
        }

        return Results.Json(new
        {
            name,
            server = cluster.Server,
            region = cluster.Region,
            labels = cluster.Labels,
            capabilities = cluster.Capabilities,
            fleets,
        });
    }

    private static async Task<IResult> ListRolloutsAsync(HttpRequest request, DurableClient client, CancellationToken cancellationToken)
    {
        var fleet = request.Query["fleet"].ToString();
        var statusText = request.Query["status"].ToString();
        var statuses = new List<OrchestrationRuntimeStatus>();
        foreach (var s in statusText.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Enum.TryParse<OrchestrationRuntimeStatus>(s, ignoreCase: true, out var parsed))
            {
                return Problem.BadRequest($"status '{s}' is not one of {string.Join(", ", Enum.GetNames<OrchestrationRuntimeStatus>())}");
            }

            statuses.Add(parsed);
        }

        var continuation = request.Headers["x-ms-continuation-token"].ToString();
        if (continuation.Length > 0 && !DurableClient.IsContinuationToken(continuation))
        {
            return Problem.BadRequest($"x-ms-continuation-token '{continuation}' is not a continuation token of GET /api/rollouts: send the one the previous page returned, or none for the first page");
        }

        var query = new OrchestrationQuery
        {
            NamePrefix = RolloutNames.Orchestrator,
            InstanceIdPrefix = fleet.Length > 0 ? fleet + "-" : null,
            Statuses = statuses.Count > 0 ? statuses : null,
            PageSize = 100,
            ContinuationToken = continuation.Length > 0 ? continuation : null,
            FetchInputsAndOutputs = true,
        };
        var page = await client.QueryInstancesAsync(query, cancellationToken);
        if (page.ContinuationToken is { } next)
        {
            request.HttpContext.Response.Headers["x-ms-continuation-token"] = next;
        }

        var rollouts = page.Instances
            .Where(i => fleet.Length == 0 || IsRolloutOf(i.InstanceId, fleet))
            .Select(Summary)
            .ToList();
        return Results.Json(new { rollouts });
    }

    private static async Task<IResult> GetRolloutAsync(string instanceId, DurableClient client, CancellationToken cancellationToken)
    {
        if (InvalidRolloutId(instanceId) is { } invalid)
        {
            return invalid;
        }

        var instance = await client.GetInstanceAsync(instanceId, getInputsAndOutputs: true, cancellationToken: cancellationToken);
        return instance is null || instance.Name != RolloutNames.Orchestrator
            ? Problem.NotFound($"no rollout {instanceId}; GET /api/rollouts lists them")
            : Results.Json(Summary(instance));
    }

    private static async Task<IResult> DecideAsync(string instanceId, string decision, HttpRequest request, DurableClient client, CancellationToken cancellationToken)
    {
        var eventName = decision switch
        {
            "approve" => RolloutNames.ApproveEvent,
            "abort" => RolloutNames.AbortEvent,
            _ => null,
        };
        if (eventName is null)
        {
            return Problem.NotFound($"unknown decision '{decision}': use approve or abort");
        }

        if (InvalidRolloutId(instanceId) is { } invalid)
        {
            return invalid;
        }

        var instance = await client.GetInstanceAsync(instanceId, cancellationToken: cancellationToken);
        if (instance is null || instance.Name != RolloutNames.Orchestrator)
        {
            return Problem.NotFound($"no rollout {instanceId}");
        }

        if (!instance.IsRunning)
        {
            return Problem.Of(StatusCodes.Status409Conflict, "Conflict", $"rollout {instanceId} is {instance.RuntimeStatus}: there is nothing to {decision}");
        }

        // An approve is for the decision the rollout waits for now: one sent while nothing waits (or twice) would otherwise
        // be kept by the engine and pass the next pause or gate unseen. An abort stops a running rollout at any point.
        int? gate = null;
        if (eventName == RolloutNames.ApproveEvent)
        {
            var status = ReadStatus(instance);
            if (status is not { Phase: RolloutPhase.Paused or RolloutPhase.AwaitingApproval })
            {
                return Problem.Of(StatusCodes.Status409Conflict, "Conflict",
                    $"rollout {instanceId} is {status?.Phase.ToString() ?? "starting"}, not waiting for a decision: approve continues a Paused rollout or promotes one AwaitingApproval; abort rolls back at any point");
            }

            gate = status.Gate;
        }

        // The body is optional; a chunked one (no Content-Length, as HttpClient sends JsonContent) counts as much as any.
        string? by = null;
        string? reason = null;
        using (var reader = new StreamReader(request.Body))
        {
            var text = await reader.ReadToEndAsync(cancellationToken);
            if (text.Trim().Length > 0)
            {
                JsonNode? body;
                try
                {
                    body = JsonNode.Parse(text);
                }
                catch (System.Text.Json.JsonException ex)
                {
                    return Problem.BadRequest($"the body is not JSON ({ex.Message}); send {{\"by\": \"...\", \"reason\": \"...\"}} or nothing");
                }

                if (body is not JsonObject fields)
                {
                    return Problem.BadRequest("the body must be a JSON object such as {\"by\": \"...\", \"reason\": \"...\"}");
                }

                by = fields["by"]?.ToString();
                reason = fields["reason"]?.ToString();
            }
        }

        await client.RaiseEventAsync(instanceId, eventName, new DecisionEvent(by, reason, gate), cancellationToken);
        return Results.Json(new { instanceId, decision, accepted = true }, statusCode: StatusCodes.Status202Accepted);
    }

    /// <summary>A 400 for an id that no rollout can have (the engine cannot hold it); null for any other.</summary>
    private static IResult? InvalidRolloutId(string instanceId) =>
        DurableClient.InstanceIdProblem(instanceId) is { } problem
            ? Problem.BadRequest($"rollout id '{(instanceId.Length > 80 ? instanceId[..80] + "..." : instanceId)}' is not valid ({problem}): a rollout id is <fleet>-<40-hex commit>; GET /api/rollouts lists them")
            : null;

    private static object Summary(OrchestrationMetadata instance) => new
    {
        instanceId = instance.InstanceId,
        runtimeStatus = instance.RuntimeStatus.ToString(),
        createdTime = instance.CreatedAt,
        lastUpdatedTime = instance.LastUpdatedAt,
        input = instance.ReadInputAs<RolloutRequest>(),
        status = instance.SerializedCustomStatus is { } s && s.Contains("\"phase\"", StringComparison.OrdinalIgnoreCase) ? JsonNode.Parse(s) : null,
        output = instance.ReadOutputAs<RolloutOutcome>(),
        failure = instance.FailureDetails,
    };

    /// <summary>The rollout's published status; null before its first step publishes one.</summary>
    private static RolloutStatus? ReadStatus(OrchestrationMetadata instance) =>
        instance.SerializedCustomStatus is { } s && s.Contains("\"phase\"", StringComparison.OrdinalIgnoreCase) ? instance.ReadCustomStatusAs<RolloutStatus>() : null;

    private static bool IsRolloutOf(string instanceId, string fleet) =>
        instanceId.StartsWith(fleet + "-", StringComparison.Ordinal) && CommitSuffix().IsMatch(instanceId[(fleet.Length + 1)..]);

    [GeneratedRegex("^[0-9a-f]{40}$")]
    private static partial Regex CommitSuffix();
}
