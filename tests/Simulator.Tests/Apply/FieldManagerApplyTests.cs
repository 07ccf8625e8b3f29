using System.Text.Json.Nodes;
using FleetFunctions.Simulator.Apply;
using Xunit;
using static FleetFunctions.Simulator.Tests.Apply.ApplyFixtures;

namespace FleetFunctions.Simulator.Tests.Apply;

public sealed class FieldManagerApplyTests
{
    private readonly FieldManager fieldManager = new();

    [Fact]
    public void Apply_NoLiveObject_CreatesObjectWithApplyEntry()
    {
        var created = Merged(fieldManager.Apply(null, Deploy(), "flux", force: false, T0));

        Assert.Equal(2, (int)created["spec"]!["replicas"]!);
        Assert.Equal("nginx:1.27", (string?)Container(created)["image"]);
        var entry = Assert.Single(ManagedFields(created))!.AsObject();
        Assert.Equal("flux", (string?)entry["manager"]);
        Assert.Equal("Apply", (string?)entry["operation"]);
        Assert.Equal("apps/v1", (string?)entry["apiVersion"]);
        Assert.Equal("2025-01-02T03:04:05Z", (string?)entry["time"]);
        Assert.Equal("FieldsV1", (string?)entry["fieldsType"]);
        Assert.True(Owns(created, "flux", "Apply", "f:spec", "f:replicas"));
    }

    [Fact]
    public void Apply_SameConfigAgain_ReturnsObjectEqualToLive()
    {
        var live = Merged(fieldManager.Apply(null, Deploy(), "flux", force: false, T0));

        var again = Merged(fieldManager.Apply(live, Deploy(), "flux", force: false, T1));

        AssertJsonEqual(live, again);
        Assert.Equal("2025-01-02T03:04:05Z", (string?)Entry(again, "flux")!["time"]);
    }

    [Fact]
    public void Apply_SameConfigAgain_DoesNotModifyInputs()
    {
        var live = Merged(fieldManager.Apply(null, Deploy(), "flux", force: false, T0));
        var liveCopy = live.DeepClone();
        var config = With(Deploy(), d => Spec(d)["replicas"] = 5);
        var configCopy = config.DeepClone();

        fieldManager.Apply(live, config, "flux", force: false, T1);

        AssertJsonEqual(liveCopy, live);
        AssertJsonEqual(configCopy, config);
    }

    [Fact]
    public void Apply_OneFieldChanged_UpdatesValueAndEntryTime()
    {
        var live = Merged(fieldManager.Apply(null, Deploy(), "flux", force: false, T0));

        var changed = Merged(fieldManager.Apply(live, With(Deploy(), d => Spec(d)["replicas"] = 3), "flux", force: false, T1));

        Assert.Equal(3, (int)changed["spec"]!["replicas"]!);
        Assert.Equal("2025-01-02T03:05:05Z", (string?)Entry(changed, "flux")!["time"]);
        AssertJsonEqual(FieldsOf(live, "flux"), FieldsOf(changed, "flux"));
    }

    [Fact]
    public void Apply_NumberWrittenDifferently_IsNoOp()
    {
        var live = Merged(fieldManager.Apply(null, Deploy(), "flux", force: false, T0));

        var again = Merged(fieldManager.Apply(live, With(Deploy(), d => Spec(d)["replicas"] = 2.0), "flux", force: false, T1));

        AssertJsonEqual(live, again);
    }

    [Fact]
    public void Apply_FieldNoLongerApplied_RemovesIt()
    {
        var live = Merged(fieldManager.Apply(null, Deploy(), "flux", force: false, T0));

        var pruned = Merged(fieldManager.Apply(live, With(Deploy(), d => Spec(d).Remove("replicas")), "flux", force: false, T1));

        Assert.False(Spec(pruned).ContainsKey("replicas"));
        Assert.False(Owns(pruned, "flux", "Apply", "f:spec", "f:replicas"));
    }

    [Fact]
    public void Apply_LabelNoLongerApplied_RemovesLabelAndEmptyMap()
    {
        var live = Merged(fieldManager.Apply(null, Deploy(), "flux", force: false, T0));

        var pruned = Merged(fieldManager.Apply(live, With(Deploy(), d => d["metadata"]!.AsObject().Remove("labels")), "flux", force: false, T1));

        Assert.False(pruned["metadata"]!.AsObject().ContainsKey("labels"));
        Assert.Equal("web", (string?)pruned["metadata"]!["name"]);
        Assert.Equal("shop", (string?)pruned["metadata"]!["namespace"]);
    }

