using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace FleetFunctions.Functions.Cli;

/// <summary>
/// <c>fleetfunctions rollout list [--fleet F] [--status S]</c>: the app's rollouts (<c>GET /api/rollouts</c>, every
/// page), newest first, one line each: instance id, runtime status, phase, created. Exit codes: 0 listed, 2 could not be
/// listed (bad arguments, refused key, app unreachable).
/// </summary>
internal static class RolloutListCommand
{
    public static Command Create()
    {
        var fleet = new Option<string?>("--fleet") { Description = "Only this fleet's rollouts." };
        var status = new Option<string?>("--status") { Description = "Only these runtime statuses, comma-separated: Running, Completed, Failed, Terminated, Pending, Suspended." };
        var app = new AppConnection();
        var command = new Command("list", "List the app's rollouts, newest first: instance id, runtime status, phase, created.") { fleet, status };
        app.AddTo(command);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            var problems = new List<string>();
            if (app.Root(parseResult, problems) is not { } root)
            {
                problems.ForEach(error.WriteLine);
                return 2;
            }

            var query = string.Join('&', new[] { ("fleet", parseResult.GetValue(fleet)), ("status", parseResult.GetValue(status)) }
                .Where(p => p.Item2 is { Length: > 0 })
                .Select(p => $"{p.Item1}={Uri.EscapeDataString(p.Item2!)}"));
            var url = new Uri(root, "api/rollouts" + (query.Length > 0 ? "?" + query : string.Empty));
            var rollouts = new List<JsonObject>();
            string? continuation = null;
            do
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, url);
                if (continuation is not null)
                {
                    request.Headers.Add("x-ms-continuation-token", continuation);
                }

                var answer = await app.SendAsync(request, parseResult, cancellationToken);
                if (answer.Problem is not null)
                {
                    error.WriteLine(answer.Problem);
                    return 2;
                }

                if (Page(answer.Body) is not { } page)
                {
                    error.WriteLine($"{url}: the answer is not a list of rollouts (it starts: {Start(answer.Body)}); give the app's base URL with --url (a proxy or a login page may be answering instead)");
                    return 2;
                }

                rollouts.AddRange(page.OfType<JsonObject>());
                continuation = answer.Continuation;
            }
            while (continuation is not null);

            if (rollouts.Count == 0)
            {
                error.WriteLine("no rollouts" + (query.Length > 0 ? $" matching {query}" : string.Empty));
                return 0;
            }

            var rows = rollouts
                .Select(r => (
                    Id: r["instanceId"]?.ToString() ?? "?",
                    Status: r["runtimeStatus"]?.ToString() ?? "?",
                    Phase: r["output"]?["phase"]?.ToString() ?? r["status"]?["phase"]?.ToString() ?? "-",
                    Created: DateTimeOffset.TryParse(r["createdTime"]?.ToString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var created) ? created : DateTimeOffset.MinValue))
                .OrderByDescending(r => r.Created)
                .ToList();
            var width = Math.Max("ROLLOUT".Length, rows.Max(r => r.Id.Length));
            output.WriteLine($"{"ROLLOUT".PadRight(width)}  {"STATUS",-10}  {"PHASE",-16}  CREATED");
            foreach (var row in rows)
            {
                output.WriteLine($"{row.Id.PadRight(width)}  {row.Status,-10}  {row.Phase,-16}  {row.Created.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture)}");
            }

            return 0;
        });
        return command;
    }

    /// <summary>The <c>rollouts</c> of a page of <c>GET /api/rollouts</c>; null when the body is not one.</summary>
    private static JsonArray? Page(string body)
    {
        try
        {
            return JsonNode.Parse(body) is JsonObject { } root && root["rollouts"] is JsonArray rollouts ? rollouts : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string Start(string body)
    {
        var line = body.ReplaceLineEndings(" ").Trim();
        return line.Length == 0 ? "an empty body" : line.Length > 80 ? line[..80] + "..." : line;
    }
}
