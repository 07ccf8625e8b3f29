using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Xunit;

namespace FleetFunctions.Simulator.Tests.Client;

/// <summary>
/// Updates to immutable fields are refused as kube-apiserver refuses them: 422, reason Invalid, the
/// <c>errors.NewInvalid</c> message and details, one cause per field; for apply, PUT and dry runs alike.
/// </summary>
public sealed class ImmutableFieldTests
{
    private const string DeploymentPath = "/apis/apps/v1/namespaces/default/deployments/web";

    private const string SelectorMessage =
        "Deployment.apps \"web\" is invalid: spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"web\", \"track\":\"blue\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable";

    private static string Deployment(string selectorLabels) => """
        {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"default"},
         "spec":{"replicas":1,"selector":{"matchLabels":{SELECTOR}},
                 "template":{"metadata":{"labels":{"app":"web","track":"blue"}},"spec":{"containers":[{"name":"app","image":"nginx:1"}]}}}}
        """.Replace("SELECTOR", selectorLabels, StringComparison.Ordinal);

    [Fact]
    public async Task ServerSideApply_DeploymentSelectorChanged_Returns422StatusLikeKubeApiserver()
    {
        await using var t = await TestCluster.StartAsync();
        using var http = Http(t);
        await ExpectAsync(HttpStatusCode.Created, await ApplyAsync(http, DeploymentPath, Deployment("\"app\":\"web\"")));
        var writes = t.Cluster.WriteCount;

        using var response = await ApplyAsync(http, DeploymentPath, Deployment("\"app\":\"web\",\"track\":\"blue\""));

        var status = await ExpectAsync(HttpStatusCode.UnprocessableEntity, response);
        var expected = JsonNode.Parse($$"""
            {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":{{JsonValue.Create(SelectorMessage).ToJsonString()}},
             "reason":"Invalid","details":{"name":"web","group":"apps","kind":"Deployment","causes":[{"reason":"FieldValueInvalid",
             "message":"Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"web\", \"track\":\"blue\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable",
             "field":"spec.selector"}]},"code":422}
            """);
        Assert.True(JsonNode.DeepEquals(expected, status), status.ToJsonString());
        Assert.Equal(writes, t.Cluster.WriteCount);
        Assert.Equal("{\"app\":\"web\"}", t.Cluster.GetObject("apps/v1", "Deployment", "default", "web")!["spec"]!["selector"]!["matchLabels"]!.ToJsonString());
    }

    [Fact]
    public async Task ServerSideApplyDryRun_DeploymentSelectorChanged_Returns422()
    {
        await using var t = await TestCluster.StartAsync();
        using var http = Http(t);
        await ExpectAsync(HttpStatusCode.Created, await ApplyAsync(http, DeploymentPath, Deployment("\"app\":\"web\"")));

        using var response = await ApplyAsync(http, DeploymentPath + "?dryRun=All", Deployment("\"app\":\"web\",\"track\":\"blue\""));

        var status = await ExpectAsync(HttpStatusCode.UnprocessableEntity, response);
        Assert.Equal(SelectorMessage, status["message"]!.ToString());
    }

    [Fact]
    public async Task Put_DeploymentSelectorChanged_Returns422ButOtherChangesPass()
    {
        await using var t = await TestCluster.StartAsync();
        using var http = Http(t);
        await ExpectAsync(HttpStatusCode.Created, await ApplyAsync(http, DeploymentPath, Deployment("\"app\":\"web\"")));
        var live = await ExpectAsync(HttpStatusCode.OK, await http.GetAsync(DeploymentPath));
        live["spec"]!["selector"]!["matchLabels"]!["track"] = "blue";

        using var rejected = await http.PutAsync(DeploymentPath, Json(live.ToJsonString()));
        live["spec"]!["selector"]!["matchLabels"]!.AsObject().Remove("track");
        live["spec"]!["replicas"] = 3;
        using var accepted = await http.PutAsync(DeploymentPath, Json(live.ToJsonString()));

        Assert.Equal(SelectorMessage, (await ExpectAsync(HttpStatusCode.UnprocessableEntity, rejected))["message"]!.ToString());
        Assert.Equal(3, (await ExpectAsync(HttpStatusCode.OK, accepted))["spec"]!["replicas"]!.GetValue<int>());
    }

