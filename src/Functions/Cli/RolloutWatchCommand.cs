using System.CommandLine;
using FleetFunctions.Core;
using Spectre.Console;

namespace FleetFunctions.Functions.Cli;

/// <summary>
/// <c>fleetfunctions rollout watch STATUS_URL|INSTANCE_ID</c>: follows one rollout until it ends, redrawn in place on a
/// terminal (phase, waves, per-cluster state, analysis results, progress), one line per change otherwise. Takes a
/// status URL as printed by a webhook answer (<c>/api/rollouts/{id}</c>) or the Durable API's
/// (<c>.../instances/{id}</c>), or an instance id with <c>--url</c>. Exit codes: 0 the rollout succeeded, 1 it ended
/// otherwise (rolled back, failed, superseded, terminated), 2 it could not be followed (bad arguments, refused key,
/// unknown rollout, app unreachable, <c>--timeout</c> reached), 130 interrupted.
/// </summary>
internal static class RolloutWatchCommand
{
    public const string UrlVariable = "FLEETFUNCTIONS_URL";
    public const string ApiKeyVariable = "FLEETFUNCTIONS_ApiKey";

    public static Command Create()
    {
        var rollout = new Argument<string>("rollout") { Description = "Status URL (…/api/rollouts/ID or …/instances/ID) or rollout instance id (FLEET-COMMIT)." };
        var url = new Option<string?>("--url") { Description = $"Base URL of the app, for an instance id (default ${UrlVariable}, else http://127.0.0.1:7071)." };
        var apiKey = new Option<string?>("--api-key") { Description = $"API key or function key (default ${ApiKeyVariable}); sent as x-api-key and x-functions-key." };
        var interval = new Option<string>("--interval") { Description = "Time between readings.", DefaultValueFactory = _ => "1s" };
        var timeout = new Option<string?>("--timeout") { Description = "Give up (exit 2) when the rollout has not ended after this long, e.g. 30m." };
        var startTimeout = new Option<string>("--start-timeout") { Description = "How long an unknown rollout may take to appear (a webhook's rollouts start within seconds).", DefaultValueFactory = _ => "1m" };
        var plain = new Option<bool>("--plain") { Description = "One line per change even on a terminal (the default when the output is not a terminal)." };
        var command = new Command("watch", "Follow a rollout until it ends; exit 0 if it succeeded, 1 if it rolled back or failed, 2 if it could not be followed.");
        command.Arguments.Add(rollout);
        command.Options.Add(url);
        command.Options.Add(apiKey);
        command.Options.Add(interval);
        command.Options.Add(timeout);
        command.Options.Add(startTimeout);
        command.Options.Add(plain);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            var problems = new List<string>();
            var target = parseResult.GetValue(rollout)!;
            var statusUrl = ResolveStatusUrl(target, parseResult.GetValue(url) ?? Environment.GetEnvironmentVariable(UrlVariable), problems);
            var options = new RolloutWatchOptions
            {
                Interval = Duration(parseResult.GetValue(interval), "--interval", problems) ?? TimeSpan.FromSeconds(1),
                Timeout = parseResult.GetValue(timeout) is { } t ? Duration(t, "--timeout", problems) : null,
                StartTimeout = Duration(parseResult.GetValue(startTimeout), "--start-timeout", problems) ?? TimeSpan.FromMinutes(1),
                ApiKey = parseResult.GetValue(apiKey) ?? Environment.GetEnvironmentVariable(ApiKeyVariable),
            };
            if (problems.Count > 0 || statusUrl is null)
            {
                foreach (var problem in problems)
                {
                    await error.WriteLineAsync(problem);
                }

                return RolloutWatcher.CannotFollow;
            }

            var live = !parseResult.GetValue(plain) && ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected;
            var console = live
                ? AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output) })
                : AnsiConsole.Create(new AnsiConsoleSettings
                {
                    Out = new AnsiConsoleOutput(output),
                    Ansi = AnsiSupport.No,
                    ColorSystem = ColorSystemSupport.NoColors,
                    Interactive = InteractionSupport.No,
                });
            if (!live)
            {
                console.Profile.Width = 160;
            }

            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            var watcher = new RolloutWatcher(http, statusUrl, options, console, live, error);
            return await watcher.RunAsync(cancellationToken);
        });
        return command;
    }

    /// <summary>The URL to poll: <paramref name="target"/> itself when it is a URL, else the status API URL of that instance id.</summary>
    public static Uri? ResolveStatusUrl(string target, string? baseUrl, List<string> problems)
    {
        if (Uri.TryCreate(target, UriKind.Absolute, out var direct) && direct.Scheme is "http" or "https")
        {
            return direct;
        }

        if (target.Contains('/', StringComparison.Ordinal) || target.Contains("://", StringComparison.Ordinal) || target.Length == 0)
        {
            problems.Add($"'{target}' is neither an http(s) status URL nor a rollout instance id (FLEET-COMMIT)");
            return null;
        }

        var text = baseUrl is { Length: > 0 } ? baseUrl : "http://127.0.0.1:7071";
        if (!Uri.TryCreate(text.TrimEnd('/') + "/", UriKind.Absolute, out var root) || root.Scheme is not ("http" or "https"))
        {
            problems.Add($"--url '{text}' is not an http(s) URL: give the app's base URL, such as https://myapp.azurewebsites.net");
            return null;
        }

        return new Uri(root, "api/rollouts/" + Uri.EscapeDataString(target));
    }

    private static TimeSpan? Duration(string? text, string option, List<string> problems)
    {
        if (GoDuration.TryParseTimeSpan(text, out var value) && value > TimeSpan.Zero)
        {
            return value;
        }

        problems.Add($"{option} '{text}' is not a positive duration such as 500ms, 2s or 10m");
        return null;
    }
}
