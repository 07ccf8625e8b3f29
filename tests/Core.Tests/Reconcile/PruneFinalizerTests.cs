using System.Text;
using FleetFunctions.Core.Apply;
using FleetFunctions.Core.Health;
using FleetFunctions.Core.Reconcile;
using FleetFunctions.Core.Tests.Support;
using FleetFunctions.TestSupport;
using Xunit;

namespace FleetFunctions.Core.Tests.Reconcile;

/// <summary>
/// Removing an addon from Git (CRD, namespace, operator Deployment, RBAC, and a custom resource carrying the operator's
/// finalizer) against the simulator, which keeps objects with finalizers as kube-apiserver does: the custom resource
/// goes first, while its operator still runs to release it; one never released fails the prune as transient and stays
/// in the inventory with everything after it.
/// </summary>
public sealed class PruneFinalizerTests(SimulatorFixture simulator, AzuriteFixture azurite) : IClassFixture<SimulatorFixture>, IClassFixture<AzuriteFixture>
{
    private const string Finalizer = "addon.example.com/cleanup";
    private const string GizmoPath = "/apis/addon.example.com/v1/namespaces/addon/gizmos/g1";

    private const string Addon = """
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata: {name: gizmos.addon.example.com}
        spec:
          group: addon.example.com
          scope: Namespaced
          names: {plural: gizmos, singular: gizmo, kind: Gizmo}
          versions:
            - name: v1
              served: true
              storage: true
              schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
        ---
        apiVersion: v1
        kind: Namespace
        metadata: {name: addon}
        ---
        apiVersion: v1
        kind: ServiceAccount
        metadata: {name: operator, namespace: addon}
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: ClusterRole
        metadata: {name: gizmo-operator}
        rules: [{apiGroups: [addon.example.com], resources: [gizmos], verbs: ["*"]}]
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: ClusterRoleBinding
        metadata: {name: gizmo-operator}
        roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: gizmo-operator}
        subjects: [{kind: ServiceAccount, name: operator, namespace: addon}]
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: operator, namespace: addon}
        spec:
          replicas: 1
          selector: {matchLabels: {app: operator}}
          template:
            metadata: {labels: {app: operator}}
            spec:
              serviceAccountName: operator
              containers: [{name: operator, image: "example.com/gizmo-operator:1"}]
        ---
        apiVersion: addon.example.com/v1
        kind: Gizmo
        metadata: {name: g1, namespace: addon}
        spec: {size: 3}
        """;

    [Fact]
    public async Task ReconcileAsync_AddonRemovedWhileItsOperatorReleasesFinalizers_PrunesTheCustomResourceBeforeTheOperator()
    {
        using var h = await PipelineHarness.CreateAsync(simulator, azurite.ConnectionString);
        await InstallAddonAsync(h);
        using var stop = new CancellationTokenSource();
        var operatorRan = RunOperatorAsync(h, stop.Token);

        var removed = await RemoveAddonAsync(h, PipelineHarness.FastOptions);
        await stop.CancelAsync();
        var releasedWhileRunning = await operatorRan;

        Assert.True(removed.Succeeded, string.Join("\n", removed.Errors));
        Assert.True(releasedWhileRunning);
        Assert.All(removed.Pruned.Changes, c => Assert.Equal(ChangeAction.Deleted, c.Action));
        var order = removed.Pruned.Changes.Select(c => c.Reference.ToString()).ToList();
        Assert.True(order.IndexOf("Gizmo/addon/g1") < order.IndexOf("Deployment/addon/operator"), string.Join(", ", order));
        Assert.Null(h.Cluster.GetObject("addon.example.com/v1", "Gizmo", "addon", "g1"));
        Assert.Null(h.Cluster.GetObject("v1", "Namespace", null, "addon"));
        Assert.Null(h.Cluster.GetObject("apiextensions.k8s.io/v1", "CustomResourceDefinition", null, "gizmos.addon.example.com"));
        Assert.DoesNotContain((await h.Inventory.GetAsync(h.Cluster.Name, "addon"))!.Entries, e => e.Reference.Namespace == "addon");
    }

