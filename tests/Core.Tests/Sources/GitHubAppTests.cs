using System.Security.Cryptography;
using FleetFunctions.Core.Fleet;
using FleetFunctions.Core.Secrets;
using FleetFunctions.Core.Sources;
using FleetFunctions.TestSupport;
using Xunit;

namespace FleetFunctions.Core.Tests.Sources;

/// <summary>
/// A GitSource fetched as a GitHub App installation: the App's private key (from the secret store) signs a JWT, a
/// GitHub-shaped API (GitHub Enterprise Server's path, TLS from a private CA) exchanges it for an installation token,
/// and git http-backend accepts only that token as the password of <c>x-access-token</c>.
/// </summary>
public sealed class GitHubAppTests : IAsyncLifetime, IDisposable
{
    private const long AppId = 123456;
    private const long InstallationId = 98765432;

    private readonly GitTestRepo _repo = GitTestRepo.Create(RepoPaths.Examples, "examples");
    private readonly RSA _appKey = RSA.Create(2048);
    private FakeGitHubApi _api = null!;
    private GitHttpsServer _git = null!;

    public async Task InitializeAsync()
    {
        _api = await FakeGitHubApi.StartAsync(AppId, InstallationId, _appKey);
        _git = await GitHttpsServer.StartAsync(_repo.Root, (user, password) => user == "x-access-token" && password == _api.LastToken);
    }

    public async Task DisposeAsync()
    {
        await _git.DisposeAsync();
        await _api.DisposeAsync();
    }

    public void Dispose()
    {
        _appKey.Dispose();
        _repo.Dispose();
    }

    [Theory]
    [InlineData("pkcs1")]
    [InlineData("pkcs8")]
    public async Task ResolveAsync_AsTheAppsInstallation_OneTokenServesLaterFetchesWhileItLasts(string keyFormat)
    {
        var key = keyFormat == "pkcs1" ? _appKey.ExportRSAPrivateKeyPem() : _appKey.ExportPkcs8PrivateKeyPem();
        var source = Source(_git.CaPem + "\n" + _api.CaPem);
        var spec = await SpecAsync(key);

        var first = await source.ResolveAsync(spec);
        var pushed = _repo.Write("examples/app.yaml", "kind: ConfigMap\n").Commit("pushed");
        var second = await source.ResolveAsync(spec);
        var tree = await source.GetTreeAsync(spec, second.Commit);

        Assert.NotEqual(first.Commit, second.Commit);
        Assert.Equal(pushed, second.Commit);
        Assert.True(File.Exists(Path.Combine(tree.Directory, "examples", "app.yaml")));
        Assert.Equal(1, _api.Issued);
        Assert.Contains(_git.Requests, r => r.Path.EndsWith("/git-upload-pack", StringComparison.Ordinal) && r.User == "x-access-token");
        Assert.DoesNotContain("PRIVATE KEY", spec.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResolveAsync_TokenWithinFiveMinutesOfExpiry_NewOneObtained()
    {
        _api.TokenLifetime = TimeSpan.FromMinutes(4);
        var source = Source(_git.CaPem + "\n" + _api.CaPem);
        var spec = await SpecAsync(_appKey.ExportRSAPrivateKeyPem());

        await source.ResolveAsync(spec);
        _repo.Write("examples/again.yaml", "kind: ConfigMap\n").Commit("again");
        await source.ResolveAsync(spec);

        Assert.Equal(2, _api.Issued);
    }

    [Fact]
    public async Task ResolveAsync_KeyOfAnotherApp_SaysGitHubRejectedTheJwtWithoutPrintingTheKey()
    {
        using var other = RSA.Create(2048);
        var pem = other.ExportRSAPrivateKeyPem();

        var error = await Assert.ThrowsAsync<SourceException>(async () => await Source(_git.CaPem + "\n" + _api.CaPem).ResolveAsync(await SpecAsync(pem)));

        Assert.Contains($"GitHub App {AppId}, installation {InstallationId}", error.Message, StringComparison.Ordinal);
        Assert.Contains("GitHub rejected the App's JWT", error.Message, StringComparison.Ordinal);
        Assert.Contains("githubApp.appID", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(pem.Split('\n')[1], error.ToString(), StringComparison.Ordinal);
        Assert.Equal(0, _api.Issued);
    }

    [Fact]
    public async Task ResolveAsync_AppNotInstalledThere_SaysWhichInstallationIsUnknown()
    {
        var spec = await SpecAsync(_appKey.ExportRSAPrivateKeyPem(), installationId: InstallationId + 1);

        var error = await Assert.ThrowsAsync<SourceException>(() => Source(_git.CaPem + "\n" + _api.CaPem).ResolveAsync(spec));

        Assert.Contains("no such installation", error.Message, StringComparison.Ordinal);
        Assert.Contains("githubApp.installationID", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResolveAsync_SecretIsNotAPrivateKey_SaysSo()
    {
        var error = await Assert.ThrowsAsync<SourceException>(async () => await Source(_git.CaPem + "\n" + _api.CaPem).ResolveAsync(await SpecAsync("ghp_a-token-not-a-key")));

        Assert.Contains("does not hold an RSA private key in PEM form", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("ghp_a-token-not-a-key", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResolveAsync_ApiCertificateFromAnUntrustedCa_SaysTheApiCannotBeReached()
    {
        var error = await Assert.ThrowsAsync<SourceException>(async () => await Source(_git.CaPem).ResolveAsync(await SpecAsync(_appKey.ExportRSAPrivateKeyPem())));

        Assert.Contains($"GitHub's API at {_api.BaseUrl}/ cannot be reached", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, _api.Issued);
    }

    private async Task<GitSourceSpec> SpecAsync(string privateKeyPem, long installationId = InstallationId)
    {
        var platform = PlatformLoader.Load([("platform.yaml", $"""
            apiVersion: fleetfunctions.io/v1alpha1
            kind: GitSource
            metadata: {"{"}name: apps{"}"}
            spec:
              url: {_git.BaseUrl}/work
              secretRef: {"{"}name: apps-github-app{"}"}
              githubApp:
                appID: {AppId}
                installationID: {installationId}
                baseURL: {_api.BaseUrl}
            """)]);
        var secrets = new InMemorySecretStore(new Dictionary<string, string> { ["apps-github-app"] = privateKeyPem });
        return await GitSourceSpecs.ForAsync(platform.Sources["apps"], secrets);
    }

    private GitRepositories Source(string trustedPem) => new(new GitCacheOptions
    {
        CacheDirectory = Path.Combine(_repo.CacheDir, "git-" + Guid.NewGuid().ToString("N")[..6]),
        TrustedCertificateAuthorities = GitCacheOptions.ReadCertificateAuthorities(trustedPem, "test"),
    });
}
