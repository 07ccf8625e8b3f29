using System.Diagnostics.Metrics;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using FleetFunctions.Core.Apply;
using FleetFunctions.Core.Clusters;
using FleetFunctions.Orchestrations.Drift;
using FleetFunctions.Orchestrations.Engine;
using FleetFunctions.Orchestrations.Engine.Client;
using FleetFunctions.Orchestrations.Rollouts;
using FleetFunctions.Simulator;
using FleetFunctions.TestSupport;
using Xunit;

namespace FleetFunctions.Orchestrations.Tests.Drift;

public sealed class DriftSweepTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task SweepAsync_SuspendedFleetWithSelfHeal_DriftRecordedButNotHealed()
    {
        await using var h = await DriftHarness.StartAsync(azurite.ConnectionString, 1, DriftHarness.Suspended);
        await h.ApplyAsync("c1", "paused");
        await h.PatchAsync("c1", DriftHarness.DeploymentPath, """{"spec":{"replicas":7}}""");

        var result = await h.NewSweeper().SweepAsync();

        Assert.Equal(DriftOutcome.Reported, Assert.Single(result.Checks).Outcome);
        Assert.Equal(7, h.Replicas("c1"));
        var recorded = Assert.Single(await h.Events.ListEventsAsync("c1", "paused"));
        Assert.False(recorded.SelfHeal);
        Assert.False(recorded.Healed);
    }

    [Fact]
    public async Task SweepAsync_ManualEdit_RecordedThenHealedWithSelfHealAndOnlyReportedWithout()
    {
        await using var h = await DriftHarness.StartAsync(azurite.ConnectionString, 2, DriftHarness.HealingAndReporting);
        await h.ApplyAsync("c1", "healing");
        await h.ApplyAsync("c2", "reporting");
        await h.PatchAsync("c1", DriftHarness.DeploymentPath, """{"spec":{"replicas":7}}""");
        await h.PatchAsync("c2", DriftHarness.DeploymentPath, """{"spec":{"replicas":7}}""");

        var result = await h.NewSweeper().SweepAsync();

        Assert.False(result.Skipped);
        Assert.Equal(DriftOutcome.Healed, result.Checks.Single(c => c.Fleet == "healing").Outcome);
        Assert.Equal(DriftOutcome.Reported, result.Checks.Single(c => c.Fleet == "reporting").Outcome);
        Assert.Equal(2, h.Replicas("c1"));
        Assert.Equal(7, h.Replicas("c2"));

        var healed = Assert.Single(await h.Events.ListEventsAsync("c1", "healing"));
        var drifted = Assert.Single(healed.Objects);
        Assert.Equal(("Deployment/shop/web", "Modified"), (drifted.Object, drifted.Kind));
        Assert.Equal([".spec.replicas"], drifted.Fields);
        Assert.Equal("sweep", healed.Trigger);
        Assert.True(healed.SelfHeal);
        Assert.True(healed.Healed);
        Assert.True(healed.HealedAt >= healed.DetectedAt);
        Assert.False(string.IsNullOrEmpty(healed.Commit));

        var reported = Assert.Single(await h.Events.ListEventsAsync("c2", "reporting"));
        Assert.False(reported.SelfHeal);
        Assert.False(reported.Healed);
        Assert.Null(reported.HealedAt);
        Assert.Equal([".spec.replicas"], Assert.Single(reported.Objects).Fields);

        // A second sweep: c1 is in sync; c2 is still drifted, reported, and the same drift is not recorded twice.
        var again = await h.NewSweeper().SweepAsync();
        Assert.Equal(DriftOutcome.InSync, again.Checks.Single(c => c.Fleet == "healing").Outcome);
        Assert.Equal(DriftOutcome.Reported, again.Checks.Single(c => c.Fleet == "reporting").Outcome);
        var status = await h.Events.GetAsync("c1", "healing");
        Assert.True(status!.InSync);
        Assert.True(status.LastDrift!.Healed);
        Assert.Single(await h.Events.ListEventsAsync("c2", "reporting"));
        Assert.False((await h.Events.GetAsync("c2", "reporting"))!.InSync);
    }

    [Fact]
    public async Task SweepAsync_WithoutSelfHealAnotherFieldDriftsToo_RecordedAsANewDrift()
    {
        await using var h = await DriftHarness.StartAsync(azurite.ConnectionString, 2, DriftHarness.HealingAndReporting);
        await h.ApplyAsync("c2", "reporting");
        await h.PatchAsync("c2", DriftHarness.DeploymentPath, """{"spec":{"replicas":7}}""");
        await h.NewSweeper().SweepAsync();

        await h.PatchAsync("c2", DriftHarness.DeploymentPath, """{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"example/web:2.0"}]}}}}""");
        await h.NewSweeper().SweepAsync();

        var events = await h.Events.ListEventsAsync("c2", "reporting");
        Assert.Equal(2, events.Count);
        Assert.Equal([".spec.replicas", ".spec.template.spec.containers[name=\"web\"].image"], Assert.Single(events[0].Objects).Fields);
        Assert.Equal([".spec.replicas"], Assert.Single(events[1].Objects).Fields);
    }

    [Fact]
    public async Task SweepAsync_WithoutSelfHealTheSameEditAfterAnInSyncCheck_RecordedAsANewDrift()
    {
        await using var h = await DriftHarness.StartAsync(azurite.ConnectionString, 2, DriftHarness.HealingAndReporting);
        await h.ApplyAsync("c2", "reporting");
        await h.PatchAsync("c2", DriftHarness.DeploymentPath, """{"spec":{"replicas":7}}""");
        await h.NewSweeper().SweepAsync();
        await h.PatchAsync("c2", DriftHarness.DeploymentPath, """{"spec":{"replicas":2}}""");
        var fixedByHand = await h.NewSweeper().SweepAsync();

        await h.PatchAsync("c2", DriftHarness.DeploymentPath, """{"spec":{"replicas":7}}""");
        await h.NewSweeper().SweepAsync();

        Assert.Equal(DriftOutcome.InSync, fixedByHand.Checks.Single(c => c.Fleet == "reporting").Outcome);
        var events = await h.Events.ListEventsAsync("c2", "reporting");
        Assert.Equal(2, events.Count);
        Assert.True(events[0].DetectedAt > events[1].DetectedAt);
        var status = await h.Events.GetAsync("c2", "reporting");
        Assert.False(status!.InSync);
        Assert.Equal(events[0].Id, status.LastDrift!.Id);
    }

    [Fact]
    public async Task SweepAsync_DeletedObject_IsRecordedAsMissingAndRecreated()
    {
        await using var h = await DriftHarness.StartAsync(azurite.ConnectionString, 1, DriftHarness.HealingAndReporting);
        await h.ApplyAsync("c1", "healing");
        await h.DeleteAsync("c1", "/api/v1/namespaces/shop/configmaps/web-config");

        var result = await h.NewSweeper().SweepAsync();

        Assert.Equal(DriftOutcome.Healed, Assert.Single(result.Checks).Outcome);
        Assert.NotNull(h.Cluster("c1").GetObject("v1", "ConfigMap", "shop", "web-config"));
        var drifted = Assert.Single(Assert.Single(await h.Events.ListEventsAsync("c1", "healing")).Objects);
        Assert.Equal(("ConfigMap/shop/web-config", "Missing"), (drifted.Object, drifted.Kind));
    }

    [Fact]
    public async Task SweepAsync_HealFails_DriftStaysRecordedAsNotHealedWithTheError()
    {
        // The CRD belongs to a fleet without selfHeal; deleting it on the cluster removes the widget of the other fleet,
        // whose heal then fails (the kind is not served): the drift must still be on record, not healed, with the reason.
        await using var h = await DriftHarness.StartAsync(azurite.ConnectionString, 1, """
            apiVersion: fleetfunctions.io/v1alpha1
            kind: ClusterFleet
            metadata: {name: crds}
            spec: {source: {gitSource: apps, path: crd}, selfHeal: false}
            ---
            apiVersion: fleetfunctions.io/v1alpha1
            kind: ClusterFleet
            metadata: {name: widgets}
            spec: {source: {gitSource: apps, path: widget}, selfHeal: true}
            """);
        await h.ApplyAsync("c1", "crds");
        await h.ApplyAsync("c1", "widgets");
        await h.DeleteAsync("c1", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.fleetfunctions.io");

        var result = await h.NewSweeper().SweepAsync();

        Assert.Equal(DriftOutcome.Reported, result.Checks.Single(c => c.Fleet == "crds").Outcome);
        Assert.Equal(DriftOutcome.HealFailed, result.Checks.Single(c => c.Fleet == "widgets").Outcome);
        var recorded = Assert.Single(await h.Events.ListEventsAsync("c1", "widgets"));
        Assert.Equal("Widget/default/gizmo", Assert.Single(recorded.Objects).Object);
        Assert.False(recorded.Healed);
        Assert.Contains("c1/Widget/default/gizmo", recorded.HealError, StringComparison.Ordinal);
        Assert.False((await h.Events.GetAsync("c1", "widgets"))!.LastDrift!.Healed);
    }

    [Fact]
    public async Task SweepAsync_AdmissionWebhookPutsTheDriftedFieldBack_NotHealedAndTheFieldNamed()
    {
        await using var h = await DriftHarness.StartAsync(azurite.ConnectionString, 1, DriftHarness.HealingAndReporting);
        await h.ApplyAsync("c1", "healing");
        h.Cluster("c1").SetMutatingAdmission(o =>
        {
            if (o["kind"]?.ToString() == "Deployment" && o["metadata"]?["name"]?.ToString() == "web")
            {
                o["spec"]!["replicas"] = 7;
            }
        });
        await h.PatchAsync("c1", DriftHarness.DeploymentPath, """{"metadata":{"annotations":{"touched":"yes"}}}""");

        var first = await h.NewSweeper().SweepAsync();
        var second = await h.NewSweeper().SweepAsync();

        foreach (var result in (DriftCheckResult[])[Assert.Single(first.Checks), Assert.Single(second.Checks)])
        {
            Assert.Equal(DriftOutcome.HealFailed, result.Outcome);
            Assert.Equal(0, result.Healed);
        }

        Assert.Equal(7, h.Replicas("c1"));
        var events = await h.Events.ListEventsAsync("c1", "healing");
        Assert.Equal(2, events.Count);
        Assert.All(events, e => Assert.False(e.Healed));
        Assert.All(events, e => Assert.Null(e.HealedAt));
        Assert.All(events, e => Assert.Contains(
            "c1/Deployment/shop/web: re-applied but the server kept .spec.replicas; another controller or an admission webhook", e.HealError, StringComparison.Ordinal));
    }

    [Fact]
    public async Task CheckAsync_AnotherControllerSetsTheFieldAgainAfterEveryHeal_HealingStopsAndNamesIt()
    {
        await using var h = await DriftHarness.StartAsync(azurite.ConnectionString, 1, DriftHarness.HealingAndReporting);
        await h.ApplyAsync("c1", "healing");
        var outcomes = new List<DriftOutcome>();

        for (var round = 0; round < 5; round++)
        {
            // what an autoscaler does after every heal
            await h.PatchAsync("c1", DriftHarness.DeploymentPath, """{"spec":{"replicas":7}}""", manager: "hpa-controller");
            outcomes.Add((await h.Checker.CheckAsync(h.Config, h.Config.Fleets["healing"], h.Config.Clusters.Single(), "watch")).Outcome);
        }

        Assert.Equal([DriftOutcome.Healed, DriftOutcome.Healed, DriftOutcome.Healed, DriftOutcome.Fought, DriftOutcome.Fought], outcomes);
        Assert.Equal(7, h.Replicas("c1"));
        var events = await h.Events.ListEventsAsync("c1", "healing");
        Assert.Equal(4, events.Count); // the fight is recorded once, not once per check
        Assert.All(events.Skip(1), e => Assert.True(e.Healed));
        var fought = events[0];
        Assert.False(fought.Healed);
        var drifted = Assert.Single(fought.Objects);
        Assert.True(drifted.Fought);
        Assert.Equal(["hpa-controller"], drifted.ChangedBy);
        Assert.Contains(
            "c1/Deployment/shop/web: not healed: .spec.replicas healed 3 times within 30 min and set again each time, fought by hpa-controller;",
            fought.HealError,
            StringComparison.Ordinal);
        Assert.Equal(fought.Id, (await h.Events.GetAsync("c1", "healing"))!.LastDrift!.Id);
    }

    [Fact]
    public async Task SweepAsync_DriftCannotBeRecorded_NothingIsHealed()
    {
        await using var h = await DriftHarness.StartAsync(azurite.ConnectionString, 1, DriftHarness.HealingAndReporting);
        await h.ApplyAsync("c1", "healing");
        await h.PatchAsync("c1", DriftHarness.DeploymentPath, """{"spec":{"replicas":7}}""");
        // A table name Azure Storage refuses: every write of the drift record fails.
        var unrecordable = new DriftChecker(h.Reconciler, new DriftEventStore(azurite.ConnectionString, "no_such-table!"), h.FleetStates, h.Secrets);

        var result = await h.NewSweeper(unrecordable).SweepAsync();

        var check = Assert.Single(result.Checks);
        Assert.Equal(DriftOutcome.Error, check.Outcome);
        Assert.Contains("drift check of fleet healing failed", Assert.Single(check.Errors), StringComparison.Ordinal);
        Assert.Equal(7, h.Replicas("c1"));
    }

    [Fact]
    public async Task SweepAsync_UnreachableCluster_RecordedAsErrorAndOthersSwept()
    {
        await using var h = await DriftHarness.StartAsync(azurite.ConnectionString, 3, """
            apiVersion: fleetfunctions.io/v1alpha1
            kind: ClusterFleet
            metadata: {name: shop}
            spec: {source: {gitSource: apps, path: app}, selfHeal: true}
            """);
        foreach (var cluster in new[] { "c1", "c2", "c3" })
        {
            await h.ApplyAsync(cluster, "shop");
            await h.PatchAsync(cluster, DriftHarness.DeploymentPath, """{"spec":{"replicas":5}}""");
        }

        await h.Cluster("c2").SetFaultAsync(ClusterFault.Down);

        var result = await h.NewSweeper().SweepAsync();

        var down = result.Checks.Single(c => c.Cluster == "c2");
        Assert.Equal(DriftOutcome.Error, down.Outcome);
        Assert.Contains("c2", down.Errors[0], StringComparison.Ordinal);
        Assert.Contains("unreachable", down.Errors[0], StringComparison.Ordinal);
        Assert.All(result.Checks.Where(c => c.Cluster != "c2"), c => Assert.Equal(DriftOutcome.Healed, c.Outcome));
        Assert.Equal(2, h.Replicas("c1"));
        Assert.Equal(2, h.Replicas("c3"));
        var status = await h.Events.GetAsync("c2", "shop");
        Assert.Contains("unreachable", status!.Error, StringComparison.Ordinal);
        Assert.Null(status.LastDrift);
        var direct = await h.Checker.CheckAsync(h.Config, h.Config.Fleets["shop"], h.Config.Clusters.Single(c => c.Name == "c2"), "watch");
        Assert.Equal(DriftOutcome.Error, direct.Outcome);
        Assert.Contains("unreachable", direct.Errors[0], StringComparison.Ordinal);

        // Back up: the next sweep heals it and clears the error.
        await h.Cluster("c2").SetFaultAsync(ClusterFault.None);
        var next = await h.NewSweeper().SweepAsync();
        Assert.Equal(DriftOutcome.Healed, next.Checks.Single(c => c.Cluster == "c2").Outcome);
        Assert.Null((await h.Events.GetAsync("c2", "shop"))!.Error);
    }

    [Fact]
    public async Task SweepAsync_TwoConcurrentSweeps_OneRunsTheOtherSkips()
    {
        await using var h = await DriftHarness.StartAsync(azurite.ConnectionString, 1, DriftHarness.HealingAndReporting);
        await h.ApplyAsync("c1", "healing");
        await h.Cluster("c1").SetFaultAsync(ClusterFault.Slow(TimeSpan.FromMilliseconds(100)));
        var lease = new BlobContainerClient(azurite.ConnectionString, h.LeaseContainer).GetBlobClient("drift-sweep");

        var first = h.NewSweeper().SweepAsync();
        Assert.True(await DriftHarness.EventuallyAsync(async () => await lease.ExistsAsync()
            && (await lease.GetPropertiesAsync()).Value.LeaseState == LeaseState.Leased));
        var second = await h.NewSweeper().SweepAsync();
        var firstResult = await first;

        Assert.True(second.Skipped);
        Assert.False(firstResult.Skipped);
        Assert.Equal(DriftOutcome.InSync, Assert.Single(firstResult.Checks).Outcome);
        Assert.Equal(LeaseState.Available, (await lease.GetPropertiesAsync()).Value.LeaseState);
        Assert.False((await h.NewSweeper().SweepAsync()).Skipped);
    }

    [Fact]
    public async Task SweepAsync_RolloutRunning_FleetSkippedAndNotHealed()
    {
        await using var h = await DriftHarness.StartAsync(azurite.ConnectionString, 1, DriftHarness.HealingAndReporting);
        await h.ApplyAsync("c1", "healing");
        await h.PatchAsync("c1", DriftHarness.DeploymentPath, """{"spec":{"replicas":7}}""");
        await h.FleetStates.ClaimAsync("healing", "healing-0123456789abcdef0123456789abcdef01234567", "0123456789abcdef0123456789abcdef01234567");

        var result = await h.NewSweeper().SweepAsync();

        Assert.Equal(DriftOutcome.RolloutRunning, Assert.Single(result.Checks).Outcome);
        Assert.Equal(7, h.Replicas("c1"));
        Assert.Empty(await h.Events.ListEventsAsync("c1", "healing"));
    }

    [Fact]
    public async Task CheckAsync_RolloutClaimedTheFleetAfterTheSweepLooked_DriftNotHealed()
    {
        await using var h = await DriftHarness.StartAsync(azurite.ConnectionString, 1, DriftHarness.HealingAndReporting);
        await h.ApplyAsync("c1", "healing");
        await h.PatchAsync("c1", DriftHarness.DeploymentPath, """{"spec":{"replicas":7}}""");
        await h.FleetStates.ClaimAsync("healing", "healing-0123456789abcdef0123456789abcdef01234567", "0123456789abcdef0123456789abcdef01234567");

        // The sweep read the fleet as idle before the claim: it checks the pair as such.
        var result = await h.Checker.CheckAsync(h.Config, h.Config.Fleets["healing"], h.Config.Clusters.Single(), "sweep");

        Assert.Equal(DriftOutcome.RolloutRunning, result.Outcome);
        Assert.Equal(7, h.Replicas("c1"));
    }

    [Fact]
    public async Task CheckAsync_RolloutClaimedAFleetWithoutSelfHealAfterTheSweepLooked_NothingRecorded()
    {
        await using var h = await DriftHarness.StartAsync(azurite.ConnectionString, 2, DriftHarness.HealingAndReporting);
        await h.ApplyAsync("c2", "reporting");
        await h.PatchAsync("c2", DriftHarness.DeploymentPath, """{"spec":{"replicas":7}}""");
        await h.FleetStates.ClaimAsync("reporting", "reporting-0123456789abcdef0123456789abcdef01234567", "0123456789abcdef0123456789abcdef01234567");

        // The sweep read the fleet as idle before the claim: it checks the pair as such.
        var result = await h.Checker.CheckAsync(h.Config, h.Config.Fleets["reporting"], h.Config.Clusters.Single(c => c.Name == "c2"), "sweep");

        Assert.Equal(DriftOutcome.RolloutRunning, result.Outcome);
        Assert.Empty(await h.Events.ListEventsAsync("c2", "reporting"));
        Assert.Null(await h.Events.GetAsync("c2", "reporting"));
    }

    [Fact]
    public async Task HealDriftAsync_ClusterReconciledToANewerCommitSinceTheCheck_NothingOfTheOldCommitApplied()
    {
        await using var h = await DriftHarness.StartAsync(azurite.ConnectionString, 1, DriftHarness.HealingAndReporting);
        await h.ApplyAsync("c1", "healing");
        await h.DeleteAsync("c1", "/api/v1/namespaces/shop/services/web");
        var report = await h.Reconciler.DetectDriftAsync("c1", "healing");
        var newer = h.Repo.Replace("app/app.yaml", "- port: 80", "- port: 8080").Commit("serve on 8080");
        await h.ApplyAsync("c1", "healing");

        var changes = await h.Reconciler.HealDriftAsync(report);

        Assert.True(report.HasDrift);
        var skipped = Assert.Single(changes.Changes);
        Assert.Equal(ChangeAction.Skipped, skipped.Action);
        Assert.Contains($"not healed: the cluster was reconciled to commit {newer[..12]} after the drift check of {report.Commit[..12]}", skipped.Message, StringComparison.Ordinal);
        Assert.Equal(8080, h.Cluster("c1").GetObject("v1", "Service", "shop", "web")!["spec"]!["ports"]![0]!["port"]!.GetValue<long>());
    }

    [Fact]
    public async Task SweepAsync_ClaimHeldByARolloutThatIsNotRunning_ReleasedAndTheFleetHealed()
    {
        await using var h = await DriftHarness.StartAsync(azurite.ConnectionString, 1, DriftHarness.HealingAndReporting);
        await h.ApplyAsync("c1", "healing");
        await h.PatchAsync("c1", DriftHarness.DeploymentPath, """{"spec":{"replicas":7}}""");
        var hub = new DurableTaskHub(new DurableTaskHubOptions(azurite.ConnectionString, AzuriteFixture.NewName("drift")));
        await hub.CreateIfNotExistsAsync();
        try
        {
            var client = new DurableClient(hub);
            var checker = new DriftChecker(h.Reconciler, h.Events, h.FleetStates, h.Secrets, rollouts: client);

            // A rollout that exists and has not ended (pending: no worker runs it here) keeps drift away.
            var pending = await client.ScheduleNewOrchestrationInstanceAsync(RolloutNames.Orchestrator, new RolloutRequest("healing", "0123456789abcdef0123456789abcdef01234567"));
            await h.FleetStates.ClaimAsync("healing", pending, "0123456789abcdef0123456789abcdef01234567");
            Assert.Equal(DriftOutcome.RolloutRunning, Assert.Single((await h.NewSweeper(checker).SweepAsync()).Checks).Outcome);
            Assert.Equal(7, h.Replicas("c1"));

            // One that is gone (terminated and purged, or never recorded its end) no longer holds the fleet.
            await h.FleetStates.ClaimAsync("healing", "healing-gone", "89abcdef0123456789abcdef0123456789abcdef");
            var result = await h.NewSweeper(checker).SweepAsync();

            Assert.Equal(DriftOutcome.Healed, Assert.Single(result.Checks).Outcome);
            Assert.Equal(2, h.Replicas("c1"));
            Assert.Null((await h.FleetStates.GetAsync("healing")).ActiveInstance);
        }
        finally
        {
            await hub.DeleteAsync();
        }
    }

    [Fact]
    public async Task CheckAsync_RenderCacheEmptyOnThisWorker_RendersTheAppliedCommitFromGitAndHeals()
    {
        await using var h = await DriftHarness.StartAsync(azurite.ConnectionString, 1, DriftHarness.HealingAndReporting);
        await h.ApplyAsync("c1", "healing");
        await h.PatchAsync("c1", DriftHarness.DeploymentPath, """{"spec":{"replicas":7}}""");
        var otherWorker = new DriftChecker(h.NewReconciler("other-worker-cache"), h.Events, h.FleetStates, h.Secrets);

        var result = await otherWorker.CheckAsync(h.Config, h.Config.Fleets["healing"], h.Config.Clusters.Single(), "sweep");

        Assert.Equal(DriftOutcome.Healed, result.Outcome);
        Assert.Equal(2, h.Replicas("c1"));
    }

    [Fact]
    public async Task SweepAsync_DriftHealed_RecordsDriftHealedAndDurationMetrics()
    {
        await using var h = await DriftHarness.StartAsync(azurite.ConnectionString, 1, """
            apiVersion: fleetfunctions.io/v1alpha1
            kind: ClusterFleet
            metadata: {name: metered}
            spec: {source: {gitSource: apps, path: app}, selfHeal: true}
            """);
        await h.ApplyAsync("c1", "metered");
        await h.PatchAsync("c1", DriftHarness.DeploymentPath, """{"spec":{"replicas":7}}""");
        await h.DeleteAsync("c1", "/api/v1/namespaces/shop/configmaps/web-config");
        var measurements = new System.Collections.Concurrent.ConcurrentQueue<(string Name, double Value, string? Fleet)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == DriftMetrics.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((i, value, tags, _) => measurements.Enqueue((i.Name, value, Fleet(tags))));
        listener.SetMeasurementEventCallback<double>((i, value, tags, _) => measurements.Enqueue((i.Name, value, Fleet(tags))));
        listener.Start();

        await h.NewSweeper().SweepAsync();

        var mine = measurements.Where(m => m.Fleet == "metered").ToList();
        Assert.Equal(2, mine.Single(m => m.Name == "fleet_drift_objects").Value);
        Assert.Equal(2, mine.Single(m => m.Name == "fleet_drift_healed_objects_total").Value);
        Assert.Contains(mine, m => m.Name == "fleet_drift_checks_total");
        Assert.Contains(measurements, m => m.Name == "fleet_drift_sweep_duration_seconds" && m.Value > 0);
    }

    [Fact]
    public async Task SweepAsync_NeverApplied_NothingRecorded()
    {
        await using var h = await DriftHarness.StartAsync(azurite.ConnectionString, 1, DriftHarness.HealingAndReporting);

        var result = await h.NewSweeper().SweepAsync();

        Assert.Equal(DriftOutcome.NotApplied, Assert.Single(result.Checks).Outcome);
        Assert.Null(await h.Events.GetAsync("c1", "healing"));
    }

    private static string? Fleet(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == "fleet")
            {
                return tag.Value as string;
            }
        }

        return null;
    }
}
