using System.Text.Json.Nodes;
using FleetFunctions.Core.Manifests;
using FleetFunctions.Core.Secrets;
using FleetFunctions.Core.Tests.Support;
using FleetFunctions.Functions.Cli;
using FleetFunctions.Functions.Hosting;
using FleetFunctions.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace FleetFunctions.Functions.Tests.Cli;

public sealed class SealCommandTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>, IDisposable
{
    private const string Secrets = """
        apiVersion: v1
        kind: Secret
        metadata:
          name: db-credentials
          namespace: web
          labels: {app: web}
          annotations: {team: payments}
        type: kubernetes.io/basic-auth
        data:
          username: YWRtaW4=
          password: aWdub3JlZA==
        stringData:
          password: "hunter2"
          pin: "1234"
          config: |
            retries: 3
            verbose: yes
        ---
        apiVersion: v1
        kind: Secret
        metadata:
          name: api-token
        stringData:
          token: "true"
        """;

    private static readonly string s_key = SealingTestKeys.NewPem("fleetfunctions");
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("seal-");

    public void Dispose() => _dir.Delete(recursive: true);

    [Theory]
    [InlineData("strict", SealingScope.Strict)]
    [InlineData("namespace-wide", SealingScope.NamespaceWide)]
    [InlineData("cluster-wide", SealingScope.ClusterWide)]
    public async Task Seal_SecretsFile_EachValueUnsealsWithTheKeyForItsScopeAndTheTemplateKeepsTheRest(string scopeName, SealingScope scope)
    {
        var cert = Write("cert.pem", SealingTestKeys.CertificateOf(s_key));
        var input = Write("secrets.yaml", Secrets);

        var (exit, output, error) = await CliRunner.RunAsync(SealCommand.Create(), "seal", "--cert", cert, "--scope", scopeName, "--namespace", "apps", input);

        Assert.True(exit == 0, error);
        var sealedSecrets = ManifestParser.Parse(output, "output");
        Assert.Equal(2, sealedSecrets.Count);
        var db = sealedSecrets[0];
        Assert.Equal(("bitnami.com/v1alpha1", "SealedSecret", "web", "db-credentials"), (db.ApiVersion, db.Kind, db.Namespace, db.Name));
        var encrypted = (JsonObject)db.Object["spec"]!["encryptedData"]!;
        Assert.Equal(["config", "password", "pin", "username"], encrypted.Select(e => e.Key));

        // stringData wins over data for the same key, as the API server merges them; values stay strings ("1234", "yes").
        Assert.Equal("admin", SealingTestKeys.Unseal(s_key, SealingTestKeys.EncryptedValue(db.Object, "username"), "web", "db-credentials", scope));
        Assert.Equal("hunter2", SealingTestKeys.Unseal(s_key, SealingTestKeys.EncryptedValue(db.Object, "password"), "web", "db-credentials", scope));
        Assert.Equal("1234", SealingTestKeys.Unseal(s_key, SealingTestKeys.EncryptedValue(db.Object, "pin"), "web", "db-credentials", scope));
        Assert.Equal("retries: 3\nverbose: yes\n", SealingTestKeys.Unseal(s_key, SealingTestKeys.EncryptedValue(db.Object, "config"), "web", "db-credentials", scope));

        var template = db.Object["spec"]!["template"]!;
        Assert.Equal("kubernetes.io/basic-auth", template["type"]!.GetValue<string>());
        Assert.Equal("web", template["metadata"]!["labels"]!["app"]!.GetValue<string>());
        Assert.Equal("payments", template["metadata"]!["annotations"]!["team"]!.GetValue<string>());
        if (scope == SealingScope.Strict)
        {
            Assert.Null(db.GetAnnotation(SealedSecretResealer.NamespaceWideAnnotation) ?? db.GetAnnotation(SealedSecretResealer.ClusterWideAnnotation));
        }
        else
        {
            Assert.Equal("true", db.GetAnnotation(scope == SealingScope.NamespaceWide ? SealedSecretResealer.NamespaceWideAnnotation : SealedSecretResealer.ClusterWideAnnotation));
        }

        // A Secret without a namespace is sealed for --namespace, written into the result.
        var token = sealedSecrets[1];
        Assert.Equal("apps", token.Namespace);
        Assert.Equal("true", SealingTestKeys.Unseal(s_key, SealingTestKeys.EncryptedValue(token.Object, "token"), "apps", "api-token", scope));
    }