    [Fact]
    public void Apply_FieldNoLongerAppliedButOwnedByOther_KeepsValueAndDropsOwnership()
    {
        var live = Merged(fieldManager.Apply(null, Deploy(), "flux", force: false, T0));
        live = Merged(fieldManager.Apply(live, Parse("""
            { "apiVersion": "apps/v1", "kind": "Deployment", "metadata": { "name": "web", "namespace": "shop" }, "spec": { "replicas": 2 } }
            """), "scaler", force: false, T1));

        var after = Merged(fieldManager.Apply(live, With(Deploy(), d => Spec(d).Remove("replicas")), "flux", force: false, T2));

        Assert.Equal(2, (int)after["spec"]!["replicas"]!);
        Assert.False(Owns(after, "flux", "Apply", "f:spec", "f:replicas"));
        Assert.True(Owns(after, "scaler", "Apply", "f:spec", "f:replicas"));
    }

    [Fact]
    public void Apply_SameValueByAnotherManager_SharesOwnershipWithoutConflict()
    {
        var live = Merged(fieldManager.Apply(null, Deploy(), "flux", force: false, T0));

        var shared = Merged(fieldManager.Apply(live, Deploy(), "argo", force: false, T1));

        Assert.True(Owns(shared, "flux", "Apply", "f:spec", "f:replicas"));
        Assert.True(Owns(shared, "argo", "Apply", "f:spec", "f:replicas"));
        Assert.Equal("2025-01-02T03:05:05Z", (string?)Entry(shared, "argo")!["time"]);
        Assert.Equal("2025-01-02T03:04:05Z", (string?)Entry(shared, "flux")!["time"]);
    }

    [Fact]
    public void Apply_DifferentValueOwnedByAnotherApplier_ReportsConflicts()
    {
        var live = Merged(fieldManager.Apply(null, Deploy(), "flux", force: false, T0));
        var config = With(Deploy(), d =>
        {
            Spec(d)["replicas"] = 5;
            Container(d)["image"] = "nginx:1.28";
            d["metadata"]!["labels"]!["app"] = "shop";
        });

        var result = fieldManager.Apply(live, config, "argo", force: false, T1);

        Assert.True(result.HasConflicts);
        Assert.Null(result.Merged);
        Assert.Equal(
            [".metadata.labels.app", ".spec.replicas", ".spec.template.spec.containers[name=\"app\"].image"],
            result.Conflicts.Select(c => c.Field).Order(StringComparer.Ordinal));
        Assert.All(result.Conflicts, c => Assert.Equal("flux", c.Manager));
        Assert.Equal("conflict with \"flux\"", result.Conflicts[0].CauseMessage);
    }

    [Fact]
    public void Apply_ConflictWithForce_TransfersOwnership()
    {
        var live = Merged(fieldManager.Apply(null, Deploy(), "flux", force: false, T0));
        var config = Parse("""
            { "apiVersion": "apps/v1", "kind": "Deployment", "metadata": { "name": "web", "namespace": "shop" }, "spec": { "replicas": 5 } }
            """);

        var forced = Merged(fieldManager.Apply(live, config, "scaler", force: true, T1));

        Assert.Equal(5, (int)forced["spec"]!["replicas"]!);
        Assert.True(Owns(forced, "scaler", "Apply", "f:spec", "f:replicas"));
        Assert.False(Owns(forced, "flux", "Apply", "f:spec", "f:replicas"));
        Assert.True(Owns(forced, "flux", "Apply", "f:spec", "f:template"));
    }

    [Fact]
    public void Apply_AfterForcedTransfer_OriginalApplierConflicts()
    {
        var live = Merged(fieldManager.Apply(null, Deploy(), "flux", force: false, T0));
        live = Merged(fieldManager.Apply(live, Parse("""
            { "apiVersion": "apps/v1", "kind": "Deployment", "metadata": { "name": "web", "namespace": "shop" }, "spec": { "replicas": 5 } }
            """), "scaler", force: true, T1));

        var result = fieldManager.Apply(live, Deploy(), "flux", force: false, T2);

        var conflict = Assert.Single(result.Conflicts);
        Assert.Equal(("scaler", ".spec.replicas"), (conflict.Manager, conflict.Field));
        Assert.Equal("Apply failed with 1 conflict: conflict with \"scaler\": .spec.replicas", FieldConflict.FormatMessage(result.Conflicts));
    }

    [Fact]
    public void Apply_FieldChangedByUpdate_ConflictsWithUpdateManager()
    {
        var live = Merged(fieldManager.Apply(null, Deploy(), "flux", force: false, T0));
        var edited = fieldManager.Update(live, With(live, d => Spec(d)["replicas"] = 7), "kubectl-edit", T1);

        var result = fieldManager.Apply(edited, Deploy(), "flux", force: false, T2);

        var conflict = Assert.Single(result.Conflicts);
        Assert.Equal("kubectl-edit", conflict.Manager);
        Assert.Equal(".spec.replicas", conflict.Field);
        Assert.Equal("conflict with \"kubectl-edit\" using apps/v1", conflict.CauseMessage);
    }

