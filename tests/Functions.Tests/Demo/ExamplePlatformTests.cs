using FleetFunctions.Core.Fleet;
using FleetFunctions.Core.Policy;
using FleetFunctions.TestSupport;
using Xunit;

namespace FleetFunctions.Functions.Tests.Demo;

/// <summary>The example platform repository the demo rolls out (examples/platform) says what examples/README.md says.</summary>
public sealed class ExamplePlatformTests
{
    private static readonly string s_platform = Path.Combine(RepoPaths.Examples, "platform");

    [Fact]
    public void Plan_ExamplePodinfoFleet_CanaryPerRegionThenOneWavePerRegion()
    {
        var config = PlatformLoader.LoadDirectory(s_platform);
        var fleet = config.Fleets["podinfo"];

        var plan = RolloutPlanner.Plan(config, fleet, "0123456789abcdef0123456789abcdef01234567");

        Assert.Equal(["asia-1", "asia-2", "eu-1", "eu-2", "us-1", "us-2"], config.Clusters.Select(c => c.Name).Order(StringComparer.Ordinal));
        Assert.Equal(RolloutStrategy.Canary, fleet.Rollout.Strategy);
        Assert.Equal(
            ["canary: asia-1, eu-1, us-1", "eu: eu-2", "us: us-2", "asia: asia-2"],
            plan.Waves.Select(w => $"{w.Name}: {string.Join(", ", w.Clusters.Select(c => c.Name).Order(StringComparer.Ordinal))}"));
        Assert.True(plan.Waves[0].IsCanary);
        Assert.Equal("podinfo/overlays/asia", plan.Waves[3].Clusters.Single().Path);
        Assert.Equal("apps-webhook", config.Sources["apps"].WebhookSecretRef!.Name);
        Assert.All(config.Clusters, c => Assert.Equal($"{c.Name}-token", c.CredentialsRef!.Name));
    }

    [Fact]
    public void PolicySet_ExampleApp_PassesAndLatestTagIsBlocked()
    {
        var policies = PolicySet.LoadPaths([Path.Combine(s_platform, "policies")]);
        var app = PolicyChecker.CheckPaths(policies, [Path.Combine(RepoPaths.Examples, "apps", "podinfo", "base")]);
        var dir = Directory.CreateTempSubdirectory("latest-");
        try
        {
            File.WriteAllText(Path.Combine(dir.FullName, "deployment.yaml"),
                File.ReadAllText(Path.Combine(RepoPaths.Examples, "apps", "podinfo", "base", "deployment.yaml")).Replace("podinfo:6.7.1", "podinfo:latest", StringComparison.Ordinal));
            var latest = PolicyChecker.CheckPaths(policies, [dir.FullName]);

            Assert.False(app.Blocked);
            Assert.Empty(app.Violations);
            Assert.True(latest.Blocked);
            Assert.Contains("pinned image tag", Assert.Single(latest.Violations).Message, StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
