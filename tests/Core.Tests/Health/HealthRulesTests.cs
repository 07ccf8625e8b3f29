using System.Text.Json.Nodes;
using FleetFunctions.Core.Health;
using Xunit;

namespace FleetFunctions.Core.Tests.Health;

public sealed class HealthRulesTests
{
    [Fact]
    public void Evaluate_DeploymentRolledOut_Current()
    {
        var (status, _) = HealthRules.Evaluate(Parse("""{"kind":"Deployment","metadata":{"generation":2},"spec":{"replicas":3},"status":{"observedGeneration":2,"replicas":3,"updatedReplicas":3,"availableReplicas":3}}"""));

        Assert.Equal(HealthStatus.Current, status);
    }

    [Fact]
    public void Evaluate_DeploymentGenerationNotObserved_InProgress()
    {
        var (status, reason) = HealthRules.Evaluate(Parse("""{"kind":"Deployment","metadata":{"generation":3},"spec":{"replicas":1},"status":{"observedGeneration":2,"replicas":1,"updatedReplicas":1,"availableReplicas":1}}"""));

        Assert.Equal(HealthStatus.InProgress, status);
        Assert.Contains("generation 3", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_DeploymentDeadlineExceeded_FailedWithConditionMessage()
    {
        var (status, reason) = HealthRules.Evaluate(Parse("""
            {"kind":"Deployment","metadata":{"generation":1},"spec":{"replicas":1},
             "status":{"observedGeneration":1,"replicas":1,"updatedReplicas":1,"availableReplicas":0,
               "conditions":[{"type":"Progressing","status":"False","reason":"ProgressDeadlineExceeded","message":"ReplicaSet \"web-1\" has timed out progressing"}]}}
            """));

        Assert.Equal(HealthStatus.Failed, status);
        Assert.Contains("has timed out progressing", reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"kind":"Job","status":{"conditions":[{"type":"Complete","status":"True"}]}}""", HealthStatus.Current)]
    [InlineData("""{"kind":"Job","status":{"conditions":[{"type":"Failed","status":"True","reason":"BackoffLimitExceeded"}]}}""", HealthStatus.Failed)]
    [InlineData("""{"kind":"PersistentVolumeClaim","status":{"phase":"Pending"}}""", HealthStatus.InProgress)]
    [InlineData("""{"kind":"PersistentVolumeClaim","status":{"phase":"Bound"}}""", HealthStatus.Current)]
    [InlineData("""{"kind":"CustomResourceDefinition","status":{"conditions":[{"type":"Established","status":"True"}]}}""", HealthStatus.Current)]
    [InlineData("""{"kind":"Widget","status":{"conditions":[{"type":"Ready","status":"False","reason":"Waiting"}]}}""", HealthStatus.InProgress)]
    [InlineData("""{"kind":"ConfigMap","data":{}}""", HealthStatus.Current)]
    [InlineData("""{"kind":"StatefulSet","metadata":{"generation":1},"spec":{"replicas":2},"status":{"observedGeneration":1,"readyReplicas":1}}""", HealthStatus.InProgress)]
    [InlineData("""{"kind":"DaemonSet","metadata":{"generation":1},"status":{"observedGeneration":1,"desiredNumberScheduled":2,"updatedNumberScheduled":2,"numberAvailable":2}}""", HealthStatus.Current)]
    public void Evaluate_KindRules_MatchKstatus(string json, HealthStatus expected)
    {
        Assert.Equal(expected, HealthRules.Evaluate(Parse(json)).Status);
    }

    private static JsonObject Parse(string json) => JsonNode.Parse(json)!.AsObject();
}
