using FleetFunctions.Core.Fleet;
using Xunit;

namespace FleetFunctions.Core.Tests.Fleet;

public sealed class RolloutPlannerTests
{
    private static readonly PlatformConfig s_platform =
        PlatformLoader.LoadDirectory(Path.Combine(AppContext.BaseDirectory, "testdata", "fleet", "valid"));

    [Fact]
    public void Plan_Canary_PutsCanariesFirstThenPromotionWavesWithResolvedPaths()
    {
        var plan = RolloutPlanner.Plan(s_platform, s_platform.Fleets["podinfo"], "abc123");

        Assert.Equal(RolloutStrategy.Canary, plan.Strategy);
        Assert.Equal("abc123", plan.Commit);
        var canary = plan.Waves[0];
        Assert.True(canary.IsCanary);
        Assert.Equal(["eu-1", "us-1"], canary.Clusters.Select(c => c.Name));
        Assert.Equal("podinfo/overlays/eu", canary.Clusters[0].Path);
        Assert.Equal("podinfo/overlays/us", canary.Clusters[1].Path);
        // Promotion is progressive: one cluster, then the rest; dev-1 is not prod and not selected.
        Assert.Equal(["eu-2"], plan.Waves[1].Clusters.Select(c => c.Name));
        Assert.Equal(TimeSpan.FromSeconds(5), plan.Waves[1].SoakAfter);
        Assert.Equal(["us-2"], plan.Waves[2].Clusters.Select(c => c.Name));
        Assert.Equal(TimeSpan.Zero, plan.Waves[2].SoakAfter);
        Assert.Equal([0, 1, 2], plan.Waves.Select(w => w.Index));
        // The canary wave fails as the canary's onFailure says; promotion waves as promotion.progressive's (the default).
        Assert.Null(canary.OnFailure);
        Assert.Equal(FailureAction.Pause, plan.OnFailure);
        Assert.All(plan.Waves.Skip(1), w => Assert.Equal(FailureAction.Rollback, w.OnFailure));
        Assert.NotNull(plan.Analysis);
        Assert.Equal(["platform-base"], plan.DependsOn);
    }

    [Fact]
    public void Plan_ProgressiveWithSelectorAndPercent_TakesFromRemainingClusters()
    {
        var plan = RolloutPlanner.Plan(s_platform, s_platform.Fleets["platform-base"], "c1");

        Assert.Equal(["eu-1", "us-1"], plan.Waves[0].Clusters.Select(c => c.Name));
        Assert.Equal("eu", plan.Waves[0].Name);
        // 50% of the 3 remaining clusters (dev-1, eu-2, us-2) rounds up to 2.
        Assert.Equal(["dev-1", "eu-2"], plan.Waves[1].Clusters.Select(c => c.Name));
        Assert.Equal(["us-2"], plan.Waves[2].Clusters.Select(c => c.Name));
        Assert.Equal("remaining", plan.Waves[2].Name);
        Assert.All(plan.Waves, w => Assert.Equal(1, w.MaxFailures));
        Assert.Equal(FailureAction.Pause, plan.OnFailure);
    }

    [Fact]
    public void Plan_ClustersOfSeveralFleets_EachPlannedClusterNamesTheFleetsThatSelectIt()
    {
        var plan = RolloutPlanner.Plan(s_platform, s_platform.Fleets["platform-base"], "c1");

        var clusters = plan.Clusters.ToDictionary(c => c.Name);
        Assert.Equal(["platform-base"], clusters["dev-1"].Fleets);
        Assert.All(["eu-1", "eu-2", "us-1", "us-2"], name => Assert.Equal(["platform-base", "podinfo"], clusters[name].Fleets));
    }

    [Fact]
    public void Plan_SourceFetchedAsAGitHubApp_SettingsCarryTheAppAndItsKeysSecret()
    {
        var podinfo = s_platform.Fleets["podinfo"];
        var source = s_platform.Sources[podinfo.Source.GitSource] with { SecretRef = new SecretReference("app-key"), GitHubApp = new GitHubAppSpec(7, 8, null) };
        var platform = new PlatformConfig(s_platform.Sources.Values.Select(s => s.Name == source.Name ? source : s), s_platform.Clusters, s_platform.Fleets.Values);

        var settings = RolloutPlanner.Plan(platform, podinfo, "c1").Settings;

        Assert.Equal(new GitHubAppSpec(7, 8, null), settings.SourceGitHubApp);
        Assert.Equal("app-key", settings.SourceSecretRef);
    }

    [Fact]
    public void Plan_RegionAndCapabilityFilters_NarrowTheFleet()
    {
        var fleet = s_platform.Fleets["podinfo"] with
        {
            Regions = ["eu", "us"],
            Capabilities = ["gpu"],
            Rollout = new RolloutSpec(RolloutStrategy.AllAtOnce, null, null, 4),
        };

        var plan = RolloutPlanner.Plan(s_platform, fleet, "c1");

        Assert.Equal(["eu-1", "us-2"], Assert.Single(plan.Waves).Clusters.Select(c => c.Name));
        Assert.Equal(4, plan.MaxParallel);
    }

    [Fact]
    public void Plan_CanarySelectorMatchingNothing_Throws()
    {
        var fleet = s_platform.Fleets["podinfo"];
        var canary = fleet.Rollout.Canary! with
        {
            Selector = new LabelSelector(new Dictionary<string, string> { ["canary"] = "nope" }, []),
        };
        fleet = fleet with { Rollout = fleet.Rollout with { Canary = canary } };

        var ex = Assert.Throws<RolloutPlanningException>(() => RolloutPlanner.Plan(s_platform, fleet, "c1"));

        Assert.StartsWith("ClusterFleet/podinfo (fleets.yaml:1)", ex.Message, StringComparison.Ordinal);
        Assert.Contains("canary=nope", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_NoMatchingCluster_EmptyPlanWithWarning()
    {
        var fleet = s_platform.Fleets["platform-base"] with { Regions = ["mars"] };

        var plan = RolloutPlanner.Plan(s_platform, fleet, "c1");

        Assert.Empty(plan.Waves);
        Assert.Contains("matches no cluster", Assert.Single(plan.Warnings), StringComparison.Ordinal);
    }
}
