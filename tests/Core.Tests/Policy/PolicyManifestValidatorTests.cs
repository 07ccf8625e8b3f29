using FleetFunctions.Core.Manifests;
using FleetFunctions.Core.Policy;
using FleetFunctions.Core.Reconcile;
using Xunit;

namespace FleetFunctions.Core.Tests.Policy;

/// <summary>
/// The validate phase of a reconcile: objects without a namespace are validated where the API server puts them
/// (<c>default</c> for namespaced kinds), as Kyverno sees them at admission, while the applied object is unchanged.
/// </summary>
public sealed class PolicyManifestValidatorTests
{
    private static readonly ValidationContext s_context = new("east", "shop", "abc123", "apps");

    private static string DenyRule(string name, string resources, string message = "denied in {{ request.namespace }}") => $$"""
          - name: {{name}}
            match:
              any:
              - resources:
        {{resources}}
            validate:
              message: "{{message}}"
              deny: {}
        """;

    private static string ClusterPolicy(string name, string rules, string action = "Enforce", string extraSpec = "") => $"""
        apiVersion: kyverno.io/v1
        kind: ClusterPolicy
        metadata:
          name: {name}
          annotations:
            pod-policies.kyverno.io/autogen-controllers: none
        spec:
          validationFailureAction: {action}
        {extraSpec}  rules:
        {rules}
        """;

    private static async Task<ValidationResult> ValidateAsync(string policies, string manifests)
    {
        var set = PolicySet.Load([("platform/policies.yaml", policies)]);
        var objects = YamlDocuments.Parse("apps/app.yaml", manifests).Select(d => new ManifestObject((System.Text.Json.Nodes.JsonObject)d.Root!, "apps/app.yaml", d.Line));
        return await new PolicyManifestValidator(set).ValidateAsync(s_context, ManifestSet.Create(objects));
    }

    private const string Pod = """
        apiVersion: v1
        kind: Pod
        metadata:
          name: web
        spec:
          containers:
          - name: web
            image: nginx:1
        """;

    [Fact]
    public async Task ValidateAsync_NoNamespace_NamespacedPolicyInDefaultApplies()
    {
        var policy = """
            apiVersion: kyverno.io/v1
            kind: Policy
            metadata:
              name: only-default
              namespace: default
            spec:
              validationFailureAction: Enforce
              rules:
            """ + "\n" + DenyRule("no-pods", "            kinds: [Pod]");

        var result = await ValidateAsync(policy, Pod);

        var violation = Assert.Single(result.Violations);
        Assert.StartsWith("east/Pod/default/web (apps/app.yaml:1): policy default/only-default/no-pods: denied in default", violation, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ValidateAsync_NoNamespace_MatchesAndIsExcludedAsDefault()
    {
        var policies = ClusterPolicy("match-default", DenyRule("in-default", "            kinds: [Pod]\n            namespaces: [default]"))
            + "\n---\n" + ClusterPolicy("exclude-default", DenyRule("not-default", "            kinds: [Pod]") + "\n" + """
                exclude:
                  any:
                  - resources:
                      namespaces: [default]
            """);

        var result = await ValidateAsync(policies, Pod);

        var violation = Assert.Single(result.Violations);
        Assert.Contains("policy match-default/in-default: denied in default", violation, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ValidateAsync_NoNamespace_FailureActionOverrideForDefaultApplies()
    {
        var overrides = "  validationFailureActionOverrides:\n  - action: Audit\n    namespaces: [default]\n";
        var policy = ClusterPolicy("overridden", DenyRule("no-pods", "            kinds: [Pod]"), extraSpec: overrides);

        var result = await ValidateAsync(policy, Pod);

        Assert.Empty(result.Violations);
        Assert.StartsWith("east/Pod/default/web (apps/app.yaml:1): policy overridden/no-pods", Assert.Single(result.Warnings), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ValidateAsync_NoNamespace_NamespaceSelectorSeesDefaultsLabels()
    {
        var policy = ClusterPolicy("team-a", DenyRule("team-a-pods", "            kinds: [Pod]\n            namespaceSelector:\n              matchLabels: {team: a}"));
        var manifests = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: default\n  labels: {team: a}\n---\n" + Pod;

        var result = await ValidateAsync(policy, manifests);

        Assert.Contains("policy team-a/team-a-pods: denied in default", Assert.Single(result.Violations), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ValidateAsync_ClusterScopedKinds_StayOutOfDefault()
    {
        var policy = ClusterPolicy("nothing-in-default", DenyRule("in-default", "            kinds: ['*']\n            namespaces: [default]"));
        var manifests = """
            apiVersion: apiextensions.k8s.io/v1
            kind: CustomResourceDefinition
            metadata:
              name: tenants.example.com
            spec:
              group: example.com
              scope: Cluster
              names: {kind: Tenant, plural: tenants}
            ---
            apiVersion: example.com/v1
            kind: Tenant
            metadata:
              name: blue
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRole
            metadata:
              name: reader
            ---
            apiVersion: storage.k8s.io/v1
            kind: StorageClass
            metadata:
              name: fast
              namespace: default
            ---
            apiVersion: example.com/v1
            kind: Widget
            metadata:
              name: gear
            """;

        var result = await ValidateAsync(policy, manifests);

        Assert.StartsWith("east/Widget/default/gear ", Assert.Single(result.Violations), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ValidateAsync_NoNamespace_AppliedObjectIsUnchanged()
    {
        var set = PolicySet.Load([("platform/policies.yaml", ClusterPolicy("audit-pods", DenyRule("no-pods", "            kinds: [Pod]"), action: "Audit"))]);
        var pod = new ManifestObject((System.Text.Json.Nodes.JsonObject)YamlDocuments.Parse("apps/app.yaml", Pod).Single().Root!, "apps/app.yaml", 1);

        var result = await new PolicyManifestValidator(set).ValidateAsync(s_context, ManifestSet.Create([pod]));

        Assert.Contains("Pod/default/web", Assert.Single(result.Warnings), StringComparison.Ordinal);
        Assert.Null(pod.Object["metadata"]!["namespace"]);
        Assert.Equal(string.Empty, pod.Namespace);
    }
}
