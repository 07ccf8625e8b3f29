using System.Text.Json.Nodes;
using FleetFunctions.Simulator.Apply;
using Xunit;
using static FleetFunctions.Simulator.Tests.Apply.ApplyFixtures;

namespace FleetFunctions.Simulator.Tests.Apply;

public sealed class FieldsV1Tests
{
    private readonly FieldManager fieldManager = new();

    [Fact]
    public void Apply_TypicalDeployment_EncodesFieldsV1AsKubernetes()
    {
        // Same shape as a kube-apiserver 1.2x Apply entry published for a Deployment applied server-side.
        var config = Parse("""
            {
              "apiVersion": "apps/v1", "kind": "Deployment",
              "metadata": { "name": "nginx", "namespace": "default", "annotations": { "pulumi.com/autonamed": "true" } },
              "spec": {
                "selector": { "matchLabels": { "app": "nginx" } },
                "template": {
                  "metadata": { "labels": { "app": "nginx" } },
                  "spec": { "containers": [ { "name": "nginx", "image": "nginx" } ] }
                }
              }
            }
            """);

        var created = Merged(fieldManager.Apply(null, config, "kubernetes-ts-ssa-deploy", force: false, T0));

        Assert.Equal(
            """{"f:metadata":{"f:annotations":{"f:pulumi.com/autonamed":{}}},"f:spec":{"f:selector":{},"f:template":{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"nginx\"}":{".":{},"f:image":{},"f:name":{}}}}}}}""",
            Json(FieldsOf(created, "kubernetes-ts-ssa-deploy")));
        Assert.Equal(
            ["manager", "operation", "apiVersion", "time", "fieldsType", "fieldsV1"],
            Entry(created, "kubernetes-ts-ssa-deploy")!.Select(p => p.Key));
    }

    [Fact]
    public void Apply_EnvFromSecret_OwnsSecretKeyRefAtomically()
    {
        var config = With(Deploy(), d => Container(d)["env"] = JsonNode.Parse("""
            [ { "name": "DATABASE_URL", "valueFrom": { "secretKeyRef": { "name": "db", "key": "url" } } } ]
            """));

        var created = Merged(fieldManager.Apply(null, config, "flux", force: false, T0));

        var env = FieldsOf(created, "flux")["f:spec"]!["f:template"]!["f:spec"]!["f:containers"]!["k:{\"name\":\"app\"}"]!["f:env"]!;
        Assert.Equal("""{"k:{\"name\":\"DATABASE_URL\"}":{".":{},"f:name":{},"f:valueFrom":{"f:secretKeyRef":{}}}}""", Json(env));
    }

    [Fact]
    public void FieldSet_FieldsV1RoundTrip_PreservesEveryKindOfElement()
    {
        var document = JsonNode.Parse("""
            {"f:metadata":{"f:finalizers":{".":{},"v:\"a/b\"":{}},"f:labels":{".":{},"f:app":{}}},
             "f:spec":{"f:args":{},"f:list":{"i:0":{},"i:10":{}},"f:ports":{"k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{".":{},"f:name":{}}}}}
            """)!.AsObject();

        var set = FieldSet.FromFieldsV1(document);

        Assert.Equal(Json(document), Json(set.ToFieldsV1()));
        Assert.Equal(
            [".metadata.finalizers", ".metadata.finalizers[=\"a/b\"]", ".metadata.labels", ".metadata.labels.app", ".spec.args",
             ".spec.list[0]", ".spec.list[10]", ".spec.ports[containerPort=80,protocol=\"TCP\"]", ".spec.ports[containerPort=80,protocol=\"TCP\"].name"],
            set.ToDisplayPaths());
    }

    [Fact]
    public void PathElement_KeyWithHtmlCharacters_EscapedAsGo()
    {
        var element = PathElement.Keyed([new("name", JsonValue.Create("a<b>&c"))]);

        Assert.Equal("k:{\"name\":\"a\\u003cb\\u003e\\u0026c\"}", element.ToFieldsV1());
    }

    [Fact]
    public void PathElement_Ordering_FieldsThenKeysThenValuesThenIndices()
    {
        var elements = new[]
        {
            PathElement.AtIndex(2),
            PathElement.SetItem(JsonValue.Create("x")),
            PathElement.Keyed([new("port", JsonValue.Create(10))]),
            PathElement.Keyed([new("port", JsonValue.Create(9))]),
            PathElement.Field("b"),
            PathElement.Field("a"),
        };

        Array.Sort(elements);

        Assert.Equal(
            ["f:a", "f:b", "k:{\"port\":9}", "k:{\"port\":10}", "v:\"x\"", "i:2"],
            elements.Select(e => e.ToFieldsV1()));
    }
}
