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
    public void Evaluate_RolledOutDeploymentBeingDeleted_InProgressNamingFinalizers()
    {
        var (status, reason) = HealthRules.Evaluate(Parse("""
            {"kind":"Deployment","metadata":{"generation":2,"deletionTimestamp":"2026-01-01T00:00:00Z","finalizers":["example.com/drain"]},"spec":{"replicas":3},
             "status":{"observedGeneration":2,"replicas":3,"updatedReplicas":3,"availableReplicas":3}}
            """));

        Assert.Equal(HealthStatus.InProgress, status);
        Assert.Equal("being deleted, waiting for finalizers example.com/drain", reason);
    }

    [Fact]
    public void Evaluate_TerminatingNamespace_InProgressNamingItsOwnFinalizer()
    {
        var (status, reason) = HealthRules.Evaluate(Parse("""
            {"kind":"Namespace","metadata":{"name":"shop","deletionTimestamp":"2026-01-01T00:00:00Z"},"spec":{"finalizers":["kubernetes"]},"status":{"phase":"Terminating"}}
            """));

        Assert.Equal(HealthStatus.InProgress, status);
        Assert.Equal("being deleted, waiting for finalizers kubernetes", reason);
    }

    [Fact]
    public void Evaluate_DeploymentGenerationNotObserved_InProgress()
    {
        var (status, reason) = HealthRules.Evaluate(Parse("""{"kind":"Deployment","metadata":{"generation":3},"spec":{"replicas":1},"status":{"observedGeneration":2,"replicas":1,"updatedReplicas":1,"availableReplicas":1}}"""));

        Assert.Equal(HealthStatus.InProgress, status);
        Assert.Contains("generation 3", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_SealedSecretTheClusterCannotUnseal_FailedWithTheControllersMessageAndTheCertificateHint()
    {
        // What bitnami's controller writes when none of its keys opens the values.
        var (status, reason) = HealthRules.Evaluate(Parse("""
            {"apiVersion":"bitnami.com/v1alpha1","kind":"SealedSecret","metadata":{"generation":2},
             "status":{"observedGeneration":2,"conditions":[{"type":"Synced","status":"False","message":"no key could decrypt secret (password)"}]}}
            """));

        Assert.Equal(HealthStatus.Failed, status);
        Assert.Contains("no key could decrypt secret (password)", reason, StringComparison.Ordinal);
        Assert.Contains("spec.sealingCertificate", reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"observedGeneration":2,"conditions":[{"type":"Synced","status":"True"}]}""", HealthStatus.Current)]
    [InlineData("""{"observedGeneration":1,"conditions":[{"type":"Synced","status":"True"}]}""", HealthStatus.InProgress)]
    [InlineData("""{"observedGeneration":1,"conditions":[{"type":"Synced","status":"False","message":"no key could decrypt secret"}]}""", HealthStatus.InProgress)]
    [InlineData(null, HealthStatus.InProgress)]
    public void Evaluate_SealedSecret_SyncedForItsGeneration(string? statusJson, HealthStatus expected)
    {
        var live = Parse("""{"apiVersion":"bitnami.com/v1alpha1","kind":"SealedSecret","metadata":{"generation":2}}""");
        if (statusJson is not null)
        {
            live["status"] = JsonNode.Parse(statusJson);
        }

        Assert.Equal(expected, HealthRules.Evaluate(live).Status);
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

    [Fact]
    public void Evaluate_CustomResourceReadyFromThePreviousGeneration_InProgress()
    {
        // The apply response after a spec change: the controller has not seen generation 3, its Ready=True is about 2.
        var (status, reason) = HealthRules.Evaluate(Parse("""
            {"apiVersion":"cert-manager.io/v1","kind":"Certificate","metadata":{"name":"web","namespace":"shop","generation":3},
             "spec":{"secretName":"web-tls","dnsNames":["shop.example.com"],"issuerRef":{"name":"letsencrypt","kind":"ClusterIssuer"}},
             "status":{"observedGeneration":2,"conditions":[{"type":"Ready","status":"True","reason":"Ready","message":"Certificate is up to date and has not expired","observedGeneration":2}]}}
            """));

        Assert.Equal(HealthStatus.InProgress, status);
        Assert.Contains("generation 3", reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"kind":"Certificate","metadata":{"generation":3},"status":{"observedGeneration":3,"conditions":[{"type":"Ready","status":"True"}]}}""", HealthStatus.Current)]
    [InlineData("""{"kind":"Certificate","metadata":{"generation":3},"status":{"observedGeneration":3,"conditions":[{"type":"Ready","status":"False","reason":"Issuing"}]}}""", HealthStatus.InProgress)]
    [InlineData("""{"kind":"Widget","metadata":{"generation":3},"status":{"conditions":[{"type":"Ready","status":"True"}]}}""", HealthStatus.Current)]
    [InlineData("""{"kind":"Widget","metadata":{"generation":2},"spec":{"size":2},"status":{"observedGeneration":1}}""", HealthStatus.InProgress)]
    public void Evaluate_ObservedGeneration_GatesEveryRuleWhereReported(string json, HealthStatus expected)
    {
        Assert.Equal(expected, HealthRules.Evaluate(Parse(json)).Status);
    }

    [Fact]
    public void Evaluate_StatefulSetPartitionRolledOut_Current()
    {
        // A canary of the new template on ordinal 2 only: pods 0 and 1 stay on the current revision by design.
        var (status, _) = HealthRules.Evaluate(StatefulSet(partition: 2, updatedReplicas: 1));

        Assert.Equal(HealthStatus.Current, status);
    }

    [Fact]
    public void Evaluate_StatefulSetPartitionNotYetRolledOut_InProgress()
    {
        var (status, reason) = HealthRules.Evaluate(StatefulSet(partition: 1, updatedReplicas: 1));

        Assert.Equal(HealthStatus.InProgress, status);
        Assert.Contains("1 of 2 replicas", reason, StringComparison.Ordinal);
    }

    private static JsonObject StatefulSet(int partition, int updatedReplicas) => Parse("""
        {"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":"db","namespace":"shop","generation":2},
         "spec":{"replicas":3,"serviceName":"db","selector":{"matchLabels":{"app":"db"}},
           "updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"partition":PARTITION}},
           "template":{"metadata":{"labels":{"app":"db"}},"spec":{"containers":[{"name":"db","image":"postgres:16.4"}]}}},
         "status":{"observedGeneration":2,"replicas":3,"readyReplicas":3,"availableReplicas":3,"currentReplicas":CURRENT,
           "updatedReplicas":UPDATED,"currentRevision":"db-6d9f7c8b5","updateRevision":"db-7b5c9d4f8"}}
        """.Replace("PARTITION", $"{partition}", StringComparison.Ordinal).Replace("CURRENT", $"{3 - updatedReplicas}", StringComparison.Ordinal).Replace("UPDATED", $"{updatedReplicas}", StringComparison.Ordinal));

    private static JsonObject Parse(string json) => JsonNode.Parse(json)!.AsObject();
}
