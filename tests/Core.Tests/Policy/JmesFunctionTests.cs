using System.Text.Json.Nodes;
using FleetFunctions.Core.Policy;
using Xunit;

namespace FleetFunctions.Core.Tests.Policy;

public sealed class JmesFunctionTests
{
    private static readonly JsonObject s_pod = (JsonObject)JsonNode.Parse("""
        {"apiVersion":"v1","kind":"Pod","metadata":{"name":"web-1","namespace":"shop","labels":{"app":"web","tier":"front"}},
         "spec":{"containers":[{"name":"app","image":"nginx:1.25"},{"name":"proxy","image":"registry.corp:5000/team/envoy@sha256:abc"}]}}
        """)!;

    private static string Query(string expression, PolicyContext? context = null)
    {
        var eval = new EvalContext(s_pod, context ?? PolicyContext.Default);
        return JmesValue.ToJson(eval.Query(expression));
    }

    [Theory]
    [InlineData("to_upper('abc')", "\"ABC\"")]
    [InlineData("to_lower('AbC')", "\"abc\"")]
    [InlineData("split('a,b,c', ',')", "[\"a\",\"b\",\"c\"]")]
    [InlineData("truncate('kubernetes', `4`)", "\"kube\"")]
    [InlineData("regex_match('^web-[0-9]+$', request.object.metadata.name)", "true")]
    [InlineData("regex_match('^[0-9]+$', `123`)", "true")]
    [InlineData("regex_replace_all('([a-z]+)-([0-9]+)', 'web-1', '$2-$1')", "\"1-web\"")]
    [InlineData("regex_replace_all_literal('[0-9]', 'a1b2', '$')", "\"a$b$\"")]
    [InlineData("base64_encode('hello')", "\"aGVsbG8=\"")]
    [InlineData("base64_decode('aGVsbG8=')", "\"hello\"")]
    [InlineData("pattern_match('web-*', request.object.metadata.name)", "true")]
    [InlineData("equal_fold('Web', 'wEB')", "true")]
    [InlineData("compare('a', 'b')", "-1")]
    [InlineData("contains('kubernetes', 'bern')", "true")]
    [InlineData("starts_with('kubernetes', 'kube')", "true")]
    [InlineData("ends_with('kubernetes', 'tes')", "true")]
    [InlineData("replace_all('a-b-c', '-', '.')", "\"a.b.c\"")]
    [InlineData("trim_prefix('v1.2.3', 'v')", "\"1.2.3\"")]
    [InlineData("label_match(`{\"app\":\"web\"}`, request.object.metadata.labels)", "true")]
    [InlineData("label_match(`{\"app\":\"db\"}`, request.object.metadata.labels)", "false")]
    [InlineData("parse_json('{\"a\":[1,2]}').a[1]", "2")]
    [InlineData("parse_yaml('a: yes').a", "true")]
    [InlineData("lookup(request.object.metadata.labels, 'tier')", "\"front\"")]
    [InlineData("items(request.object.metadata.labels, 'key', 'value')[0].key", "\"app\"")]
    [InlineData("object_from_lists(['a','b'], [`1`,`2`]).b", "2")]
    [InlineData("add('250m', '750m')", "\"1\"")]
    [InlineData("add(`1`, `2`)", "3")]
    [InlineData("subtract('1Gi', '512Mi')", "\"512Mi\"")]
    [InlineData("multiply('100m', `3`)", "\"300m\"")]
    [InlineData("divide('1Gi', '256Mi')", "4")]
    [InlineData("divide('128Mi', '64Mi')", "2")]
    [InlineData("divide('1h', '30m')", "2")]
    [InlineData("divide('2Gi', `2`)", "\"1Gi\"")]
    [InlineData("modulo(`7`, `3`)", "1")]
    [InlineData("add('1h', '30m')", "\"1h30m0s\"")]
    [InlineData("round(`3.14159`, `2`)", "3.14")]
    [InlineData("semver_compare('1.2.3', '>=1.0.0 <2.0.0')", "true")]
    [InlineData("semver_compare('2.1.0', '1.x || >=3.0.0')", "false")]
    [InlineData("path_canonicalize('/a/b/../c/./d')", "\"/a/c/d\"")]
    [InlineData("image_normalize('nginx')", "\"docker.io/library/nginx:latest\"")]
    [InlineData("image_normalize('ghcr.io/org/app:1.2')", "\"ghcr.io/org/app:1.2\"")]
    [InlineData("image_normalize('registry.corp:5000/team/app@sha256:abc')", "\"registry.corp:5000/team/app@sha256:abc\"")]
    [InlineData("image_normalize('bitnami/redis:7')", "\"docker.io/bitnami/redis:7\"")]
    [InlineData("md5('kyverno')", "\"9638dd54a7735b1d741a6e202444d186\"")]
    [InlineData("time_add('2024-01-01T00:00:00Z', '36h')", "\"2024-01-02T12:00:00Z\"")]
    [InlineData("time_diff('2024-01-01T00:00:00Z', '2024-01-01T01:30:00Z')", "\"1h30m0s\"")]
    [InlineData("time_parse('2006-01-02', '2024-03-05')", "\"2024-03-05T00:00:00Z\"")]
    [InlineData("time_since('', '2024-01-01T00:00:00Z', '2024-01-03T00:00:00Z')", "\"48h0m0s\"")]
    [InlineData("time_to_cron('2024-03-05T14:30:00Z')", "\"30 14 5 3 2\"")]
    [InlineData("time_before('2024-01-01T00:00:00Z', '2024-01-02T00:00:00Z')", "true")]
    [InlineData("time_truncate('2024-03-05T14:37:12Z', '1h')", "\"2024-03-05T14:00:00Z\"")]
    [InlineData("time_utc('2024-03-05T14:30:00+02:00')", "\"2024-03-05T12:30:00Z\"")]
    [InlineData("images.containers.app.registry", "\"docker.io\"")]
    [InlineData("images.containers.app.path", "\"nginx\"")]
    [InlineData("images.containers.app.name", "\"nginx\"")]
    [InlineData("images.containers.app.tag", "\"1.25\"")]
    [InlineData("images.containers.app.reference", "\"docker.io/nginx:1.25\"")]
    [InlineData("images.containers.app.referenceWithTag", "\"docker.io/nginx:1.25\"")]
    [InlineData("images.containers.proxy.registry", "\"registry.corp:5000\"")]
    [InlineData("images.containers.proxy.path", "\"team/envoy\"")]
    [InlineData("images.containers.proxy.name", "\"envoy\"")]
    [InlineData("images.containers.proxy.digest", "\"sha256:abc\"")]
    [InlineData("images.containers.proxy.tag", "null")]
    [InlineData("images.containers.proxy.reference", "\"registry.corp:5000/team/envoy@sha256:abc\"")]
    [InlineData("images.containers.proxy.referenceWithTag", "\"registry.corp:5000/team/envoy:\"")]
    [InlineData("request.namespace", "\"shop\"")]
    [InlineData("request.operation", "\"CREATE\"")]
    [InlineData("request.object.metadata.missing || 'default'", "\"default\"")]
    [InlineData("undefinedVariable || 'fallback'", "\"fallback\"")]
    [InlineData("request.object.metadata.missing.deeper", "null")]
    public void Query_KyvernoFunction_ReturnsKyvernoResult(string expression, string expected)
    {
        Assert.Equal(expected, Query(expression));
    }

