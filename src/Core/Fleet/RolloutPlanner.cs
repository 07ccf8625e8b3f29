namespace FleetFunctions.Core.Fleet;

/// <summary>
/// Turns a <see cref="ClusterFleet"/> and the platform's clusters into a <see cref="RolloutPlan"/>: which
/// clusters go in which wave. Deterministic: clusters are taken in name order.
/// </summary>
public static class RolloutPlanner
{
    /// <param name="platformCommit">Commit of the platform repository the fleet was read from (policies are read at it).</param>
    public static RolloutPlan Plan(PlatformConfig platform, ClusterFleet fleet, string commit, string? platformCommit = null)
    {
        if (!platform.Sources.TryGetValue(fleet.Source.GitSource, out var source))
        {
            throw new RolloutPlanningException($"ClusterFleet/{fleet.Name} ({fleet.Origin}): GitSource '{fleet.Source.GitSource}' is not defined");
        }

        var settings = new FleetSettings(source.Name, source.Url, source.Branch, source.SecretRef?.Name, fleet.Prune, fleet.AllowEmpty,
            fleet.Force, fleet.Recreate, fleet.PolicySet, platformCommit, source.GitHubApp, source.KnownHosts);
        var selected = platform.ClustersOf(fleet);
        var warnings = new List<string>();
        if (selected.Count == 0)
        {
            warnings.Add($"ClusterFleet/{fleet.Name}: the selector {fleet.ClusterSelector} (regions: {Describe(fleet.Regions)}, capabilities: {Describe(fleet.Capabilities)}) matches no cluster; nothing will be deployed");
        }

        var rollout = fleet.Rollout;
        IReadOnlyList<PlannedWave> waves;
        var onFailure = FailureAction.Rollback;
        switch (rollout.Strategy)
        {
            case RolloutStrategy.Progressive:
                var progressive = rollout.Progressive!;
                onFailure = progressive.OnFailure;
                waves = ProgressiveWaves(platform, fleet, selected, progressive, 0, warnings);
                break;
            case RolloutStrategy.Canary:
                var canary = rollout.Canary!;
                onFailure = canary.OnFailure;
                var canaries = selected.Where(c => canary.Selector.Matches(c.Labels)).ToList();
                if (canaries.Count == 0 && selected.Count > 0)
                {
                    throw new RolloutPlanningException(
                        $"ClusterFleet/{fleet.Name} ({fleet.Origin}): the canary selector {canary.Selector} matches none of the fleet's clusters ({string.Join(", ", selected.Select(c => c.Name))}); label a cluster as canary or change spec.rollout.canary.selector");
                }

                var rest = selected.Except(canaries).ToList();
                var canaryWave = new PlannedWave(0, "canary", true, Resolve(platform, fleet, canaries), 0, TimeSpan.Zero);
                var promotion = canary.Promotion == RolloutStrategy.Progressive
                    ? ProgressiveWaves(platform, fleet, rest, canary.PromotionProgressive!, 1, warnings)
                    : rest.Count == 0 ? [] : [new PlannedWave(1, "promotion", false, Resolve(platform, fleet, rest), 0, TimeSpan.Zero)];
                waves = canaries.Count == 0 ? [] : [canaryWave, .. promotion];
                break;
            default:
                waves = selected.Count == 0 ? [] : [new PlannedWave(0, "all", false, Resolve(platform, fleet, selected), 0, TimeSpan.Zero)];
                break;
        }

        return new RolloutPlan(fleet.Name, commit, rollout.Strategy, waves, rollout.Canary?.Analysis, rollout.Canary?.Approval,
            onFailure, rollout.MaxParallel, fleet.HealthTimeout, fleet.DependsOn, settings, warnings);
    }

    private static List<PlannedWave> ProgressiveWaves(PlatformConfig platform, ClusterFleet fleet, IReadOnlyList<Cluster> clusters, ProgressiveSpec spec, int firstIndex, List<string> warnings)
    {
        var remaining = clusters.ToList();
        var waves = new List<PlannedWave>();
        for (var i = 0; i < spec.Waves.Count && remaining.Count > 0; i++)
        {
            var wave = spec.Waves[i];
            List<Cluster> members;
            if (wave.Selector is { } selector)
            {
                members = remaining.Where(c => selector.Matches(c.Labels)).ToList();
            }
            else if (wave.Count is { } count)
            {
                members = remaining.Take(count).ToList();
            }
            else
            {
                var take = (int)Math.Ceiling(remaining.Count * (wave.Percent ?? 100) / 100.0);
                members = remaining.Take(Math.Max(1, take)).ToList();
            }

            var name = wave.Name ?? $"wave-{waves.Count + 1}";
            if (members.Count == 0)
            {
                warnings.Add($"ClusterFleet/{fleet.Name}: wave '{name}' selects no remaining cluster and is skipped");
                continue;
            }

            remaining.RemoveAll(members.Contains);
            waves.Add(new PlannedWave(firstIndex + waves.Count, name, false, Resolve(platform, fleet, members), spec.MaxFailures, spec.Soak, spec.OnFailure));
        }

        if (remaining.Count > 0)
        {
            waves.Add(new PlannedWave(firstIndex + waves.Count, "remaining", false, Resolve(platform, fleet, remaining), spec.MaxFailures, spec.Soak, spec.OnFailure));
        }

        // No soak after the last wave: the rollout is done when it is healthy.
        if (waves.Count > 0)
        {
            waves[^1] = waves[^1] with { SoakAfter = TimeSpan.Zero };
        }

        return waves;
    }

    private static List<PlannedCluster> Resolve(PlatformConfig platform, ClusterFleet fleet, IEnumerable<Cluster> clusters) =>
        clusters.Select(c => new PlannedCluster(c.Name, c.Region, PlatformConfig.ResolvePath(fleet.Source, c), platform.FleetsOf(c))).ToList();

    private static string Describe(IReadOnlyList<string> values) => values.Count == 0 ? "any" : string.Join(", ", values);
}
