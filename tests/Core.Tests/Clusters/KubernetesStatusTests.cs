using System.Net;
using FleetFunctions.Core.Clusters;
using FleetFunctions.Core.Manifests;
using Xunit;

namespace FleetFunctions.Core.Tests.Clusters;

public sealed class KubernetesStatusTests
{
    private static readonly ObjectReference s_deployment = new("apps", "Deployment", "web", "frontend");

    [Fact]
    public void ToException_ImmutableSelector_ReturnsImmutableFieldException()
    {
        const string body = """
            {"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Invalid","code":422,
             "message":"Deployment.apps \"frontend\" is invalid: spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"x\"}}: field is immutable",
             "details":{"name":"frontend","group":"apps","kind":"Deployment","causes":[{"reason":"FieldValueInvalid","message":"Invalid value: v1.LabelSelector{...}: field is immutable","field":"spec.selector"}]}}
            """;

        var error = KubernetesStatus.ToException("prod-eu", s_deployment, HttpStatusCode.UnprocessableEntity, body);

        var immutable = Assert.IsType<ImmutableFieldException>(error);
        Assert.StartsWith("prod-eu/Deployment/web/frontend: immutable field changed: spec.selector:", immutable.Message, StringComparison.Ordinal);
        Assert.Contains("recreate", immutable.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("spec.clusterIPs[0]", "FieldValueInvalid", "Invalid value: []string{\"10.96.0.9\"}: may not change once set")]
    [InlineData("spec", "FieldValueForbidden", "Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden")]
    [InlineData("data", "FieldValueForbidden", "Forbidden: field is immutable when `immutable` is set")]
    [InlineData("spec", "FieldValueForbidden", "Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims")]
    public void ToException_UpdateOnlyRestriction_ReturnsImmutableFieldExceptionNamingField(string field, string causeReason, string causeMessage)
    {
        var body = new System.Text.Json.Nodes.JsonObject
        {
            ["kind"] = "Status",
            ["status"] = "Failure",
            ["reason"] = "Invalid",
            ["code"] = 422,
            ["message"] = $"X \"frontend\" is invalid: {field}: {causeMessage}",
            ["details"] = new System.Text.Json.Nodes.JsonObject
            {
                ["causes"] = new System.Text.Json.Nodes.JsonArray(new System.Text.Json.Nodes.JsonObject { ["reason"] = causeReason, ["message"] = causeMessage, ["field"] = field }),
            },
        }.ToJsonString();

        var error = KubernetesStatus.ToException("prod-eu", s_deployment, HttpStatusCode.UnprocessableEntity, body);

        var immutable = Assert.IsType<ImmutableFieldException>(error);
        Assert.Equal([field], immutable.Fields);
        Assert.StartsWith($"prod-eu/Deployment/web/frontend: immutable field changed: {field}: {causeMessage}; revert {field} in Git, or set recreate: true", immutable.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ToException_ImmutableAndOtherInvalidCauses_ReturnsInvalidObjectSoNothingIsRecreated()
    {
        const string body = """
            {"kind":"Status","status":"Failure","reason":"Invalid","code":422,"message":"Deployment.apps \"frontend\" is invalid: [...]",
             "details":{"causes":[{"reason":"FieldValueInvalid","message":"Invalid value: v1.LabelSelector{...}: field is immutable","field":"spec.selector"},
                                  {"reason":"FieldValueInvalid","message":"Invalid value: map[string]string{\"app\":\"x\"}: `selector` does not match template `labels`","field":"spec.template.metadata.labels"}]}}
            """;

        var error = KubernetesStatus.ToException("prod-eu", s_deployment, HttpStatusCode.UnprocessableEntity, body);

        var invalid = Assert.IsType<InvalidObjectException>(error);
        Assert.Contains("spec.template.metadata.labels: Invalid value", invalid.Message, StringComparison.Ordinal);
        Assert.EndsWith("fix the manifest in Git.", invalid.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ToException_ApplyConflict_ListsManagersAndFields()
    {
        const string body = """
            {"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Conflict","code":409,
             "message":"Apply failed with 2 conflicts: conflicts with \"kubectl\" using apps/v1:\n- .spec.replicas\nconflicts with \"hpa\":\n- .spec.template.spec.containers[name=\"app\"].image",
             "details":{"causes":[{"reason":"FieldManagerConflict","message":"conflict with \"kubectl\" using apps/v1","field":".spec.replicas"},
                                  {"reason":"FieldManagerConflict","message":"conflict with \"hpa\"","field":".spec.template.spec.containers[name=\"app\"].image"}]}}
            """;

        var error = KubernetesStatus.ToException("prod-eu", s_deployment, HttpStatusCode.Conflict, body);

        var conflict = Assert.IsType<FieldConflictException>(error);
        Assert.Equal([new FieldConflict("kubectl", ".spec.replicas"), new FieldConflict("hpa", ".spec.template.spec.containers[name=\"app\"].image")], conflict.Conflicts);
        Assert.Contains("kubectl owns .spec.replicas", conflict.Message, StringComparison.Ordinal);
        Assert.Contains("force", conflict.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ToException_ForbiddenWithoutStatusBody_NamesObjectAndAdvisesRbac()
    {
        var error = KubernetesStatus.ToException("prod-eu", s_deployment, HttpStatusCode.Forbidden, "<html>denied</html>");

        Assert.IsNotType<FieldConflictException>(error);
        Assert.StartsWith("prod-eu/Deployment/web/frontend: 403", error.Message, StringComparison.Ordinal);
        Assert.Contains("RBAC", error.Message, StringComparison.Ordinal);
        Assert.False(error.IsTransient);
    }

    [Fact]
    public void ToException_Unauthorized_AdvisesCredentials()
    {
        var error = KubernetesStatus.ToException("prod-eu", null, HttpStatusCode.Unauthorized, """{"kind":"Status","reason":"Unauthorized","message":"Unauthorized"}""");

        Assert.StartsWith("prod-eu: 401 Unauthorized", error.Message, StringComparison.Ordinal);
        Assert.Contains("credentials", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ToException_ServiceUnavailable_IsTransient()
    {
        var error = KubernetesStatus.ToException("prod-eu", null, HttpStatusCode.ServiceUnavailable, """{"kind":"Status","reason":"ServiceUnavailable","message":"try later"}""");

        Assert.True(error.IsTransient);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ToException_NamespaceBeingTerminated_IsTransientAndSaysSoInsteadOfRbac(bool withCause)
    {
        // As NamespaceLifecycle admission answers (k8s.io/apiserver .../admission/plugin/namespace/lifecycle); without
        // its cause (a proxy that rewrites details), the message alone is enough.
        var body = new System.Text.Json.Nodes.JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["status"] = "Failure",
            ["message"] = "configmaps \"settings\" is forbidden: unable to create new content in namespace shop because it is being terminated",
            ["reason"] = "Forbidden",
            ["details"] = withCause
                ? System.Text.Json.Nodes.JsonNode.Parse("""{"name":"settings","kind":"configmaps","causes":[{"reason":"NamespaceTerminating","message":"namespace shop is being terminated","field":"metadata.namespace"}]}""")
                : System.Text.Json.Nodes.JsonNode.Parse("""{"name":"settings","kind":"configmaps"}"""),
            ["code"] = 403,
        }.ToJsonString();

        var error = KubernetesStatus.ToException("prod-eu", new ObjectReference("", "ConfigMap", "shop", "settings"), HttpStatusCode.Forbidden, body);

        Assert.True(error.IsTransient);
        Assert.StartsWith("prod-eu/ConfigMap/shop/settings: namespace shop is being terminated; the reconcile will be retried once it is gone", error.Message, StringComparison.Ordinal);
        Assert.Contains("kubectl get namespace shop -o yaml", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("RBAC", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ToException_ForbiddenByRbac_AdvisesRbacAndIsNotTransient()
    {
        const string body = """
            {"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Forbidden","code":403,
             "message":"configmaps \"settings\" is forbidden: User \"system:serviceaccount:fleet:controller\" cannot patch resource \"configmaps\" in API group \"\" in the namespace \"shop\"",
             "details":{"name":"settings","kind":"configmaps"}}
            """;

        var error = KubernetesStatus.ToException("prod-eu", new ObjectReference("", "ConfigMap", "shop", "settings"), HttpStatusCode.Forbidden, body);

        Assert.False(error.IsTransient);
        Assert.Contains("grant the controller's identity the needed RBAC permissions", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ToException_TypedPatchObjectFailure_IsAnInvalidObjectNotAServerFailure()
    {
        // kube-apiserver 1.32's answer to a server-side apply with a field the schema does not declare (kubernetes/kubernetes#122480)
        const string body = """{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"failed to create typed patch object (general/admin-api; /v1, Kind=Service): .spec.topologyKeys: field not declared in schema","code":500}""";

        var error = KubernetesStatus.ToException("prod-eu", new ObjectReference("", "Service", "general", "admin-api"), HttpStatusCode.InternalServerError, body);

        var invalid = Assert.IsType<InvalidObjectException>(error);
        Assert.False(invalid.IsTransient);
        Assert.Equal([".spec.topologyKeys: field not declared in schema"], invalid.Causes);
        Assert.Equal("prod-eu/Service/general/admin-api: invalid object: .spec.topologyKeys: field not declared in schema; fix the manifest in Git.", invalid.Message);
    }

    [Fact]
    public void ToException_TypedPatchObjectFailureWithSeveralErrors_NamesEach()
    {
        var body = new System.Text.Json.Nodes.JsonObject
        {
            ["kind"] = "Status",
            ["status"] = "Failure",
            ["message"] = "failed to create typed patch object (web/frontend; apps/v1, Kind=Deployment): errors:\n"
                + "  .spec.template.spec.containers[name=\"app\"].ports: duplicate entries for key [containerPort=80,protocol=\"TCP\"]\n"
                + "  .spec.template.spec.containers[name=\"app\"].env: duplicate entries for key [name=\"MODE\"]",
            ["code"] = 500,
        }.ToJsonString();

        var error = KubernetesStatus.ToException("prod-eu", s_deployment, HttpStatusCode.InternalServerError, body);

        var invalid = Assert.IsType<InvalidObjectException>(error);
        Assert.Equal(2, invalid.Causes.Count);
        Assert.StartsWith("prod-eu/Deployment/web/frontend: invalid object: .spec.template.spec.containers[name=\"app\"].ports: duplicate entries", invalid.Message, StringComparison.Ordinal);
        Assert.EndsWith("env: duplicate entries for key [name=\"MODE\"]; fix the manifest in Git.", invalid.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ToException_OtherInternalError_StaysTransient()
    {
        const string body = """{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"etcdserver: leader changed","code":500}""";

        var error = KubernetesStatus.ToException("prod-eu", s_deployment, HttpStatusCode.InternalServerError, body);

        Assert.IsNotType<InvalidObjectException>(error);
        Assert.True(error.IsTransient);
        Assert.Contains("the API server failed; the reconcile will be retried", error.Message, StringComparison.Ordinal);
    }
}
