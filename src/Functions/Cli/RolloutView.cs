using System.Globalization;
using FleetFunctions.Core;
using FleetFunctions.Core.Analysis;
using FleetFunctions.Orchestrations.Rollouts;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace FleetFunctions.Functions.Cli;

/// <summary>
/// How <c>rollout watch</c> shows a rollout: a full view (header, progress, waves, clusters, analysis) redrawn in
/// place on a terminal, and one line per change for logs and pipes.
/// </summary>
internal static partial class RolloutView
{
    private const int BarWidth = 30;

    /// <summary>The whole rollout as one renderable: what the live display redraws and what is printed at the end.</summary>
    public static IRenderable Render(RolloutSnapshot snapshot, TimeSpan elapsed)
    {
        var status = snapshot.Status;
        var rows = new List<IRenderable>
        {
            new Markup($"[bold]{Esc(Title(snapshot))}[/]  {(snapshot.Strategy is { } strategy ? Esc(strategy) + "  " : string.Empty)}{PhaseMarkup(snapshot.Phase)}  [grey]{Esc(snapshot.RuntimeStatus)}, {FormatElapsed(elapsed)}[/]"),
            new Markup(Esc(snapshot.Message)),
        };
        if (DecisionHint(snapshot) is { } hint)
        {
            rows.Add(new Markup($"[bold yellow]{Esc(hint)}[/]"));
        }

        rows.Add(new Markup(ProgressMarkup(snapshot)));

        if (snapshot.Waves.Count > 0)
        {
            var waves = new Table().Border(TableBorder.Rounded).Title("waves");
            waves.AddColumns("#", "wave", "clusters", "state");
            foreach (var wave in snapshot.Waves)
            {
                var current = status is not null && wave.Index == status.CurrentWave && !snapshot.IsFinished;
                waves.AddRow(
                    new Markup(current ? $"[bold]▶ {wave.Index}[/]" : $"  {wave.Index}"),
                    new Markup(wave.IsCanary ? $"[aqua]{Esc(wave.Name)}[/]" + (wave.Name == "canary" ? string.Empty : " [aqua](canary)[/]") : Esc(wave.Name)),
                    new Markup(Esc(string.Join(", ", wave.Clusters))),
                    new Markup(WaveStateMarkup(wave.State)));
            }

            rows.Add(waves);
        }

        if (snapshot.Clusters.Count > 0)
        {
            var clusters = new Table().Border(TableBorder.Rounded).Title("clusters");
            clusters.AddColumns("cluster", "wave", "state", "objects", "message");
            foreach (var cluster in snapshot.Clusters)
            {
                clusters.AddRow(
                    new Markup(Esc(cluster.Name)),
                    new Markup(cluster.Wave.ToString(CultureInfo.InvariantCulture)),
                    new Markup(ClusterStateMarkup(cluster.State)),
                    new Markup(Esc(Changes(cluster))),
                    new Markup(Esc(CountsSuffix().Replace(cluster.Message, string.Empty))));
            }

            rows.Add(clusters);
        }

        if (status is { Analysis.Count: > 0 })
        {
            var analysis = new Table().Border(TableBorder.Rounded).Title("canary analysis");
            analysis.AddColumns("#", "at", "outcome", "measurements");
            foreach (var iteration in status.Analysis)
            {
                analysis.AddRow(
                    new Markup((iteration.Index + 1).ToString(CultureInfo.InvariantCulture)),
                    new Markup(iteration.At.ToLocalTime().ToString("HH:mm:ss", CultureInfo.InvariantCulture)),
                    new Markup(OutcomeMarkup(iteration.Outcome)),
                    new Markup(Esc(string.Join("; ", iteration.Measurements.Select(Measurement)))));
            }

            rows.Add(analysis);
        }

        return new Rows(rows);
    }

    /// <summary>One line per change between two readings (all of <paramref name="current"/> when <paramref name="previous"/> is null).</summary>
    public static IEnumerable<string> Changes(RolloutSnapshot? previous, RolloutSnapshot current)
    {
        if (previous is null)
        {
            yield return current.Strategy is { } strategy ? $"{Title(current)}  {strategy}" : Title(current);
        }

        var before = previous?.Clusters.ToDictionary(c => c.Name, StringComparer.Ordinal) ?? [];
        foreach (var cluster in current.Clusters)
        {
            if (before.TryGetValue(cluster.Name, out var old) ? old.State != cluster.State || old.Message != cluster.Message : cluster.State != ClusterRolloutState.Pending)
            {
                var changes = Changes(cluster);
                yield return $"  {cluster.Name,-12} {cluster.State,-14} {(changes.Length > 0 ? changes + "  " : string.Empty)}{cluster.Message}";
            }
        }

        var seen = previous?.Status?.Analysis.Count ?? 0;
        foreach (var iteration in current.Status?.Analysis.Skip(seen) ?? [])
        {
            yield return $"  analysis #{iteration.Index + 1} {iteration.Outcome}: {string.Join("; ", iteration.Measurements.Select(Measurement))}";
        }

        // The phase last: what the clusters and the analysis just did explains it.
        if (previous is null || previous.Phase != current.Phase || previous.Message != current.Message)
        {
            var phase = current.Phase?.ToString() ?? current.RuntimeStatus;
            yield return current.Message.Length > 0 ? $"{phase}: {current.Message}" : phase;
            if (previous?.Phase != current.Phase && DecisionHint(current) is { } hint)
            {
                yield return "  " + hint;
            }
        }
    }

