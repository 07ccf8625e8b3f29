using System.Text.Json.Nodes;
using FleetFunctions.Core.Policy;
using Xunit;

namespace FleetFunctions.Core.Tests.Policy;

/// <summary>
/// <c>validate.podSecurity</c>: the Pod Security Standards checks, their messages, exclusions and load errors. Which
/// pods pass and fail at each level is also covered by <c>testdata/policy/pod-security</c> (a kyverno-test.yaml).
/// </summary>
public sealed class PodSecurityTests
{
    private static PolicySet Policy(string podSecurity, string kinds = "[Pod]") => PolicySet.Load([("policies/psa.yaml", $"""
        apiVersion: kyverno.io/v1
        kind: ClusterPolicy
        metadata:
          name: psa
        spec:
          validationFailureAction: Enforce
          rules:
          - name: pss
            match:
              any:
              - resources:
                  kinds: {kinds}
            validate:
              podSecurity:
        {Indent(podSecurity, 8)}
        """)]);

    private static string Indent(string text, int spaces) =>
        string.Join("\n", text.Split('\n').Select(l => new string(' ', spaces) + l));

    private static JsonObject Object(string json) => JsonNode.Parse(json)!.AsObject();

    private static RuleResult Result(PolicySet set, JsonObject resource, PolicyContext? context = null, string rule = "pss") =>
        PolicyEngine.Validate(set, resource, context).Results.Single(r => r.Rule == rule);

    [Fact]
    public void Validate_RestrictedPodMissingEverything_ReportsEachCheckWithItsFieldsLikeKyverno()
    {
        var set = Policy("level: restricted\nversion: latest");
        var pod = Object("""{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"app","image":"app:1"}]}}""");

        var result = Result(set, pod);

        Assert.Equal(RuleStatus.Fail, result.Status);
        Assert.Equal(
            "Validation rule 'pss' failed. It violates PodSecurity \"restricted:latest\": "
            + "(Forbidden reason: allowPrivilegeEscalation != false, field error list: [spec.containers[0].securityContext.allowPrivilegeEscalation: Required value])"
            + "(Forbidden reason: runAsNonRoot != true, field error list: [spec.containers[0].securityContext.runAsNonRoot: Required value])"
            + "(Forbidden reason: seccompProfile, field error list: [spec.containers[0].securityContext.seccompProfile.type: Required value])"
            + "(Forbidden reason: unrestricted capabilities, field error list: [spec.containers[0].securityContext.capabilities.drop: Required value])",
            result.Message);
    }

