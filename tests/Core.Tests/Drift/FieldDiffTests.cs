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
    public void Compare_MatchingLiveBeingDeleted_ReportsBeingDeletedFirst()
    {
        var live = (JsonObject)s_desired.DeepClone();
        live["metadata"]!["deletionTimestamp"] = "2026-01-01T00:00:00Z";
        live["metadata"]!["finalizers"] = new JsonArray("example.com/drain");
        live["spec"]!["replicas"] = 3;

        Assert.Equal([FieldDiff.BeingDeletedMarker, ".spec.replicas"], FieldDiff.Compare(s_desired, live));
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

    [Fact]
    public void Compare_ZeroValuesTheServerOmits_NoDifference()
    {
        var desired = Pod("""{"hostNetwork":false,"containers":[{"name":"web","env":[{"name":"E","value":""}],"livenessProbe":{"initialDelaySeconds":0},"volumeMounts":[{"name":"v","mountPath":"/v","readOnly":false}]}]}""", minReadySeconds: "0");
        var live = Pod("""{"containers":[{"name":"web","env":[{"name":"E"}],"livenessProbe":{},"volumeMounts":[{"name":"v","mountPath":"/v"}]}]}""");

        Assert.Empty(FieldDiff.Compare(desired, live));
    }

    [Fact]
    public void Compare_NonZeroOrPointerValueMissingLive_ReportsIt()
    {
        var desired = Pod("""{"hostNetwork":true,"automountServiceAccountToken":false,"containers":[{"name":"web","env":[{"name":"E","value":"x"}],"securityContext":{"runAsUser":0},"volumeMounts":[{"name":"v","mountPath":"/v","readOnly":true}]}]}""", minReadySeconds: "5");
        var live = Pod("""{"containers":[{"name":"web","env":[{"name":"E"}],"securityContext":{},"volumeMounts":[{"name":"v","mountPath":"/v"}]}]}""");

        var paths = FieldDiff.Compare(desired, live);

        Assert.Equal(
            [
                ".spec.template.spec.hostNetwork",
                ".spec.template.spec.automountServiceAccountToken",
                ".spec.template.spec.containers[name=\"web\"].env[name=\"E\"].value",
                ".spec.template.spec.containers[name=\"web\"].securityContext.runAsUser",
                ".spec.template.spec.containers[name=\"web\"].volumeMounts[name=\"v\"].readOnly",
                ".spec.minReadySeconds",
            ],
            paths);
    }

    [Fact]
    public void Compare_ZeroValueOfCustomResourceMissingLive_ReportsIt()
    {
        var desired = Parse("""{"apiVersion":"example.io/v1","kind":"Widget","spec":{"hostNetwork":false,"limits":{"cpu":0.5}}}""");
        var live = Parse("""{"apiVersion":"example.io/v1","kind":"Widget","spec":{"limits":{"cpu":"500m"}}}""");

        Assert.Equal([".spec.hostNetwork", ".spec.limits.cpu"], FieldDiff.Compare(desired, live));
    }

    [Theory]
    [InlineData("0.5", "\"500m\"")]
    [InlineData("\"0.5\"", "\"500m\"")]
    [InlineData("\"1000m\"", "\"1\"")]
    [InlineData("1.5", "\"1500m\"")]
    [InlineData("\"1024Mi\"", "\"1Gi\"")]
    [InlineData("\"1e3\"", "\"1k\"")]
    public void Compare_QuantityInAnotherFormOfTheSameValue_NoDifference(string desired, string live)
    {
        Assert.Empty(FieldDiff.Compare(Quantities(desired), Quantities(live)));
    }

    [Theory]
    [InlineData("\"500m\"", "\"1\"")]
    [InlineData("0.5", "\"501m\"")]
    [InlineData("\"1Gi\"", "\"1G\"")]
    public void Compare_QuantityOfAnotherValue_ReportsEveryField(string desired, string live)
    {
        var paths = FieldDiff.Compare(Quantities(desired), Quantities(live));

        Assert.Equal(8, paths.Count);
        Assert.Contains(".spec.template.spec.containers[name=\"web\"].resources.limits.cpu", paths);
        Assert.Contains(".spec.template.spec.volumes[name=\"v\"].emptyDir.sizeLimit", paths);
    }

    [Fact]
    public void Compare_SameNumberTextOutsideQuantities_ReportsIt()
    {
        var desired = Parse("""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"annotations":{"cpu":"0.5"}},"data":{"cpu":"0.5"}}""");
        var live = Parse("""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"annotations":{"cpu":"500m"}},"data":{"cpu":"500m"}}""");

        Assert.Equal([".metadata.annotations.cpu", ".data.cpu"], FieldDiff.Compare(desired, live));
    }

    [Fact]
    public void Compare_StringDataMergedIntoLiveData_NoDifference()
    {
        var desired = Parse("""{"apiVersion":"v1","kind":"Secret","data":{"user":"b2xk","keep":"a2VwdA=="},"stringData":{"user":"admin","token":"s3cret"}}""");
        var live = Parse("""{"apiVersion":"v1","kind":"Secret","data":{"user":"YWRtaW4=","keep":"a2VwdA==","token":"czNjcmV0"}}""");

        Assert.Empty(FieldDiff.Compare(desired, live));
    }

    [Fact]
    public void Compare_StringDataOrDataDifferingFromLiveData_ReportsThem()
    {
        var desired = Parse("""{"apiVersion":"v1","kind":"Secret","data":{"user":"b2xk","keep":"a2VwdA=="},"stringData":{"user":"admin","token":"s3cret","gone":"x"}}""");
        var live = Parse("""{"apiVersion":"v1","kind":"Secret","data":{"user":"b2xk","keep":"Y2hhbmdlZA==","token":"czNjcmV0"}}""");

        Assert.Equal([".data.keep", ".stringData.user", ".stringData.gone"], FieldDiff.Compare(desired, live));
    }

    [Fact]
    public void Compare_EmptyObjectMissingLive_ReportsItUnlessAnOmittedEmptyMap()
    {
        var desired = Pod("""{"nodeSelector":{},"securityContext":{},"volumes":[{"name":"v","emptyDir":{}}]}""");
        ((JsonObject)desired["metadata"]!)["annotations"] = new JsonObject();
        var live = Pod("""{"volumes":[{"name":"v","hostPath":{"path":"/tmp"}}]}""");

        Assert.Equal([".spec.template.spec.securityContext", ".spec.template.spec.volumes[name=\"v\"].emptyDir"], FieldDiff.Compare(desired, live));
        Assert.Empty(FieldDiff.Compare(desired, Pod("""{"securityContext":{},"volumes":[{"name":"v","emptyDir":{}}]}""")));
    }

    [Fact]
    public void Compare_PriorityClassWithGlobalDefaultFalse_NoDifference()
    {
        var desired = Parse("""{"apiVersion":"scheduling.k8s.io/v1","kind":"PriorityClass","metadata":{"name":"high"},"value":1000,"globalDefault":false,"description":""}""");
        var live = Parse("""{"apiVersion":"scheduling.k8s.io/v1","kind":"PriorityClass","metadata":{"name":"high"},"value":1000,"preemptionPolicy":"PreemptLowerPriority"}""");

        Assert.Empty(FieldDiff.Compare(desired, live));
    }

    [Fact]
    public void Compare_CrdWithZeroValuesTheServerOmits_NoDifference()
    {
        var desired = Parse("""
            {"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{"name":"widgets.example.io"},
             "spec":{"group":"example.io","scope":"Namespaced","preserveUnknownFields":false,"names":{"plural":"widgets","kind":"Widget"},
               "versions":[{"name":"v1","served":true,"storage":true,"deprecated":false,
                 "additionalPrinterColumns":[{"name":"Size","type":"integer","jsonPath":".spec.size","priority":0,"description":""}],
                 "schema":{"openAPIV3Schema":{"type":"object","properties":{"spec":{"type":"object","nullable":false,
                   "x-kubernetes-validations":[{"rule":"self.size > 0","message":""}],
                   "properties":{"size":{"type":"integer","uniqueItems":false},"port":{"x-kubernetes-int-or-string":true,"anyOf":[{"type":"integer"},{"type":"string"}]},
                     "labels":{"type":"object","properties":{},"x-kubernetes-embedded-resource":false}}}}}}}]}}
            """);
        var live = Parse("""
            {"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{"name":"widgets.example.io"},
             "spec":{"group":"example.io","scope":"Namespaced","names":{"plural":"widgets","singular":"widget","kind":"Widget","listKind":"WidgetList"},
               "conversion":{"strategy":"None"},
               "versions":[{"name":"v1","served":true,"storage":true,
                 "additionalPrinterColumns":[{"name":"Size","type":"integer","jsonPath":".spec.size"}],
                 "schema":{"openAPIV3Schema":{"type":"object","properties":{"spec":{"type":"object",
                   "x-kubernetes-validations":[{"rule":"self.size > 0"}],
                   "properties":{"size":{"type":"integer"},"port":{"x-kubernetes-int-or-string":true,"anyOf":[{"type":"integer"},{"type":"string"}]},
                     "labels":{"type":"object"}}}}}}}]}}
            """);

        Assert.Empty(FieldDiff.Compare(desired, live));
    }

    [Fact]
    public void Compare_CrdNonZeroMissingOrSchemaDefaultInAnotherForm_ReportsIt()
    {
        var desired = Parse("""
            {"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{"name":"widgets.example.io"},
             "spec":{"preserveUnknownFields":true,"versions":[{"name":"v1","schema":{"openAPIV3Schema":{"type":"object","properties":{
               "limits":{"type":"string","default":"0.5","nullable":true}}}}}]}}
            """);
        var live = Parse("""
            {"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{"name":"widgets.example.io"},
             "spec":{"versions":[{"name":"v1","schema":{"openAPIV3Schema":{"type":"object","properties":{
               "limits":{"type":"string","default":"500m"}}}}}]}}
            """);

        Assert.Equal(
            [
                ".spec.preserveUnknownFields",
                ".spec.versions[name=\"v1\"].schema.openAPIV3Schema.properties.limits.default",
                ".spec.versions[name=\"v1\"].schema.openAPIV3Schema.properties.limits.nullable",
            ],
            FieldDiff.Compare(desired, live));
    }

    [Theory]
    [InlineData("RoleBinding")]
    [InlineData("ClusterRoleBinding")]
    public void Compare_BindingSubjectWithEmptyApiGroup_NoDifference(string kind)
    {
        var desired = Parse($$$"""
            {"apiVersion":"rbac.authorization.k8s.io/v1","kind":"{{{kind}}}","metadata":{"name":"reader"},
             "subjects":[{"kind":"ServiceAccount","name":"app","namespace":"shop","apiGroup":""}],
             "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"view"}}
            """);
        var live = Parse($$$"""
            {"apiVersion":"rbac.authorization.k8s.io/v1","kind":"{{{kind}}}","metadata":{"name":"reader"},
             "subjects":[{"kind":"ServiceAccount","name":"app","namespace":"shop"}],
             "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"view"}}
            """);

        Assert.Empty(FieldDiff.Compare(desired, live));
    }

    [Fact]
    public void Compare_ZeroValueOfCustomResourceInAK8sIoGroupMissingLive_ReportsIt()
    {
        var desired = Parse("""{"apiVersion":"gateway.networking.k8s.io/v1","kind":"Gateway","metadata":{"name":"gw"},"description":"","spec":{"preserveUnknownFields":false}}""");
        var live = Parse("""{"apiVersion":"gateway.networking.k8s.io/v1","kind":"Gateway","metadata":{"name":"gw"},"spec":{}}""");

        Assert.Equal([".description", ".spec.preserveUnknownFields"], FieldDiff.Compare(desired, live));
    }

    /// <summary>A Deployment with the given pod spec (JSON) and, when given, spec.minReadySeconds.</summary>
    private static JsonObject Pod(string podSpec, string? minReadySeconds = null)
    {
        var deployment = Parse("""{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"template":{}}}""");
        if (minReadySeconds is not null)
        {
            deployment["spec"]!["minReadySeconds"] = JsonNode.Parse(minReadySeconds);
        }

        deployment["spec"]!["template"]!["spec"] = JsonNode.Parse(podSpec);
        return deployment;
    }

    /// <summary>One quantity (JSON) in every kind of quantity field.</summary>
    private static JsonObject Quantities(string quantity) => Parse("""
        {"apiVersion":"apps/v1","kind":"Deployment","spec":{"template":{"spec":{
          "containers":[{"name":"web","resources":{"limits":{"cpu":Q},"requests":{"memory":Q}}}],
          "overhead":{"cpu":Q},"volumes":[{"name":"v","emptyDir":{"sizeLimit":Q}}]}},
          "quota":{"hard":{"cpu":Q}},"range":{"limits":[{"type":"Container","default":{"cpu":Q},"max":{"cpu":Q}}]},
          "claim":{"resources":{"requests":{"storage":Q}}}}}
        """.Replace("Q", quantity, StringComparison.Ordinal));

    private static JsonObject Parse(string json) => JsonNode.Parse(json)!.AsObject();
}
