using System.Text.Json.Nodes;
using FleetFunctions.Core.Policy;
using Xunit;

namespace FleetFunctions.Core.Tests.Policy;

public sealed class PolicyEngineTests
{
    private const string Policies = """
        apiVersion: kyverno.io/v1
        kind: ClusterPolicy
        metadata:
          name: require-labels
        spec:
          validationFailureAction: Enforce
          rules:
          - name: team-label
            match:
              any:
              - resources:
                  kinds: [Pod]
            exclude:
              any:
              - resources:
                  namespaces: [kube-system]
            validate:
              message: "{{ request.object.kind }} {{ request.object.metadata.name }} needs a team label"
              pattern:
                metadata:
                  labels:
                    team: "?*"
          - name: audit-only
            match:
              any:
              - resources:
                  kinds: [Pod]
            validate:
              failureAction: Audit
              message: owner annotation is recommended
              pattern:
                metadata:
                  annotations:
                    owner: "?*"
        ---
        apiVersion: kyverno.io/v2beta1
        kind: ClusterPolicy
        metadata:
          name: restricted-namespaces
        spec:
          validationFailureAction: Audit
          rules:
          - name: no-privileged
            match:
              any:
              - resources:
                  kinds: [Pod]
                  namespaceSelector:
                    matchLabels:
                      security: restricted
                  operations: [CREATE, UPDATE]
            validate:
              message: privileged pods are not allowed in restricted namespaces
              pattern:
                spec:
                  containers:
                  - =(securityContext):
                      =(privileged): false
          - name: lookup
            match:
              any:
              - resources:
                  kinds: [ConfigMap]
            context:
            - name: settings
              configMap:
                name: settings
                namespace: platform
            validate:
              message: "value must be one of {{ settings.data.allowed }}"
              deny:
                conditions:
                  all:
                  - key: "{{ request.object.data.value }}"
                    operator: AnyNotIn
                    value: "{{ split(settings.data.allowed, ',') }}"
        """;

    private static readonly PolicySet s_set = PolicySet.Load([("platform/policies.yaml", Policies)]);

