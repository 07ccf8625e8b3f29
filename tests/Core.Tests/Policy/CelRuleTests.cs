using System.Text.Json.Nodes;
using FleetFunctions.Core.Policy;
using Xunit;

namespace FleetFunctions.Core.Tests.Policy;

/// <summary>
/// <c>validate.cel</c>: load errors, messages, and what the expressions see. Which resources pass is also covered by
/// <c>testdata/policy/cel</c> (a kyverno-test.yaml, autogen included).
/// </summary>
public sealed class CelRuleTests
{
    private static PolicySet Policy(string cel, string kinds = "[ConfigMap]") => PolicySet.Load([("policies/cel.yaml", $"""
        apiVersion: kyverno.io/v1
        kind: ClusterPolicy
        metadata:
          name: cel
        spec:
          validationFailureAction: Enforce
          rules:
          - name: check
            match:
              any:
              - resources:
                  kinds: {kinds}
            validate:
              cel:
        {string.Join("\n", cel.Split('\n').Select(l => "        " + l))}
        """)]);

    private static readonly JsonObject s_configMap = JsonNode.Parse("""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"settings","namespace":"shop","labels":{"tier":"front"}},"data":{"size":"3"}}""")!.AsObject();

    private static RuleResult Result(PolicySet set, JsonObject? resource = null, PolicyContext? context = null) =>
        PolicyEngine.Validate(set, resource ?? s_configMap, context).Results.Single(r => r.Rule == "check");

    [Fact]
    public void Validate_FalseWithoutMessage_FailsNamingTheExpression()
    {
        var result = Result(Policy("expressions:\n- expression: \"object.metadata.labels.tier == 'back'\""));

        Assert.Equal(RuleStatus.Fail, result.Status);
        Assert.Equal("failed expression: object.metadata.labels.tier == 'back'", result.Message);
    }

    [Fact]
    public void Validate_MessageExpression_WinsOverTheMessage()
    {
        var result = Result(Policy("""
            expressions:
            - expression: "int(object.data.size) <= 2"
              message: static
              messageExpression: "'size ' + object.data.size + ' is over 2 in ' + request.namespace"
            """));

        Assert.Equal(RuleStatus.Fail, result.Status);
        Assert.Equal("size 3 is over 2 in shop", result.Message);
    }

    [Fact]
    public void Validate_EveryExpressionTrue_Passes()
    {
        var result = Result(Policy("""
            variables:
            - name: tier
              expression: "object.metadata.labels.tier"
            expressions:
            - expression: "variables.tier.upperAscii() == 'FRONT'"
            - expression: "request.operation == 'CREATE' && oldObject == null"
            - expression: "namespaceObject.metadata.name == 'shop'"
            """));

        Assert.Equal(RuleStatus.Pass, result.Status);
    }

