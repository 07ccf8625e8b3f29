using System.Text.Json.Nodes;
using FleetFunctions.Simulator.Apply;
using Xunit;
using static FleetFunctions.Simulator.Tests.Apply.ApplyFixtures;

namespace FleetFunctions.Simulator.Tests.Apply;

public sealed class FieldManagerListTests
{
    private const string SidecarConfig = """
        {
          "apiVersion": "apps/v1", "kind": "Deployment", "metadata": { "name": "web", "namespace": "shop" },
          "spec": { "template": { "spec": { "containers": [ { "name": "proxy", "image": "envoy:1.31" } ] } } }
        }
        """;

    private readonly FieldManager fieldManager = new();

    [Fact]
    public void Apply_TwoManagersOwningDifferentContainers_KeepsBothContainers()
    {
        var live = Merged(fieldManager.Apply(null, Deploy(), "flux", force: false, T0));

        var both = Merged(fieldManager.Apply(live, Parse(SidecarConfig), "injector", force: false, T1));
        var again = Merged(fieldManager.Apply(both, Deploy(), "flux", force: false, T2));

        AssertJsonEqual(both, again);
        Assert.Equal(["app", "proxy"], PodSpec(again)["containers"]!.AsArray().Select(c => (string?)c!["name"]));
        Assert.True(Owns(again, "injector", "Apply", "f:spec", "f:template", "f:spec", "f:containers", "k:{\"name\":\"proxy\"}", "f:image"));
        Assert.False(Owns(again, "flux", "Apply", "f:spec", "f:template", "f:spec", "f:containers", "k:{\"name\":\"proxy\"}"));
    }

    [Fact]
    public void Apply_ContainerNoLongerApplied_RemovesOnlyThatContainer()
    {
        var live = Merged(fieldManager.Apply(null, Deploy(), "flux", force: false, T0));
        live = Merged(fieldManager.Apply(live, Parse(SidecarConfig), "injector", force: false, T1));

        var withoutProxy = Merged(fieldManager.Apply(live, With(Parse(SidecarConfig), d => PodSpec(d)["containers"] = new JsonArray()), "injector", force: false, T2));

        var container = Assert.Single(PodSpec(withoutProxy)["containers"]!.AsArray());
        Assert.Equal("app", (string?)container!["name"]);
        Assert.Null(Entry(withoutProxy, "injector"));
    }

    [Fact]
    public void Apply_EnvByName_MergesVariablesOfTwoManagers()
    {
        var live = Merged(fieldManager.Apply(null, Deploy(), "flux", force: false, T0));
        var tracing = Parse("""
            {
              "apiVersion": "apps/v1", "kind": "Deployment", "metadata": { "name": "web", "namespace": "shop" },
              "spec": { "template": { "spec": { "containers": [ { "name": "app", "env": [ { "name": "TRACING", "value": "on" } ] } ] } } }
            }
            """);

        var merged = Merged(fieldManager.Apply(live, tracing, "tracer", force: false, T1));
        var withoutMode = Merged(fieldManager.Apply(merged, With(Deploy(), d => Container(d).Remove("env")), "flux", force: false, T2));

        Assert.Equal(["MODE", "TRACING"], Container(merged)["env"]!.AsArray().Select(e => (string?)e!["name"]));
        Assert.Equal(["TRACING"], Container(withoutMode)["env"]!.AsArray().Select(e => (string?)e!["name"]));
        Assert.True(Owns(withoutMode, "tracer", "Apply", "f:spec", "f:template", "f:spec", "f:containers", "k:{\"name\":\"app\"}", "f:env", "k:{\"name\":\"TRACING\"}", "f:value"));
    }

