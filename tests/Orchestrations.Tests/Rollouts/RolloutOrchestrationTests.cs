using FleetFunctions.Core.Fleet;
using FleetFunctions.Orchestrations.Engine.Client;
using FleetFunctions.Orchestrations.Engine.History;
using FleetFunctions.Orchestrations.Rollouts;
using FleetFunctions.TestSupport;
using Xunit;

namespace FleetFunctions.Orchestrations.Tests.Rollouts;

public sealed class RolloutOrchestrationTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static readonly Dictionary<string, string> s_good = new() { ["variant"] = "good" };
    private static readonly Dictionary<string, string> s_broken = new() { ["variant"] = "broken" };

    [Fact]
    public async Task AllAtOnce_ThreeClusters_AllHealthyAndCommitRecordedAsLastGood()
    {
        await using var h = await RolloutHarness.StartAsync(azurite.ConnectionString, [s_good, s_good, s_good], Fleet("web", "rollout: {strategy: AllAtOnce}"));
        var commit = h.CommitApp("example/web:1.1", "example/web:1.1");

        var (outcome, status) = await h.RunAsync("web", commit);

        Assert.Equal(RolloutPhase.Succeeded, outcome.Phase);
        Assert.All(status.Clusters, c => Assert.Equal(ClusterRolloutState.Healthy, c.State));
        Assert.All(status.Clusters, c => Assert.Equal(2, c.Created));
        Assert.All(new[] { "c1", "c2", "c3" }, c => Assert.Equal("example/web:1.1", h.ImageOn(c)));
        var state = await h.Fleets.GetAsync("web");
        Assert.Equal(commit, state.LastGoodCommit);
        Assert.Null(state.ActiveInstance);
    }

    [Fact]
    public async Task InstanceOfAnEarlierBuild_PlansAndClaimsInTwoActivitiesLikeItsHistory_NewOnesInOne()
    {
        await using var h = await RolloutHarness.StartAsync(azurite.ConnectionString, [s_good, s_good], Fleet("web", "rollout: {strategy: AllAtOnce}"));
        var first = h.CommitApp("example/web:1.1", "example/web:1.1");
        var second = h.CommitApp("example/web:1.2", "example/web:1.2");

        // Started the way builds before the plan-and-claim activity started rollouts: no rollout version.
        var legacyId = await h.Client.ScheduleNewOrchestrationInstanceAsync(RolloutNames.Orchestrator, new RolloutRequest("web", first),
            new StartOrchestrationOptions(RolloutInstanceId.For("web", first)) { Version = "1.0.0.0" });
        var (legacy, _) = await h.WaitAsync(legacyId);
        var (current, _) = await h.RunAsync("web", second);

        Assert.Equal(RolloutPhase.Succeeded, legacy.Phase);
        Assert.Equal(RolloutPhase.Succeeded, current.Phase);
        Assert.Equal(
            [RolloutNames.PlanActivity, RolloutNames.ClaimActivity],
            await FirstActivitiesAsync(h, legacyId));
        Assert.Equal(
            [RolloutNames.PlanAndClaimActivity, RolloutNames.ReconcileActivity],
            await FirstActivitiesAsync(h, RolloutInstanceId.For("web", second)));
        Assert.Equal(second, (await h.Fleets.GetAsync("web")).LastGoodCommit);
        Assert.All(new[] { "c1", "c2" }, c => Assert.Equal("example/web:1.2", h.ImageOn(c)));
    }

    private static async Task<List<string?>> FirstActivitiesAsync(RolloutHarness h, string instanceId) =>
        (await h.Client.GetInstanceAsync(instanceId, includeHistory: true))!.History!
            .Where(e => e.EventType == HistoryEventType.TaskScheduled).Select(e => e.Name).Take(2).ToList();

    [Fact]
    public async Task Progressive_ClusterFailingInWave2_HaltsAndRollsBackWaves1And2()
    {
        Dictionary<string, string>[] labels = [s_good, s_broken, s_good];
        await using var h = await RolloutHarness.StartAsync(azurite.ConnectionString, labels,
            Fleet("web", "rollout: {strategy: Progressive, progressive: {waves: [{count: 1}, {count: 1}, {count: 1}]}}"));
        var good = h.CommitApp("example/web:1.0", "example/web:1.0");
        Assert.Equal(RolloutPhase.Succeeded, (await h.RunAsync("web", good)).Outcome.Phase);
        var bad = h.CommitApp("example/web:2.0", "example/web:2.0-broken");

        var (outcome, status) = await h.RunAsync("web", bad);

        Assert.Equal(RolloutPhase.RolledBack, outcome.Phase);
        Assert.Contains("wave 1 (wave-2): 1 cluster(s) failed", outcome.Reason, StringComparison.Ordinal);
        Assert.Equal(ClusterRolloutState.RolledBack, status.Clusters.Single(c => c.Name == "c1").State);
        Assert.Equal(ClusterRolloutState.RolledBack, status.Clusters.Single(c => c.Name == "c2").State);
        Assert.Equal(ClusterRolloutState.Pending, status.Clusters.Single(c => c.Name == "c3").State);
        Assert.Equal("example/web:1.0", h.ImageOn("c1"));
        Assert.Equal("example/web:1.0", h.ImageOn("c2"));
        Assert.Equal("example/web:1.0", h.ImageOn("c3"));
        Assert.Equal(good, (await h.Fleets.GetAsync("web")).LastGoodCommit);
    }

    [Fact]
    public async Task Progressive_FailureWithinMaxFailures_SucceedsNamingTheFailedCluster()
    {
        Dictionary<string, string>[] labels = [s_broken, s_good];
        await using var h = await RolloutHarness.StartAsync(azurite.ConnectionString, labels,
            Fleet("web", "rollout: {strategy: Progressive, progressive: {waves: [{count: 2}], maxFailures: 1}}"));
        var good = h.CommitApp("example/web:1.0", "example/web:1.0");
        Assert.Equal(RolloutPhase.Succeeded, (await h.RunAsync("web", good)).Outcome.Phase);
        var next = h.CommitApp("example/web:2.0", "example/web:2.0-broken");

        var (outcome, status) = await h.RunAsync("web", next);

        // Tolerated by the fleet's maxFailures: the rollout succeeds, but says which cluster failed instead of "healthy on all".
        Assert.Equal(RolloutPhase.Succeeded, outcome.Phase);
        Assert.StartsWith($"commit {next[..12]} is healthy on 1 of 2 cluster(s); 1 failed and were accepted: c1 (wave 0, within maxFailures 1): c1/Deployment/web/web: Failed", outcome.Reason, StringComparison.Ordinal);
        Assert.Equal(ClusterRolloutState.Failed, status.Clusters.Single(c => c.Name == "c1").State);
        Assert.Equal("example/web:2.0", h.ImageOn("c2"));
    }

    [Fact]
    public async Task Progressive_PauseOnFailure_WaitsThenAbortRollsBack()
    {
        var (h, bad) = await PausingFleetWithABrokenCommitAsync([s_broken, s_good], "[{count: 1}]");
        await using var harness = h;

        var id = await h.StartAsync("web", bad);
        var paused = await h.WaitForStatusAsync(id, s => s.Phase == RolloutPhase.Paused);
        await h.Client.RaiseEventAsync(id, RolloutNames.AbortEvent, new DecisionEvent("alice", "broken image"));
        var (outcome, _) = await h.WaitAsync(id);

        Assert.Contains("paused", paused.Message, StringComparison.Ordinal);
        Assert.Equal(RolloutPhase.RolledBack, outcome.Phase);
        Assert.Contains("aborted by alice: broken image", outcome.Reason, StringComparison.Ordinal);
        Assert.Equal("example/web:1.0", h.ImageOn("c1"));
        Assert.Equal("example/web:1.0", h.ImageOn("c2"));
    }

    [Fact]
    public async Task Progressive_PauseOnFailure_ApproveSentTwice_TheSecondDoesNotPassTheNextPause()
    {
        var (h, bad) = await PausingFleetWithABrokenCommitAsync([s_broken, s_broken, s_good], "[{count: 1}, {count: 1}]");
        await using var harness = h;

        var id = await h.StartAsync("web", bad);
        var first = await h.WaitForStatusAsync(id, s => s.Phase == RolloutPhase.Paused);
        await h.Client.RaiseEventAsync(id, RolloutNames.ApproveEvent, new DecisionEvent("alice", Gate: first.Gate));
        await h.Client.RaiseEventAsync(id, RolloutNames.ApproveEvent, new DecisionEvent("alice", "double click", first.Gate));
        var second = await h.WaitForStatusAsync(id, s => s.Phase == RolloutPhase.Paused && s.CurrentWave == 1);
        await h.Client.RaiseEventAsync(id, RolloutNames.AbortEvent, new DecisionEvent("bob", "second wave broken too"));
        var (outcome, status) = await h.WaitAsync(id);

        Assert.Equal(1, first.Gate);
        Assert.Equal(2, second.Gate);
        Assert.Equal(RolloutPhase.RolledBack, outcome.Phase);
        Assert.Contains("aborted by bob: second wave broken too", outcome.Reason, StringComparison.Ordinal);
        Assert.Null(status.Gate);
        Assert.Equal(ClusterRolloutState.Pending, status.Clusters.Single(c => c.Name == "c3").State);
        Assert.All(new[] { "c1", "c2", "c3" }, c => Assert.Equal("example/web:1.0", h.ImageOn(c)));
    }

    [Theory]
    [InlineData("example/web:1.1", RolloutPhase.Succeeded)]
    [InlineData("example/web:1.1-bad", RolloutPhase.RolledBack)]
    public async Task Canary_AnalysisOfSimulatorMetricsInPrometheus_PromotesGoodImageRollsBackBadImage(string image, RolloutPhase expected)
    {
        Dictionary<string, string>[] labels = [new() { ["variant"] = "good", ["canary"] = "true" }, s_good];
        await using var h = await RolloutHarness.StartAsync(azurite.ConnectionString, labels, withPrometheus: true, fleets: Fleet("web", """
            rollout:
                strategy: Canary
                canary:
                  selector: {matchLabels: {canary: "true"}}
                  analysis:
                    interval: 2s
                    iterations: 4
                    failureLimit: 0
                    inconclusiveLimit: 2
                    metrics:
                      - name: error-ratio
                        query: sum(rate(fleet_sim_http_requests_total{cluster="${cluster}",code="500"}[4s])) / sum(rate(fleet_sim_http_requests_total{cluster="${cluster}"}[4s]))
                        max: 0.1
            """));
        var good = h.CommitApp("example/web:1.0", "example/web:1.0");
        Assert.Equal(RolloutPhase.Succeeded, (await h.RunAsync("web", good)).Outcome.Phase);
        var next = h.CommitApp(image, image);

        var (outcome, status) = await h.RunAsync("web", next);

        Assert.Equal(expected, outcome.Phase);
        Assert.NotEmpty(status.Analysis);
        Assert.All(status.Analysis.SelectMany(i => i.Measurements), m => Assert.Equal("c1", m.Cluster));
        if (expected == RolloutPhase.Succeeded)
        {
            Assert.Equal(image, h.ImageOn("c2"));
            Assert.DoesNotContain(status.Analysis, i => i.Outcome == Core.Analysis.MeasurementOutcome.Failed);
        }
        else
        {
            Assert.Contains("canary analysis failed", outcome.Reason, StringComparison.Ordinal);
            Assert.Contains(status.Analysis, i => i.Measurements.Any(m => m.Value > 0.1));
            Assert.Equal("example/web:1.0", h.ImageOn("c1"));
            Assert.Equal("example/web:1.0", h.ImageOn("c2"));
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Canary_ApprovalGate_ApprovePromotesAbortRollsBack(bool approve)
    {
        await using var h = await CanaryWithApprovalGateAsync(noData: "Pass");
        var first = h.CommitApp("example/web:1.0", "example/web:1.0");
        var second = h.CommitApp("example/web:1.1", "example/web:1.1");
        await WithoutPrometheusAnalysisPasses(h, first);

        var id = await h.StartAsync("web", second);
        await h.WaitForStatusAsync(id, s => s.Phase == RolloutPhase.AwaitingApproval);
        Assert.Equal("example/web:1.1", h.ImageOn("c1"));
        Assert.Equal("example/web:1.0", h.ImageOn("c2"));
        await h.Client.RaiseEventAsync(id, approve ? RolloutNames.ApproveEvent : RolloutNames.AbortEvent, new DecisionEvent("bob"));
        var (outcome, _) = await h.WaitAsync(id);

        Assert.Equal(approve ? RolloutPhase.Succeeded : RolloutPhase.RolledBack, outcome.Phase);
        Assert.Equal(approve ? "example/web:1.1" : "example/web:1.0", h.ImageOn("c1"));
        Assert.Equal(approve ? "example/web:1.1" : "example/web:1.0", h.ImageOn("c2"));
    }

    [Fact]
    public async Task Canary_AnalysisFailsAndPauses_ContinuedByAnOperator_PromotesWithoutASecondGate()
    {
        await using var h = await CanaryWithApprovalGateAsync(noData: "Fail", onFailure: "Pause");
        var commit = h.CommitApp("example/web:1.1", "example/web:1.1");

        var id = await h.StartAsync("web", commit);
        var paused = await h.WaitForStatusAsync(id, s => s.Phase == RolloutPhase.Paused);
        await h.Client.RaiseEventAsync(id, RolloutNames.ApproveEvent, new DecisionEvent("carol", Gate: paused.Gate));
        var (outcome, status) = await h.WaitAsync(id);

        Assert.Contains("canary analysis failed", paused.Message, StringComparison.Ordinal);
        Assert.True(outcome.Phase == RolloutPhase.Succeeded, outcome.Reason);
        Assert.Equal(1, paused.Gate);
        Assert.Null(status.Gate);
        Assert.Equal("example/web:1.1", h.ImageOn("c2"));
    }

    [Fact]
    public async Task DependsOn_FleetMatchingNoCluster_SucceedsWithNothingToDeployOnceTheDependencyHas()
    {
        var fleets = Fleet("base", "rollout: {strategy: AllAtOnce}") + "---\n"
            + Fleet("web", "rollout: {strategy: AllAtOnce}", "dependsOn: [base]\n  clusterSelector: {matchLabels: {variant: none}}");
        await using var h = await RolloutHarness.StartAsync(azurite.ConnectionString, [s_good], fleets);
        var commit = h.CommitApp("example/web:1.0", "example/web:1.0");

        var webId = await h.StartAsync("web", commit);
        await h.WaitForStatusAsync(webId, s => s.Phase == RolloutPhase.WaitingForDependencies);
        var (baseOutcome, _) = await h.RunAsync("base", commit);
        var (webOutcome, _) = await h.WaitAsync(webId);

        Assert.Equal(RolloutPhase.Succeeded, baseOutcome.Phase);
        Assert.True(webOutcome.Phase == RolloutPhase.Succeeded, webOutcome.Reason);
        Assert.Contains("matches no cluster", webOutcome.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Prune_ObjectListedByAFleetThatNoLongerSelectsTheCluster_Deleted()
    {
        // c1 was in web-staging before it was relabelled for web: web-staging's inventory on c1 still lists web's objects.
        var fleets = Fleet("web", "rollout: {strategy: AllAtOnce}") + "---\n"
            + Fleet("web-staging", "rollout: {strategy: AllAtOnce}", "clusterSelector: {matchLabels: {variant: staging}}");
        await using var h = await RolloutHarness.StartAsync(azurite.ConnectionString, [s_good], fleets);
        var (applied, _) = await h.RunAsync("web", h.CommitApp("example/web:1.1", "example/web:1.1"));
        var web = await h.Inventory.GetAsync("c1", "web");
        await h.Inventory.SaveAsync(web! with { Fleet = "web-staging" }, previous: null);

        h.Repo.Write("web/good/app.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: web}\n");
        var (outcome, status) = await h.RunAsync("web", h.Repo.Commit("web without its Deployment"));

        Assert.Equal(RolloutPhase.Succeeded, applied.Phase);
        Assert.True(outcome.Phase == RolloutPhase.Succeeded, outcome.Reason);
        Assert.Equal(1, Assert.Single(status.Clusters).Deleted);
        Assert.Null(h.ImageOn("c1"));
    }

    [Fact]
    public async Task NewerCommitFails_AfterTheRolloutItSupersededFinishedItsLastWaveAnyway_RollsBackToThatRolloutsCommit()
    {
        Dictionary<string, string>[] labels = [s_broken, s_broken];
        await using var h = await RolloutHarness.StartAsync(azurite.ConnectionString, labels, Fleet("web", "rollout: {strategy: AllAtOnce}"),
            workloadReadyDelay: TimeSpan.FromSeconds(2));
        var first = h.CommitApp("example/web:1.0", "example/web:1.0");
        Assert.Equal(RolloutPhase.Succeeded, (await h.RunAsync("web", first)).Outcome.Phase);
        var second = h.CommitApp("example/web:1.1", "example/web:1.1");
        var third = h.CommitApp("example/web:2.0", "example/web:2.0-broken");

        // The second rollout is in its only wave, which has no checkpoint after it, when the third claims the fleet.
        var secondId = await h.StartAsync("web", second);
        await h.WaitForStatusAsync(secondId, s => s.Phase == RolloutPhase.Applying);
        var thirdId = await h.StartAsync("web", third);
        var (secondOutcome, _) = await h.WaitAsync(secondId);
        var (thirdOutcome, thirdStatus) = await h.WaitAsync(thirdId);

        Assert.Equal(RolloutPhase.Succeeded, secondOutcome.Phase);
        Assert.Equal(RolloutPhase.RolledBack, thirdOutcome.Phase);
        Assert.Contains($"rolled back to {second[..12]}", thirdOutcome.Reason, StringComparison.Ordinal);
        Assert.Equal(second, thirdStatus.LastGoodCommit);
        Assert.All(new[] { "c1", "c2" }, c => Assert.Equal("example/web:1.1", h.ImageOn(c)));
        Assert.Equal(second, (await h.Fleets.GetAsync("web")).LastGoodCommit);
    }

    [Fact]
    public async Task NewerCommit_SupersedesTheRunningRolloutAtItsNextCheckpoint()
    {
        await using var h = await RolloutHarness.StartAsync(azurite.ConnectionString, [s_good, s_good],
            Fleet("web", "rollout: {strategy: Progressive, progressive: {waves: [{count: 1}], soak: 10m}}"));
        var older = h.CommitApp("example/web:1.0", "example/web:1.0");
        var newer = h.CommitApp("example/web:1.1", "example/web:1.1");

        var olderId = await h.StartAsync("web", older);
        await h.WaitForStatusAsync(olderId, s => s.Phase == RolloutPhase.Soaking);
        var newerId = await h.StartAsync("web", newer);
        var (olderOutcome, olderStatus) = await h.WaitAsync(olderId);
        var newerStatus = await h.WaitForStatusAsync(newerId, s => s.Phase == RolloutPhase.Soaking);

        Assert.Equal(RolloutPhase.Superseded, olderOutcome.Phase);
        Assert.Equal(newerId, olderOutcome.SupersededBy);
        Assert.Equal(newerId, olderStatus.SupersededBy);
        Assert.Equal(ClusterRolloutState.Pending, olderStatus.Clusters.Single(c => c.Name == "c2").State);
        Assert.Equal(ClusterRolloutState.Healthy, newerStatus.Clusters.Single(c => c.Name == "c1").State);
        Assert.Equal("example/web:1.1", h.ImageOn("c1"));
        Assert.Null(h.ImageOn("c2"));
        Assert.Equal(newerId, (await h.Fleets.GetAsync("web")).ActiveInstance);
        await h.Client.TerminateAsync(newerId, "test done");
    }

    [Fact]
    public async Task OlderCommit_WhileANewerRollsOut_RefusedAndTheNewerIsNotSuperseded()
    {
        var (h, older, newer, newerId) = await NewerSoakingAsync();
        await using var _ = h;
        var writes = h.Cluster("c1").WriteCount + h.Cluster("c2").WriteCount;
        var (outcome, status) = await h.RunAsync("web", older);
        var newerMetadata = await h.Client.GetInstanceAsync(newerId, true);

        Assert.Equal(RolloutPhase.Refused, outcome.Phase);
        Assert.Equal(RolloutPhase.Refused, status.Phase);
        Assert.Contains($"commit {older[..12]} is an ancestor of {newer[..12]}, the running rollout {newerId}", outcome.Reason, StringComparison.Ordinal);
        Assert.All(status.Clusters, c => Assert.Equal(ClusterRolloutState.Pending, c.State));
        Assert.True(newerMetadata!.IsRunning, $"{newerId}: {newerMetadata.RuntimeStatus}");
        Assert.Null(newerMetadata.ReadCustomStatusAs<RolloutStatus>()!.SupersededBy);
        Assert.Equal("example/web:1.1", h.ImageOn("c1"));
        Assert.Equal(writes, h.Cluster("c1").WriteCount + h.Cluster("c2").WriteCount);
        var state = await h.Fleets.GetAsync("web");
        Assert.Equal(newerId, state.ActiveInstance);
        Assert.Equal(RolloutPhase.Refused, state.LastRolloutPhase);
        Assert.Equal(RolloutPhase.Refused, await h.Fleets.GetCommitPhaseAsync("web", older));
        await h.Client.TerminateAsync(newerId, "test done");
    }

    [Fact]
    public async Task OlderCommit_AfterTheNewerRolloutWasTerminated_RollsOutAndTakesTheFleet()
    {
        var (h, older, _, newerId) = await NewerSoakingAsync();
        await using var _ = h;
        await h.Client.TerminateAsync(newerId, "bad change, going back");
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        {
            await h.Client.WaitForInstanceCompletionAsync(newerId, cancellationToken: timeout.Token);
        }

        Assert.Equal("example/web:1.1", h.ImageOn("c1"));
        Assert.Equal(newerId, (await h.Fleets.GetAsync("web")).ActiveInstance);   // terminated: its end was never recorded

        var olderId = await h.StartAsync("web", older);
        var status = await h.WaitForStatusAsync(olderId, s => s.Phase is RolloutPhase.Soaking or RolloutPhase.Refused);

        Assert.True(status.Phase == RolloutPhase.Soaking, status.Message);
        Assert.Equal(ClusterRolloutState.Healthy, status.Clusters.Single(c => c.Name == "c1").State);
        Assert.Equal("example/web:1.0", h.ImageOn("c1"));
        Assert.Equal(olderId, (await h.Fleets.GetAsync("web")).ActiveInstance);
        await h.Client.TerminateAsync(olderId, "test done");
    }

    /// <summary>
    /// Two clusters; fleet web soaks 10 minutes after a one-cluster wave; two commits of the app, the newer one's
    /// rollout soaking after its first wave (on c1). The caller disposes the harness.
    /// </summary>
    private async Task<(RolloutHarness H, string Older, string Newer, string NewerId)> NewerSoakingAsync()
    {
        var h = await RolloutHarness.StartAsync(azurite.ConnectionString, [s_good, s_good],
            Fleet("web", "rollout: {strategy: Progressive, progressive: {waves: [{count: 1}], soak: 10m}}"));
        try
        {
            var older = h.CommitApp("example/web:1.0", "example/web:1.0");
            var newer = h.CommitApp("example/web:1.1", "example/web:1.1");
            var newerId = await h.StartAsync("web", newer);
            await h.WaitForStatusAsync(newerId, s => s.Phase == RolloutPhase.Soaking);
            return (h, older, newer, newerId);
        }
        catch
        {
            await h.DisposeAsync();
            throw;
        }
    }

    [Fact]
    public async Task OlderCommit_AfterANewerSucceeded_RefusedAndNothingRolledBack()
    {
        await using var h = await RolloutHarness.StartAsync(azurite.ConnectionString, [s_good], Fleet("web", "rollout: {strategy: AllAtOnce}"));
        var older = h.CommitApp("example/web:1.0", "example/web:1.0");
        var newer = h.CommitApp("example/web:1.1", "example/web:1.1");
        Assert.Equal(RolloutPhase.Succeeded, (await h.RunAsync("web", newer)).Outcome.Phase);
        var writes = h.Cluster("c1").WriteCount;

        var (outcome, _) = await h.RunAsync("web", older);
        var imageAfterRefusal = h.ImageOn("c1");
        var writesAfterRefusal = h.Cluster("c1").WriteCount;
        var newest = h.CommitApp("example/web:1.2", "example/web:1.2");
        var (newestOutcome, _) = await h.RunAsync("web", newest);

        Assert.Equal(RolloutPhase.Refused, outcome.Phase);
        Assert.Contains($"commit {older[..12]} is an ancestor of {newer[..12]}, the last good commit", outcome.Reason, StringComparison.Ordinal);
        Assert.Equal("example/web:1.1", imageAfterRefusal);
        Assert.Equal(writes, writesAfterRefusal);
        Assert.Equal(RolloutPhase.Succeeded, newestOutcome.Phase);
        Assert.Equal("example/web:1.2", h.ImageOn("c1"));
        Assert.Equal(newest, (await h.Fleets.GetAsync("web")).LastGoodCommit);
    }

    [Fact]
    public async Task DependsOn_WaitsUntilTheDependencyRolledOutTheSameCommit()
    {
        var fleets = Fleet("base", "rollout: {strategy: AllAtOnce}") + "---\n" + Fleet("web", "rollout: {strategy: AllAtOnce}", "dependsOn: [base]");
        await using var h = await RolloutHarness.StartAsync(azurite.ConnectionString, [s_good], fleets);
        var commit = h.CommitApp("example/web:1.0", "example/web:1.0");

        var webId = await h.StartAsync("web", commit);
        var waiting = await h.WaitForStatusAsync(webId, s => s.Phase == RolloutPhase.WaitingForDependencies);
        Assert.Null(h.ImageOn("c1"));
        var (baseOutcome, _) = await h.RunAsync("base", commit);
        var (webOutcome, _) = await h.WaitAsync(webId);

        Assert.Contains("ClusterFleet/base", waiting.Message, StringComparison.Ordinal);
        Assert.Equal(RolloutPhase.Succeeded, baseOutcome.Phase);
        Assert.Equal(RolloutPhase.Succeeded, webOutcome.Phase);
    }

    [Fact]
    public async Task DependsOn_PollsOfAPendingDependency_BackOffFromTwoSecondsUpToThirty()
    {
        var fleets = Fleet("base", "rollout: {strategy: AllAtOnce}") + "---\n" + Fleet("web", "rollout: {strategy: AllAtOnce}", "dependsOn: [base]");
        await using var h = await RolloutHarness.StartAsync(azurite.ConnectionString, [s_good], fleets);
        var commit = h.CommitApp("example/web:1.0", "example/web:1.0");

        var webId = await h.StartAsync("web", commit);
        var timers = await WaitForTimersAsync(h, webId, 3);
        var (baseOutcome, _) = await h.RunAsync("base", commit);
        var (webOutcome, _) = await h.WaitAsync(webId);

        // Each pause is measured from the episode that created its timer: 2 s, then 4, then 8 (capped at 30).
        Assert.Equal([2, 4, 8], timers.Take(3).Select(t => (int)Math.Round((t.FireAt!.Value - t.Timestamp).TotalSeconds)));
        Assert.Equal(RolloutPhase.Succeeded, baseOutcome.Phase);
        Assert.Equal(RolloutPhase.Succeeded, webOutcome.Phase);
    }

    private static async Task<List<HistoryEvent>> WaitForTimersAsync(RolloutHarness h, string instanceId, int count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            var timers = (await h.Client.GetInstanceAsync(instanceId, includeHistory: true))!.History!.Where(e => e.EventType == HistoryEventType.TimerCreated).ToList();
            if (timers.Count >= count)
            {
                return timers;
            }

            Assert.True(DateTime.UtcNow < deadline, $"{instanceId}: {timers.Count} of {count} timers after 60 s");
            await Task.Delay(200);
        }
    }

    [Fact]
    public async Task Suspend_RolloutOfTheFleetRefusedAndItsDependentsFailAtOnceNothingApplied()
    {
        var fleets = Fleet("base", "rollout: {strategy: AllAtOnce}", "suspend: true") + "---\n" + Fleet("web", "rollout: {strategy: AllAtOnce}", "dependsOn: [base]");
        await using var h = await RolloutHarness.StartAsync(azurite.ConnectionString, [s_good], fleets);
        var commit = h.CommitApp("example/web:1.0", "example/web:1.0");

        var (baseOutcome, _) = await h.RunAsync("base", commit);
        var (webOutcome, _) = await h.RunAsync("web", commit);

        Assert.Equal(RolloutPhase.Refused, baseOutcome.Phase);
        Assert.Contains("ClusterFleet/base is suspended", baseOutcome.Reason, StringComparison.Ordinal);
        Assert.Equal(RolloutPhase.Failed, webOutcome.Phase);
        Assert.Contains("dependencies are suspended", webOutcome.Reason, StringComparison.Ordinal);
        Assert.Contains("ClusterFleet/base", webOutcome.Reason, StringComparison.Ordinal);
        Assert.Null(h.ImageOn("c1"));
        Assert.Null((await h.Fleets.GetAsync("base")).LastGoodCommit);
    }

    [Theory]
    [InlineData("Enforce")]
    [InlineData("Audit")]
    public async Task PolicySet_EnforceBlocksTheCommitOnTheClusterAuditReportsIt(string action)
    {
        await using var h = await RolloutHarness.StartAsync(azurite.ConnectionString, [s_good],
            Fleet("web", "rollout: {strategy: AllAtOnce}", "policySet: policies"),
            platformFiles: new Dictionary<string, string> { ["policies/disallow-latest-tag.yaml"] = DisallowLatestTag(action) });
        var commit = h.CommitApp("example/web:latest", "example/web:latest");

        var (outcome, status) = await h.RunAsync("web", commit);

        var cluster = status.Clusters.Single();
        Assert.Contains("policy disallow-latest-tag/autogen-validate-image-tag", cluster.Message, StringComparison.Ordinal);
        Assert.Contains("Deployment/web/web", cluster.Message, StringComparison.Ordinal);
        Assert.Contains("web/good/app.yaml", cluster.Message, StringComparison.Ordinal);
        if (action == "Enforce")
        {
            Assert.NotEqual(RolloutPhase.Succeeded, outcome.Phase);
            Assert.Equal(ClusterRolloutState.Failed, cluster.State);
            Assert.Null(h.ImageOn("c1"));
            Assert.Equal(0, h.Cluster("c1").WriteCount);
        }
        else
        {
            Assert.Equal(RolloutPhase.Succeeded, outcome.Phase);
            Assert.Contains("1 policy warning(s)", cluster.Message, StringComparison.Ordinal);
            Assert.Equal("example/web:latest", h.ImageOn("c1"));
        }
    }

    [Fact]
    public async Task PolicySet_PodSecurityBaselineEnforced_PrivilegedDeploymentBlockedWithTheFieldNamed()
    {
        const string Policy = """
            apiVersion: kyverno.io/v1
            kind: ClusterPolicy
            metadata:
              name: pod-security
            spec:
              validationFailureAction: Enforce
              rules:
                - name: baseline
                  match:
                    any:
                      - resources:
                          kinds: [Pod]
                  validate:
                    podSecurity:
                      level: baseline
                      version: latest
            """;
        await using var h = await RolloutHarness.StartAsync(azurite.ConnectionString, [s_good],
            Fleet("web", "rollout: {strategy: AllAtOnce}", "policySet: policies"),
            platformFiles: new Dictionary<string, string> { ["policies/pod-security.yaml"] = Policy });
        h.Repo.Write("web/good/app.yaml", TestManifests.WebApp("example/web:1.2") + "\n          securityContext: {privileged: true}\n");
        var privileged = h.Repo.Commit("web 1.2, privileged");

        var (outcome, status) = await h.RunAsync("web", privileged);

        var cluster = status.Clusters.Single();
        Assert.NotEqual(RolloutPhase.Succeeded, outcome.Phase);
        Assert.Equal(ClusterRolloutState.Failed, cluster.State);
        Assert.Contains("policy pod-security/autogen-baseline", cluster.Message, StringComparison.Ordinal);
        Assert.Contains("It violates PodSecurity \"baseline:latest\": (Forbidden reason: privileged, field error list: [spec.template.spec.containers[0].securityContext.privileged is forbidden, forbidden values found: true])", cluster.Message, StringComparison.Ordinal);
        Assert.Null(h.ImageOn("c1"));
        Assert.Equal(0, h.Cluster("c1").WriteCount);

        // The same app without the privileged container passes the policy and is applied.
        var compliant = h.CommitApp("example/web:1.3", "example/web:1.3");
        Assert.Equal(RolloutPhase.Succeeded, (await h.RunAsync("web", compliant)).Outcome.Phase);
        Assert.Equal("example/web:1.3", h.ImageOn("c1"));
    }

    [Fact]
    public async Task PolicySet_PolicyExceptionInTheFolder_ExemptDeploymentApplied()
    {
        const string Exception = """
            apiVersion: kyverno.io/v2
            kind: PolicyException
            metadata:
              name: web-tracks-latest
              namespace: platform
            spec:
              exceptions:
                - policyName: disallow-latest-tag
                  ruleNames: [validate-image-tag, autogen-validate-image-tag]
              match:
                any:
                  - resources:
                      kinds: [Deployment]
                      namespaces: [web]
                      names: [web]
            """;
        await using var h = await RolloutHarness.StartAsync(azurite.ConnectionString, [s_good],
            Fleet("web", "rollout: {strategy: AllAtOnce}", "policySet: policies"),
            platformFiles: new Dictionary<string, string> { ["policies/disallow-latest-tag.yaml"] = DisallowLatestTag("Enforce"), ["policies/exceptions/web.yaml"] = Exception });
        var commit = h.CommitApp("example/web:latest", "example/web:latest");

        var (outcome, status) = await h.RunAsync("web", commit);

        Assert.Equal(RolloutPhase.Succeeded, outcome.Phase);
        Assert.Equal(ClusterRolloutState.Healthy, status.Clusters.Single().State);
        Assert.Equal("example/web:latest", h.ImageOn("c1"));
    }

    [Fact]
    public async Task AllAtOnce_SourceOverSshWithADeployKey_EveryClusterRunsTheCommit()
    {
        using var ssh = await SshGitServer.StartAsync();
        await using var h = await RolloutHarness.StartAsync(azurite.ConnectionString, [s_good, s_good], Fleet("web", "rollout: {strategy: AllAtOnce}"), ssh: ssh);
        var commit = h.CommitApp("example/web:2.0", "example/web:2.0");

        var (outcome, status) = await h.RunAsync("web", commit);

        Assert.True(outcome.Phase == RolloutPhase.Succeeded, outcome.Reason);
        Assert.All(status.Clusters, c => Assert.Equal(ClusterRolloutState.Healthy, c.State));
        Assert.Equal("example/web:2.0", h.ImageOn("c1"));
        Assert.Equal("example/web:2.0", h.ImageOn("c2"));
    }

    /// <summary>
    /// Fleet <c>web</c> on clusters of <paramref name="labels"/>, Progressive in <paramref name="waves"/> pausing on failure, with
    /// example/web:1.0 rolled out as its last good commit; returns the harness and a commit whose image breaks on the broken variant.
    /// </summary>
    private async Task<(RolloutHarness Harness, string Bad)> PausingFleetWithABrokenCommitAsync(Dictionary<string, string>[] labels, string waves)
    {
        var h = await RolloutHarness.StartAsync(azurite.ConnectionString, labels,
            Fleet("web", $"rollout: {{strategy: Progressive, progressive: {{waves: {waves}, onFailure: Pause}}}}"));
        try
        {
            var good = h.CommitApp("example/web:1.0", "example/web:1.0");
            Assert.Equal(RolloutPhase.Succeeded, (await h.RunAsync("web", good)).Outcome.Phase);
            return (h, h.CommitApp("example/web:2.0", "example/web:2.0-broken"));
        }
        catch
        {
            await h.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Fleet <c>web</c> on a canary c1 and c2: Canary with one 200 ms analysis of a metric Prometheus does not have (judged
    /// by <paramref name="noData"/>), an approval gate, and <paramref name="onFailure"/>.
    /// </summary>
    private Task<RolloutHarness> CanaryWithApprovalGateAsync(string noData, string onFailure = "Rollback") =>
        RolloutHarness.StartAsync(azurite.ConnectionString, [new() { ["variant"] = "good", ["canary"] = "true" }, s_good], withPrometheus: true, fleets: Fleet("web", $$$"""
            rollout:
                strategy: Canary
                canary:
                  selector: {matchLabels: {canary: "true"}}
                  analysis: {interval: 200ms, iterations: 1, noData: {{{noData}}}, metrics: [{name: none, query: "absent_metric_for_tests", max: 1}]}
                  approval: {timeout: 10m}
                  onFailure: {{{onFailure}}}
            """));

    /// <summary>Rolls <paramref name="commit"/> out as the last good one (the analysis metric is absent from Prometheus and noData passes).</summary>
    private static async Task WithoutPrometheusAnalysisPasses(RolloutHarness h, string commit)
    {
        var id = await h.StartAsync("web", commit);
        await h.WaitForStatusAsync(id, s => s.Phase == RolloutPhase.AwaitingApproval);
        await h.Client.RaiseEventAsync(id, RolloutNames.ApproveEvent, new DecisionEvent("setup"));
        Assert.Equal(RolloutPhase.Succeeded, (await h.WaitAsync(id)).Outcome.Phase);
    }

    /// <summary>A Kyverno policy refusing <c>:latest</c> images, with <paramref name="action"/> (Enforce or Audit).</summary>
    private static string DisallowLatestTag(string action) => $$"""
        apiVersion: kyverno.io/v1
        kind: ClusterPolicy
        metadata:
          name: disallow-latest-tag
        spec:
          validationFailureAction: {{action}}
          rules:
            - name: validate-image-tag
              match:
                any:
                  - resources:
                      kinds: [Pod]
              validate:
                message: "An image tag of 'latest' is not allowed."
                pattern:
                  spec:
                    containers:
                      - image: "!*:latest"
        """;

    private static string Fleet(string name, string rollout, string extra = "") => $"""
        apiVersion: fleetfunctions.io/v1alpha1
        kind: ClusterFleet
        metadata: {"{"}name: {name}{"}"}
        spec:
          source: {"{"}gitSource: apps, path: "web/${"{"}cluster.labels.variant{"}"}"{"}"}
          healthTimeout: 5s
          {rollout}
          {extra}

        """;
}