    /// <summary>For a rollout that waits for an operator (paused, or at a canary's approval gate): the commands that decide.</summary>
    public static string? DecisionHint(RolloutSnapshot snapshot) =>
        snapshot.Phase is RolloutPhase.Paused or RolloutPhase.AwaitingApproval && !snapshot.IsFinished
            ? $"decide: fleetfunctions rollout approve {snapshot.InstanceId}   or   fleetfunctions rollout abort {snapshot.InstanceId}"
            : null;

    /// <summary>Healthy clusters out of all, as <c>[████░░░░] 2/6 healthy</c> (plain text).</summary>
    public static string Progress(RolloutSnapshot snapshot)
    {
        var total = snapshot.Clusters.Count;
        var healthy = snapshot.Clusters.Count(c => c.State == ClusterRolloutState.Healthy);
        var filled = total == 0 ? 0 : (int)Math.Round(BarWidth * (double)healthy / total);
        return $"[{new string('█', filled)}{new string('░', BarWidth - filled)}] {healthy}/{total} clusters healthy"
            + (snapshot.Clusters.Any(c => c.State == ClusterRolloutState.RolledBack) ? $", {snapshot.Clusters.Count(c => c.State == ClusterRolloutState.RolledBack)} rolled back" : string.Empty);
    }

    public static string Title(RolloutSnapshot snapshot) =>
        snapshot.Status is { Fleet.Length: > 0 } s ? $"{s.Fleet} @ {CommitSha.Short(s.Commit)}" : snapshot.InstanceId;

    private static string Measurement(MetricMeasurement m) =>
        $"{m.Metric}{(m.Cluster is null ? string.Empty : " " + m.Cluster)} = {(m.Value is { } v ? v.ToString("0.###", CultureInfo.InvariantCulture) : "no data")} ({m.Outcome}{(m.Outcome == MeasurementOutcome.Passed ? string.Empty : ": " + m.Message)})";

    private static string Changes(ClusterStatus c) =>
        c.Created + c.Configured + c.Unchanged + c.Deleted == 0 ? string.Empty
        : $"+{c.Created} ~{c.Configured} ={c.Unchanged} -{c.Deleted}";

    private static string ProgressMarkup(RolloutSnapshot snapshot)
    {
        var text = Progress(snapshot);
        var bar = text.IndexOf(']', StringComparison.Ordinal) + 1;
        var color = snapshot.Phase switch
        {
            RolloutPhase.Succeeded => "green",
            RolloutPhase.RolledBack or RolloutPhase.RollingBack => "orange1",
            RolloutPhase.Failed => "red",
            _ => "blue",
        };
        return $"[{color}]{Esc(text[..bar])}[/]{Esc(text[bar..])}";
    }

    private static string PhaseMarkup(RolloutPhase? phase) => phase switch
    {
        null => "[grey]starting[/]",
        RolloutPhase.Succeeded => "[bold green]Succeeded[/]",
        RolloutPhase.Failed => "[bold red]Failed[/]",
        RolloutPhase.RolledBack => "[bold orange1]RolledBack[/]",
        RolloutPhase.RollingBack => "[orange1]RollingBack[/]",
        RolloutPhase.Superseded => "[bold grey]Superseded[/]",
        RolloutPhase.Paused or RolloutPhase.AwaitingApproval => $"[bold yellow]{phase}[/]",
        _ => $"[bold blue]{phase}[/]",
    };

    private static string ClusterStateMarkup(ClusterRolloutState state) => state switch
    {
        ClusterRolloutState.Pending => "[grey]Pending[/]",
        ClusterRolloutState.Applying => "[yellow]Applying[/]",
        ClusterRolloutState.Healthy => "[green]Healthy[/]",
        ClusterRolloutState.Failed => "[red]Failed[/]",
        ClusterRolloutState.RolledBack => "[orange1]RolledBack[/]",
        _ => "[bold red]RollbackFailed[/]",
    };

    private static string WaveStateMarkup(string state) => state switch
    {
        "Pending" => "[grey]Pending[/]",
        "Applying" => "[yellow]Applying[/]",
        "Healthy" => "[green]Healthy[/]",
        _ => $"[red]{Esc(state)}[/]",
    };

    private static string OutcomeMarkup(MeasurementOutcome outcome) => outcome switch
    {
        MeasurementOutcome.Passed => "[green]Passed[/]",
        MeasurementOutcome.Failed => "[red]Failed[/]",
        _ => "[yellow]Inconclusive[/]",
    };

    private static string FormatElapsed(TimeSpan elapsed) =>
        elapsed.ToString(elapsed.TotalHours >= 1 ? @"h\:mm\:ss" : @"m\:ss", CultureInfo.InvariantCulture);


    private static string Esc(string text) => Markup.Escape(text);

    /// <summary>The object counts a reconcile message ends with, which the objects column already shows.</summary>
    [System.Text.RegularExpressions.GeneratedRegex(@": \d+ created, \d+ configured, \d+ unchanged, \d+ deleted, \d+ skipped, \d+ failed$")]
    private static partial System.Text.RegularExpressions.Regex CountsSuffix();
}
