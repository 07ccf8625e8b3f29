using FleetFunctions.Core.Policy;
using Xunit;

namespace FleetFunctions.Core.Tests.Policy;

public sealed class PolicySetTests
{
    private const string PodRule = """
        apiVersion: kyverno.io/v1
        kind: ClusterPolicy
        metadata:
          name: p
        {0}
        spec:
          rules:
          - name: r
            match:
              any:
              - resources:
                  kinds: [Pod]
            validate:
              pattern:
                spec:
                  containers:
                  - image: "*:*"
        """;

    private static PolicySet Load(string yaml, string path = "policies/p.yaml") => PolicySet.Load([(path, yaml)]);

    [Fact]
    public void Load_PodRule_GeneratesControllerAndCronJobRules()
    {
        var set = Load(string.Format(System.Globalization.CultureInfo.InvariantCulture, PodRule, ""));
        Assert.Equal(["r", "autogen-r", "autogen-cronjob-r"], set.Policies.Single().RuleNames);
    }

    [Fact]
    public void Load_AutogenAnnotationNone_GeneratesNothing()
    {
        var set = Load(string.Format(System.Globalization.CultureInfo.InvariantCulture, PodRule, "  annotations:\n    pod-policies.kyverno.io/autogen-controllers: none"));
        Assert.Equal(["r"], set.Policies.Single().RuleNames);
    }

    [Fact]
    public void Load_AutogenAnnotationDeploymentOnly_GeneratesControllerRuleOnly()
    {
        var set = Load(string.Format(System.Globalization.CultureInfo.InvariantCulture, PodRule, "  annotations:\n    pod-policies.kyverno.io/autogen-controllers: Deployment"));
        Assert.Equal(["r", "autogen-r"], set.Policies.Single().RuleNames);
    }

    [Fact]
    public void Load_RuleMatchingByName_NoAutogen()
    {
        var yaml = string.Format(System.Globalization.CultureInfo.InvariantCulture, PodRule, "").Replace("kinds: [Pod]", "kinds: [Pod]\n          names: [\"web-*\"]", StringComparison.Ordinal);
        Assert.Equal(["r"], Load(yaml).Policies.Single().RuleNames);
    }

    [Fact]
    public void Load_NonPolicyDocuments_AreIgnored()
    {
        var set = Load("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n---\n" + string.Format(System.Globalization.CultureInfo.InvariantCulture, PodRule, ""));
        Assert.Equal("p", set.Policies.Single().Name);
        Assert.Equal(6, set.Policies.Single().Line);
        Assert.Equal("policies/p.yaml", set.Policies.Single().SourceFile);
    }

    [Fact]
    public void Load_NamespacedPolicy_ReportNameHasNamespace()
    {
        var yaml = string.Format(System.Globalization.CultureInfo.InvariantCulture, PodRule, "  namespace: shop").Replace("kind: ClusterPolicy", "kind: Policy", StringComparison.Ordinal);
        var policy = Load(yaml).Policies.Single();
        Assert.Equal("shop", policy.Namespace);
        Assert.Equal("shop/p", policy.ReportName);
    }

    [Theory]
    [InlineData("operator: Bigger", "unknown condition operator 'Bigger'")]
    [InlineData("operator: Equals\n            key: \"{{ request.object.[ }}\"", "invalid JMESPath")]
    public void Load_InvalidCondition_ErrorNamesFileLinePolicyAndRule(string condition, string fragment)
    {
        var yaml = $$"""
            # leading comment
            apiVersion: kyverno.io/v1
            kind: ClusterPolicy
            metadata:
              name: broken
            spec:
              rules:
              - name: bad-rule
                match:
                  any:
                  - resources:
                      kinds: [ConfigMap]
                validate:
                  deny:
                    conditions:
                      any:
                      - value: x
                        {{condition}}
            """;
        var ex = Assert.Throws<PolicyLoadException>(() => Load(yaml, "repo/policies/broken.yaml"));
        Assert.StartsWith("repo/policies/broken.yaml:2: ClusterPolicy broken rule bad-rule", ex.Message, StringComparison.Ordinal);
        Assert.Contains(fragment, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_RuleWithoutValidation_ErrorSaysWhatIsExpected()
    {
        var yaml = string.Format(System.Globalization.CultureInfo.InvariantCulture, PodRule, "").Replace("pattern:\n        spec:\n          containers:\n          - image: \"*:*\"", "message: nothing", StringComparison.Ordinal);
        var ex = Assert.Throws<PolicyLoadException>(() => Load(yaml));
        Assert.Contains("expected one of pattern, anyPattern, deny, foreach, podSecurity or cel", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_BadFailureAction_Rejected()
    {
        var yaml = string.Format(System.Globalization.CultureInfo.InvariantCulture, PodRule, "").Replace("spec:\n  rules:", "spec:\n  validationFailureAction: Block\n  rules:", StringComparison.Ordinal);
        var ex = Assert.Throws<PolicyLoadException>(() => Load(yaml));
        Assert.Contains("must be Audit or Enforce", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadPaths_MissingPath_ErrorNamesIt()
    {
        var ex = Assert.Throws<PolicyLoadException>(() => PolicySet.LoadPaths(["/nonexistent/policies"]));
        Assert.StartsWith("/nonexistent/policies:", ex.Message, StringComparison.Ordinal);
    }
}