    [Fact]
    public void Apply_MultipleConflicts_FormatsMessageByManager()
    {
        var live = Merged(fieldManager.Apply(null, Deploy(), "flux", force: false, T0));
        var config = With(Deploy(), d =>
        {
            Spec(d)["replicas"] = 5;
            Container(d)["image"] = "nginx:1.28";
        });

        var result = fieldManager.Apply(live, config, "argo", force: false, T1);

        Assert.Equal(
            "Apply failed with 2 conflicts: conflicts with \"flux\":\n- .spec.replicas\n- .spec.template.spec.containers[name=\"app\"].image",
            FieldConflict.FormatMessage(result.Conflicts));
    }

    [Fact]
    public void Apply_StatusOfKindWithStatusSubresource_IsIgnored()
    {
        var live = Merged(fieldManager.Apply(null, Deploy(), "flux", force: false, T0));
        live["status"] = new JsonObject { ["replicas"] = 2 };

        var applied = Merged(fieldManager.Apply(live, With(Deploy(), d => d["status"] = new JsonObject { ["replicas"] = 9 }), "flux", force: false, T1));

        Assert.Equal(2, (int)applied["status"]!["replicas"]!);
        Assert.False(Owns(applied, "flux", "Apply", "f:status"));
    }

    [Fact]
    public void Apply_ConfigWithDuplicateKeys_ThrowsWithPath()
    {
        var config = With(Deploy(), d => PodSpec(d)["containers"]!.AsArray().Add(Container(d).DeepClone()));

        var error = Assert.Throws<FieldManagerException>(() => fieldManager.Apply(null, config, "flux", force: false, T0));

        Assert.Equal(".spec.template.spec.containers: duplicate entries for key [name=\"app\"]", error.Message);
    }

    [Fact]
    public void Apply_SeveralInvalidItems_ListsEveryProblem()
    {
        var config = With(Deploy(), d =>
        {
            Container(d)["env"]!.AsArray().Add(new JsonObject { ["name"] = "MODE", ["value"] = "dev" });
            Container(d)["ports"]!.AsArray().Add(new JsonObject { ["containerPort"] = 80, ["protocol"] = "TCP" });
        });

        var error = Assert.Throws<FieldManagerException>(() => fieldManager.Apply(null, config, "flux", force: false, T0));

        Assert.Equal(
            "errors:\n  .spec.template.spec.containers[name=\"app\"].ports: duplicate entries for key [containerPort=80,protocol=\"TCP\"]"
                + "\n  .spec.template.spec.containers[name=\"app\"].env: duplicate entries for key [name=\"MODE\"]",
            error.Message);
    }

    [Fact]
    public void Apply_ItemWithoutKey_ThrowsWithPath()
    {
        var config = With(Deploy(), d => Container(d).Remove("name"));

        var error = Assert.Throws<FieldManagerException>(() => fieldManager.Apply(null, config, "flux", force: false, T0));

        Assert.StartsWith(".spec.template.spec.containers: element 0: associative list with keys has an element that omits key field \"name\"", error.Message);
    }

    [Fact]
    public void Apply_CustomResource_MergesMapsAndReplacesLists()
    {
        var crd = """
            { "apiVersion": "example.com/v1", "kind": "Widget", "metadata": { "name": "w" },
              "spec": { "size": 1, "tags": ["a", "b"], "nested": { "x": 1 } } }
            """;
        var live = Merged(fieldManager.Apply(null, Parse(crd), "flux", force: false, T0));
        live = Merged(fieldManager.Apply(live, Parse("""
            { "apiVersion": "example.com/v1", "kind": "Widget", "metadata": { "name": "w" }, "spec": { "nested": { "y": 2 } } }
            """), "other", force: false, T1));

        var after = Merged(fieldManager.Apply(live, With(Parse(crd), d => Spec(d)["tags"] = new JsonArray("c")), "flux", force: false, T2));

        AssertJsonEqual(new JsonArray("c"), after["spec"]!["tags"]);
        AssertJsonEqual(Parse("""{ "x": 1, "y": 2 }"""), after["spec"]!["nested"]);
        Assert.True(Owns(after, "flux", "Apply", "f:spec", "f:tags"));
        Assert.True(Owns(after, "other", "Apply", "f:spec", "f:nested", "f:y"));
    }

    [Fact]
    public void Apply_StatusSubresource_MergesAndOwnsOnlyStatus()
    {
        var live = Merged(fieldManager.Apply(null, Deploy(), "flux", force: false, T0));
        var config = With(Deploy(), d =>
        {
            Spec(d)["replicas"] = 9;
            d["status"] = JsonNode.Parse("""{ "conditions": [ { "type": "Available", "status": "True" } ] }""");
        });

        var applied = Merged(fieldManager.Apply(live, config, "status-writer", force: false, T1, subresource: "status"));

        Assert.Equal(2, (int)applied["spec"]!["replicas"]!);
        Assert.Equal("True", (string?)applied["status"]!["conditions"]![0]!["status"]);
        var entry = Entry(applied, "status-writer")!;
        Assert.Equal("status", (string?)entry["subresource"]);
        Assert.Equal("""{"f:status":{"f:conditions":{"k:{\"type\":\"Available\"}":{".":{},"f:status":{},"f:type":{}}}}}""", Json(entry["fieldsV1"]));
    }

