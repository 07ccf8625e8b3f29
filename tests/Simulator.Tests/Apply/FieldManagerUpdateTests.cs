using System.Text.Json.Nodes;
using FleetFunctions.Simulator.Apply;
using Xunit;
using static FleetFunctions.Simulator.Tests.Apply.ApplyFixtures;

namespace FleetFunctions.Simulator.Tests.Apply;

public sealed class FieldManagerUpdateTests
{
    private readonly FieldManager fieldManager = new();

    [Fact]
    public void Update_ChangedField_TakesOwnershipFromApplier()
    {
        var live = Merged(fieldManager.Apply(null, Deploy(), "flux", force: false, T0));

        var edited = fieldManager.Update(live, With(live, d => Spec(d)["replicas"] = 7), "kubectl-edit", T1);

        Assert.Equal(7, (int)edited["spec"]!["replicas"]!);
        Assert.True(Owns(edited, "kubectl-edit", "Update", "f:spec", "f:replicas"));
        Assert.False(Owns(edited, "flux", "Apply", "f:spec", "f:replicas"));
        Assert.True(Owns(edited, "flux", "Apply", "f:spec", "f:template"));
        var entry = Entry(edited, "kubectl-edit", "Update")!;
        Assert.Equal("apps/v1", (string?)entry["apiVersion"]);
        Assert.Equal("2025-01-02T03:05:05Z", (string?)entry["time"]);
        Assert.Equal("""{"f:spec":{"f:replicas":{}}}""", Json(entry["fieldsV1"]!));
    }

    [Fact]
    public void Update_NothingChanged_KeepsManagedFieldsAsTheyWere()
    {
        var live = Merged(fieldManager.Apply(null, Deploy(), "flux", force: false, T0));

        var updated = fieldManager.Update(live, (JsonObject)live.DeepClone(), "kubectl-edit", T1);

        AssertJsonEqual(live, updated);
    }

    [Fact]
    public void Update_RemovedField_DropsItFromEveryManager()
    {
        var live = Merged(fieldManager.Apply(null, Deploy(), "flux", force: false, T0));
        live = Merged(fieldManager.Apply(live, Deploy(), "argo", force: false, T0));

        var patched = fieldManager.Update(live, With(live, d => Spec(d).Remove("replicas")), "kubectl-patch", T1);

        Assert.False(Owns(patched, "flux", "Apply", "f:spec", "f:replicas"));
        Assert.False(Owns(patched, "argo", "Apply", "f:spec", "f:replicas"));
        Assert.Null(Entry(patched, "kubectl-patch", "Update"));
    }

    [Fact]
    public void Update_ManagerLosingAllFields_EntryRemoved()
    {
        var live = Merged(fieldManager.Apply(null, Deploy(), "flux", force: false, T0));
        live = Merged(fieldManager.Apply(live, Parse("""
            { "apiVersion": "apps/v1", "kind": "Deployment", "metadata": { "name": "web", "namespace": "shop" }, "spec": { "replicas": 4 } }
            """), "scaler", force: true, T1));

        var edited = fieldManager.Update(live, With(live, d => Spec(d)["replicas"] = 1), "kubectl-edit", T2);

        Assert.Null(Entry(edited, "scaler"));
        Assert.Equal(["flux", "kubectl-edit"], ManagedFields(edited).Select(e => (string?)e!["manager"]));
    }

    [Fact]
    public void Update_Create_RecordsFieldsLikeTheApiServer()
    {
        // A Deployment as kube-apiserver stores it after defaulting, created with kubectl create.
        var created = fieldManager.Update(null, Parse("""
            {
              "apiVersion": "apps/v1", "kind": "Deployment",
              "metadata": { "name": "nginx", "namespace": "default", "labels": { "app": "nginx" } },
              "spec": {
                "progressDeadlineSeconds": 600, "replicas": 2, "revisionHistoryLimit": 10,
                "selector": { "matchLabels": { "app": "nginx" } },
                "strategy": { "rollingUpdate": { "maxSurge": "25%", "maxUnavailable": "25%" }, "type": "RollingUpdate" },
                "template": {
                  "metadata": { "creationTimestamp": null, "labels": { "app": "nginx" } },
                  "spec": {
                    "containers": [ {
                      "image": "nginx:1.16", "imagePullPolicy": "IfNotPresent", "name": "nginx",
                      "ports": [ { "containerPort": 8080, "protocol": "TCP" } ],
                      "resources": {}, "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File"
                    } ],
                    "dnsPolicy": "ClusterFirst", "restartPolicy": "Always", "schedulerName": "default-scheduler",
                    "securityContext": {}, "terminationGracePeriodSeconds": 30
                  }
                }
              }
            }
            """), "kubectl-create", T0);

        // The fieldsV1 of a real cluster's entry for the same object (spec only; labels as in the sample).
        var expected = JsonNode.Parse("""
            {"f:metadata":{"f:labels":{".":{},"f:app":{}}},
             "f:spec":{"f:progressDeadlineSeconds":{},"f:replicas":{},"f:revisionHistoryLimit":{},"f:selector":{},
               "f:strategy":{"f:rollingUpdate":{".":{},"f:maxSurge":{},"f:maxUnavailable":{}},"f:type":{}},
               "f:template":{"f:metadata":{"f:labels":{".":{},"f:app":{}}},
                 "f:spec":{"f:containers":{"k:{\"name\":\"nginx\"}":{".":{},"f:image":{},"f:imagePullPolicy":{},"f:name":{},
                   "f:ports":{".":{},"k:{\"containerPort\":8080,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{},"f:protocol":{}}},
                   "f:resources":{},"f:terminationMessagePath":{},"f:terminationMessagePolicy":{}}},
                   "f:dnsPolicy":{},"f:restartPolicy":{},"f:schedulerName":{},"f:securityContext":{},"f:terminationGracePeriodSeconds":{}}}}}
            """);
        AssertJsonEqual(expected, FieldsOf(created, "kubectl-create", "Update"));
        Assert.Equal(Json(expected!), Json(FieldsOf(created, "kubectl-create", "Update")));
    }