    [Fact]
    public void Validate_DeploymentWithForbiddenValues_PathsUnderThePodTemplateWithTheValues()
    {
        var set = Policy("level: baseline");
        var deployment = Object("""
            {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"template":{
              "metadata":{"annotations":{"container.apparmor.security.beta.kubernetes.io/web":"unconfined"}},
              "spec":{"hostNetwork":true,"securityContext":{"sysctls":[{"name":"kernel.msgmax","value":"1"}]},
                "volumes":[{"name":"data","hostPath":{"path":"/data"}}],
                "containers":[{"name":"web","image":"web:1","ports":[{"containerPort":80,"hostPort":8080}],
                  "securityContext":{"privileged":true,"capabilities":{"add":["NET_ADMIN","CHOWN","SYS_TIME"]}}}]}}}}
            """);

        var result = Result(set, deployment, rule: "autogen-pss");

        Assert.Equal(RuleStatus.Fail, result.Status);
        Assert.StartsWith("Validation rule 'autogen-pss' failed. It violates PodSecurity \"baseline:latest\": ", result.Message, StringComparison.Ordinal);
        Assert.Contains("(Forbidden reason: host namespaces, field error list: [spec.template.spec.hostNetwork is forbidden, forbidden values found: true])", result.Message, StringComparison.Ordinal);
        Assert.Contains("(Forbidden reason: privileged, field error list: [spec.template.spec.containers[0].securityContext.privileged is forbidden, forbidden values found: true])", result.Message, StringComparison.Ordinal);
        Assert.Contains("(Forbidden reason: non-default capabilities, field error list: [spec.template.spec.containers[0].securityContext.capabilities.add is forbidden, forbidden values found: [NET_ADMIN SYS_TIME]])", result.Message, StringComparison.Ordinal);
        Assert.Contains("(Forbidden reason: hostPath volumes, field error list: [spec.template.spec.volumes[0].hostPath is forbidden, forbidden values found: /data])", result.Message, StringComparison.Ordinal);
        Assert.Contains("(Forbidden reason: hostPort, field error list: [spec.template.spec.containers[0].ports[0].hostPort is forbidden, forbidden values found: 8080])", result.Message, StringComparison.Ordinal);
        Assert.Contains("(Forbidden reason: forbidden AppArmor profile(s), field error list: [spec.template.metadata.annotations[container.apparmor.security.beta.kubernetes.io/web] is forbidden, forbidden values found: unconfined])", result.Message, StringComparison.Ordinal);
        Assert.Contains("(Forbidden reason: forbidden sysctls, field error list: [spec.template.spec.securityContext.sysctls[0].name is forbidden, forbidden values found: kernel.msgmax])", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_CronJob_ChecksTheJobsPodTemplate()
    {
        var set = Policy("level: baseline");
        var cronJob = Object("""
            {"apiVersion":"batch/v1","kind":"CronJob","metadata":{"name":"c"},"spec":{"schedule":"* * * * *","jobTemplate":{"spec":{"template":{"spec":
              {"containers":[{"name":"a","image":"a:1","securityContext":{"procMount":"Unmasked"}}],"restartPolicy":"Never"}}}}}}
            """);

        var result = Result(set, cronJob, rule: "autogen-cronjob-pss");

        Assert.Equal(RuleStatus.Fail, result.Status);
        Assert.Contains("(Forbidden reason: procMount, field error list: [spec.jobTemplate.spec.template.spec.containers[0].securityContext.procMount is forbidden, forbidden values found: Unmasked])", result.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("privileged", true)]
    [InlineData("baseline", false)]
    [InlineData("restricted", false)]
    public void Validate_PrivilegedContainer_OnlyThePrivilegedLevelAllowsIt(string level, bool passes)
    {
        var set = Policy($"level: {level}");
        var pod = Object("""{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"a","image":"a:1","securityContext":{"privileged":true}}]}}""");

        Assert.Equal(passes ? RuleStatus.Pass : RuleStatus.Fail, Result(set, pod).Status);
    }

    [Theory]
    [InlineData("v1.22", RuleStatus.Pass)] // runAsUser=0 is forbidden from v1.23
    [InlineData("v1.23", RuleStatus.Fail)]
    [InlineData("latest", RuleStatus.Fail)]
    public void Validate_RunAsUserZero_ForbiddenFromTheVersionThatAddedTheCheck(string version, RuleStatus expected)
    {
        var set = Policy($"level: restricted\nversion: {version}");
        var pod = Object("""
            {"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"securityContext":{"runAsNonRoot":true,"runAsUser":0,"seccompProfile":{"type":"RuntimeDefault"}},
              "containers":[{"name":"a","image":"a:1","securityContext":{"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]}}}]}}
            """);

        Assert.Equal(expected, Result(set, pod).Status);
    }

    [Fact]
    public void Validate_ExclusionForAnImage_OtherContainersStillChecked()
    {
        var set = Policy("""
            level: baseline
            exclude:
            - controlName: Privileged Containers
              images: ["ghcr.io/example/node-agent:*"]
            """);
        static JsonObject PodWith(string containers) => Object($$$"""{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":{{{containers}}}}}""");
        const string Agent = """{"name":"agent","image":"ghcr.io/example/node-agent:2.1","securityContext":{"privileged":true}}""";

        Assert.Equal(RuleStatus.Pass, Result(set, PodWith($"[{Agent}]")).Status);
        var mixed = Result(set, PodWith($$$"""[{{{Agent}}},{"name":"shell","image":"busybox:1","securityContext":{"privileged":true}}]"""));
        Assert.Equal(RuleStatus.Fail, mixed.Status);
        Assert.Contains("spec.containers[1].securityContext.privileged", mixed.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("spec.containers[0]", mixed.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_ExclusionWithRestrictedFieldAndValues_ExemptsOnlyThoseValues()
    {
        var set = Policy("""
            level: baseline
            exclude:
            - controlName: Capabilities
              images: ["*"]
              restrictedField: spec.containers[*].securityContext.capabilities.add
              values: ["NET_ADMIN", "NET_RAW"]
            """);
        static JsonObject Adding(string capabilities) => Object(
            """{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"a","image":"a:1","securityContext":{"capabilities":{"add":"""
            + capabilities + "}}}]}}");

        Assert.Equal(RuleStatus.Pass, Result(set, Adding("""["NET_ADMIN","NET_RAW","CHOWN"]""")).Status);
        Assert.Equal(RuleStatus.Fail, Result(set, Adding("""["NET_ADMIN","SYS_ADMIN"]""")).Status);
    }

    [Fact]
    public void Validate_PodLevelExclusion_ExemptsThePodsFieldsNotTheContainers()
    {
        var set = Policy("""
            level: baseline
            exclude:
            - controlName: SELinux
            """);
        var podLevel = Object("""{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"securityContext":{"seLinuxOptions":{"type":"spc_t"}},"containers":[{"name":"a","image":"a:1"}]}}""");
        var containerLevel = Object("""{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"a","image":"a:1","securityContext":{"seLinuxOptions":{"user":"system_u"}}}]}}""");

        Assert.Equal(RuleStatus.Pass, Result(set, podLevel).Status);
        var failed = Result(set, containerLevel);
        Assert.Equal(RuleStatus.Fail, failed.Status);
        Assert.Contains("spec.containers[0].securityContext.seLinuxOptions.user is forbidden, forbidden values found: system_u", failed.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_RestrictedVolumes_SourcelessVolumeIsAnEmptyDirAnUnknownSourceIsRefused()
    {
        var set = Policy("level: restricted");
        static JsonObject With(string volume) => Object("""
            {"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"securityContext":{"runAsNonRoot":true,"seccompProfile":{"type":"RuntimeDefault"}},
              "volumes":[VOLUME],
              "containers":[{"name":"a","image":"a:1","securityContext":{"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]}}}]}}
            """.Replace("VOLUME", volume, StringComparison.Ordinal));

        var sourceless = Result(set, With("""{"name":"scratch"}"""));
        var unknown = Result(set, With("""{"name":"odd","somethingNew":{}}"""));

        Assert.Equal(RuleStatus.Pass, sourceless.Status);
        Assert.Equal(RuleStatus.Fail, unknown.Status);
        Assert.Contains("spec.volumes[0].somethingNew is forbidden, forbidden values found: somethingNew", unknown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_KindWithoutAPodTemplate_ErrorNamingTheKinds()
    {
        var set = Policy("level: baseline", kinds: "[Service]");
        var service = Object("""{"apiVersion":"v1","kind":"Service","metadata":{"name":"s"},"spec":{}}""");

        var result = Result(set, service);

        Assert.Equal(RuleStatus.Error, result.Status);
        Assert.Contains("Service has none", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_Delete_Skipped()
    {
        var set = Policy("level: restricted");
        var pod = Object("""{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"a","image":"a:1"}]}}""");

        Assert.Equal(RuleStatus.Skip, Result(set, pod, new PolicyContext { Operation = AdmissionOperation.Delete }).Status);
    }

    [Theory]
    [InlineData("level: strict", "podSecurity.level 'strict' must be privileged, baseline or restricted")]
    [InlineData("version: latest", "podSecurity.level is required")]
    [InlineData("level: baseline\nversion: v1.99", "podSecurity.version 'v1.99' is not known: use latest or v1.0 to v1.32")]
    [InlineData("level: baseline\nversion: \"1.30\"", "podSecurity.version '1.30' is not known")]
    [InlineData("level: baseline\nexclude:\n- controlName: Privileged Containers", "exclude.images must be specified for the container level control 'Privileged Containers'")]
    [InlineData("level: baseline\nexclude:\n- controlName: Host Namespaces\n  images: [\"*\"]", "exclude.images must not be specified for the pod level control 'Host Namespaces'")]
    [InlineData("level: baseline\nexclude:\n- controlName: Running as Non-root", "Invalid control name defined at the given level")]
    [InlineData("level: restricted\nexclude:\n- controlName: Seccomp\n  restrictedField: spec.securityContext.seccompProfile.type", "values is required with restrictedField")]
    [InlineData("level: restricted\nexclude:\n- controlName: Seccomp\n  values: [Unconfined]", "restrictedField is required with values")]
    [InlineData("level: restricted\nexclude:\n- controlName: Priviledged", "controlName 'Priviledged' is not a Pod Security Standards control this engine knows: one of 'HostProcess', 'Host Namespaces'")]
    public void Load_BadPodSecurity_ErrorNamesThePolicyRuleAndWhatIsAccepted(string podSecurity, string expected)
    {
        var error = Assert.Throws<PolicyLoadException>(() => Policy(podSecurity));

        Assert.Contains("policies/psa.yaml", error.Message, StringComparison.Ordinal);
        Assert.Contains("rule pss", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_PodSecurityInsideForeach_Refused()
    {
        var error = Assert.Throws<PolicyLoadException>(() => PolicySet.Load([("p.yaml", """
            apiVersion: kyverno.io/v1
            kind: ClusterPolicy
            metadata:
              name: psa
            spec:
              rules:
              - name: each
                match:
                  any:
                  - resources:
                      kinds: [Pod]
                validate:
                  foreach:
                  - list: request.object.spec.containers
                    podSecurity:
                      level: baseline
            """)]));

        Assert.Contains("not allowed inside foreach", error.Message, StringComparison.Ordinal);
    }
}
