using FleetFunctions.Core.Apply;
using FleetFunctions.Core.Clusters;
using FleetFunctions.Core.Reconcile;
using FleetFunctions.Core.Secrets;
using FleetFunctions.Core.Sources;
using FleetFunctions.Core.Tests.Support;
using FleetFunctions.Simulator;
using FleetFunctions.TestSupport;
using Xunit;

namespace FleetFunctions.Core.Tests.Reconcile;

/// <summary>SealedSecrets sealed in Git for FleetFunctions reach each cluster sealed for that cluster's own key.</summary>
public sealed class SealedSecretReconcileTests(SimulatorFixture simulator, AzuriteFixture azurite) : IClassFixture<SimulatorFixture>, IClassFixture<AzuriteFixture>
{
    private const string Path = "sealed";
    private const string LivePath = "/apis/bitnami.com/v1alpha1/namespaces/default/sealedsecrets/db";
    private static readonly string s_fleetFunctions = SealingTestKeys.NewPem("fleetfunctions");
    private static readonly string s_eu = SealingTestKeys.NewPem("eu");
    private static readonly string s_us = SealingTestKeys.NewPem("us");

    [Fact]
    public async Task ReconcileAsync_SealedSecret_EachClusterGetsItSealedForItsKey_ThenNoOp_DriftHealed()
    {
        using var h = await PipelineHarness.CreateAsync(simulator, azurite.ConnectionString);
        var us = await simulator.AddClusterAsync();
        var reconciler = NewReconciler(h, us, new Dictionary<string, string?> { [h.Cluster.Name] = SealingTestKeys.CertificateOf(s_eu), [us.Name] = SealingTestKeys.CertificateOf(s_us) });
        WriteApp(h, "hunter2");

        var eu = await ReconcileAsync(reconciler, h, h.Cluster);
        var usResult = await ReconcileAsync(reconciler, h, us);
        var writes = h.Cluster.WriteCount;
        var again = await ReconcileAsync(reconciler, h, h.Cluster);
        var noDrift = await reconciler.DetectDriftAsync(h.Cluster.Name, "sealed");

        Assert.True(eu.Succeeded, string.Join("\n", eu.Errors));
        Assert.True(usResult.Succeeded, string.Join("\n", usResult.Errors));
        var euValue = LiveValue(h.Cluster);
        var usValue = LiveValue(us);
        Assert.Equal("hunter2", SealingTestKeys.Unseal(s_eu, euValue, "default", "db"));
        Assert.Equal("hunter2", SealingTestKeys.Unseal(s_us, usValue, "default", "db"));
        Assert.NotEqual(euValue, usValue);
        Assert.True(again.IsNoOp, again.Changes.ToString());
        Assert.Equal(writes, h.Cluster.WriteCount);
        Assert.False(noDrift.HasDrift, string.Join("\n", noDrift.Errors.Concat(noDrift.Objects.Select(o => o.ToString()))));

        // Someone replaces the value on the cluster: drift on that field, healed with the value re-sealed for this cluster.
        await h.PatchAsOtherManagerAsync(LivePath, "{\"spec\":{\"encryptedData\":{\"password\":\"" + SealingTestKeys.Seal(s_eu, "stolen", "default", "db") + "\"}}}");
        var drift = await reconciler.DetectDriftAsync(h.Cluster.Name, "sealed");
        var healed = await reconciler.HealDriftAsync(drift);

        Assert.Contains(".spec.encryptedData.password", Assert.Single(drift.Objects).Fields);
        Assert.Equal(ChangeAction.Configured, Assert.Single(healed.Changes).Action);
        Assert.Equal(euValue, LiveValue(h.Cluster));
    }