    [Theory]
    [InlineData("quantity('1Gi').isGreaterThan(quantity('500Mi')) && quantity('100m').isLessThan(quantity('1'))")]
    [InlineData("quantity('250m').add(quantity('750m')).compareTo(quantity('1')) == 0 && quantity('2').sub(1).asInteger() == 1")]
    [InlineData("isQuantity('1Gi') && !isQuantity('one gig') && quantity('1.5').asApproximateFloat() == 1.5 && !quantity('1.5').isInteger()")]
    [InlineData("quantity('-1').sign() == -1 && quantity('0').sign() == 0")]
    [InlineData("[1, 2, 3].isSorted() && ![2, 1].isSorted() && [1, 2, 3].sum() == 6 && [3, 1, 2].min() == 1 && ['b', 'a'].max() == 'b'")]
    [InlineData("'abc123'.find('[0-9]+') == '123' && 'a1b2'.findAll('[0-9]').size() == 2 && 'abc'.find('[0-9]') == ''")]
    [InlineData("'A-B'.lowerAscii().split('-').join('+') == 'a+b' && ' x '.trim() == 'x' && 'abc'.substring(1, 2) == 'b' && 'abc'.indexOf('c') == 2")]
    [InlineData("object.data.size.replace('3', 'three').upperAscii() == 'THREE'")]
    [InlineData("url('https://example.com:8443/a%20b?x=1&x=2').getHost() == 'example.com:8443' && url('https://example.com/p').getHostname() == 'example.com'")]
    [InlineData("url('https://example.com:8443/p').getPort() == '8443' && url('https://example.com/p').getPort() == '' && url('https://example.com/p').getScheme() == 'https'")]
    [InlineData("url('https://example.com/a%20b?x=1&x=2').getQuery()['x'] == ['1', '2'] && url('https://example.com/a%20b').getEscapedPath() == '/a%20b'")]
    [InlineData("isURL('https://example.com') && isURL('/absolute/path') && !isURL('not a url')")]
    public void Validate_KubernetesLibraryFunctions_Evaluate(string expression)
    {
        var result = Result(Policy($"expressions:\n- expression: \"{expression}\""));

        Assert.True(result.Status == RuleStatus.Pass, $"{result.Status}: {result.Message}");
    }

    [Fact]
    public void Validate_NumbersBuiltInCode_AreCelNumbersNotStrings()
    {
        // Objects built in code hold ints and doubles rather than parsed JSON elements; CEL must still see numbers.
        var configMap = s_configMap.DeepClone().AsObject();
        configMap["data"] = new JsonObject { ["count"] = JsonValue.Create(3), ["ratio"] = JsonValue.Create(0.5m), ["big"] = JsonValue.Create(5_000_000_000L) };

        var result = Result(Policy("expressions:\n- expression: \"object.data.count <= 5 && object.data.ratio < 1.0 && object.data.big > 4000000000\""), configMap);

        Assert.True(result.Status == RuleStatus.Pass, $"{result.Status}: {result.Message}");
    }

    [Fact]
    public void Validate_Update_OldObjectIsThePreviousObject()
    {
        var old = s_configMap.DeepClone().AsObject();
        old["data"]!["size"] = "2";
        var set = Policy("expressions:\n- expression: \"int(object.data.size) >= int(oldObject.data.size)\"\n  message: sizes only grow");

        var grew = Result(set, context: new PolicyContext { Operation = AdmissionOperation.Update, OldResource = old });
        var shrank = Result(set, old, new PolicyContext { Operation = AdmissionOperation.Update, OldResource = s_configMap });

        Assert.Equal(RuleStatus.Pass, grew.Status);
        Assert.Equal(RuleStatus.Fail, shrank.Status);
        Assert.Equal("sizes only grow", shrank.Message);
    }

