using System.Collections.Frozen;
using System.Globalization;
using FleetFunctions.Core;
using FleetFunctions.Core.Apply;
using FleetFunctions.Core.Drift;
using FleetFunctions.Core.Fleet;
using FleetFunctions.Core.Manifests;
using FleetFunctions.Core.Reconcile;
using FleetFunctions.Core.Secrets;
using FleetFunctions.Core.Sources;
using FleetFunctions.Orchestrations.Engine;
using FleetFunctions.Orchestrations.Engine.Client;
using FleetFunctions.Orchestrations.Rollouts;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FleetFunctions.Orchestrations.Drift;

/// <summary>How one drift check of a (cluster, fleet) ended.</summary>
public enum DriftOutcome
{
    /// <summary>The fleet was never applied to the cluster: nothing to compare.</summary>
    NotApplied,

    /// <summary>A rollout of the fleet is running: the check was skipped (drift is not fought during a rollout).</summary>
    RolloutRunning,

    /// <summary>The cluster matches the last applied commit.</summary>
    InSync,

    /// <summary>Drift was found and recorded; the fleet has no selfHeal, so it was only reported.</summary>
    Reported,

    /// <summary>Drift was found, recorded and healed.</summary>
    Healed,

    /// <summary>Drift was found and recorded, but re-applying Git failed, or the server kept the drifted fields.</summary>
    HealFailed,

    /// <summary>
    /// Drift was found and recorded, and (some of) it left alone: its fields were healed <see cref="DriftHealOptions.MaxHeals"/>
    /// times within <see cref="DriftHealOptions.Window"/> and another controller set them again each time.
    /// </summary>
    Fought,

    /// <summary>The check failed (unreachable cluster, render not available, ...); recorded as an error.</summary>
    Error,
}

/// <summary>The result of one drift check.</summary>
public sealed record DriftCheckResult(string Cluster, string Fleet, DriftOutcome Outcome, string Commit, int Drifted, int Healed, IReadOnlyList<string> Errors)
{
    public static DriftCheckResult Of(string cluster, string fleet, DriftOutcome outcome, params string[] errors) => new(cluster, fleet, outcome, string.Empty, 0, 0, errors);
}

