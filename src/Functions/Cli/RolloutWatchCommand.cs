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
    public static Command Create()
    {
        var rollout = new Argument<string>("rollout") { Description = "Status URL (…/api/rollouts/ID or …/instances/ID) or rollout instance id (FLEET-COMMIT)." };
        var app = new AppConnection();
        var interval = new Option<string>("--interval") { Description = "Time between readings.", DefaultValueFactory = _ => "1s" };
        var timeout = new Option<string?>("--timeout") { Description = "Give up (exit 2) when the rollout has not ended after this long, e.g. 30m." };
        var startTimeout = new Option<string>("--start-timeout") { Description = "How long an unknown rollout may take to appear (a webhook's rollouts start within seconds).", DefaultValueFactory = _ => "1m" };
        var plain = new Option<bool>("--plain") { Description = "One line per change even on a terminal (the default when the output is not a terminal)." };
        var command = new Command("watch", "Follow a rollout until it ends; exit 0 if it succeeded, 1 if it rolled back or failed, 2 if it could not be followed.");
        command.Arguments.Add(rollout);
        app.AddTo(command);
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
            var statusUrl = app.StatusUrl(target, parseResult, problems);
            var options = new RolloutWatchOptions
            {
                Interval = Duration(parseResult.GetValue(interval), "--interval", problems) ?? TimeSpan.FromSeconds(1),
                Timeout = parseResult.GetValue(timeout) is { } t ? Duration(t, "--timeout", problems) : null,
                StartTimeout = Duration(parseResult.GetValue(startTimeout), "--start-timeout", problems) ?? TimeSpan.FromMinutes(1),
                ApiKey = app.Key(parseResult),
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
