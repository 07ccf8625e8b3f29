using System.Text.Json.Nodes;
using FleetFunctions.Core.Policy;
using Xunit;

namespace FleetFunctions.Core.Tests.Policy;

/// <summary>
/// Kyverno PolicyExceptions: load errors, the skip message, and Pod Security exclusions. Which resources are exempt
/// is also covered by <c>testdata/policy/exceptions</c> (a kyverno-test.yaml with an <c>exceptions</c> list).
/// </summary>
public sealed class PolicyExceptionTests
{
    private const string Policy = """
        apiVersion: kyverno.io/v1
        kind: ClusterPolicy
        metadata:
          name: no-host-network
        spec:
          validationFailureAction: Enforce
          rules:
          - name: host-network
            match:
              any:
              - resources:
                  kinds: [Pod]
            validate:
              message: host networking is not allowed
              pattern:
                spec:
                  =(hostNetwork): "false"
          - name: restricted
            match:
              any:
              - resources:
                  kinds: [Pod]
            validate:
              podSecurity:
                level: restricted
        """;

    private static JsonObject HostNetworkPod(string ns, string name) => JsonNode.Parse("""
        {"apiVersion":"v1","kind":"Pod","metadata":{"name":"NAME","namespace":"NS"},"spec":{"hostNetwork":true,
          "securityContext":{"seccompProfile":{"type":"RuntimeDefault"}},
          "containers":[{"name":"agent","image":"ghcr.io/example/agent:1","securityContext":{"allowPrivilegeEscalation":false,"capabilities":{"add":["NET_ADMIN"]}}}]}}
        """.Replace("NAME", name, StringComparison.Ordinal).Replace("NS", ns, StringComparison.Ordinal))!.AsObject();

    private static PolicySet Load(string exception) => PolicySet.Load([("policies/policy.yaml", Policy), ("policies/exception.yaml", exception)]);

    [Fact]
    public void Validate_ExceptionMatches_RuleSkippedNamingTheExceptionOthersStillRun()
    {
        var set = Load("""
            apiVersion: kyverno.io/v2
            kind: PolicyException
            metadata:
              name: node-agents
              namespace: kyverno
            spec:
              exceptions:
              - policyName: no-host-network
                ruleNames: [host-network]
              match:
                any:
                - resources:
                    kinds: [Pod]
                    namespaces: [monitoring]
            """);

        var excepted = PolicyEngine.Validate(set, HostNetworkPod("monitoring", "agent"));
        var other = PolicyEngine.Validate(set, HostNetworkPod("default", "agent"));

        Assert.Equal(1, set.ExceptionCount);
        var skipped = excepted.Results.Single(r => r.Rule == "host-network");
        Assert.Equal(RuleStatus.Skip, skipped.Status);
        Assert.Equal("rule is skipped due to policy exception kyverno/node-agents", skipped.Message);
        Assert.Equal(RuleStatus.Fail, excepted.Results.Single(r => r.Rule == "restricted").Status);
        Assert.DoesNotContain(excepted.Violations, v => v.Rule == "host-network");
        Assert.Equal(RuleStatus.Fail, other.Results.Single(r => r.Rule == "host-network").Status);
    }

    [Fact]
    public void Validate_PodSecurityException_ExemptsOnlyItsControlsTheRestStillFails()
    {
        var set = Load("""
            apiVersion: kyverno.io/v2
            kind: PolicyException
            metadata:
              name: agent-capabilities
              namespace: kyverno
            spec:
              exceptions:
              - policyName: no-host-network
                ruleNames: [restricted]
              match:
                any:
                - resources:
                    kinds: [Pod]
              podSecurity:
              - controlName: Capabilities
                images: ["ghcr.io/example/agent:*"]
              - controlName: Host Namespaces
            """);

        var asRoot = PolicyEngine.Validate(set, HostNetworkPod("monitoring", "agent")).Results.Single(r => r.Rule == "restricted");
        var nonRoot = HostNetworkPod("monitoring", "agent");
        nonRoot["spec"]!["securityContext"]!["runAsNonRoot"] = true;
        var exempt = PolicyEngine.Validate(set, nonRoot).Results.Single(r => r.Rule == "restricted");

        Assert.Equal(RuleStatus.Fail, asRoot.Status);
        Assert.Contains("runAsNonRoot != true", asRoot.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("capabilities", asRoot.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("host namespaces", asRoot.Message, StringComparison.Ordinal);
        Assert.Equal(RuleStatus.Skip, exempt.Status);
        Assert.Equal("rule is skipped due to policy exception kyverno/agent-capabilities", exempt.Message);
    }

    [Fact]
    public void Validate_ConditionsThatCannotBeEvaluated_ExceptionDoesNotApply()
    {
        var set = Load("""
            apiVersion: kyverno.io/v2
            kind: PolicyException
            metadata:
              name: broken-condition
            spec:
              exceptions:
              - policyName: no-host-network
                ruleNames: ["*"]
              match:
                any:
                - resources:
                    kinds: [Pod]
              conditions:
                all:
                - key: "{{ undefinedVariable }}"
                  operator: Equals
                  value: x
            """);

        var report = PolicyEngine.Validate(set, HostNetworkPod("monitoring", "agent"));

        Assert.Equal(RuleStatus.Fail, report.Results.Single(r => r.Rule == "host-network").Status);
    }

    [Theory]
    [InlineData("spec:\n  match: {any: [{resources: {kinds: [Pod]}}]}", "spec.exceptions is required")]
    [InlineData("spec:\n  exceptions: [{ruleNames: [a]}]\n  match: {any: [{resources: {kinds: [Pod]}}]}", "spec.exceptions[0].policyName is required")]
    [InlineData("spec:\n  exceptions: [{policyName: p}]\n  match: {any: [{resources: {kinds: [Pod]}}]}", "spec.exceptions[0].ruleNames is required")]
    [InlineData("spec:\n  exceptions: [{policyName: p, ruleNames: [a]}]", "spec.match needs any or all")]
    [InlineData("spec:\n  exceptions: [{policyName: p, ruleNames: [a]}]\n  match: {any: [{resources: {kinds: [Pod]}}], all: [{resources: {kinds: [Pod]}}]}", "can't specify any and all together")]
    [InlineData("spec:\n  exceptions: [{policyName: p, ruleNames: [a]}]\n  match: {any: [{resources: {kinds: [Pod]}, roles: [admin]}]}", "user info (roles, clusterRoles, subjects) is forbidden unless spec.background is false")]
    [InlineData("spec:\n  exceptions: [{policyName: p, ruleNames: [a]}]\n  match: {any: [{resources: {kinds: [Pod]}}]}\n  podSecurity: [{controlName: Host Ports}]", "exclude.images must be specified for the container level control 'Host Ports'")]
    public void Load_BadException_ErrorNamesFileLineAndTheField(string spec, string expected)
    {
        var error = Assert.Throws<PolicyLoadException>(() => Load($"apiVersion: kyverno.io/v2\nkind: PolicyException\nmetadata:\n  name: bad\n{spec}\n"));

        Assert.StartsWith("policies/exception.yaml:1: PolicyException bad: ", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }
}
