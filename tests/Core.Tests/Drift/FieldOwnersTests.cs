using System.Text.Json.Nodes;
using FleetFunctions.Core.Drift;
using Xunit;

namespace FleetFunctions.Core.Tests.Drift;

public sealed class FieldOwnersTests
{
    private static readonly JsonObject s_live = JsonNode.Parse("""
        {"metadata":{"name":"web","labels":{"app.kubernetes.io/name":"web"},"managedFields":[
          {"manager":"fleetfunctions","operation":"Apply","fieldsV1":{"f:metadata":{"f:labels":{"f:app.kubernetes.io/name":{}}},"f:spec":{"f:replicas":{}}}},
          {"manager":"hpa-controller","operation":"Update","fieldsV1":{"f:spec":{"f:replicas":{}}}},
          {"manager":"kubectl-edit","operation":"Update","fieldsV1":{"f:metadata":{"f:labels":{".":{},"f:app.kubernetes.io/name":{}}},
            "f:spec":{"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{".":{},"f:image":{},"f:args":{}}}}}}}}]}}
        """)!.AsObject();

    [Theory]
    [InlineData(".spec.replicas", "hpa-controller")]
    [InlineData(".metadata.labels.app.kubernetes.io/name", "kubectl-edit")]
    [InlineData(".spec.template.spec.containers[name=\"web\"].image", "kubectl-edit")]
    [InlineData(".spec.template.spec.containers[name=\"web\"].args[1]", "kubectl-edit")]
    public void Of_DriftedPath_TheOtherManagersOwningIt(string path, string owner)
    {
        Assert.Equal([owner], FieldOwners.Of(s_live, [path], "fleetfunctions"));
    }

    [Theory]
    [InlineData(".spec.paused")]
    [InlineData(".spec.template.spec.containers[name=\"sidecar\"].image")]
    public void Of_PathNobodyElseOwns_Empty(string path)
    {
        Assert.Empty(FieldOwners.Of(s_live, [path], "fleetfunctions"));
    }
}
