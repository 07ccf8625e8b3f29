using System.Globalization;
using System.Net;
using System.Text.Json;
using FleetFunctions.Orchestrations.Rollouts;
using Spectre.Console;

namespace FleetFunctions.Functions.Cli;

/// <summary>Settings of <c>rollout watch</c>.</summary>
internal sealed record RolloutWatchOptions
{
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Give up when the rollout has not ended after this long (null: wait as long as it runs).</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>How long the status URL may answer 404 before the rollout exists (deliveries are processed off the request path).</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>How long the app may be unreachable or answer 5xx before giving up.</summary>
    public TimeSpan UnreachableTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public string? ApiKey { get; init; }
}

/// <summary>Polls one rollout's status URL and shows it until the rollout ends; returns the exit code.</summary>
internal sealed class RolloutWatcher(HttpClient http, Uri statusUrl, RolloutWatchOptions options, IAnsiConsole console, bool live, TextWriter error)
{
    public const int Succeeded = 0;
    public const int NotSucceeded = 1;
    public const int CannotFollow = 2;
    public const int Interrupted = 130;

    private readonly TimeProvider _time = TimeProvider.System;

    private abstract record Reading;

    private sealed record Found(RolloutSnapshot Snapshot) : Reading;

    private sealed record Missing : Reading;

    /// <summary>Not worth another try: refused key, malformed answer.</summary>
    private sealed record Refused(string Message) : Reading;

    /// <summary>Worth another try: unreachable, timed out, 5xx.</summary>
    private sealed record Unavailable(string Message) : Reading;

    public async Task<int> RunAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            if (!live)
            {
                return await FinishAsync(await FollowAsync(null, cancellationToken));
            }