    [Fact]
    public void Apply_ItemsReorderedBySameManager_PersistsNewOrder()
    {
        var config = With(Deploy(), d => Container(d)["env"] = JsonNode.Parse("""[ { "name": "A", "value": "1" }, { "name": "B", "value": "2" } ]"""));
        var live = Merged(fieldManager.Apply(null, config, "flux", force: false, T0));

        var reordered = Merged(fieldManager.Apply(live, With(config, d => Container(d)["env"] = JsonNode.Parse("""[ { "name": "B", "value": "2" }, { "name": "A", "value": "1" } ]""")), "flux", force: false, T1));

        Assert.Equal(["B", "A"], Container(reordered)["env"]!.AsArray().Select(e => (string?)e!["name"]));
    }

    [Fact]
    public void Apply_ExplicitNull_UnsetsFieldAndKeepsOwnership()
    {
        var live = Merged(fieldManager.Apply(null, Deploy(), "flux", force: false, T0));

        var unset = Merged(fieldManager.Apply(live, With(Deploy(), d => Spec(d)["replicas"] = null), "flux", force: false, T1));

        Assert.False(Spec(unset).ContainsKey("replicas"));
        Assert.True(Owns(unset, "flux", "Apply", "f:spec", "f:replicas"));
    }

    [Fact]
    public void Apply_LiveCreatedByUpdate_ConflictsWithCreatorOnDifferentValue()
    {
        var created = fieldManager.Update(null, Deploy(), "kubectl-create", T0);

        var result = fieldManager.Apply(created, With(Deploy(), d => Spec(d)["replicas"] = 4), "flux", force: false, T1);
        var shared = Merged(fieldManager.Apply(created, Deploy(), "flux", force: false, T1));

        var conflict = Assert.Single(result.Conflicts);
        Assert.Equal(("kubectl-create", ".spec.replicas"), (conflict.Manager, conflict.Field));
        Assert.Equal(
            "Apply failed with 1 conflict: conflict with \"kubectl-create\" using apps/v1: .spec.replicas",
            FieldConflict.FormatMessage(result.Conflicts));
        Assert.True(Owns(shared, "kubectl-create", "Update", "f:spec", "f:replicas"));
        Assert.True(Owns(shared, "flux", "Apply", "f:spec", "f:replicas"));
    }

    [Fact]
    public void Apply_Result_SharesNoNodesWithInputs()
    {
        var config = Deploy();
        var live = Merged(fieldManager.Apply(null, config, "flux", force: false, T0));
        var changedConfig = With(config, d => Spec(d)["replicas"] = 3);

        var changed = Merged(fieldManager.Apply(live, changedConfig, "flux", force: false, T1));
        Container(changed)["image"] = "mutated";
        changed["metadata"]!["labels"]!["app"] = "mutated";

        Assert.Equal("nginx:1.27", (string?)Container(live)["image"]);
        Assert.Equal("nginx:1.27", (string?)Container(changedConfig)["image"]);
        Assert.Equal("web", (string?)live["metadata"]!["labels"]!["app"]);
    }

    [Fact]
    public void Apply_CustomResourceStatusWithoutSubresource_IsOwnedLikeAnyField()
    {
        var widget = Parse("""
            { "apiVersion": "example.com/v1", "kind": "Widget", "metadata": { "name": "w" }, "spec": { "size": 1 }, "status": { "phase": "Ready" } }
            """);

        var created = Merged(fieldManager.Apply(null, widget, "flux", force: false, T0));

        Assert.Equal("Ready", (string?)created["status"]!["phase"]);
        Assert.True(Owns(created, "flux", "Apply", "f:status", "f:phase"));
    }

    [Fact]
    public void Apply_StatusSubresourceKnownFromOptions_IgnoresCustomResourceStatus()
    {
        var manager = new FieldManager(new FieldManagerOptions { HasStatusSubresource = (_, kind) => kind == "Widget" });
        var widget = Parse("""
            { "apiVersion": "example.com/v1", "kind": "Widget", "metadata": { "name": "w" }, "spec": { "size": 1 }, "status": { "phase": "Ready" } }
            """);

        var created = Merged(manager.Apply(null, widget, "flux", force: false, T0));

        Assert.False(created.ContainsKey("status"));
        Assert.False(Owns(created, "flux", "Apply", "f:status"));
    }
}