    [Fact]
    public async Task ServerSideApply_ServiceClusterIpChanged_Returns422MayNotChangeOnceSet()
    {
        await using var t = await TestCluster.StartAsync();
        using var http = Http(t);
        const string path = "/api/v1/namespaces/default/services/api";
        static string Service(string clusterIp) =>
            """{"apiVersion":"v1","kind":"Service","metadata":{"name":"api","namespace":"default"},"spec":{CLUSTERIP"ports":[{"port":80}]}}""".Replace("CLUSTERIP", clusterIp, StringComparison.Ordinal);
        var created = await ExpectAsync(HttpStatusCode.Created, await ApplyAsync(http, path, Service("")));
        var allocated = created["spec"]!["clusterIP"]!.ToString();

        using var same = await ApplyAsync(http, path, Service($"\"clusterIP\":\"{allocated}\","));
        using var changed = await ApplyAsync(http, path, Service("\"clusterIP\":\"10.96.200.1\","));

        await ExpectAsync(HttpStatusCode.OK, same);
        var status = await ExpectAsync(HttpStatusCode.UnprocessableEntity, changed);
        Assert.Equal("Service \"api\" is invalid: spec.clusterIPs[0]: Invalid value: []string{\"10.96.200.1\"}: may not change once set", status["message"]!.ToString());
        Assert.Equal("spec.clusterIPs[0]", status["details"]!["causes"]![0]!["field"]!.ToString());
        Assert.Null(status["details"]!["group"]);
        Assert.Equal(allocated, t.Cluster.GetObject("v1", "Service", "default", "api")!["spec"]!["clusterIP"]!.ToString());
    }

    [Theory]
    [InlineData("ConfigMap", "configmaps", "data", "ConfigMap \"settings\" is invalid: data: Forbidden: field is immutable when `immutable` is set")]
    [InlineData("Secret", "secrets", "stringData", "Secret \"settings\" is invalid: data: Forbidden: field is immutable when `immutable` is set")]
    public async Task ServerSideApply_ImmutableDataChanged_Returns422Forbidden(string kind, string plural, string field, string message)
    {
        await using var t = await TestCluster.StartAsync();
        using var http = Http(t);
        var path = $"/api/v1/namespaces/default/{plural}/settings";
        string Body(string value, string labels = "{}") =>
            """{"apiVersion":"v1","kind":"KIND","metadata":{"name":"settings","namespace":"default","labels":LABELS},"immutable":true,"FIELD":{"mode":"VALUE"}}"""
                .Replace("KIND", kind, StringComparison.Ordinal).Replace("LABELS", labels, StringComparison.Ordinal)
                .Replace("FIELD", field, StringComparison.Ordinal).Replace("VALUE", value, StringComparison.Ordinal);
        await ExpectAsync(HttpStatusCode.Created, await ApplyAsync(http, path, Body("blue")));

        using var relabelled = await ApplyAsync(http, path, Body("blue", """{"team":"a"}"""));
        using var changed = await ApplyAsync(http, path, Body("green", """{"team":"a"}"""));

        await ExpectAsync(HttpStatusCode.OK, relabelled);
        var status = await ExpectAsync(HttpStatusCode.UnprocessableEntity, changed);
        Assert.Equal(message, status["message"]!.ToString());
        Assert.Equal("FieldValueForbidden", status["details"]!["causes"]![0]!["reason"]!.ToString());
        Assert.Equal("Forbidden: field is immutable when `immutable` is set", status["details"]!["causes"]![0]!["message"]!.ToString());
    }