    [Fact]
    public void Update_MainResource_DoesNotRecordStatus()
    {
        var live = Merged(fieldManager.Apply(null, Deploy(), "flux", force: false, T0));

        var updated = fieldManager.Update(live, With(live, d => d["status"] = new JsonObject { ["replicas"] = 3 }), "someone", T1);

        Assert.Null(Entry(updated, "someone", "Update"));
    }

    [Fact]
    public void Update_StatusSubresource_RecordsOnlyStatusWithSubresource()
    {
        var live = Merged(fieldManager.Apply(null, Deploy(), "flux", force: false, T0));

        var updated = fieldManager.Update(
            live,
            With(live, d =>
            {
                d["status"] = JsonNode.Parse("""{ "replicas": 2, "conditions": [ { "type": "Available", "status": "True" } ] }""");
                Spec(d)["replicas"] = 9;
            }),
            "kube-controller-manager",
            T1,
            subresource: "status");

        var entry = Entry(updated, "kube-controller-manager", "Update")!;
        Assert.Equal("status", (string?)entry["subresource"]);
        Assert.Equal(
            """{"f:status":{"f:conditions":{".":{},"k:{\"type\":\"Available\"}":{".":{},"f:status":{},"f:type":{}}},"f:replicas":{}}}""",
            Json(entry["fieldsV1"]!));
        Assert.True(Owns(updated, "flux", "Apply", "f:spec", "f:replicas"));
    }

    [Fact]
    public void Update_ManagedFieldsSentAsEmptyList_ResetsOwnership()
    {
        var live = Merged(fieldManager.Apply(null, Deploy(), "flux", force: false, T0));

        var reset = fieldManager.Update(live, With(live, d => d["metadata"]!["managedFields"] = new JsonArray()), "kubectl", T1);

        Assert.False(reset["metadata"]!.AsObject().ContainsKey("managedFields"));
    }

    [Fact]
    public void Update_ElevenManagers_OldestMergedIntoAncientChanges()
    {
        var live = Merged(fieldManager.Apply(null, Deploy(), "flux", force: false, T0));
        for (var i = 0; i < 11; i++)
        {
            var index = i;
            live = fieldManager.Update(live, With(live, d =>
            {
                var metadata = d["metadata"]!.AsObject();
                if (metadata["annotations"] is not JsonObject annotations)
                {
                    annotations = [];
                    metadata["annotations"] = annotations;
                }

                annotations[$"a{index}"] = "x";
            }), $"editor-{i:D2}", T0.AddMinutes(i));
        }

        live = fieldManager.Update(live, With(live, d => d["metadata"]!["labels"]!["extra"] = "y"), "editor-11", T0.AddMinutes(20));

        var updaters = ManagedFields(live).Select(e => e!.AsObject()).Where(e => (string?)e["operation"] == "Update").ToList();
        Assert.Equal(10, updaters.Count);
        Assert.Contains(updaters, e => (string?)e["manager"] == "ancient-changes");
        Assert.DoesNotContain(updaters, e => (string?)e["manager"] is "editor-00" or "editor-01" or "editor-02");
        Assert.True(Owns(live, "ancient-changes", "Update", "f:metadata", "f:annotations", "f:a0"));
        Assert.True(Owns(live, "ancient-changes", "Update", "f:metadata", "f:annotations", "f:a1"));
        Assert.True(Owns(live, "ancient-changes", "Update", "f:metadata", "f:annotations", "f:a2"));
        Assert.True(Owns(live, "editor-03", "Update", "f:metadata", "f:annotations", "f:a3"));
    }

    [Fact]
    public void Update_ThenApplyOfOriginalValueWithForce_ReturnsOwnershipToApplier()
    {
        var live = Merged(fieldManager.Apply(null, Deploy(), "flux", force: false, T0));
        var edited = fieldManager.Update(live, With(live, d => Spec(d)["replicas"] = 7), "kubectl-edit", T1);

        var healed = Merged(fieldManager.Apply(edited, Deploy(), "flux", force: true, T2));

        Assert.Equal(2, (int)healed["spec"]!["replicas"]!);
        Assert.True(Owns(healed, "flux", "Apply", "f:spec", "f:replicas"));
        Assert.Null(Entry(healed, "kubectl-edit", "Update"));
    }
}