    [Theory]
    [InlineData("object.metadata.name", "gave the string \"settings\", not a bool")]
    [InlineData("object.spec.replicas > 1", "could not be evaluated")]
    [InlineData("object.metadata.name.noSuchFunction()", "no function, variable or macro was found that matches identifier 'noSuchFunction'")]
    public void Validate_NotABoolOrMissingField_RuleErrorsNamingTheExpression(string expression, string fragment)
    {
        var result = Result(Policy($"expressions:\n- expression: \"{expression}\""));

        Assert.Equal(RuleStatus.Error, result.Status);
        Assert.Contains($"expression '{expression}'", result.Message, StringComparison.Ordinal);
        Assert.Contains(fragment, result.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("expressions:\n- expression: \"object.metadata.name ==\"", "validate.cel.expressions[0].expression: 'object.metadata.name ==' is not a CEL expression")]
    [InlineData("expressions: []", "validate.cel.expressions is required")]
    [InlineData("paramKind: {apiVersion: v1, kind: ConfigMap}\nexpressions:\n- expression: \"true\"", "paramKind/paramRef need the parameter resource from the cluster")]
    [InlineData("variables:\n- expression: \"1\"\nexpressions:\n- expression: \"true\"", "validate.cel.variables[0].name is required")]
    public void Load_BadCel_ErrorNamesFileRuleAndField(string cel, string fragment)
    {
        var error = Assert.Throws<PolicyLoadException>(() => Policy(cel));

        Assert.Contains("policies/cel.yaml", error.Message, StringComparison.Ordinal);
        Assert.Contains("rule check", error.Message, StringComparison.Ordinal);
        Assert.Contains(fragment, error.Message, StringComparison.Ordinal);
    }

    private static PolicySet HostNetworkPolicy(string celPreconditions) => PolicySet.Load([("policies/host-network.yaml", $"""
        apiVersion: kyverno.io/v1
        kind: ClusterPolicy
        metadata:
          name: host-network
          annotations:
            pod-policies.kyverno.io/autogen-controllers: none
        spec:
          validationFailureAction: Enforce
          rules:
          - name: no-host-network
            match:
              any:
              - resources:
                  kinds: [Pod]
            celPreconditions:
        {string.Join("\n", celPreconditions.Split('\n').Select(l => "    " + l))}
            validate:
              cel:
                expressions:
                - expression: "!has(object.spec.hostNetwork) || !object.spec.hostNetwork"
                  message: host networking is not allowed
        """)]);

    private static JsonObject HostNetworkPod(string ns) => JsonNode.Parse(
        $$$"""{"apiVersion":"v1","kind":"Pod","metadata":{"name":"agent","namespace":"{{{ns}}}"},"spec":{"hostNetwork":true,"containers":[{"name":"a","image":"agent:1"}]}}""")!.AsObject();

    private const string NotKubeSystem = "- name: not-kube-system\n  expression: \"object.metadata.namespace != 'kube-system'\"";

    [Fact]
    public void Validate_CelPreconditionFalse_SkipsTheRule()
    {
        var report = PolicyEngine.Validate(HostNetworkPolicy(NotKubeSystem), HostNetworkPod("kube-system"));

        var result = Assert.Single(report.Results);
        Assert.Equal(RuleStatus.Skip, result.Status);
        Assert.Contains("not-kube-system", result.Message, StringComparison.Ordinal);
        Assert.False(report.Blocked);
    }

    [Fact]
    public void Validate_CelPreconditionsAllTrue_TheRuleApplies()
    {
        var preconditions = NotKubeSystem + "\n- name: create\n  expression: \"request.operation == 'CREATE'\"";

        var report = PolicyEngine.Validate(HostNetworkPolicy(preconditions), HostNetworkPod("shop"));

        var result = Assert.Single(report.Results);
        Assert.Equal(RuleStatus.Fail, result.Status);
        Assert.Equal("host networking is not allowed", result.Message);
        Assert.True(report.Blocked);
    }

    [Fact]
    public void Validate_CelPreconditionNotABool_RuleErrors()
    {
        var result = Assert.Single(PolicyEngine.Validate(HostNetworkPolicy("- name: odd\n  expression: \"object.metadata.name\""), HostNetworkPod("shop")).Results);

        Assert.Equal(RuleStatus.Error, result.Status);
        Assert.Contains("celPreconditions 'odd'", result.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("- name: broken\n  expression: \"object.metadata.namespace !=\"", "celPreconditions[0].expression: 'object.metadata.namespace !=' is not a CEL expression")]
    [InlineData("- expression: \"true\"", "celPreconditions[0].name is required")]
    public void Load_BadCelPrecondition_ErrorNamesPolicyRuleAndExpression(string celPreconditions, string fragment)
    {
        var error = Assert.Throws<PolicyLoadException>(() => HostNetworkPolicy(celPreconditions));

        Assert.Contains("policies/host-network.yaml", error.Message, StringComparison.Ordinal);
        Assert.Contains("ClusterPolicy host-network rule no-host-network", error.Message, StringComparison.Ordinal);
        Assert.Contains(fragment, error.Message, StringComparison.Ordinal);
    }
}
