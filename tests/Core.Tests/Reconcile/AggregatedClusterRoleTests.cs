using System.Text.Json.Nodes;
using FleetFunctions.Core.Apply;
using FleetFunctions.Core.Tests.Support;
using FleetFunctions.TestSupport;
using Xunit;

namespace FleetFunctions.Core.Tests.Reconcile;

/// <summary>The rules of an aggregated ClusterRole belong to the clusterrole-aggregation-controller, not to Git.</summary>
public sealed class AggregatedClusterRoleTests(SimulatorFixture simulator, AzuriteFixture azurite) : IClassFixture<SimulatorFixture>, IClassFixture<AzuriteFixture>
{
    private const string Path = "aggregated";
    private const string RolePath = "/apis/rbac.authorization.k8s.io/v1/clusterroles/aggregated-monitoring";

    [Fact]
    public async Task ReconcileAsync_RulesFilledInByTheAggregationController_NeitherDriftNorSentNorConflicting()
    {
        using var h = await PipelineHarness.CreateAsync(simulator, azurite.ConnectionString);
        h.Repo.Write($"{Path}/role.yaml", Role("one"));
        h.Repo.Commit("aggregated ClusterRole as in the Kubernetes docs");
        Assert.True((await h.ReconcileAsync(Path, fleet: Path)).Succeeded);

        // What the controller does: force-apply the rules it aggregates.
        await h.ApplyAsOtherManagerAsync(RolePath, JsonNode.Parse("""
            {"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"aggregated-monitoring"},
             "rules":[{"apiGroups":[""],"resources":["services","endpoints","pods"],"verbs":["get","list","watch"]}]}
            """)!.AsObject(), "clusterrole-aggregation-controller", force: true);
        var drift = await h.Reconciler.DetectDriftAsync(h.Cluster.Name, Path);
        h.Cluster.ResetCounters();
        var again = await h.ReconcileAsync(Path, fleet: Path);

        Assert.False(drift.HasDrift, string.Join("\n", drift.Describe()));
        Assert.True(again.IsNoOp, string.Join("\n", again.Changes.Changes.Select(c => $"{c} {string.Join(",", c.DriftedFields)}")));
        Assert.Equal(0, h.Cluster.WriteCount);

        // A change in Git is applied without force: it must not claim the rules (409 conflict with the controller).
        h.Repo.Write($"{Path}/role.yaml", Role("two"));
        h.Repo.Commit("relabel");
        var changed = await h.ReconcileAsync(Path, fleet: Path);

        Assert.True(changed.Succeeded, string.Join("\n", changed.Errors));
        Assert.Equal(ChangeAction.Configured, Assert.Single(changed.Changes.Changes).Action);
        var live = h.Cluster.GetObject("rbac.authorization.k8s.io/v1", "ClusterRole", null, "aggregated-monitoring")!;
        Assert.Equal("two", live["metadata"]!["labels"]!["tier"]!.GetValue<string>());
        Assert.Equal(3, live["rules"]![0]!["resources"]!.AsArray().Count);
        var ours = live["metadata"]!["managedFields"]!.AsArray().Single(m => m!["manager"]!.GetValue<string>() == "fleetfunctions");
        Assert.False(ours!["fieldsV1"]!.AsObject().ContainsKey("f:rules"));
    }

    private static string Role(string tier) => $"""
        apiVersion: rbac.authorization.k8s.io/v1
        kind: ClusterRole
        metadata:
          name: aggregated-monitoring
          labels:
            tier: {tier}
        aggregationRule:
          clusterRoleSelectors:
            - matchLabels:
                rbac.example.com/aggregate-to-monitoring: "true"
        rules: [] # The control plane automatically fills in the rules
        """;
}
