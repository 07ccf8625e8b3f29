using FleetFunctions.Core.Fleet;
using Xunit;

namespace FleetFunctions.Core.Tests.Fleet;

public sealed class PlatformLoaderTests
{
    /// <summary>GitSource apps and a document separator, to put fleets after.</summary>
    private const string AppsSource = "apiVersion: fleetfunctions.io/v1alpha1\nkind: GitSource\nmetadata: {name: apps}\nspec: {url: \"file:///apps\"}\n---\n";

    private static string TestData(string name) => Path.Combine(AppContext.BaseDirectory, "testdata", "fleet", name);

    [Fact]
    public void LoadDirectory_ValidPlatform_ReadsEveryResourceWithDefaults()
    {
        var platform = PlatformLoader.LoadDirectory(TestData("valid"));

        Assert.Equal(["apps"], platform.Sources.Keys);
        Assert.Equal("apps-webhook", platform.Sources["apps"].WebhookSecretRef?.Name);
        Assert.Equal(["dev-1", "eu-1", "eu-2", "us-1", "us-2"], platform.Clusters.Select(c => c.Name));
        Assert.Equal(new KubeconfigReference("/etc/kube/dev.yaml", "dev-1"), platform.Clusters[0].Kubeconfig);
        Assert.Equal(["platform-base", "podinfo"], platform.Fleets.Keys.Order(StringComparer.Ordinal));

        var podinfo = platform.Fleets["podinfo"];
        Assert.Equal("podinfo/overlays/${cluster.region}", podinfo.Source.Path);
        Assert.Equal(RolloutStrategy.Canary, podinfo.Rollout.Strategy);
        Assert.Equal(TimeSpan.FromMinutes(2), podinfo.HealthTimeout);
        Assert.True(podinfo.Prune);
        Assert.True(podinfo.SelfHeal);
        Assert.False(podinfo.AllowEmpty);
        Assert.Equal(PlatformLoader.DefaultMaxParallel, podinfo.Rollout.MaxParallel);
        var canary = podinfo.Rollout.Canary!;
        Assert.Equal(TimeSpan.FromSeconds(2), canary.Analysis.Interval);
        Assert.Equal(3, canary.Analysis.Iterations);
        Assert.Equal(NoDataPolicy.Inconclusive, canary.Analysis.NoData);
        Assert.Equal(0.05, canary.Analysis.Metrics.Single().Max);
        Assert.Null(canary.Analysis.Metrics.Single().Min);
        Assert.Equal(TimeSpan.FromMinutes(10), canary.Approval?.Timeout);
        Assert.Equal(RolloutStrategy.Progressive, canary.Promotion);
        Assert.Equal(TimeSpan.FromSeconds(5), canary.PromotionProgressive?.Soak);

        var baseFleet = platform.Fleets["platform-base"];
        Assert.Equal(FailureAction.Pause, baseFleet.Rollout.Progressive?.OnFailure);
        Assert.Equal(1, baseFleet.Rollout.Progressive?.MaxFailures);
        Assert.Equal(50, baseFleet.Rollout.Progressive?.Waves[1].Percent);
    }

