using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace FleetFunctions.Simulator.Admin;

/// <summary>
/// The simulator's control surface over HTTP: list/add/remove clusters, inject faults, wipe, inspect objects
/// and counters. Errors are JSON <c>{"error": "..."}</c> with a 4xx code.
/// </summary>
internal sealed class AdminEndpoint(FleetSimulator simulator)
{
    public async Task HandleAsync(HttpContext context)
    {
        try
        {
            await DispatchAsync(context);
        }
        catch (AdminError ex)
        {
            await WriteAsync(context, new JsonObject { ["error"] = ex.Message }, ex.Code);
        }
        catch (ArgumentException ex)
        {
            await WriteAsync(context, new JsonObject { ["error"] = ex.Message }, 400);
        }
        catch (JsonException ex)
        {
            await WriteAsync(context, new JsonObject { ["error"] = $"invalid JSON body: {ex.Message}" }, 400);
        }
    }

    private async Task DispatchAsync(HttpContext context)
    {
        var segments = (context.Request.Path.Value ?? "/").Split('/', StringSplitOptions.RemoveEmptyEntries);
        var method = context.Request.Method;
        switch (segments)
        {
            case [] when method == "GET":
                await WriteAsync(context, new JsonObject { ["clusters"] = ClusterList() });
                return;
            case ["clusters"] when method == "GET":
                await WriteAsync(context, ClusterList());
                return;
            case ["clusters"] when method == "POST":
                var body = await ReadAsync(context);
                var newName = body?["name"]?.ToString() ?? throw new AdminError(400, "POST /clusters needs a JSON body {\"name\": \"...\"}");
                if (simulator.Clusters.Any(c => c.Name == newName))
                {
                    throw new AdminError(409, $"cluster '{newName}' already exists");
                }

                var added = await simulator.AddClusterAsync(newName, context.RequestAborted);
                await WriteAsync(context, Describe(added), 201);
                return;
            case ["clusters", var name] when method == "GET":
                await WriteAsync(context, Describe(Find(name)));
                return;
            case ["clusters", var name] when method == "DELETE":
                if (!await simulator.RemoveClusterAsync(name, context.RequestAborted))
                {
                    throw new AdminError(404, $"cluster '{name}' does not exist");
                }

                context.Response.StatusCode = 204;
                return;
            case ["clusters", var name, "fault"] when method == "POST":
                var cluster = Find(name);
                await cluster.SetFaultAsync(ParseFault(await ReadAsync(context)), context.RequestAborted);
                await WriteAsync(context, Describe(cluster));
                return;
            case ["clusters", var name, "wipe"] when method == "POST":
                var wiped = Find(name);
                wiped.Wipe();
                await WriteAsync(context, Describe(wiped));
                return;
            case ["clusters", var name, "objects"] when method == "GET":
                var query = context.Request.Query;
                var objects = Find(name).ListObjects(query["apiVersion"], query["kind"], query["namespace"]);
                await WriteAsync(context, new JsonArray(objects.Select(o => (JsonNode)o).ToArray()));
                return;
            case ["clusters", var name, "stats"] when method == "GET":
                await WriteAsync(context, JsonSerializer.SerializeToNode(Find(name).Stats)!);
                return;
            default:
                throw new AdminError(404, $"no admin route {method} {context.Request.Path}; see GET /clusters, POST /clusters, DELETE /clusters/{{name}}, POST /clusters/{{name}}/fault, POST /clusters/{{name}}/wipe, GET /clusters/{{name}}/objects, GET /clusters/{{name}}/stats");
        }
    }

    private static ClusterFault ParseFault(JsonNode? body)
    {
        var mode = body?["mode"]?.ToString()?.ToLowerInvariant();
        try
        {
            return mode switch
            {
                "none" => ClusterFault.None,
                "down" => ClusterFault.Down,
                "erroring" => ClusterFault.Erroring,
                "slow" => ClusterFault.Slow(TimeSpan.FromMilliseconds(body?["latencyMs"]?.GetValue<double>() is > 0 and var ms ? ms : 1000)),
                "throttling" => ClusterFault.Throttling(
                    (body?["methods"] as JsonArray)?.Select(m => m?.GetValue<string>() ?? string.Empty),
                    body?["retryAfterSeconds"]?.GetValue<int>() ?? 1,
                    body?["count"]?.GetValue<int>()),
                _ => throw new AdminError(400, $"fault mode '{mode}' is unknown: use down, erroring, slow (with latencyMs), throttling (with methods, retryAfterSeconds, count) or none"),
            };
        }
        catch (InvalidOperationException)
        {
            throw new AdminError(400, $"fault mode '{mode}': latencyMs, retryAfterSeconds and count must be numbers, methods a list of HTTP methods such as [\"PATCH\"]");
        }
    }

    private SimulatedCluster Find(string name) =>
        simulator.Clusters.FirstOrDefault(c => c.Name == name) ?? throw new AdminError(404, $"cluster '{name}' does not exist");

    private JsonArray ClusterList() => new(simulator.Clusters.Select(c => (JsonNode)Describe(c)).ToArray());

    private static JsonObject Describe(SimulatedCluster cluster)
    {
        var stats = cluster.Stats;
        return new JsonObject
        {
            ["name"] = cluster.Name,
            ["server"] = cluster.Server.ToString().TrimEnd('/'),
            ["metrics"] = cluster.MetricsUrl.ToString(),
            ["fault"] = stats.Fault,
            ["requests"] = stats.Requests,
            ["writes"] = stats.Writes,
            ["objects"] = stats.Objects,
        };
    }

    private static async Task<JsonNode?> ReadAsync(HttpContext context)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        return buffer.Length == 0 ? null : JsonNode.Parse(buffer.ToArray());
    }

    private static async Task WriteAsync(HttpContext context, JsonNode body, int code = 200)
    {
        context.Response.StatusCode = code;
        context.Response.ContentType = "application/json";
        await context.Response.Body.WriteAsync(JsonSerializer.SerializeToUtf8Bytes(body, s_indented), context.RequestAborted);
    }

    private static readonly JsonSerializerOptions s_indented = new(Serialization.JsonDefaults.Options) { WriteIndented = true };

    private sealed class AdminError(int code, string message) : Exception(message)
    {
        public int Code { get; } = code;
    }
}