    [Fact]
    public async Task ReconcileAsync_ValueChangedInGit_OnlyTheSealedSecretIsConfigured()
    {
        using var h = await PipelineHarness.CreateAsync(simulator, azurite.ConnectionString);
        var reconciler = NewReconciler(h, null, new Dictionary<string, string?> { [h.Cluster.Name] = SealingTestKeys.CertificateOf(s_eu) });
        WriteApp(h, "hunter2");
        Assert.True((await ReconcileAsync(reconciler, h, h.Cluster)).Succeeded);

        h.Repo.Write($"{Path}/secret.yaml", SealingTestKeys.SealedSecretYaml(s_fleetFunctions, "default", "db", new Dictionary<string, string> { ["password"] = "correct horse" })).Commit("rotate the password");
        var changed = await ReconcileAsync(reconciler, h, h.Cluster);

        Assert.True(changed.Succeeded, string.Join("\n", changed.Errors));
        Assert.Equal("SealedSecret/default/db", Assert.Single(changed.Changes.Changes, c => c.Action == ChangeAction.Configured).Reference.ToString());
        Assert.Equal("correct horse", SealingTestKeys.Unseal(s_eu, LiveValue(h.Cluster), "default", "db"));
    }

    [Fact]
    public async Task ReconcileAsync_ClusterWithoutSealingCertificate_FailsInRender_AppliesNothing()
    {
        using var h = await PipelineHarness.CreateAsync(simulator, azurite.ConnectionString);
        var reconciler = NewReconciler(h, null, new Dictionary<string, string?> { [h.Cluster.Name] = null });
        WriteApp(h, "hunter2");

        var result = await ReconcileAsync(reconciler, h, h.Cluster);

        Assert.Equal(ReconcilePhase.Render, result.Phase);
        Assert.StartsWith($"Cluster/{h.Cluster.Name}: has no spec.sealingCertificate, so sealed/secret.yaml:1: SealedSecret/default/db cannot be re-sealed", Assert.Single(result.Errors), StringComparison.Ordinal);
        Assert.Empty(result.Changes.Changes);
        Assert.Null(h.Cluster.GetObject("apiextensions.k8s.io/v1", "CustomResourceDefinition", null, "sealedsecrets.bitnami.com"));
    }

    private static void WriteApp(PipelineHarness h, string password) =>
        h.Repo.Write($"{Path}/crd.yaml", File.ReadAllText(System.IO.Path.Combine(AppContext.BaseDirectory, "testdata", "sealed-secrets", "crd.yaml")))
            .Write($"{Path}/secret.yaml", SealingTestKeys.SealedSecretYaml(s_fleetFunctions, "default", "db", new Dictionary<string, string> { ["password"] = password }))
            .Commit("a sealed secret");

    private Reconciler NewReconciler(PipelineHarness h, SimulatedCluster? other, Dictionary<string, string?> certificates)
    {
        var keys = System.IO.Path.Combine(h.Repo.CacheDir, "secrets");
        Directory.CreateDirectory(keys);
        File.WriteAllText(System.IO.Path.Combine(keys, "sealing-key"), s_fleetFunctions);
        var connections = new List<ClusterConnection> { ClusterConnection.FromToken(h.Cluster.Name, h.Cluster.Server, h.Cluster.Token) };
        if (other is not null)
        {
            connections.Add(ClusterConnection.FromToken(other.Name, other.Server, other.Token));
        }

        return new Reconciler(h.Source, h.Renderer, new ClusterClientFactory(new StaticCredentialsProvider(connections)), h.Inventory, h.History,
            resealer: new SealedSecretResealer(new SecretStoreSealingKeys(new DirectorySecretStore(keys), "sealing-key"), new FixedSealingCertificates(certificates)));
    }

    private static Task<ReconcileResult> ReconcileAsync(Reconciler reconciler, PipelineHarness h, SimulatedCluster cluster) =>
        reconciler.ReconcileAsync(new ReconcileRequest(cluster.Name, "sealed", new GitSourceSpec(h.Repo.Url), Path) { Options = PipelineHarness.FastOptions });

    private static string LiveValue(SimulatedCluster cluster) =>
        SealingTestKeys.EncryptedValue(cluster.GetObject("bitnami.com/v1alpha1", "SealedSecret", "default", "db")!, "password");
}