    [Fact]
    public async Task Seal_SecretReadBackFromACluster_LastAppliedAnnotationsWithTheValuesInClearAreNotCopied()
    {
        var cert = Write("cert.pem", SealingTestKeys.CertificateOf(s_key));
        var input = Write("live.yaml", """
            apiVersion: v1
            kind: Secret
            metadata:
              name: db
              namespace: web
              annotations:
                team: payments
                kubectl.kubernetes.io/last-applied-configuration: '{"apiVersion":"v1","kind":"Secret","stringData":{"password":"hunter2"}}'
                kubecfg.ksonnet.io/last-applied-configuration: '{"stringData":{"password":"hunter2"}}'
            data:
              password: aHVudGVyMg==
            """);

        var (exit, output, error) = await CliRunner.RunAsync(SealCommand.Create(), "seal", "--cert", cert, input);

        Assert.True(exit == 0, error);
        Assert.DoesNotContain("hunter2", output, StringComparison.Ordinal);
        Assert.DoesNotContain("last-applied-configuration", output, StringComparison.Ordinal);
        var sealedSecret = ManifestParser.Parse(output, "out").Single();
        Assert.Equal("payments", sealedSecret.Object["spec"]!["template"]!["metadata"]!["annotations"]!["team"]!.GetValue<string>());
        Assert.Equal("hunter2", SealingTestKeys.Unseal(s_key, SealingTestKeys.EncryptedValue(sealedSecret.Object, "password"), "web", "db"));
    }

    [Theory]
    [InlineData("namespace-wide", null, SealingScope.NamespaceWide)]
    [InlineData("cluster-wide", null, SealingScope.ClusterWide)]
    [InlineData("cluster-wide", "strict", SealingScope.Strict)]
    public async Task Seal_SecretAnnotatedWithAScope_SealedForItUnlessScopeIsGiven(string annotated, string? scopeOption, SealingScope expected)
    {
        var cert = Write("cert.pem", SealingTestKeys.CertificateOf(s_key));
        var input = Write("scoped.yaml", $"""
            apiVersion: v1
            kind: Secret
            metadata:
              name: shared
              namespace: web
              annotations:
                sealedsecrets.bitnami.com/{annotated}: "true"
            stringData:
              token: s3cret
            """);

        string[] args = scopeOption is null ? ["seal", "--cert", cert, input] : ["seal", "--cert", cert, "--scope", scopeOption, input];
        var (exit, output, error) = await CliRunner.RunAsync(SealCommand.Create(), args);

        Assert.True(exit == 0, error);
        var sealedSecret = ManifestParser.Parse(output, "out").Single();
        Assert.Equal("s3cret", SealingTestKeys.Unseal(s_key, SealingTestKeys.EncryptedValue(sealedSecret.Object, "token"), "web", "shared", expected));
        Assert.Equal(expected, SealedSecretResealer.ScopeOf(sealedSecret));
    }

    [Fact]
    public async Task Seal_SameValueTwice_DifferentBytes()
    {
        var cert = Write("cert.pem", SealingTestKeys.CertificateOf(s_key));
        var input = Write("secrets.yaml", Secrets);

        var first = await CliRunner.RunAsync(SealCommand.Create(), "seal", "--cert", cert, input);
        var second = await CliRunner.RunAsync(SealCommand.Create(), "seal", "--cert", cert, input);

        var a = SealingTestKeys.EncryptedValue(ManifestParser.Parse(first.Output, "first")[0].Object, "password");
        var b = SealingTestKeys.EncryptedValue(ManifestParser.Parse(second.Output, "second")[0].Object, "password");
        Assert.NotEqual(a, b);
        Assert.Equal(SealingTestKeys.Unseal(s_key, a, "web", "db-credentials"), SealingTestKeys.Unseal(s_key, b, "web", "db-credentials"));
    }

