using FleetFunctions.Core.Apply;
using FleetFunctions.Core.Drift;
using FleetFunctions.Core.Health;
using FleetFunctions.Core.Sources;

namespace FleetFunctions.Core.Reconcile;

/// <summary>Per-fleet reconcile options.</summary>
public sealed record ReconcileOptions
{
    /// <summary>Apply options (force, recreate, concurrency, stages).</summary>
    public ApplyOptions Apply { get; init; } = new();

    /// <summary>Delete objects that left Git.</summary>
    public bool Prune { get; init; } = true;

    /// <summary>Allow a render with zero objects to prune everything the fleet applied before.</summary>
    public bool AllowEmpty { get; init; }

    /// <summary>Wait for applied objects to become healthy.</summary>
    public bool WaitForHealth { get; init; } = true;

    /// <summary>Health wait options (timeout, poll interval).</summary>
    public HealthOptions Health { get; init; } = new();
}

/// <summary>
/// Reconcile one fleet on one cluster: the source and path in Git, and optionally the exact commit
/// (a rollout pins it; without it the ref is resolved).
/// </summary>
public sealed record ReconcileRequest(string Cluster, string Fleet, GitSourceSpec Source, string Path)
{
    /// <summary>The commit to apply; null resolves <see cref="GitSourceSpec.Ref"/>.</summary>
    public string? Commit { get; init; }

    public ReconcileOptions Options { get; init; } = new();

    /// <summary>Validator for this request (a fleet's policy set); overrides the reconciler's own.</summary>
    public IManifestValidator? Validator { get; init; }

    /// <summary>
    /// The fleets that select the cluster now (from the platform; this one may be among them). Only their inventories
    /// can take over an object that left this fleet's Git: prune leaves such an object to the fleet that lists it. The
    /// inventory a fleet left on the cluster when it stopped selecting it, or was deleted, counts for nothing. Null:
    /// every fleet with an inventory on the cluster counts (callers without a platform, rollout plans of earlier builds).
    /// </summary>
    public IReadOnlySet<string>? ClusterFleets { get; init; }
}

/// <summary>The phase a reconcile reached; a failed reconcile names the phase that failed.</summary>
public enum ReconcilePhase
{
    Source,
    Render,
    Validate,
    Apply,
    Prune,
    Health,
    Done,
}

/// <summary>
/// Outcome of a reconcile: the commit, what apply and prune did, health, drift healed by this apply, and
/// errors (each naming <c>cluster/Kind/namespace/name</c> or <c>path:line</c> and what to do).
/// </summary>
public sealed record ReconcileResult
{
    public required string Cluster { get; init; }

    public required string Fleet { get; init; }

    public string Commit { get; init; } = string.Empty;

    public string Path { get; init; } = string.Empty;

    public DateTimeOffset StartedAt { get; init; }

    public TimeSpan Duration { get; init; }

    /// <summary><see cref="ReconcilePhase.Done"/> on success, else the phase that failed.</summary>
    public ReconcilePhase Phase { get; init; }

    public bool Succeeded => Phase == ReconcilePhase.Done;

    /// <summary>
    /// True when the cluster already matched this commit and path: nothing created, configured, pruned or healed.
    /// Such a reconcile only reads (no inventory write, no history row).
    /// </summary>
    public bool IsNoOp { get; init; }

    /// <summary>Apply outcome per desired object.</summary>
    public ChangeSet Changes { get; init; } = ChangeSet.Empty;

    /// <summary>Prune outcome per object that left Git.</summary>
    public ChangeSet Pruned { get; init; } = ChangeSet.Empty;

    public HealthReport? Health { get; init; }

    /// <summary>Objects whose Git definition was unchanged but whose live state had drifted (healed by this apply).</summary>
    public IReadOnlyList<ObjectDrift> Drift { get; init; } = [];

    public IReadOnlyList<string> Errors { get; init; } = [];

    /// <summary>Validate-phase findings that did not block the apply (policies in Audit mode).</summary>
    public IReadOnlyList<string> PolicyWarnings { get; init; } = [];

    /// <summary>True when the failure may go away by itself (unreachable cluster, throttling): retry later.</summary>
    public bool IsTransient { get; init; }

    public override string ToString() =>
        $"{Cluster}/{Fleet}@{(Commit.Length >= 12 ? Commit[..12] : Commit)}: {(Succeeded ? "succeeded" : $"failed in {Phase}")}; {Changes}; pruned {Pruned.Count(ChangeAction.Deleted)}";
}