    [Fact]
    public void Query_TimeNowUtc_ReturnsCurrentRfc3339()
    {
        var text = JsonUtil.AsString(JsonNode.Parse(Query("time_now_utc()")))!;
        var parsed = DateTimeOffset.Parse(text, System.Globalization.CultureInfo.InvariantCulture);
        Assert.EndsWith("Z", text, StringComparison.Ordinal);
        Assert.True(Math.Abs((DateTimeOffset.UtcNow - parsed).TotalMinutes) < 60);
    }

    [Theory]
    [InlineData("divide(`1`, `0`)", "division by zero")]
    [InlineData("add('1Gi', '1h')", "cannot combine")]
    [InlineData("to_upper(`1`)", "expects a string")]
    [InlineData("image_normalize('nginx:')", "is not an image reference")]
    [InlineData("regex_match('(', 'x')", "invalid regular expression")]
    [InlineData("request.object.[", "invalid JMESPath")]
    [InlineData("undefinedVariable.data", "Unknown key \"undefinedVariable\"")]
    public void Query_InvalidCall_ThrowsEvaluationError(string expression, string fragment)
    {
        var ex = Assert.Throws<PolicyEvaluationException>(() => Query(expression));
        Assert.Contains(fragment, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Query_UpdateWithoutOldResource_OldObjectIsTheObject()
    {
        var context = new PolicyContext { Operation = AdmissionOperation.Update };
        Assert.Equal("\"web-1\"", Query("request.oldObject.metadata.name", context));
        Assert.Equal("\"UPDATE\"", Query("request.operation", context));
    }

    [Fact]
    public void Query_ValuesWithDottedNames_BecomeNestedVariables()
    {
        var context = new PolicyContext { Values = new Dictionary<string, JsonNode?> { ["dictionary.data.allowed"] = JsonValue.Create("a,b") } };
        Assert.Equal("[\"a\",\"b\"]", Query("split(dictionary.data.allowed, ',')", context));
    }
}