            // Nothing but the live display may write while it runs: it redraws over anything else.
            var result = (CannotFollow, (RolloutSnapshot?)null, TimeSpan.Zero, (string?)null);
            // A view taller than the terminal is cut at the bottom while it runs; the whole final view is printed after.
            await console.Live(new Markup($"[grey]reading {Markup.Escape(statusUrl.ToString())}[/]"))
                .AutoClear(true).Overflow(VerticalOverflow.Ellipsis).Cropping(VerticalOverflowCropping.Bottom)
                .StartAsync(async context => result = await FollowAsync(view =>
                {
                    context.UpdateTarget(view);
                    context.Refresh();
                }, cancellationToken));
            return await FinishAsync(result);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await error.WriteLineAsync($"stopped watching; the rollout goes on: {statusUrl}");
            return Interrupted;
        }
    }

    /// <summary>Polls until the rollout ends (exit code and last reading) or cannot be followed (exit code and why); writes nothing else.</summary>
    private async Task<(int Code, RolloutSnapshot? Final, TimeSpan Elapsed, string? Problem)> FollowAsync(Action<Spectre.Console.Rendering.IRenderable>? update, CancellationToken cancellationToken)
    {
        var start = _time.GetTimestamp();
        var lastSuccess = start;
        RolloutSnapshot? last = null;
        string? lastProblem = null;
        while (true)
        {
            var elapsed = _time.GetElapsedTime(start);
            var reading = await ReadAsync(cancellationToken);
            switch (reading)
            {
                case Found { Snapshot: var snapshot }:
                    lastSuccess = _time.GetTimestamp();
                    lastProblem = null;
                    elapsed = snapshot.Age(_time.GetUtcNow()) ?? elapsed;
                    Show(update, last, snapshot, elapsed);
                    last = snapshot;
                    if (snapshot.IsFinished)
                    {
                        var succeeded = snapshot.Phase == RolloutPhase.Succeeded && snapshot.RuntimeStatus == "Completed";
                        return (succeeded ? Succeeded : NotSucceeded, snapshot, elapsed, null);
                    }

                    break;
                case Missing when last is not null:
                    return await FailAsync($"rollout {last.InstanceId} disappeared (purged?) while it was {last.Phase}: {statusUrl}");
                case Missing when elapsed >= options.StartTimeout:
                    return await FailAsync($"{statusUrl}: no such rollout after {FormatDuration(options.StartTimeout)}; GET /api/rollouts lists them (a push that touches none of a fleet's files starts no rollout)");
                case Missing:
                    Note(update, last, elapsed, ref lastProblem, "missing", $"waiting for the rollout to start: {statusUrl} is not there yet ({FormatDuration(elapsed)})");
                    break;
                case Refused { Message: var message }:
                    return await FailAsync(message);
                case Unavailable { Message: var message } when _time.GetElapsedTime(lastSuccess) >= options.UnreachableTimeout:
                    return await FailAsync($"{message}; gave up after {FormatDuration(options.UnreachableTimeout)} without an answer");
                case Unavailable { Message: var message }:
                    Note(update, last, elapsed, ref lastProblem, "unavailable", message + "; retrying");
                    break;
            }

            if (options.Timeout is { } timeout && _time.GetElapsedTime(start) >= timeout)
            {
                return await FailAsync($"rollout still {last?.Phase?.ToString() ?? "not started"} after {FormatDuration(timeout)} (--timeout); it goes on: {statusUrl}");
            }

            await Task.Delay(options.Interval, cancellationToken);
        }
    }

    private void Show(Action<Spectre.Console.Rendering.IRenderable>? update, RolloutSnapshot? previous, RolloutSnapshot snapshot, TimeSpan elapsed)
    {
        if (update is not null)
        {
            update(RolloutView.Render(snapshot, elapsed));
            return;
        }

        var stamp = DateTime.Now.ToString("HH:mm:ss", CultureInfo.InvariantCulture);
        foreach (var line in RolloutView.Changes(previous, snapshot))
        {
            console.Profile.Out.Writer.WriteLine($"{stamp} {line}");
        }
    }

    /// <summary>Shows why there is no new reading: below the last view on a terminal; once per kind of problem in plain mode.</summary>
    private void Note(Action<Spectre.Console.Rendering.IRenderable>? update, RolloutSnapshot? last, TimeSpan elapsed, ref string? lastKind, string kind, string message)
    {
        if (update is not null)
        {
            var note = new Markup($"[grey]{Markup.Escape(message)}[/]");
            update(last is null ? note : new Rows(RolloutView.Render(last, elapsed), note));
        }
        else if (lastKind != kind)
        {
            console.Profile.Out.Writer.WriteLine($"{DateTime.Now.ToString("HH:mm:ss", CultureInfo.InvariantCulture)} {message}");
        }

        lastKind = kind;
    }

    private static Task<(int Code, RolloutSnapshot? Final, TimeSpan Elapsed, string? Problem)> FailAsync(string problem) =>
        Task.FromResult((CannotFollow, (RolloutSnapshot?)null, TimeSpan.Zero, (string?)problem));

    private async Task<int> FinishAsync((int Code, RolloutSnapshot? Final, TimeSpan Elapsed, string? Problem) result)
    {
        if (result.Final is not { } snapshot)
        {
            await error.WriteLineAsync(result.Problem);
            return result.Code;
        }

        var writer = console.Profile.Out.Writer;
        if (!live)
        {
            await writer.WriteLineAsync();
        }

        console.Write(RolloutView.Render(snapshot, result.Elapsed));

        await writer.WriteLineAsync();
        await writer.WriteLineAsync($"rollout {snapshot.InstanceId}: {snapshot.Phase?.ToString() ?? snapshot.RuntimeStatus} after {FormatDuration(result.Elapsed)}");
        await writer.WriteLineAsync($"status: {statusUrl}");
        return result.Code;
    }

    private async Task<Reading> ReadAsync(CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, statusUrl);
        AppConnection.Authorize(request, options.ApiKey);

        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            return new Unavailable($"{statusUrl}: {ex.Message}");
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new Unavailable($"{statusUrl}: no answer within {FormatDuration(http.Timeout)}");
        }

        using (response)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            switch (response.StatusCode)
            {
                case HttpStatusCode.NotFound:
                    return new Missing();
                case HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden:
                    return new Refused($"{statusUrl}: {(int)response.StatusCode} {response.ReasonPhrase}: {AppConnection.Detail(body)}; {AppConnection.RefusedKeyHint}");
                case >= HttpStatusCode.InternalServerError:
                    return new Unavailable($"{statusUrl}: {(int)response.StatusCode} {response.ReasonPhrase}");
                case var code when !response.IsSuccessStatusCode:
                    return new Refused($"{statusUrl}: {(int)code} {response.ReasonPhrase}: {AppConnection.Detail(body)}");
            }

            try
            {
                return new Found(RolloutSnapshot.Parse(body));
            }
            catch (Exception ex) when (ex is JsonException or InvalidOperationException)
            {
                return new Refused($"{statusUrl}: the answer is not a rollout status ({ex.Message}); give a URL such as https://APP/api/rollouts/FLEET-COMMIT");
            }
        }
    }

    private static string FormatDuration(TimeSpan value) => Core.GoDuration.Format(TimeSpan.FromSeconds(Math.Round(value.TotalSeconds, value < TimeSpan.FromSeconds(10) ? 1 : 0)));
}
