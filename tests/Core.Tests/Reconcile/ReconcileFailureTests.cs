using System.Text.Json.Nodes;
using Azure.Core;
using FleetFunctions.Core.Inventory;
using FleetFunctions.Core.Sources;
using FleetFunctions.Core.Apply;
using FleetFunctions.Core.Reconcile;
using FleetFunctions.Core.Tests.Support;
using FleetFunctions.Simulator;
using FleetFunctions.TestSupport;
using Xunit;

namespace FleetFunctions.Core.Tests.Reconcile;

public sealed class ReconcileFailureTests(SimulatorFixture simulator, AzuriteFixture azurite) : IClassFixture<SimulatorFixture>, IClassFixture<AzuriteFixture>
{
    private const string App = "apps/hello";

    [Fact]
    public async Task ReconcileAsync_MalformedYaml_AppliesNothingAndNamesFileAndLine()
    {
        using var h = await PipelineHarness.CreateAsync(simulator, azurite.ConnectionString);
        h.Repo.Write("apps/hello/broken.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata: [unclosed\n").Commit("broken");

        var result = await h.ReconcileAsync(App);

        Assert.Equal(ReconcilePhase.Render, result.Phase);
        Assert.StartsWith("apps/hello/broken.yaml:", Assert.Single(result.Errors), StringComparison.Ordinal);
        Assert.Equal(0, h.Cluster.WriteCount);
        Assert.Empty(result.Changes.Changes);
    }