/// <summary>
/// Checks one fleet on one cluster, top to bottom: detect drift against the last applied commit (render cache, or the
/// commit rendered once from Git on a cache miss) → record it → heal it where the fleet has <c>selfHeal</c> → record the
/// heal. Drift is always recorded before anything is healed; fields another controller sets again after every heal are
/// left alone after <see cref="DriftHealOptions.MaxHeals"/> heals (<see cref="Heals"/>). Used by the timer sweep and by
/// watch mode. Thread-safe; callers serialise checks of the same pair.
/// </summary>
public sealed class DriftChecker(
    Reconciler reconciler,
    DriftEventStore events,
    FleetStateStore fleets,
    ISecretStore secrets,
    TimeProvider? time = null,
    ILogger<DriftChecker>? logger = null,
    DurableClient? rollouts = null)
{
    /// <summary>Recorded events read to count the heals of a drifted object (<see cref="DriftHealOptions"/>).</summary>
    private const int RecentEvents = 50;

    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly ILogger _logger = logger ?? (ILogger)NullLogger.Instance;

    /// <summary>When to stop healing fields another controller sets again after every heal.</summary>
    public DriftHealOptions Heals { get; init; } = new();

    /// <summary>
    /// The active rollout of <paramref name="fleet"/>, or null when none is running. With <c>rollouts</c> (the engine's
    /// client), a claim held by an instance that is no longer running (terminated, or ended without recording its
    /// end) is released here, so drift checks do not wait for the fleet's next rollout.
    /// </summary>
    public async Task<string?> ActiveRolloutAsync(string fleet, CancellationToken cancellationToken = default)
    {
        var state = await fleets.GetAsync(fleet, cancellationToken);
        if (rollouts is null || await rollouts.StaleClaimAsync(state, cancellationToken: cancellationToken) is not { } stale)
        {
            return state.ActiveInstance;
        }

        if (await fleets.ReleaseAsync(fleet, stale.InstanceId, cancellationToken))
        {
            Log.StaleRolloutReleased(_logger, fleet, stale.InstanceId, stale.Status?.ToString() ?? "gone");
        }

        return null;
    }

    /// <summary>Checks the pair unless a rollout of the fleet is running.</summary>
    public async Task<DriftCheckResult> CheckIfIdleAsync(PlatformConfig platform, ClusterFleet fleet, Cluster cluster, string trigger, int objectConcurrency = 8, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(fleet);
        ArgumentNullException.ThrowIfNull(cluster);
        if (await ActiveRolloutAsync(fleet.Name, cancellationToken) is { } active)
        {
            Log.DriftSkippedRollout(_logger, cluster.Name, fleet.Name, active);
            return DriftCheckResult.Of(cluster.Name, fleet.Name, DriftOutcome.RolloutRunning);
        }

        return await CheckAsync(platform, fleet, cluster, trigger, objectConcurrency, cancellationToken);
    }

    /// <summary>Detects, records and (with selfHeal) heals drift of <paramref name="fleet"/> on <paramref name="cluster"/>.</summary>
    /// <param name="trigger">Recorded with the event: <c>sweep</c> or <c>watch</c>.</param>
    public async Task<DriftCheckResult> CheckAsync(PlatformConfig platform, ClusterFleet fleet, Cluster cluster, string trigger, int objectConcurrency = 8, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(platform);
        ArgumentNullException.ThrowIfNull(fleet);
        ArgumentNullException.ThrowIfNull(cluster);
        var result = await RunAsync(platform, fleet, cluster, trigger, objectConcurrency, cancellationToken);
        var tags = new KeyValuePair<string, object?>[] { new("cluster", cluster.Name), new("fleet", fleet.Name) };
        DriftMetrics.Checks.Add(1, [.. tags, new("outcome", result.Outcome.ToString()), new("trigger", trigger)]);
        if (result.Outcome is DriftOutcome.InSync or DriftOutcome.Reported or DriftOutcome.Healed or DriftOutcome.HealFailed or DriftOutcome.Fought)
        {
            DriftMetrics.DriftObjects.Record(result.Drifted, tags);
        }

        if (result.Healed > 0)
        {
            DriftMetrics.HealedObjects.Add(result.Healed, tags);
        }

        return result;
    }

    /// <summary>Records that the pair could not be checked because its cluster did not answer (the sweep probes each cluster once).</summary>
    public async Task<DriftCheckResult> RecordUnreachableAsync(ClusterFleet fleet, Cluster cluster, string error, string trigger, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(fleet);
        ArgumentNullException.ThrowIfNull(cluster);
        Log.DriftCheckFailed(_logger, cluster.Name, fleet.Name, error);
        await events.RecordErrorAsync(cluster.Name, fleet.Name, error, _time.GetUtcNow(), cancellationToken);
        DriftMetrics.Checks.Add(1, [new("cluster", cluster.Name), new("fleet", fleet.Name), new("outcome", nameof(DriftOutcome.Error)), new("trigger", trigger)]);
        return DriftCheckResult.Of(cluster.Name, fleet.Name, DriftOutcome.Error, error);
    }

    private async Task<DriftCheckResult> RunAsync(PlatformConfig platform, ClusterFleet fleet, Cluster cluster, string trigger, int objectConcurrency, CancellationToken cancellationToken)
    {
        // Detect.
        var source = platform.Sources.TryGetValue(fleet.Source.GitSource, out var gitSource) ? await SourceSpecAsync(gitSource, cancellationToken) : null;
        var report = await reconciler.DetectDriftAsync(cluster.Name, fleet.Name, new DriftCheckOptions { Source = source, Concurrency = objectConcurrency }, cancellationToken);
        if (!report.WasApplied)
        {
            return DriftCheckResult.Of(cluster.Name, fleet.Name, DriftOutcome.NotApplied);
        }

        if (!report.HasDrift)
        {
            if (report.Errors.Count > 0)
            {
                var error = Summarise(report.Errors);
                Log.DriftCheckFailed(_logger, cluster.Name, fleet.Name, error);
                await events.RecordErrorAsync(cluster.Name, fleet.Name, error, _time.GetUtcNow(), cancellationToken);
                return new DriftCheckResult(cluster.Name, fleet.Name, DriftOutcome.Error, report.Commit, 0, 0, report.Errors);
            }

            await events.RecordInSyncAsync(cluster.Name, fleet.Name, _time.GetUtcNow(), cancellationToken);
            return new DriftCheckResult(cluster.Name, fleet.Name, DriftOutcome.InSync, report.Commit, 0, 0, []);
        }

        // A rollout that claimed the fleet since the sweep looked (or since the check began) decides what the cluster runs:
        // what it is changing is not drift, and healing now would put the applied commit back under it.
        if (await ActiveRolloutAsync(fleet.Name, cancellationToken) is { } started)
        {
            Log.DriftSkippedRollout(_logger, cluster.Name, fleet.Name, started);
            return DriftCheckResult.Of(cluster.Name, fleet.Name, DriftOutcome.RolloutRunning);
        }

        // A suspended fleet is watched, not touched: its drift is recorded, never healed.
        var heals = fleet.SelfHeal && !fleet.Suspend;

        // Objects whose same fields were healed MaxHeals times within the window and set again each time: another
        // controller fights Git for them, and healing them once more would only flap them.
        var fought = heals ? await FoughtAsync(report, cancellationToken) : FrozenSet<ObjectReference>.Empty;
        var toHeal = report.Objects.Where(o => !fought.Contains(o.Reference)).ToList();

        // The same unhealed drift as the last check found (a fleet without selfHeal, or a fought one): one event, not one
        // per check. A drift found after a check that saw the cluster in sync (fixed by hand, then edited again) is a new one.
        if ((!heals || toHeal.Count == 0)
            && await events.GetAsync(cluster.Name, fleet.Name, cancellationToken) is { InSync: false, LastDrift: { Healed: false } last } && SameDrift(last, report))
        {
            await events.RecordStillDriftedAsync(cluster.Name, fleet.Name, _time.GetUtcNow(), cancellationToken);
            return new DriftCheckResult(cluster.Name, fleet.Name, heals ? DriftOutcome.Fought : DriftOutcome.Reported, report.Commit, report.Objects.Count, 0, report.Errors);
        }

        // Record, before anything is healed.
        var described = report.Describe();
        Log.DriftDetected(_logger, cluster.Name, fleet.Name, CommitSha.Short(report.Commit), trigger, report.Objects.Count, Summarise(described));
        var eventId = await events.RecordDetectedAsync(report, heals, trigger, _time.GetUtcNow(), fought, cancellationToken);
        if (!heals)
        {
            return new DriftCheckResult(cluster.Name, fleet.Name, DriftOutcome.Reported, report.Commit, report.Objects.Count, 0, report.Errors);
        }

        // Heal: re-apply the drifted objects from the applied commit, taking their fields back (Git wins).
        var options = new ReconcileOptions { Apply = new ApplyOptions { Recreate = fleet.Recreate, Concurrency = objectConcurrency } };
        var changes = toHeal.Count > 0 ? await reconciler.HealDriftAsync(report with { Objects = toHeal }, options, cancellationToken) : ChangeSet.Empty;
        var failures = changes.Failures.Concat(changes.Changes.Where(c => c.Action == ChangeAction.Skipped)).Select(f => f.Message ?? f.ToString())
            .Concat(changes.Changes.Where(c => c.KeptFields.Count > 0).Select(c => NotTaken(cluster.Name, c)))
            .ToList();
        var notHealed = report.Objects.Where(o => fought.Contains(o.Reference)).Select(o => Fought(cluster.Name, o)).ToList();
        var healed = changes.Changes.Count(c => (c.Action is ChangeAction.Created or ChangeAction.Configured or ChangeAction.Unchanged) && c.KeptFields.Count == 0);
        var healError = failures.Count + notHealed.Count > 0 ? Summarise([.. failures, .. notHealed]) : null;
        await events.RecordHealAsync(cluster.Name, fleet.Name, eventId, healError is null, healError, _time.GetUtcNow(), cancellationToken);
        if (failures.Count > 0)
        {
            Log.DriftHealFailed(_logger, cluster.Name, fleet.Name, healError!);
            return new DriftCheckResult(cluster.Name, fleet.Name, DriftOutcome.HealFailed, report.Commit, report.Objects.Count, healed, [.. failures, .. notHealed]);
        }

        if (notHealed.Count > 0)
        {
            Log.DriftFought(_logger, cluster.Name, fleet.Name, healError!);
            return new DriftCheckResult(cluster.Name, fleet.Name, DriftOutcome.Fought, report.Commit, report.Objects.Count, healed, notHealed);
        }

        Log.DriftHealed(_logger, cluster.Name, fleet.Name, healed);
        return new DriftCheckResult(cluster.Name, fleet.Name, DriftOutcome.Healed, report.Commit, report.Objects.Count, healed, []);
    }

    /// <summary>
    /// The drifted objects of <paramref name="report"/> whose same fields were healed at least
    /// <see cref="DriftHealOptions.MaxHeals"/> times within <see cref="DriftHealOptions.Window"/> against the same commit
    /// (read from the newest recorded events of the pair).
    /// </summary>
    private async Task<IReadOnlySet<ObjectReference>> FoughtAsync(DriftReport report, CancellationToken cancellationToken)
    {
        var since = _time.GetUtcNow() - Heals.Window;
        var healed = (await events.ListEventsAsync(report.Cluster, report.Fleet, RecentEvents, cancellationToken))
            .Where(e => e.Healed && e.Commit == report.Commit && e.DetectedAt >= since)
            .ToList();
        if (healed.Count < Heals.MaxHeals)
        {
            return FrozenSet<ObjectReference>.Empty;
        }

        return report.Objects
            .Where(o => healed.Count(e => e.Objects.Any(r => Same(r, o))) >= Heals.MaxHeals)
            .Select(o => o.Reference)
            .ToFrozenSet();
    }

    /// <summary>An object left alone because another controller sets its fields again after every heal.</summary>
    private string Fought(string cluster, ObjectDrift drift) =>
        $"{drift.Reference.On(cluster)}: not healed: {string.Join(", ", drift.Fields)} healed {Heals.MaxHeals} times within " +
        string.Create(CultureInfo.InvariantCulture, $"{(Heals.Window.TotalMinutes >= 1 ? $"{Heals.Window.TotalMinutes:0.#} min" : $"{Heals.Window.TotalSeconds:0.#} s")} ") +
        $"and set again each time{(drift.ChangedBy.Count > 0 ? $", fought by {string.Join(", ", drift.ChangedBy)}" : string.Empty)}; " +
        "healing resumes when fewer heals fall within that window or another commit is applied: stop setting them in Git or in the other controller";

    private async Task<GitSourceSpec?> SourceSpecAsync(GitSource source, CancellationToken cancellationToken)
    {
        try
        {
            return await GitSourceSpecs.ForAsync(source, secrets, cancellationToken);
        }
        catch (SourceException)
        {
            // Without its credentials the commit cannot be fetched: the check then relies on the render cache.
            return null;
        }
    }

    /// <summary>Whether <paramref name="report"/> found what <paramref name="recorded"/> holds: the same objects with the same fields, as far as the event records them.</summary>
    private static bool SameDrift(DriftEvent recorded, DriftReport report) =>
        recorded.Commit == report.Commit
        && recorded.DriftCount == report.Objects.Count
        && recorded.Objects.Zip(report.Objects).All(p => Same(p.First, p.Second));

    private static bool Same(DriftedObject recorded, ObjectDrift found) =>
        recorded.Object == found.Reference.ToString() && recorded.Kind == found.Kind.ToString() && recorded.Fields.SequenceEqual(DriftEventStore.AsRecorded(found.Fields));

    /// <summary>A re-apply the server answered with the drifted fields as they were: something on the cluster sets them again on every write.</summary>
    private static string NotTaken(string cluster, ObjectChange change) =>
        $"{change.Reference.On(cluster)}: re-applied but the server kept {string.Join(", ", change.KeptFields)}; another controller or an admission webhook " +
        "(Kyverno, Gatekeeper, ...) sets them: exclude them there or stop setting them in Git";

    private static string Summarise(IReadOnlyList<string> lines) =>
        lines.Count <= 3 ? string.Join("; ", lines) : $"{string.Join("; ", lines.Take(3))}; and {lines.Count - 3} more";

}
