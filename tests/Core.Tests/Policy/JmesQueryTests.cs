using System.Text.Json.Nodes;
using FleetFunctions.Core.Policy;
using Xunit;

namespace FleetFunctions.Core.Tests.Policy;

/// <summary>The JMESPath evaluator against the specification's semantics (projections, flatten, filters, pipes).</summary>
public sealed class JmesQueryTests
{
    private static readonly JsonObject s_doc = (JsonObject)JsonNode.Parse("""
        {"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","labels":{"a":"1","b":"2"}},
         "spec":{
           "containers":[
             {"name":"app","image":"nginx","ports":[{"containerPort":80},{"containerPort":8080}],"securityContext":{"capabilities":{"add":["NET_ADMIN"]}}},
             {"name":"side","image":"envoy","resources":{"limits":{"cpu":"1"}},"securityContext":null}],
           "initContainers":[{"name":"init","image":"busybox","securityContext":{"capabilities":{"add":["SYS_ADMIN"]}}}],
           "volumes":[{"name":"v1","emptyDir":{}},{"name":"v2","hostPath":{"path":"/x"}}],
           "replicas":3}}
        """)!;

    private static string Q(string expression) =>
        JmesValue.ToJson(new EvalContext(s_doc, PolicyContext.Default).Query("request.object." + expression));

    [Theory]
    [InlineData("spec.containers[].name", "[\"app\",\"side\"]")]
    [InlineData("spec.containers[*].name", "[\"app\",\"side\"]")]
    [InlineData("spec.containers[].securityContext.capabilities.add[]", "[\"NET_ADMIN\"]")]
    [InlineData("spec.[ephemeralContainers, initContainers, containers][].securityContext.capabilities.add[]", "[\"SYS_ADMIN\",\"NET_ADMIN\"]")]
    [InlineData("spec.containers[].ports[].containerPort", "[80,8080]")]
    [InlineData("spec.containers[].ports[].containerPort | [0]", "80")]
    [InlineData("spec.containers[0].ports[-1].containerPort", "8080")]
    [InlineData("spec.containers[?name=='side'].image", "[\"envoy\"]")]
    [InlineData("spec.containers[?resources.limits.cpu].name", "[\"side\"]")]
    [InlineData("spec.containers[?!resources].name", "[\"app\"]")]
    [InlineData("spec.volumes[?contains(keys(@), 'emptyDir')].name", "[\"v1\"]")]
    [InlineData("spec.volumes[].keys(@)[]", "[\"name\",\"emptyDir\",\"name\",\"hostPath\"]")]
    [InlineData("metadata.labels.*", "[\"1\",\"2\"]")]
    [InlineData("spec.containers[:1].name", "[\"app\"]")]
    [InlineData("spec.containers[::-1].name", "[\"side\",\"app\"]")]
    [InlineData("spec.containers[] | length(@)", "2")]
    [InlineData("spec.containers[].{n: name, i: image}", "[{\"i\":\"nginx\",\"n\":\"app\"},{\"i\":\"envoy\",\"n\":\"side\"}]")]
    [InlineData("sort_by(spec.containers, &name)[].name", "[\"app\",\"side\"]")]
    [InlineData("max_by(spec.containers[0].ports, &containerPort).containerPort", "8080")]
    [InlineData("map(&name, spec.containers)", "[\"app\",\"side\"]")]
    [InlineData("merge(metadata.labels, {c: '3'})", "{\"a\":\"1\",\"b\":\"2\",\"c\":\"3\"}")]
    [InlineData("not_null(metadata.missing, metadata.name)", "\"p\"")]
    [InlineData("to_string(spec.replicas)", "\"3\"")]
    [InlineData("spec | replicas > `2` && replicas < `4`", "true")]
    [InlineData("spec.missing.deeper", "null")]
    [InlineData("spec.missing[].name", "null")]
    [InlineData("metadata.name == 'p'", "true")]
    [InlineData("spec.containers[1].securityContext || 'none'", "\"none\"")]
    [InlineData("join(',', spec.containers[].name)", "\"app,side\"")]
    [InlineData("type(spec.containers)", "\"array\"")]
    [InlineData("sum(spec.containers[0].ports[].containerPort)", "8160")]
    public void Query_Expression_FollowsJmesPathSpec(string expression, string expected)
    {
        Assert.Equal(expected, Q(expression));
    }

    [Fact]
    public void Query_ProjectionOverNulls_DropsThem()
    {
        // The second container's securityContext is null: it disappears from the projection instead of yielding null.
        Assert.Equal("[{\"capabilities\":{\"add\":[\"NET_ADMIN\"]}}]", Q("spec.containers[].securityContext"));
    }

    [Fact]
    public void Query_DoesNotCopyOrAttachTheResource()
    {
        var eval = new EvalContext(s_doc, PolicyContext.Default);
        var containers = eval.Query("request.object.spec.containers");
        Assert.Same(s_doc["spec"]!["containers"], containers);
        Assert.Null(s_doc.Parent);
    }
}