    [Fact]
    public async Task ReconcileAsync_Succeeds_RecordsMetricsForItsCluster()
    {
        using var h = await PipelineHarness.CreateAsync(simulator, azurite.ConnectionString);
        var created = 0L;
        var reconciles = 0L;
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == PipelineMetrics.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            var mine = false;
            var action = string.Empty;
            foreach (var tag in tags)
            {
                mine |= tag.Key == "cluster" && (string?)tag.Value == h.Cluster.Name;
                action = tag.Key == "action" ? (string?)tag.Value ?? string.Empty : action;
            }

            if (mine && instrument.Name == "fleet_apply_objects_total" && action == "created")
            {
                Interlocked.Add(ref created, value);
            }
            else if (mine && instrument.Name == "fleet_reconcile_total")
            {
                Interlocked.Add(ref reconciles, value);
            }
        });
        listener.Start();

        var result = await h.ReconcileAsync(App, fleet: "hello");

        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
        Assert.True(Interlocked.Read(ref created) == 6, string.Join("\n", result.Changes.Changes));
        Assert.Equal(1, Interlocked.Read(ref reconciles));
    }

    [Fact]
    public async Task ReconcileAsync_UnreachableCluster_FailsTransientlyNamingCluster()
    {
        using var h = await PipelineHarness.CreateAsync(simulator, azurite.ConnectionString);
        await h.Cluster.SetFaultAsync(ClusterFault.Down);
        try
        {
            var result = await h.ReconcileAsync(App);

            Assert.Equal(ReconcilePhase.Apply, result.Phase);
            Assert.True(result.IsTransient);
            var error = Assert.Single(result.Errors);
            Assert.StartsWith(h.Cluster.Name, error, StringComparison.Ordinal);
            Assert.Contains("unreachable", error, StringComparison.Ordinal);
        }
        finally
        {
            await h.Cluster.SetFaultAsync(ClusterFault.None);
        }
    }

    [Fact]
    public async Task ReconcileAsync_ContainersWithOneName_FailsPermanentlyAsAnInvalidObject()
    {
        using var h = await PipelineHarness.CreateAsync(simulator, azurite.ConnectionString);
        h.Repo.Write("twins/web.yaml", """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: web
              namespace: default
            spec:
              selector:
                matchLabels: {app: web}
              template:
                metadata:
                  labels: {app: web}
                spec:
                  containers:
                  - {name: app, image: "nginx:1"}
                  - {name: app, image: "nginx:2"}
            """).Commit("two containers named app");

        var result = await h.ReconcileAsync("twins", fleet: "twins");

        Assert.Equal(ReconcilePhase.Apply, result.Phase);
        Assert.False(result.IsTransient);
        Assert.Equal(
            $"{h.Cluster.Name}/Deployment/default/web: invalid object: .spec.template.spec.containers: duplicate entries for key [name=\"app\"]; fix the manifest in Git.",
            Assert.Single(result.Errors));
    }

    [Fact]
    public async Task ReconcileAsync_KubeconfigFileMissing_FailsInApplyNamingTheFileAndIsRecorded()
    {
        using var h = await PipelineHarness.CreateAsync(simulator, azurite.ConnectionString);
        var path = Path.Combine(Path.GetTempPath(), $"ff-missing-{Guid.NewGuid():N}.yaml");
        h.Credentials.Set(FleetFunctions.Core.Clusters.ClusterConnection.FromKubeconfig(h.Cluster.Name, path, "prod"));

        var result = await h.ReconcileAsync(App);

        Assert.Equal(ReconcilePhase.Apply, result.Phase);
        var error = Assert.Single(result.Errors);
        Assert.StartsWith($"{h.Cluster.Name}: cannot build a client from kubeconfig {path} (context prod)", error, StringComparison.Ordinal);
        var recorded = Assert.Single(await h.History.ListAsync(h.Cluster.Name, "podinfo"));
        Assert.Equal(ReconcilePhase.Apply, recorded.Phase);
        Assert.Equal([error], recorded.Errors);
        Assert.Equal(0, h.Cluster.WriteCount);
    }

    [Fact]
    public async Task ReconcileAsync_UnknownCluster_FailsWithCredentialsHint()
    {
        using var h = await PipelineHarness.CreateAsync(simulator, azurite.ConnectionString);

        var result = await h.Reconciler.ReconcileAsync(new ReconcileRequest("nowhere", "hello", new FleetFunctions.Core.Sources.GitSourceSpec(h.Repo.Url), App));

        Assert.Equal(ReconcilePhase.Apply, result.Phase);
        Assert.Contains("nowhere", Assert.Single(result.Errors), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReconcileAsync_FieldOwnedByOtherManager_ReportsConflictThenForceTakesOwnership()
    {
        using var h = await PipelineHarness.CreateAsync(simulator, azurite.ConnectionString);
        await h.ApplyAsOtherManagerAsync("/api/v1/namespaces/hello", JsonNode.Parse("""{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"hello"}}""")!.AsObject(), "setup");
        await h.ApplyAsOtherManagerAsync(
            "/api/v1/namespaces/hello/configmaps/hello-config",
            JsonNode.Parse("""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"hello-config","namespace":"hello"},"data":{"greeting":"hola"}}""")!.AsObject(),
            "other-tool");

        var conflicted = await h.ReconcileAsync(App, PipelineHarness.FastOptions, fleet: "hello");
        var forced = await h.ReconcileAsync(App, PipelineHarness.FastOptions with { Apply = new ApplyOptions { Force = true } }, fleet: "hello");

        Assert.Equal(ReconcilePhase.Apply, conflicted.Phase);
        var failure = Assert.Single(conflicted.Changes.Failures);
        Assert.Equal("ConfigMap/hello/hello-config", failure.Reference.ToString());
        Assert.Contains("other-tool", failure.Message, StringComparison.Ordinal);
        Assert.Contains(".data.greeting", failure.Message, StringComparison.Ordinal);
        Assert.StartsWith($"{h.Cluster.Name}/ConfigMap/hello/hello-config:", conflicted.Errors[0], StringComparison.Ordinal);
        Assert.True(forced.Succeeded, string.Join("\n", forced.Errors));
        Assert.Equal("hello", h.Cluster.GetObject("v1", "ConfigMap", "hello", "hello-config")!["data"]!["greeting"]!.GetValue<string>());
    }

    [Fact]
    public async Task ReconcileAsync_CustomResourceBeforeItsCrdInFiles_AppliesCrdFirst()
    {
        using var h = await PipelineHarness.CreateAsync(simulator, azurite.ConnectionString);
        h.Repo.Write("crd-app/a-gadget.yaml", "apiVersion: example.fleetfunctions.io/v1\nkind: Gadget\nmetadata:\n  name: g1\n  namespace: default\nspec:\n  size: 3\n")
            .Write("crd-app/z-crd.yaml", File.ReadAllText(Path.Combine(RepoPaths.Examples, "apps/podinfo/base/crd-widgets.yaml"))
                .Replace("widgets", "gadgets", StringComparison.Ordinal).Replace("Widget", "Gadget", StringComparison.Ordinal).Replace("widget", "gadget", StringComparison.Ordinal))
            .Commit("gadgets");

        var result = await h.ReconcileAsync("crd-app", fleet: "gadgets");

        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
        Assert.Equal(["CustomResourceDefinition/gadgets.example.fleetfunctions.io", "Gadget/default/g1"], result.Changes.Changes.Select(c => c.Reference.ToString()));
        Assert.NotNull(h.Cluster.GetObject("example.fleetfunctions.io/v1", "Gadget", "default", "g1"));
    }

    [Fact]
    public async Task ReconcileAsync_CustomResourceWithoutCrd_FailsNamingMissingKind()
    {
        using var h = await PipelineHarness.CreateAsync(simulator, azurite.ConnectionString);
        h.Repo.Write("orphan/gizmo.yaml", "apiVersion: example.fleetfunctions.io/v1\nkind: Gizmo\nmetadata:\n  name: g1\n  namespace: default\n").Commit("orphan");

        var result = await h.ReconcileAsync("orphan", fleet: "orphan");

        Assert.Equal(ReconcilePhase.Apply, result.Phase);
        Assert.Contains("does not serve example.fleetfunctions.io/v1 Gizmo", Assert.Single(result.Errors), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReconcileAsync_RenderYieldsNothing_RefusesToPruneEverything()
    {
        using var h = await PipelineHarness.CreateAsync(simulator, azurite.ConnectionString);
        Assert.True((await h.ReconcileAsync(App, fleet: "hello")).Succeeded);
        foreach (var file in new[] { "apps/hello/app.yaml", "apps/hello/namespace.yaml", "apps/hello/rbac/reader.yaml" })
        {
            h.Repo.Write(file, null);
        }

        h.Repo.Write("apps/hello/empty.yaml", "# nothing\n").Commit("empty");

        var refused = await h.ReconcileAsync(App, fleet: "hello");
        var allowed = await h.ReconcileAsync(App, PipelineHarness.FastOptions with { AllowEmpty = true }, fleet: "hello");

        Assert.Equal(ReconcilePhase.Render, refused.Phase);
        Assert.Contains("refusing to prune the 6 objects", Assert.Single(refused.Errors), StringComparison.Ordinal);
        Assert.True(allowed.Succeeded, string.Join("\n", allowed.Errors));
        Assert.Equal(6, allowed.Pruned.Count(ChangeAction.Deleted));
        Assert.Equal(new[] { "Deployment", "Service", "ConfigMap", "ServiceAccount", "ClusterRole", "Namespace" }.Order(), allowed.Pruned.Changes.Select(c => c.Reference.Kind).Order());
        Assert.Equal("Namespace", allowed.Pruned.Changes[^1].Reference.Kind);
    }

    [Fact]
    public async Task ReconcileAsync_PruneDisabledAnnotation_KeepsObject()
    {
        using var h = await PipelineHarness.CreateAsync(simulator, azurite.ConnectionString);
        h.Repo.Replace("apps/hello/app.yaml", "  name: hello-config\n  namespace: hello\n", "  name: hello-config\n  namespace: hello\n  annotations:\n    fleetfunctions.io/prune: disabled\n").Commit("keep");
        Assert.True((await h.ReconcileAsync(App, fleet: "hello")).Succeeded);
        var text = File.ReadAllText(Path.Combine(h.Repo.WorkDir, "apps/hello/app.yaml"));
        h.Repo.Write("apps/hello/app.yaml", text[(text.IndexOf("---", StringComparison.Ordinal) + 4)..]).Commit("drop config");

        var result = await h.ReconcileAsync(App, fleet: "hello");

        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
        Assert.Equal(ChangeAction.Skipped, Assert.Single(result.Pruned.Changes).Action);
        Assert.NotNull(h.Cluster.GetObject("v1", "ConfigMap", "hello", "hello-config"));
    }

    [Fact]
    public async Task ReconcileAsync_BrokenImage_FailsHealthWithProgressingMessage()
    {
        using var h = await PipelineHarness.CreateAsync(simulator, azurite.ConnectionString);

        var result = await ReconcileBrokenImageAsync(h);

        Assert.Equal(ReconcilePhase.Health, result.Phase);
        var error = Assert.Single(result.Errors);
        Assert.StartsWith($"{h.Cluster.Name}/Deployment/hello/hello:", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReconcileAsync_HealthFails_InventoryOfTheAppliedCommitSavedBeforeReturning()
    {
        using var h = await PipelineHarness.CreateAsync(simulator, azurite.ConnectionString);

        var result = await ReconcileBrokenImageAsync(h);

        // The inventory write ran beside the failing health wait and was awaited before the reconcile returned.
        Assert.Equal(ReconcilePhase.Health, result.Phase);
        var inventory = await h.Inventory.GetAsync(h.Cluster.Name, "hello");
        Assert.NotNull(inventory);
        Assert.Equal(result.Commit, inventory.Commit);
        Assert.Equal(result.Changes.Changes.Select(c => c.Reference.Key).Order(StringComparer.Ordinal), inventory.Entries.Select(e => e.Reference.Key).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task ReconcileAsync_NothingToWaitFor_ReturnsOnlyAfterTheInventoryWrite()
    {
        using var h = await PipelineHarness.CreateAsync(simulator, azurite.ConnectionString);
        h.Repo.Write("apps/settings/settings.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: default\ndata:\n  level: info\n").Commit("settings");
        var table = AzuriteFixture.NewName("inv");
        var slowInventory = BeforeSendPolicy.InventoryStore(azurite.ConnectionString, table, message =>
            message.Request.Method == RequestMethod.Put ? Task.Delay(TimeSpan.FromMilliseconds(500), message.CancellationToken) : Task.CompletedTask);
        var reconciler = new Reconciler(h.Source, h.Renderer, h.Clusters, slowInventory, h.History);

        // A ConfigMap is Current in the apply response: the health phase reads nothing, so only the awaited inventory
        // write (started on another thread, its PUT held back here) keeps the reconcile from returning at once.
        var result = await reconciler.ReconcileAsync(new ReconcileRequest(h.Cluster.Name, "settings", new GitSourceSpec(h.Repo.Url), "apps/settings") { Options = PipelineHarness.FastOptions });

        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
        Assert.Equal(ChangeAction.Created, Assert.Single(result.Changes.Changes).Action);
        var inventory = await new InventoryStore(azurite.ConnectionString, new InventoryOptions { TableName = table }).GetAsync(h.Cluster.Name, "settings");
        Assert.NotNull(inventory);
        Assert.Equal(result.Commit, inventory.Commit);
        Assert.Equal("|ConfigMap|default|settings", Assert.Single(inventory.Entries).Reference.Key);
    }

    /// <summary>Commits the hello app with an image whose Deployment never becomes available and reconciles it (health timeout 20 s).</summary>
    private static Task<ReconcileResult> ReconcileBrokenImageAsync(PipelineHarness h)
    {
        h.Repo.Replace("apps/hello/app.yaml", "image: nginx:1.27", "image: nginx:1.27-broken").Commit("broken image");
        return h.ReconcileAsync(App, PipelineHarness.FastOptions with { Health = new FleetFunctions.Core.Health.HealthOptions { Timeout = TimeSpan.FromSeconds(20), PollInterval = TimeSpan.FromMilliseconds(100) } }, fleet: "hello");
    }
}