    [Fact]
    public async Task ServerSideApply_StatefulSetServiceNameChanged_Returns422ButReplicasChangePasses()
    {
        await using var t = await TestCluster.StartAsync();
        using var http = Http(t);
        const string path = "/apis/apps/v1/namespaces/default/statefulsets/db";
        static string StatefulSet(string service, int replicas) => """
            {"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":"db","namespace":"default"},
             "spec":{"serviceName":"SERVICE","replicas":REPLICAS,"selector":{"matchLabels":{"app":"db"}},
                     "template":{"metadata":{"labels":{"app":"db"}},"spec":{"containers":[{"name":"db","image":"postgres:16"}]}}}}
            """.Replace("SERVICE", service, StringComparison.Ordinal).Replace("REPLICAS", replicas.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        await ExpectAsync(HttpStatusCode.Created, await ApplyAsync(http, path, StatefulSet("db", 1)));

        using var scaled = await ApplyAsync(http, path, StatefulSet("db", 3));
        using var renamed = await ApplyAsync(http, path, StatefulSet("db-headless", 3));

        await ExpectAsync(HttpStatusCode.OK, scaled);
        var status = await ExpectAsync(HttpStatusCode.UnprocessableEntity, renamed);
        Assert.Equal(
            "StatefulSet.apps \"db\" is invalid: spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
            status["message"]!.ToString());
    }

    [Fact]
    public async Task ServerSideApply_JobTemplateChanged_Returns422FieldIsImmutable()
    {
        await using var t = await TestCluster.StartAsync();
        using var http = Http(t);
        const string path = "/apis/batch/v1/namespaces/default/jobs/migrate";
        static string Job(string image) => """
            {"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"migrate","namespace":"default"},
             "spec":{"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"m","image":"IMAGE"}]}}}}
            """.Replace("IMAGE", image, StringComparison.Ordinal);
        await ExpectAsync(HttpStatusCode.Created, await ApplyAsync(http, path, Job("migrate:1")));

        using var changed = await ApplyAsync(http, path, Job("migrate:2"));

        var status = await ExpectAsync(HttpStatusCode.UnprocessableEntity, changed);
        Assert.Equal("spec.template", status["details"]!["causes"]![0]!["field"]!.ToString());
        Assert.EndsWith(": field is immutable", status["message"]!.ToString(), StringComparison.Ordinal);
        Assert.StartsWith("Job.batch \"migrate\" is invalid: spec.template: Invalid value: ", status["message"]!.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServerSideApply_BoundClaimStorageClassChanged_Returns422ButResizePasses()
    {
        await using var t = await TestCluster.StartAsync();
        using var http = Http(t);
        const string path = "/api/v1/namespaces/default/persistentvolumeclaims/data";
        static string Claim(string storageClass, string size) => """
            {"apiVersion":"v1","kind":"PersistentVolumeClaim","metadata":{"name":"data","namespace":"default"},
             "spec":{"storageClassName":"CLASS","accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"SIZE"}}}}
            """.Replace("CLASS", storageClass, StringComparison.Ordinal).Replace("SIZE", size, StringComparison.Ordinal);
        await ExpectAsync(HttpStatusCode.Created, await ApplyAsync(http, path, Claim("standard", "1Gi")));
        await TestCluster.WaitForAsync(
            () => t.Cluster.GetObject("v1", "PersistentVolumeClaim", "default", "data")?["status"]?["phase"]?.ToString() == "Bound", "the claim to be bound");

        using var resized = await ApplyAsync(http, path, Claim("standard", "2Gi"));
        using var reclassed = await ApplyAsync(http, path, Claim("fast", "2Gi"));

        await ExpectAsync(HttpStatusCode.OK, resized);
        var status = await ExpectAsync(HttpStatusCode.UnprocessableEntity, reclassed);
        Assert.Equal(
            "PersistentVolumeClaim \"data\" is invalid: spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims",
            status["message"]!.ToString());
    }

    [Fact]
    public async Task KubectlApplyServerSide_DeploymentSelectorChanged_ReportsImmutableField()
    {
        await using var t = await TestCluster.StartAsync();
        var apply = await t.KubectlAsync("apply", "--server-side", "-f", TestCluster.TestData("deployment.yaml"));
        Assert.True(apply.ExitCode == 0, apply.ToString());
        var changed = Path.Combine(t.Directory, "changed.yaml");
        await File.WriteAllTextAsync(changed, (await File.ReadAllTextAsync(TestCluster.TestData("deployment.yaml"))).Replace(
            "    matchLabels:\n      app: frontend\n", "    matchLabels:\n      app: frontend\n      tier: web\n", StringComparison.Ordinal));

        var rejected = await t.KubectlAsync("apply", "--server-side", "-f", changed);

        // kubectl rewords a 422 from its details and causes exactly as against kube-apiserver
        Assert.True(rejected.ExitCode == 1, rejected.ToString());
        Assert.Contains(
            "The Deployment \"frontend\" is invalid: spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"frontend\", \"tier\":\"web\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable",
            rejected.StandardError,
            StringComparison.Ordinal);
    }

    private static HttpClient Http(TestCluster t) => new() { BaseAddress = t.Cluster.Server };

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private static Task<HttpResponseMessage> ApplyAsync(HttpClient http, string path, string body)
    {
        var separator = path.Contains('?', StringComparison.Ordinal) ? '&' : '?';
        var content = new StringContent(body, Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/apply-patch+yaml");
        return http.PatchAsync($"{path}{separator}fieldManager=test", content);
    }

    private static async Task<JsonObject> ExpectAsync(HttpStatusCode code, HttpResponseMessage response)
    {
        using (response)
        {
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == code, $"{(int)response.StatusCode}: {body}");
            return (JsonObject)JsonNode.Parse(body)!;
        }
    }
}