    [Fact]
    public async Task Seal_CertificateFromTheAppsEndpoint_SealedForFleetFunctionsKeyAndWrittenToTheOutFile()
    {
        var options = new AppOptions { StorageConnectionString = azurite.ConnectionString, PlatformRepository = _dir.FullName, CacheDirectory = Path.Combine(_dir.FullName, "cache") };
        await using var app = await TestApp.StartAsync(options, platform: null, services => services.AddSingleton<ISecretStore>(new InMemorySecretStore(new Dictionary<string, string> { [options.SealingKeySecret] = s_key })));
        var input = Write("secrets.yaml", Secrets);
        var output = Path.Combine(_dir.FullName, "sealed.yaml");

        var (exit, _, error) = await CliRunner.RunAsync(SealCommand.Create(), "seal", "--cert", new Uri(app.BaseAddress, "api/sealing/cert.pem").ToString(), "--out", output, input);

        Assert.True(exit == 0, error);
        Assert.Contains("wrote 2 SealedSecret(s)", error, StringComparison.Ordinal);
        var db = ManifestParser.Parse(File.ReadAllText(output), output)[0];
        Assert.Equal("hunter2", SealingTestKeys.Unseal(s_key, SealingTestKeys.EncryptedValue(db.Object, "password"), "web", "db-credentials"));
    }

    [Theory]
    [InlineData("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {a: b}\n", "input.yaml:1: is a v1 ConfigMap, not a v1 Secret; only Secrets are sealed.")]
    [InlineData("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {a: \"not base64!\"}\n", "input.yaml:1: Secret/s data.a is not base64")]
    [InlineData("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {port: 5432}\n", "input.yaml:1: Secret/s stringData.port is not a string; quote it.")]
    [InlineData("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n", "input.yaml:1: Secret/s has no data or stringData to seal.")]
    [InlineData("apiVersion: v1\nkind: Secret\nmetadata: {namespace: web}\nstringData: {a: b}\n", "input.yaml:1: the Secret has no metadata.name")]
    [InlineData("apiVersion: v1\nkind: Secret\nmetadata: {name: [\n", "input.yaml:")]
    public async Task Seal_BadInput_ExitsOneNamingTheFileAndNothingIsWritten(string yaml, string expected)
    {
        var cert = Write("cert.pem", SealingTestKeys.CertificateOf(s_key));
        var input = Write("input.yaml", yaml);
        var output = Path.Combine(_dir.FullName, "sealed.yaml");

        var (exit, _, error) = await CliRunner.RunAsync(SealCommand.Create(), "seal", "--cert", cert, "--out", output, input);

        Assert.Equal(1, exit);
        Assert.StartsWith(expected.Replace("input.yaml", input, StringComparison.Ordinal), error, StringComparison.Ordinal);
        Assert.False(File.Exists(output));
    }

    [Fact]
    public async Task Seal_CertificateUnreachableOrNotACertificate_ExitsOneNamingIt()
    {
        var input = Write("secrets.yaml", Secrets);
        var notACertificate = Write("not-a-cert.pem", "hello\n");
        var url = $"http://127.0.0.1:{FreePort.Next()}/api/sealing/cert.pem";

        var unreachable = await CliRunner.RunAsync(SealCommand.Create(), "seal", "--cert", url, input);
        var wrong = await CliRunner.RunAsync(SealCommand.Create(), "seal", "--cert", notACertificate, input);

        Assert.Equal(1, unreachable.Exit);
        Assert.StartsWith($"--cert {url}: ", unreachable.Error, StringComparison.Ordinal);
        Assert.Contains("https://APP/api/sealing/cert.pem", unreachable.Error, StringComparison.Ordinal);
        Assert.Equal(1, wrong.Exit);
        Assert.StartsWith($"{notACertificate}: not a readable PEM certificate", wrong.Error, StringComparison.Ordinal);
        Assert.Empty(unreachable.Output + wrong.Output);
    }

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir.FullName, name);
        File.WriteAllText(path, text);
        return path;
    }
}