    [Fact]
    public async Task ReconcileAsync_AddonRemovedWithAFinalizerNeverReleased_FailsTransientKeepsItAndTheRestAndPrunesOnceReleased()
    {
        using var h = await PipelineHarness.CreateAsync(simulator, azurite.ConnectionString);
        await InstallAddonAsync(h);
        var quick = PipelineHarness.FastOptions with { Health = new HealthOptions { Timeout = TimeSpan.FromSeconds(1), PollInterval = TimeSpan.FromMilliseconds(100) } };

        var stuck = await RemoveAddonAsync(h, quick);
        var inventory = await h.Inventory.GetAsync(h.Cluster.Name, "addon");
        await SendAsync(h, HttpMethod.Patch, GizmoPath, "{\"metadata\":{\"finalizers\":null}}");
        var retried = await h.ReconcileAsync("addon", quick, fleet: "addon");

        Assert.Equal(ReconcilePhase.Prune, stuck.Phase);
        Assert.True(stuck.IsTransient);
        var failure = Assert.Single(stuck.Pruned.Failures);
        Assert.Equal("Gizmo/addon/g1", failure.Reference.ToString());
        Assert.Equal(
            $"{h.Cluster.Name}/Gizmo/addon/g1: still there 1s after prune deleted it: being deleted, waiting for finalizers {Finalizer}; " +
            "the controller that owns those finalizers must release them (check that it still runs). It stays in the inventory; the next reconcile prunes it again.",
            failure.Message);
        var operatorChange = Assert.Single(stuck.Pruned.Changes, c => c.Reference.ToString() == "Deployment/addon/operator");
        Assert.Equal(ChangeAction.Skipped, operatorChange.Action);
        Assert.Equal("not pruned yet: Gizmo/addon/g1 is still terminating", operatorChange.Message);
        Assert.Contains(inventory!.Entries, e => e.Reference.ToString() == "Gizmo/addon/g1");
        Assert.Contains(inventory.Entries, e => e.Reference.ToString() == "Deployment/addon/operator");
        Assert.Contains(inventory.Entries, e => e.Reference.Kind == "CustomResourceDefinition");

        Assert.True(retried.Succeeded, string.Join("\n", retried.Errors));
        Assert.Null(h.Cluster.GetObject("v1", "Namespace", null, "addon"));
        Assert.Null(h.Cluster.GetObject("apiextensions.k8s.io/v1", "CustomResourceDefinition", null, "gizmos.addon.example.com"));
        Assert.DoesNotContain((await h.Inventory.GetAsync(h.Cluster.Name, "addon"))!.Entries, e => e.Reference.Namespace == "addon" || e.Reference.Kind == "CustomResourceDefinition");
    }

    /// <summary>Applies the addon (and a ConfigMap that stays), then puts the operator's finalizer on the Gizmo, as the operator would.</summary>
    private static async Task InstallAddonAsync(PipelineHarness h)
    {
        h.Repo.Write("addon/keep.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: keep, namespace: default}\ndata: {a: b}\n")
            .Write("addon/addon.yaml", Addon)
            .Commit("install the addon");
        var installed = await h.ReconcileAsync("addon", PipelineHarness.FastOptions, fleet: "addon");
        Assert.True(installed.Succeeded, string.Join("\n", installed.Errors));
        await SendAsync(h, HttpMethod.Patch, GizmoPath, $"{{\"metadata\":{{\"finalizers\":[\"{Finalizer}\"]}}}}");
    }

    private static Task<ReconcileResult> RemoveAddonAsync(PipelineHarness h, ReconcileOptions options)
    {
        h.Repo.Write("addon/addon.yaml", null).Commit("remove the addon");
        return h.ReconcileAsync("addon", options, fleet: "addon");
    }

    /// <summary>
    /// The operator: while its Deployment exists, it releases a Gizmo being deleted shortly after seeing it. Returns whether
    /// it released one (false when its Deployment was gone first: a real operator would be dead by then).
    /// </summary>
    private static async Task<bool> RunOperatorAsync(PipelineHarness h, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                await Task.Delay(50, cancellationToken);
                var gizmo = h.Cluster.GetObject("addon.example.com/v1", "Gizmo", "addon", "g1");
                if (gizmo?["metadata"]?["deletionTimestamp"] is null)
                {
                    continue;
                }

                if (h.Cluster.GetObject("apps/v1", "Deployment", "addon", "operator") is null)
                {
                    return false;
                }

                await Task.Delay(300, cancellationToken);
                await SendAsync(h, HttpMethod.Patch, GizmoPath, "{\"metadata\":{\"finalizers\":null}}");
                return true;
            }
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private static async Task SendAsync(PipelineHarness h, HttpMethod method, string path, string mergePatch)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(method, new Uri(h.Cluster.Server, path))
        {
            Content = new StringContent(mergePatch, Encoding.UTF8, "application/merge-patch+json"),
        };
        using var response = await http.SendAsync(request);
        response.EnsureSuccessStatusCode();
    }
}
