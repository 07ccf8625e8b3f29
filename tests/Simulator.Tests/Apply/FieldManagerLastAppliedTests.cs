using System.Text.Json.Nodes;
using FleetFunctions.Simulator.Apply;
using Xunit;
using static FleetFunctions.Simulator.Tests.Apply.ApplyFixtures;

namespace FleetFunctions.Simulator.Tests.Apply;

public sealed class FieldManagerLastAppliedTests
{
    private const string Annotation = "kubectl.kubernetes.io/last-applied-configuration";

    private const string ConfigMap = """
        { "apiVersion": "v1", "kind": "ConfigMap", "metadata": { "name": "cfg", "namespace": "shop" }, "data": { "a": "1", "b": "2" } }
        """;

    private readonly FieldManager fieldManager = new();

    /// <summary>The object as <c>kubectl apply</c> (client-side) creates it.</summary>
    private JsonObject ClientSideApplied() =>
        fieldManager.Update(
            null,
            With(Parse(ConfigMap), c => c["metadata"]!["annotations"] = new JsonObject
            {
                [Annotation] = """{"apiVersion":"v1","data":{"a":"1","b":"2"},"kind":"ConfigMap","metadata":{"annotations":{},"name":"cfg","namespace":"shop"}}""" + "\n",
            }),
            "kubectl-client-side-apply",
            T0);

    [Fact]
    public void Apply_KubectlChangingFieldFromLastApplied_ForcesInsteadOfConflicting()
    {
        var live = ClientSideApplied();

        var applied = Merged(fieldManager.Apply(live, With(Parse(ConfigMap), c => c["data"]!["a"] = "9"), "kubectl", force: false, T1));

        Assert.Equal("9", (string?)applied["data"]!["a"]);
        Assert.True(Owns(applied, "kubectl", "Apply", "f:data", "f:a"));
        Assert.False(Owns(applied, "kubectl-client-side-apply", "Update", "f:data", "f:a"));
        Assert.Equal(
            """{"apiVersion":"v1","data":{"a":"9","b":"2"},"kind":"ConfigMap","metadata":{"name":"cfg","namespace":"shop"}}""" + "\n",
            (string?)applied["metadata"]!["annotations"]![Annotation]);
    }

    [Fact]
    public void Apply_OtherManagerChangingFieldFromLastApplied_Conflicts()
    {
        var live = ClientSideApplied();

        var result = fieldManager.Apply(live, With(Parse(ConfigMap), c => c["data"]!["a"] = "9"), "flux", force: false, T1);

        var conflict = Assert.Single(result.Conflicts);
        Assert.Equal(("kubectl-client-side-apply", ".data.a"), (conflict.Manager, conflict.Field));
    }
}