    [Fact]
    public void Apply_PortsByContainerPortAndProtocol_KeepsTcpAndUdpApartWithDefaultProtocol()
    {
        var config = With(Deploy(), d => Container(d)["ports"] = JsonNode.Parse("""
            [ { "containerPort": 53, "name": "dns-tcp" }, { "containerPort": 53, "protocol": "UDP", "name": "dns" } ]
            """));
        var live = Merged(fieldManager.Apply(null, config, "flux", force: false, T0));

        var renamed = Merged(fieldManager.Apply(live, With(config, d => Container(d)["ports"]![0]!["name"] = "dns-stream"), "flux", force: false, T1));

        var ports = Container(renamed)["ports"]!.AsArray();
        Assert.Equal(["dns-stream", "dns"], ports.Select(p => (string?)p!["name"]));
        var portFields = FieldsOf(renamed, "flux")["f:spec"]!["f:template"]!["f:spec"]!["f:containers"]!["k:{\"name\":\"app\"}"]!["f:ports"]!.AsObject();
        Assert.Equal(
            ["k:{\"containerPort\":53,\"protocol\":\"TCP\"}", "k:{\"containerPort\":53,\"protocol\":\"UDP\"}"],
            portFields.Select(p => p.Key));
    }

    [Fact]
    public void Apply_PortKeysSortedNumerically_InFieldsV1()
    {
        var config = With(Deploy(), d => Container(d)["ports"] = JsonNode.Parse("""[ { "containerPort": 9090 }, { "containerPort": 10000 } ]"""));

        var created = Merged(fieldManager.Apply(null, config, "flux", force: false, T0));

        var portFields = FieldsOf(created, "flux")["f:spec"]!["f:template"]!["f:spec"]!["f:containers"]!["k:{\"name\":\"app\"}"]!["f:ports"]!.AsObject();
        Assert.Equal(
            ["k:{\"containerPort\":9090,\"protocol\":\"TCP\"}", "k:{\"containerPort\":10000,\"protocol\":\"TCP\"}"],
            portFields.Select(p => p.Key));
    }

    [Fact]
    public void Apply_AtomicListChangedByOtherManager_ConflictsThenForceReplacesWholeList()
    {
        var live = Merged(fieldManager.Apply(null, With(Deploy(), d => Container(d)["args"] = new JsonArray("--a", "--b")), "flux", force: false, T0));
        var other = Parse("""
            {
              "apiVersion": "apps/v1", "kind": "Deployment", "metadata": { "name": "web", "namespace": "shop" },
              "spec": { "template": { "spec": { "containers": [ { "name": "app", "args": ["--c"] } ] } } }
            }
            """);

        var conflict = Assert.Single(fieldManager.Apply(live, other, "debugger", force: false, T1).Conflicts);
        var forced = Merged(fieldManager.Apply(live, other, "debugger", force: true, T1));

        Assert.Equal(".spec.template.spec.containers[name=\"app\"].args", conflict.Field);
        AssertJsonEqual(new JsonArray("--c"), Container(forced)["args"]);
        Assert.True(Owns(forced, "debugger", "Apply", "f:spec", "f:template", "f:spec", "f:containers", "k:{\"name\":\"app\"}", "f:args"));
        Assert.False(Owns(forced, "flux", "Apply", "f:spec", "f:template", "f:spec", "f:containers", "k:{\"name\":\"app\"}", "f:args"));
    }

    [Fact]
    public void Apply_FinalizersAsSet_MergesAndRemovesPerValue()
    {
        var withFinalizer = With(Deploy(), d => d["metadata"]!["finalizers"] = new JsonArray("example.com/cleanup"));
        var live = Merged(fieldManager.Apply(null, withFinalizer, "flux", force: false, T0));
        live = Merged(fieldManager.Apply(live, Parse("""
            { "apiVersion": "apps/v1", "kind": "Deployment", "metadata": { "name": "web", "namespace": "shop", "finalizers": ["example.com/backup"] } }
            """), "backup", force: false, T1));

        var after = Merged(fieldManager.Apply(live, Deploy(), "flux", force: false, T2));

        AssertJsonEqual(new JsonArray("example.com/cleanup", "example.com/backup"), live["metadata"]!["finalizers"]);
        AssertJsonEqual(new JsonArray("example.com/backup"), after["metadata"]!["finalizers"]);
        Assert.True(Owns(after, "backup", "Apply", "f:metadata", "f:finalizers", "v:\"example.com/backup\""));
    }