    private static JsonObject Pod(string name, string ns, string labels = "{}", string annotations = "{}", bool privileged = false) =>
        new()
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Pod",
            ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = ns, ["labels"] = JsonNode.Parse(labels), ["annotations"] = JsonNode.Parse(annotations) },
            ["spec"] = JsonNode.Parse("{\"containers\":[{\"name\":\"c\",\"image\":\"nginx:1\",\"securityContext\":{\"privileged\":" + (privileged ? "true" : "false") + "}}]}"),
        };

    [Fact]
    public void Validate_MissingLabel_EnforceViolationWithSubstitutedMessage()
    {
        var report = PolicyEngine.Validate(s_set, Pod("web", "shop"), sourceFile: "apps/web.yaml");

        Assert.Equal("Pod/shop/web", report.Resource);
        Assert.True(report.Blocked);
        var violation = Assert.Single(report.Violations, v => v.Rule == "team-label");
        Assert.Equal("require-labels", violation.Policy);
        Assert.Equal("Pod/shop/web", violation.Resource);
        Assert.Equal("apps/web.yaml", violation.SourceFile);
        Assert.Equal(FailureAction.Enforce, violation.Action);
        Assert.Equal("validation error: Pod web needs a team label. rule team-label failed at path /metadata/labels/team/", violation.Message);
    }

    [Fact]
    public void Validate_RuleFailureActionAudit_OverridesPolicyEnforce()
    {
        var report = PolicyEngine.Validate(s_set, Pod("web", "shop", labels: """{"team":"a"}"""));

        Assert.False(report.Blocked);
        var violation = Assert.Single(report.Violations);
        Assert.Equal("audit-only", violation.Rule);
        Assert.Equal(FailureAction.Audit, violation.Action);
        Assert.Equal(RuleStatus.Pass, report.Results.Single(r => r.Rule == "team-label").Status);
    }

    [Fact]
    public void Validate_AuditAsWarn_ReportsWarn()
    {
        var report = PolicyEngine.Validate(s_set, Pod("web", "shop", labels: """{"team":"a"}"""), new PolicyContext { AuditAsWarn = true });
        Assert.Equal(RuleStatus.Warn, report.Results.Single(r => r.Rule == "audit-only").Status);
    }

    [Fact]
    public void Validate_ExcludedNamespace_RuleNotReported()
    {
        var report = PolicyEngine.Validate(s_set, Pod("dns", "kube-system"));
        Assert.DoesNotContain(report.Results, r => r.Rule == "team-label");
        Assert.Contains(report.Results, r => r.Rule == "audit-only");
    }

    [Fact]
    public void Validate_NamespaceSelector_UsesCallerSuppliedLabels()
    {
        var pod = Pod("web", "secure", labels: """{"team":"a"}""", annotations: """{"owner":"me"}""", privileged: true);
        var labels = new Dictionary<string, IReadOnlyDictionary<string, string>> { ["secure"] = new Dictionary<string, string> { ["security"] = "restricted" } };

        var unlabeled = PolicyEngine.Validate(s_set, pod);
        var restricted = PolicyEngine.Validate(s_set, pod, new PolicyContext { NamespaceLabels = labels });
        var onDelete = PolicyEngine.Validate(s_set, pod, new PolicyContext { NamespaceLabels = labels, Operation = AdmissionOperation.Delete });

        Assert.DoesNotContain(unlabeled.Results, r => r.Rule == "no-privileged");
        Assert.Equal(RuleStatus.Fail, restricted.Results.Single(r => r.Rule == "no-privileged").Status);
        Assert.DoesNotContain(onDelete.Results, r => r.Rule == "no-privileged");
    }

    [Fact]
    public void Validate_ConfigMapContextWithoutValue_ErrorSaysHowToSupplyIt()
    {
        var cm = (JsonObject)JsonNode.Parse("""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x","namespace":"a"},"data":{"value":"b"}}""")!;

        var report = PolicyEngine.Validate(s_set, cm);

        var result = report.Results.Single(r => r.Rule == "lookup");
        Assert.Equal(RuleStatus.Error, result.Status);
        Assert.Contains("context entry 'settings' (configMap) needs a value", result.Message, StringComparison.Ordinal);
        Assert.Single(report.Violations);
    }

    [Fact]
    public void Validate_ConfigMapContextSupplied_EvaluatesDeny()
    {
        var cm = (JsonObject)JsonNode.Parse("""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x","namespace":"a"},"data":{"value":"c"}}""")!;
        var context = new PolicyContext { Values = new Dictionary<string, JsonNode?> { ["settings.data.allowed"] = JsonValue.Create("a,b") } };

        var denied = PolicyEngine.Validate(s_set, cm, context);
        cm["data"]!["value"] = "b";
        var allowed = PolicyEngine.Validate(s_set, cm, context);

        Assert.Equal("value must be one of a,b", denied.Results.Single(r => r.Rule == "lookup").Message);
        Assert.Equal(RuleStatus.Fail, denied.Results.Single(r => r.Rule == "lookup").Status);
        Assert.Equal(RuleStatus.Pass, allowed.Results.Single(r => r.Rule == "lookup").Status);
    }

    [Fact]
    public void Validate_Deployment_CheckedByAutogenRuleOnPodTemplate()
    {
        var deployment = (JsonObject)JsonNode.Parse("""
            {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"shop","labels":{"team":"a"}},
             "spec":{"template":{"metadata":{"labels":{}},"spec":{"containers":[{"name":"c","image":"nginx:1"}]}}}}
            """)!;

        var report = PolicyEngine.Validate(s_set, deployment);

        var result = report.Results.Single(r => r.Rule == "autogen-team-label");
        Assert.Equal(RuleStatus.Fail, result.Status);
        Assert.Contains("/spec/template/metadata/labels/team/", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_ParallelCalls_SameResults()
    {
        var pods = Enumerable.Range(0, 200).Select(i => Pod("p" + i, "ns", labels: i % 2 == 0 ? """{"team":"a"}""" : "{}")).ToArray();
        var results = new bool[pods.Length];
        Parallel.For(0, pods.Length, i => results[i] = PolicyEngine.Validate(s_set, pods[i]).Blocked);
        Assert.All(Enumerable.Range(0, pods.Length), i => Assert.Equal(i % 2 == 1, results[i]));
    }

    [Fact]
    public void Validate_RuleValues_FeedContextEntriesOfThatRuleOnly()
    {
        var set = PolicySet.Load([("limits.yaml", """
            apiVersion: kyverno.io/v1
            kind: ClusterPolicy
            metadata:
              name: limits
            spec:
              rules:
              - name: max-keys
                match:
                  any:
                  - resources:
                      kinds: [ConfigMap]
                context:
                - name: limit
                  apiCall:
                    urlPath: /api/v1/namespaces/platform/configmaps/limits
                    jmesPath: data.maxKeys
                validate:
                  message: "at most {{ limit }} keys"
                  deny:
                    conditions:
                      any:
                      - key: "{{ length(request.object.data) }}"
                        operator: GreaterThan
                        value: "{{ limit }}"
            """)]);
        var cm = (JsonObject)JsonNode.Parse("""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x","namespace":"a"},"data":{"a":"1","b":"2","c":"3"}}""")!;
        PolicyContext WithLimit(long limit) => new()
        {
            RuleValues = new Dictionary<string, IReadOnlyDictionary<string, JsonNode?>>
            {
                ["limits/max-keys"] = new Dictionary<string, JsonNode?> { ["limit"] = JsonValue.Create(limit) },
            },
        };

        var tooMany = PolicyEngine.Validate(set, cm, WithLimit(2)).Results.Single();
        var fine = PolicyEngine.Validate(set, cm, WithLimit(3)).Results.Single();

        Assert.Equal(RuleStatus.Fail, tooMany.Status);
        Assert.Equal("at most 2 keys", tooMany.Message);
        Assert.Equal(RuleStatus.Pass, fine.Status);
    }

    [Fact]
    public void Validate_NestedForEachDeny_MessageSeesOuterAndInnerElements()
    {
        var dir = Path.Combine(AppContext.BaseDirectory, "testdata", "policy", "foreach-context");
        var set = PolicySet.LoadPaths([Path.Combine(dir, "policy.yaml")]);
        var pod = (JsonObject)YamlDocuments.ParseFile(Path.Combine(dir, "resources.yaml")).Single(d => JsonUtil.GetString(d.Root, "metadata", "name") == "low-port").Root!;

        var result = PolicyEngine.Validate(set, pod).Results.Single(r => r.Rule == "nested-ports");

        Assert.Equal(RuleStatus.Fail, result.Status);
        Assert.Equal("container app exposes privileged port 80", result.Message);
    }

    private const string OverridePolicies = """
        apiVersion: kyverno.io/v1
        kind: ClusterPolicy
        metadata:
          name: overrides
        spec:
          validationFailureAction: Audit
          validationFailureActionOverrides:
          - action: Enforce
            namespaceSelector:
              matchLabels:
                tier: prod
          - action: Enforce
            namespaces: ["team-*"]
            namespaceSelector:
              matchLabels:
                pci: "true"
          rules:
          - name: spec-level
            match:
              any:
              - resources:
                  kinds: [Pod]
            validate:
              pattern:
                metadata:
                  labels:
                    team: "?*"
          - name: rule-level
            match:
              any:
              - resources:
                  kinds: [Pod]
            validate:
              failureAction: Audit
              failureActionOverrides:
              - action: Enforce
                namespaces: [payments]
              pattern:
                metadata:
                  labels:
                    team: "?*"
          - name: rule-audit-override
            match:
              any:
              - resources:
                  kinds: [Pod]
            validate:
              failureActionOverrides:
              - action: Audit
                namespaces: ["team-*"]
              pattern:
                metadata:
                  labels:
                    team: "?*"
        """;

    private static readonly PolicySet s_overrides = PolicySet.Load([("platform/overrides.yaml", OverridePolicies)]);

    [Theory]
    [InlineData("web", "", "spec-level", FailureAction.Audit)]
    [InlineData("web", "tier=prod", "spec-level", FailureAction.Enforce)]
    [InlineData("team-a", "", "spec-level", FailureAction.Audit)]
    [InlineData("team-a", "pci=true", "spec-level", FailureAction.Enforce)]
    [InlineData("other", "pci=true", "spec-level", FailureAction.Audit)]
    [InlineData("payments", "", "rule-level", FailureAction.Enforce)]
    [InlineData("web", "tier=prod", "rule-level", FailureAction.Audit)]
    [InlineData("team-a", "pci=true", "rule-audit-override", FailureAction.Audit)]
    [InlineData("web", "tier=prod", "rule-audit-override", FailureAction.Enforce)]
    public void Validate_FailureActionOverrides_RuleThenSpecByNamespaceAndSelector(string ns, string label, string rule, FailureAction expected)
    {
        var labels = new Dictionary<string, IReadOnlyDictionary<string, string>>
        {
            [ns] = label.Length == 0 ? new Dictionary<string, string>() : new Dictionary<string, string> { [label.Split('=')[0]] = label.Split('=')[1] },
        };

        var report = PolicyEngine.Validate(s_overrides, Pod("web", ns), new PolicyContext { NamespaceLabels = labels });

        Assert.Equal(expected, report.Violations.Single(v => v.Rule == rule).Action);
    }

    private const string NullFieldPolicies = """
        apiVersion: kyverno.io/v1
        kind: ClusterPolicy
        metadata:
          name: helm-nulls
          annotations:
            pod-policies.kyverno.io/autogen-controllers: none
        spec:
          validationFailureAction: Enforce
          rules:
          - name: privileged-containers
            match:
              any:
              - resources:
                  kinds: [Pod]
            validate:
              message: Privileged mode is disallowed.
              pattern:
                spec:
                  =(initContainers):
                  - =(securityContext):
                      =(privileged): "false"
                  containers:
                  - =(securityContext):
                      =(privileged): "false"
          - name: privileged-foreach
            match:
              any:
              - resources:
                  kinds: [Pod]
            validate:
              foreach:
              - list: request.object.spec.containers
                pattern:
                  =(securityContext):
                    =(privileged): "false"
          - name: labels-key
            match:
              any:
              - resources:
                  kinds: [Pod]
            validate:
              message: metadata.labels is present
              deny:
                conditions:
                  all:
                  - key: "{{ contains(keys(request.object.metadata), 'labels') }}"
                    operator: Equals
                    value: true
          - name: host-network
            match:
              any:
              - resources:
                  kinds: [Pod]
            validate:
              cel:
                expressions:
                - expression: "!has(object.spec.hostNetwork) || !object.spec.hostNetwork"
                - expression: "size(object.spec.containers[0].args) == 2"
        """;

    [Fact]
    public void Validate_ExplicitNullFields_AreAbsentAsAtAdmission()
    {
        var set = PolicySet.Load([("platform/helm-nulls.yaml", NullFieldPolicies)]);
        var pod = (JsonObject)YamlDocuments.Parse("chart/pod.yaml", """
            apiVersion: v1
            kind: Pod
            metadata:
              name: rendered
              namespace: shop
              labels:
            spec:
              hostNetwork:
              containers:
              - name: app
                image: nginx:1
                args: [serve, null]
                securityContext:
            """).Single().Root!;

        var report = PolicyEngine.Validate(set, pod);

        Assert.All(report.Results, r => Assert.True(r.Status == RuleStatus.Pass, $"{r.Rule}: {r.Status} {r.Message}"));
        Assert.Equal(4, report.Results.Count);
        Assert.True(pod["spec"]!["containers"]![0]!.AsObject().ContainsKey("securityContext"), "the caller's object is not changed");
    }

    [Fact]
    public void Validate_ExplicitNullInOldObject_IsAbsentToo()
    {
        var pod = (JsonObject)JsonNode.Parse("""{"apiVersion":"v1","kind":"Pod","metadata":{"name":"rendered","namespace":"shop"},"spec":{"containers":[{"name":"app","image":"nginx:1","args":["a","b"]}]}}""")!;
        var old = (JsonObject)JsonNode.Parse("""{"apiVersion":"v1","kind":"Pod","metadata":{"name":"rendered","namespace":"shop","labels":null},"spec":{"containers":[]}}""")!;
        var wasLabelled = PolicySet.Load([("platform/old.yaml", """
            apiVersion: kyverno.io/v1
            kind: ClusterPolicy
            metadata:
              name: old-labels
            spec:
              validationFailureAction: Enforce
              rules:
              - name: old-labels-key
                match:
                  any:
                  - resources:
                      kinds: [Pod]
                validate:
                  deny:
                    conditions:
                      all:
                      - key: "{{ contains(keys(request.oldObject.metadata), 'labels') }}"
                        operator: Equals
                        value: true
            """)]);

        var report = PolicyEngine.Validate(wasLabelled, pod, new PolicyContext { Operation = AdmissionOperation.Update, OldResource = old });

        Assert.Equal(RuleStatus.Pass, Assert.Single(report.Results).Status);
    }
}
