using System.Text.Json.Nodes;
using FleetFunctions.Core.Drift;
using Xunit;

namespace FleetFunctions.Core.Tests.Drift;

public sealed class FieldDiffTests
{
    private static readonly JsonObject s_desired = Parse("""
        {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"app","labels":{"app":"web"}},
         "spec":{"replicas":2,"template":{"spec":{"containers":[{"name":"web","image":"nginx:1","ports":[{"containerPort":80}],"args":["--a","--b"]}]}}}}
        """);

    [Fact]
    public void Compare_LiveWithServerFieldsAndStatus_NoDifferences()
    {
        var live = (JsonObject)s_desired.DeepClone();
        live["metadata"]!["uid"] = "123";
        live["metadata"]!["labels"]!["added-by-controller"] = "yes";
        live["spec"]!["strategy"] = new JsonObject { ["type"] = "RollingUpdate" };
        live["spec"]!["template"]!["spec"]!["containers"]![0]!["imagePullPolicy"] = "IfNotPresent";
        live["spec"]!["template"]!["spec"]!["containers"]![0]!["ports"]![0]!["protocol"] = "TCP";
        live["status"] = new JsonObject { ["replicas"] = 2 };

        Assert.Empty(FieldDiff.Compare(s_desired, live));
    }

    [Fact]
    public void Compare_ChangedImageAndReplicas_ReportsPathsInApiServerNotation()
    {
        var live = (JsonObject)s_desired.DeepClone();
        live["spec"]!["replicas"] = 5;
        live["spec"]!["template"]!["spec"]!["containers"]![0]!["image"] = "nginx:2";

        var paths = FieldDiff.Compare(s_desired, live);

        Assert.Equal([".spec.replicas", ".spec.template.spec.containers[name=\"web\"].image"], paths);
    }

    [Fact]
    public void Compare_MissingLabelAndChangedAtomicList_ReportsBoth()
    {
        var live = (JsonObject)s_desired.DeepClone();
        ((JsonObject)live["metadata"]!["labels"]!).Remove("app");
        live["spec"]!["template"]!["spec"]!["containers"]![0]!["args"] = new JsonArray("--a");

        var paths = FieldDiff.Compare(s_desired, live);

        Assert.Equal([".metadata.labels.app", ".spec.template.spec.containers[name=\"web\"].args"], paths);
    }

    [Fact]
    public void Compare_NumberAsEquivalentNumber_NoDifference()
    {
        var desired = Parse("""{"spec":{"cpu":1.50,"port":80}}""");
        var live = Parse("""{"spec":{"cpu":1.5,"port":80.0}}""");

        Assert.Empty(FieldDiff.Compare(desired, live));
    }

    private static JsonObject Parse(string json) => JsonNode.Parse(json)!.AsObject();
}
