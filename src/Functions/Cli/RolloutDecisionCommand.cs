using System.CommandLine;
using System.Net.Http.Json;

namespace FleetFunctions.Functions.Cli;

/// <summary>
/// <c>fleetfunctions rollout approve|abort ROLLOUT [--by NAME] [--reason TEXT]</c>: the decision that a rollout paused
/// by <c>onFailure: Pause</c> or waiting at a canary's approval gate waits for (<c>POST /api/rollouts/{id}/approve</c> or
/// <c>/abort</c>). Exit codes: 0 the app accepted it, 1 the app refused it (no such rollout, or it is not running), 2 it
/// could not be sent (bad arguments, refused key, app unreachable).
/// </summary>
internal static class RolloutDecisionCommand
{
    public const int Accepted = 0;
    public const int Refused = 1;
    public const int CannotSend = 2;

    public static Command Create(string decision)
    {
        var (description, effect) = decision == "approve"
            ? ("Approve a rollout that waits for a decision: a paused rollout goes on, a canary at its approval gate is promoted.", "goes on")
            : ("Abort a rollout that waits for a decision (paused, or at a canary's approval gate): it rolls back.", "rolls back");
        var rollout = new Argument<string>("rollout") { Description = "Status URL (…/api/rollouts/ID) or rollout instance id (FLEET-COMMIT)." };
        var by = new Option<string?>("--by") { Description = "Who decides, recorded with the decision (default: the user name)." };
        var reason = new Option<string?>("--reason") { Description = "Why, recorded with the decision." };
        var app = new AppConnection();
        var command = new Command(decision, description) { rollout, by, reason };
        app.AddTo(command);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var error = parseResult.InvocationConfiguration.Error;
            var problems = new List<string>();
            var statusUrl = app.StatusUrl(parseResult.GetValue(rollout)!, parseResult, problems);
            if (statusUrl is not null && !statusUrl.AbsolutePath.Contains("/api/rollouts/", StringComparison.Ordinal))
            {
                problems.Add($"{statusUrl}: decisions go to the status API; give the rollout's …/api/rollouts/ID URL or its instance id");
            }

            if (statusUrl is null || problems.Count > 0)
            {
                problems.ForEach(error.WriteLine);
                return CannotSend;
            }

            // The decision is a path segment under the status URL; its query (such as ?code=KEY) stays the query.
            var url = new Uri(statusUrl.GetLeftPart(UriPartial.Path).TrimEnd('/') + "/" + decision + statusUrl.Query);
            var decidedBy = parseResult.GetValue(by) ?? Environment.UserName;
            using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = JsonContent.Create(new { by = decidedBy, reason = parseResult.GetValue(reason) }) };
            var answer = await app.SendAsync(request, parseResult, cancellationToken);
            if (answer.Problem is null)
            {
                parseResult.InvocationConfiguration.Output.WriteLine(
                    $"{decision} sent to {statusUrl.Segments[^1]} (by {decidedBy}): the rollout {effect} at its next step. Follow it: fleetfunctions rollout watch {statusUrl}");
                return Accepted;
            }

            error.WriteLine(answer.Problem);
            return answer.NotDecided ? CannotSend : Refused;
        });
        return command;
    }
}