    [Fact]
    public void Apply_NewItemsFromAnotherManager_KeepsLiveOrderAndAppends()
    {
        var config = With(Deploy(), d => d["metadata"]!["finalizers"] = new JsonArray("a", "b"));
        var live = Merged(fieldManager.Apply(null, config, "flux", force: false, T0));

        var merged = Merged(fieldManager.Apply(live, Parse("""
            { "apiVersion": "apps/v1", "kind": "Deployment", "metadata": { "name": "web", "namespace": "shop", "finalizers": ["b", "c"] } }
            """), "other", force: false, T1));

        AssertJsonEqual(new JsonArray("a", "b", "c"), merged["metadata"]!["finalizers"]);
    }

    [Fact]
    public void Apply_ServicePorts_KeyedByPortAndProtocolWithAtomicSelector()
    {
        var service = Parse("""
            {
              "apiVersion": "v1", "kind": "Service", "metadata": { "name": "web", "namespace": "shop" },
              "spec": { "selector": { "app": "web" }, "ports": [ { "port": 80, "targetPort": 8080 } ] }
            }
            """);

        var created = Merged(fieldManager.Apply(null, service, "flux", force: false, T0));

        Assert.Equal(
            """{"f:spec":{"f:ports":{"k:{\"port\":80,\"protocol\":\"TCP\"}":{".":{},"f:port":{},"f:targetPort":{}}},"f:selector":{}}}""",
            Json(FieldsOf(created, "flux")));
    }

    [Fact]
    public void Apply_RbacRulesAtomic_ReplacedWhole()
    {
        var role = """
            { "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": { "name": "r", "namespace": "shop" },
              "rules": [ { "apiGroups": [""], "resources": ["pods"], "verbs": ["get"] } ] }
            """;
        var live = Merged(fieldManager.Apply(null, Parse(role), "flux", force: false, T0));

        var changed = Merged(fieldManager.Apply(live, With(Parse(role), r => r["rules"] = JsonNode.Parse("""[ { "apiGroups": [""], "resources": ["secrets"], "verbs": ["list"] } ]""")), "flux", force: false, T1));

        AssertJsonEqual(JsonNode.Parse("""[ { "apiGroups": [""], "resources": ["secrets"], "verbs": ["list"] } ]"""), changed["rules"]);
        Assert.Equal("""{"f:rules":{}}""", Json(FieldsOf(changed, "flux")));
    }

    [Fact]
    public void Apply_LiveWithDuplicateKeys_KeepsDuplicatesUnlessConfigNamesThem()
    {
        var duplicated = With(Deploy(), d => Container(d)["env"] = JsonNode.Parse("""
            [ { "name": "A", "value": "1" }, { "name": "DUP", "value": "x" }, { "name": "DUP", "value": "y" } ]
            """));
        var live = fieldManager.Update(null, duplicated, "kubectl-create", T0);
        var other = Parse("""
            {
              "apiVersion": "apps/v1", "kind": "Deployment", "metadata": { "name": "web", "namespace": "shop" },
              "spec": { "template": { "spec": { "containers": [ { "name": "app", "env": [ { "name": "B", "value": "2" } ] } ] } } }
            }
            """);

        var kept = Merged(fieldManager.Apply(live, other, "tracer", force: false, T1));
        var replaced = Merged(fieldManager.Apply(live, With(other, d => Container(d)["env"]![0]!["name"] = "DUP"), "tracer", force: true, T1));

        Assert.Equal(["A", "DUP", "DUP", "B"], Container(kept)["env"]!.AsArray().Select(e => (string?)e!["name"]));
        Assert.Equal(["A", "DUP"], Container(replaced)["env"]!.AsArray().Select(e => (string?)e!["name"]));
        Assert.Equal("2", (string?)Container(replaced)["env"]![1]!["value"]);
    }

    [Fact]
    public void Apply_LiveItemWithoutKey_KeptInPlace()
    {
        var live = fieldManager.Update(null, With(Deploy(), d => Container(d)["env"] = JsonNode.Parse("""[ { "value": "orphan" }, { "name": "A", "value": "1" } ]""")), "kubectl-create", T0);

        var merged = Merged(fieldManager.Apply(live, With(Deploy(), d => Container(d)["env"] = JsonNode.Parse("""[ { "name": "B", "value": "2" } ]""")), "flux", force: false, T1));

        AssertJsonEqual(
            JsonNode.Parse("""[ { "value": "orphan" }, { "name": "A", "value": "1" }, { "name": "B", "value": "2" } ]"""),
            Container(merged)["env"]);
    }
}