    [Fact]
    public void LoadDirectory_InvalidResources_ReportsEveryErrorWithFileLineAndField()
    {
        var files = new[] { ("platform/invalid.yaml", File.ReadAllText(TestData("invalid.yaml"))) };

        var ex = Assert.Throws<ResourceValidationException>(() => PlatformLoader.Load(files));

        Assert.All(ex.Errors, e => Assert.Equal("platform/invalid.yaml", e.File));
        AssertError(ex, 9, "spec.rolout", "did you mean 'rollout'?");
        AssertError(ex, 11, "spec.healthTimeout", "must be a duration such as 30s");
        AssertError(ex, 1, "spec.dependsOn", "'broken' depends on itself");
        AssertError(ex, 1, "spec.source.gitSource", "GitSource 'missing-source', which is not defined");
        AssertError(ex, 17, "metadata.name", "must be a DNS label");
        AssertError(ex, 19, "spec.server", "is not an http(s) URL");
        AssertError(ex, 18, "spec.region", "is required");
        AssertError(ex, 33, "spec.rollout.canary.analysis.metrics", "at least one metric");
        AssertError(ex, 35, "spec.rollout.progressive", "only read when strategy is Progressive");
        AssertError(ex, 37, "spec.rollout.progressive.waves[0]", "exactly one of selector, count or percent");
        Assert.Contains("platform/invalid.yaml:9: spec.rolout: unknown field", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_MalformedYaml_NamesFileAndLine()
    {
        var files = new[] { ("fleets/bad.yaml", "apiVersion: fleetfunctions.io/v1alpha1\nkind: Cluster\nmetadata:\n  name: [unclosed\n") };

        var ex = Assert.Throws<ResourceValidationException>(() => PlatformLoader.Load(files));

        var error = Assert.Single(ex.Errors);
        Assert.Equal("fleets/bad.yaml", error.File);
        Assert.True(error.Line >= 4, $"line {error.Line}");
        Assert.Contains("malformed YAML", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_DuplicateNamesAndUnsupportedVersion_AreRejected()
    {
        const string cluster = "apiVersion: fleetfunctions.io/v1alpha1\nkind: Cluster\nmetadata:\n  name: a\nspec:\n  server: http://127.0.0.1:1\n  region: eu\n";
        var files = new[]
        {
            ("one.yaml", cluster),
            ("two.yaml", cluster),
            ("three.yaml", "apiVersion: fleetfunctions.io/v2\nkind: Cluster\nmetadata:\n  name: b\n"),
        };

        var ex = Assert.Throws<ResourceValidationException>(() => PlatformLoader.Load(files));

        Assert.Contains(ex.Errors, e => e.File == "two.yaml" && e.Message.Contains("also defined at one.yaml:1", StringComparison.Ordinal));
        Assert.Contains(ex.Errors, e => e.File == "three.yaml" && e.Message.Contains("'fleetfunctions.io/v2' is not supported", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_DependencyCycle_IsReported()
    {
        static string Fleet(string name, string dependsOn) =>
            $"apiVersion: fleetfunctions.io/v1alpha1\nkind: ClusterFleet\nmetadata:\n  name: {name}\nspec:\n  source:\n    gitSource: s\n  dependsOn: [{dependsOn}]\n---\n";
        const string source = "apiVersion: fleetfunctions.io/v1alpha1\nkind: GitSource\nmetadata:\n  name: s\nspec:\n  url: file:///x\n";
        var files = new[] { ("f.yaml", source + "---\n" + Fleet("a", "b") + Fleet("b", "c") + Fleet("c", "a")) };

        var ex = Assert.Throws<ResourceValidationException>(() => PlatformLoader.Load(files));

        Assert.Contains(ex.Errors, e => e.Message.StartsWith("dependency cycle: a -> b -> c -> a", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_AliasThatIsItsOwnKey_AnErrorNamingFileAndLineInsteadOfACrash()
    {
        var ex = Assert.Throws<ResourceValidationException>(() => PlatformLoader.Load([("loop.yaml", "apiVersion: fleetfunctions.io/v1alpha1\nkind: GitSource\n? &x [*x]\n: value\n")]));

        var error = Assert.Single(ex.Errors);
        Assert.Equal(("loop.yaml", 3), (error.File, error.Line));
        Assert.StartsWith("a mapping key is a sequence", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("metrics: []", "spec.rollout.canary.analysis.metrics", "may not be empty")]
    [InlineData("metrics:", "spec.rollout.canary.analysis.metrics", "may not be empty")]
    [InlineData("metrics: [{name: m, query: q, max: }]", "max", "a metric needs min, max or both, as numbers")]
    [InlineData("metrics: [{name: m, query: q, min: ~}]", "min", "a metric needs min, max or both, as numbers")]
    public void Load_CanaryAnalysisThatCouldNeverFail_IsRejected(string metrics, string field, string fragment)
    {
        var files = new[] { ("f.yaml", AppsSource + $$$"""
            apiVersion: fleetfunctions.io/v1alpha1
            kind: ClusterFleet
            metadata: {name: web}
            spec:
              source: {gitSource: apps}
              rollout:
                strategy: Canary
                canary:
                  selector: {matchLabels: {canary: "true"}}
                  analysis:
                    {{{metrics}}}
            """) };

        var ex = Assert.Throws<ResourceValidationException>(() => PlatformLoader.Load(files));

        Assert.Contains(ex.Errors, e => e.Field.EndsWith(field, StringComparison.Ordinal) && e.Message.Contains(fragment, StringComparison.Ordinal));
    }

    [Fact]
    public void Load_DependencyOnAFleetOfAnotherGitSource_IsRejected()
    {
        const string files = AppsSource + """
            apiVersion: fleetfunctions.io/v1alpha1
            kind: GitSource
            metadata: {name: infra}
            spec: {url: "file:///infra"}
            ---
            apiVersion: fleetfunctions.io/v1alpha1
            kind: ClusterFleet
            metadata: {name: base}
            spec: {source: {gitSource: infra}}
            ---
            apiVersion: fleetfunctions.io/v1alpha1
            kind: ClusterFleet
            metadata: {name: web}
            spec:
              source: {gitSource: apps}
              dependsOn: [base]
            """;

        var ex = Assert.Throws<ResourceValidationException>(() => PlatformLoader.Load([("f.yaml", files)]));

        AssertError(ex, 16, "spec.dependsOn", "'web' (GitSource 'apps') depends on 'base', which follows GitSource 'infra'");
    }

    [Fact]
    public void Load_CanaryPromotionWaves_FollowTheirOwnOnFailureOrInheritTheCanarys()
    {
        static string Fleet(string name, string progressive) => $$$"""
            apiVersion: fleetfunctions.io/v1alpha1
            kind: ClusterFleet
            metadata: {name: {{{name}}}}
            spec:
              source: {gitSource: apps}
              rollout:
                strategy: Canary
                canary:
                  selector: {matchLabels: {canary: "true"}}
                  analysis: {metrics: [{name: m, query: q, max: 1}]}
                  onFailure: Pause
                  promotion: {strategy: Progressive, progressive: {{{progressive}}}}
            ---

            """;
        var platform = PlatformLoader.Load([("f.yaml", AppsSource
            + Fleet("own", "{waves: [{count: 1}], onFailure: Rollback}") + Fleet("inherited", "{waves: [{count: 1}]}"))]);

        Assert.Equal(FailureAction.Pause, platform.Fleets["own"].Rollout.Canary!.OnFailure);
        Assert.Equal(FailureAction.Rollback, platform.Fleets["own"].Rollout.Canary!.PromotionProgressive!.OnFailure);
        Assert.Equal(FailureAction.Pause, platform.Fleets["inherited"].Rollout.Canary!.PromotionProgressive!.OnFailure);
    }

    [Fact]
    public void Load_GitHubApp_ParsedWithItsKeyInTheSecretRef()
    {
        var config = PlatformLoader.Load([("sources.yaml", """
            apiVersion: fleetfunctions.io/v1alpha1
            kind: GitSource
            metadata: {name: apps}
            spec:
              url: https://github.com/org/apps.git
              secretRef: {name: apps-github-app}
              githubApp: {appID: 123456, installationID: "98765432"}
            """)]);

        Assert.Equal(new GitHubAppSpec(123456, 98765432, null), config.Sources["apps"].GitHubApp);
        Assert.Equal(new SecretReference("apps-github-app"), config.Sources["apps"].SecretRef);
    }

    [Fact]
    public void Load_GitHubAppMisconfigured_EachMistakeNamedWithItsLineAndField()
    {
        var ex = Assert.Throws<ResourceValidationException>(() => PlatformLoader.Load([("sources.yaml", """
            apiVersion: fleetfunctions.io/v1alpha1
            kind: GitSource
            metadata: {name: apps}
            spec:
              url: git@github.com:org/apps.git
              githubApp:
                appID: my-app
                installationID: 0
                baseURL: github.example.com/api/v3
                privateKey: inline
            """)]));

        AssertError(ex, 7, "spec.githubApp.appID", "'my-app' must be a positive number");
        AssertError(ex, 8, "spec.githubApp.installationID", "'0' must be a positive number");
        AssertError(ex, 9, "spec.githubApp.baseURL", "is not an http(s) URL");
        AssertError(ex, 10, "spec.githubApp.privateKey", "unknown field");
        Assert.Contains(ex.Errors, e => e.Field == "spec.secretRef" && e.Message.Contains("is required with githubApp", StringComparison.Ordinal));
        Assert.Contains(ex.Errors, e => e.Field == "spec.url" && e.Message.Contains("must be an https:// URL with githubApp", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_SshSourceWithKnownHosts_ParsedAndPlannedWithThem()
    {
        var config = PlatformLoader.Load([("sources.yaml", """
            apiVersion: fleetfunctions.io/v1alpha1
            kind: GitSource
            metadata: {name: apps}
            spec:
              url: git@github.com:org/apps.git
              secretRef: {name: apps-deploy-key}
              knownHosts: |
                # github.com
                github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl
            ---
            apiVersion: fleetfunctions.io/v1alpha1
            kind: ClusterFleet
            metadata: {name: web}
            spec:
              source: {gitSource: apps, path: web}
            """)]);

        var settings = RolloutPlanner.Plan(config, config.Fleets["web"], "c1").Settings;

        Assert.Contains("github.com ssh-ed25519 AAAAC3", config.Sources["apps"].KnownHosts, StringComparison.Ordinal);
        Assert.Equal(config.Sources["apps"].KnownHosts, settings.SourceKnownHosts);
    }

    [Fact]
    public void Load_KnownHostsMissingMalformedOrNotForSsh_EachNamedWithItsLineAndField()
    {
        var ex = Assert.Throws<ResourceValidationException>(() => PlatformLoader.Load([("sources.yaml", """
            apiVersion: fleetfunctions.io/v1alpha1
            kind: GitSource
            metadata: {name: no-hosts}
            spec:
              url: ssh://git@git.example.com/org/apps.git
            ---
            apiVersion: fleetfunctions.io/v1alpha1
            kind: GitSource
            metadata: {name: bad-hosts}
            spec:
              url: ssh://git@git.example.com/org/other.git
              knownHosts: "git.example.com SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8"
            ---
            apiVersion: fleetfunctions.io/v1alpha1
            kind: GitSource
            metadata: {name: https}
            spec:
              url: https://git.example.com/org/apps.git
              knownHosts: "git.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
            """)]));

        AssertError(ex, 4, "spec.knownHosts", "is required for an SSH url");
        AssertError(ex, 12, "spec.knownHosts", "is not a known_hosts line");
        AssertError(ex, 19, "spec.knownHosts", "is for SSH urls only");
    }

    [Fact]
    public void Load_AzureIdentity_DefaultsToTheAksScopeAndExcludesStoredTokensAndKubeconfigs()
    {
        var config = PlatformLoader.Load([("clusters.yaml", """
            apiVersion: fleetfunctions.io/v1alpha1
            kind: Cluster
            metadata: {name: aks-eu}
            spec: {server: "https://aks-eu.hcp.westeurope.azmk8s.io:443", region: eu, azureIdentity: {}}
            """)]);
        var ex = Assert.Throws<ResourceValidationException>(() => PlatformLoader.Load([("clusters.yaml", """
            apiVersion: fleetfunctions.io/v1alpha1
            kind: Cluster
            metadata: {name: both}
            spec: {server: "https://x:443", region: eu, credentialsRef: {name: t}, azureIdentity: {clientID: abc}}
            ---
            apiVersion: fleetfunctions.io/v1alpha1
            kind: Cluster
            metadata: {name: kube}
            spec: {kubeconfig: {path: /k}, region: eu, azureIdentity: {tenant: x}}
            """)]));

        Assert.Equal(new AzureIdentitySpec(null, "6dae42f8-4368-4678-94ff-3960e28e3630/.default"), config.Clusters.Single().AzureIdentity);
        AssertError(ex, 4, "spec.azureIdentity", "not both");
        AssertError(ex, 9, "spec.azureIdentity", "applies to server only");
        Assert.Contains(ex.Errors, e => e.Field == "spec.azureIdentity.tenant");
    }

    [Fact]
    public void Load_SealingCertificate_KeptWhenReadable_RejectedWhenNot()
    {
        var certificate = Support.SealingTestKeys.CertificateOf(Support.SealingTestKeys.NewPem("eu"));
        var indented = string.Join("\n", certificate.TrimEnd().Split('\n').Select(l => "    " + l));

        var config = PlatformLoader.Load([("clusters.yaml", $"apiVersion: fleetfunctions.io/v1alpha1\nkind: Cluster\nmetadata: {{name: eu}}\nspec:\n  server: https://eu:443\n  region: eu\n  sealingCertificate: |\n{indented}\n")]);
        var ex = Assert.Throws<ResourceValidationException>(() => PlatformLoader.Load([("clusters.yaml", """
            apiVersion: fleetfunctions.io/v1alpha1
            kind: Cluster
            metadata: {name: broken}
            spec: {server: "https://x:443", region: eu, sealingCertificate: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"}
            """)]));

        Assert.Equal(certificate.TrimEnd(), config.Clusters.Single().SealingCertificate!.TrimEnd());
        AssertError(ex, 4, "spec.sealingCertificate", "kubeseal --fetch-cert");
    }

    private static void AssertError(ResourceValidationException ex, int line, string field, string fragment) =>
        Assert.True(
            ex.Errors.Any(e => e.Line == line && e.Field == field && e.Message.Contains(fragment, StringComparison.Ordinal)),
            $"expected an error at line {line} on {field} containing '{fragment}'; got:\n{string.Join("\n", ex.Errors)}");
}
