using FleetFunctions.Core.Fleet;
using FleetFunctions.Core.Secrets;
using FleetFunctions.Core.Sources;
using FleetFunctions.TestSupport;
using Xunit;

namespace FleetFunctions.Core.Tests.Sources;

/// <summary>
/// Git over HTTPS against Git's own smart-HTTP server (<c>git http-backend</c>) behind TLS with a certificate from a
/// private CA and Basic authentication: credentials, the trusted CA setting, and the errors when either is wrong.
/// </summary>
public sealed class GitHttpsTests : IAsyncLifetime
{
    private const string User = "alice";
    private const string Password = "pa55-w0rd-never-printed";

    private readonly GitTestRepo _repo = GitTestRepo.Create(RepoPaths.Examples, "examples");
    private GitHttpsServer _server = null!;

    private string Url => _server.BaseUrl + "/work";

    public async Task InitializeAsync() => _server = await GitHttpsServer.StartAsync(_repo.Root, User, Password);

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _repo.Dispose();
    }

    [Fact]
    public async Task ResolveAsync_BasicCredentialsAndTheServersCaTrusted_FetchesEachNewCommitAndReadsItsTree()
    {
        var source = Source(_server.CaPem);
        var first = await source.ResolveAsync(new GitSourceSpec(Url, "main", new GitCredentials(User, Password)));
        var pushed = _repo.Write("examples/added.yaml", "kind: ConfigMap\n").Commit("add a file");

        var second = await source.ResolveAsync(new GitSourceSpec(Url, "main", new GitCredentials(User, Password)));
        var tree = await source.GetTreeAsync(new GitSourceSpec(Url, "main", new GitCredentials(User, Password)), second.Commit);

        Assert.NotEqual(first.Commit, second.Commit);
        Assert.Equal(pushed, second.Commit);
        Assert.Equal("kind: ConfigMap\n", await File.ReadAllTextAsync(Path.Combine(tree.Directory, "examples", "added.yaml")));
        Assert.Contains(_server.Requests, r => r.Path.EndsWith("/git-upload-pack", StringComparison.Ordinal) && r.User == User);
    }

    [Fact]
    public async Task ResolveAsync_TokenFromASecret_SentAsThePasswordOfUserGit()
    {
        var head = _repo.Write("examples/token.txt", "t\n").Commit("token");
        await using var server = await GitHttpsServer.StartAsync(_repo.Root, "git", "ghp_token123");
        var spec = new GitSourceSpec(server.BaseUrl + "/work", "main", GitCredentials.FromSecret("ghp_token123"));

        var revision = await Source(server.CaPem).ResolveAsync(spec);

        Assert.Equal(head, revision.Commit);
        Assert.Contains(server.Requests, r => r.User == "git");
    }

    [Fact]
    public async Task ResolveAsync_WrongPassword_SaysTheCredentialsWereRejectedWithoutPrintingThem()
    {
        var spec = new GitSourceSpec(Url, "main", new GitCredentials(User, "wrong-" + Password));

        var error = await Assert.ThrowsAsync<SourceException>(() => Source(_server.CaPem).ResolveAsync(spec));

        Assert.Contains("rejected the credentials", error.Message, StringComparison.Ordinal);
        Assert.Contains(Url, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Password, error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(_server.Requests, r => r.User is not null);
    }

    [Fact]
    public async Task ResolveAsync_NoCredentialsForAPrivateRepository_SaysWhereToReferenceThem()
    {
        var error = await Assert.ThrowsAsync<SourceException>(() => Source(_server.CaPem).ResolveAsync(new GitSourceSpec(Url)));

        Assert.Contains("requires authentication and no credentials were given", error.Message, StringComparison.Ordinal);
        Assert.Contains("spec.secretRef", error.Message, StringComparison.Ordinal);
        Assert.Contains(GitRepositories.PlatformSecretSetting, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ResolveAsync_CertificateOfACaNotTrusted_RefusedBeforeAnyRequestAndNamesTheSetting(bool anotherCaTrusted)
    {
        await using var other = await GitHttpsServer.StartAsync(_repo.Root, User, Password);
        var source = Source(anotherCaTrusted ? other.CaPem : null);

        var error = await Assert.ThrowsAsync<SourceException>(() => source.ResolveAsync(new GitSourceSpec(Url, "main", new GitCredentials(User, Password))));

        Assert.Contains("TLS certificate is not trusted", error.Message, StringComparison.Ordinal);
        Assert.Contains(GitRepositories.CaSetting, error.Message, StringComparison.Ordinal);
        Assert.Empty(_server.Requests);
    }

    [Fact]
    public async Task ResolveAsync_TrustedCaButTheCertificateIsForAnotherHost_Refused()
    {
        await using var server = await GitHttpsServer.StartAsync(_repo.Root, User, Password, certificateHost: "git.example.internal");
        var spec = new GitSourceSpec(server.BaseUrl + "/work", "main", new GitCredentials(User, Password));

        var error = await Assert.ThrowsAsync<SourceException>(() => Source(server.CaPem).ResolveAsync(spec));

        Assert.Contains("TLS certificate is not trusted", error.Message, StringComparison.Ordinal);
        Assert.Empty(server.Requests);
    }

    [Fact]
    public async Task PlatformProvider_SecretNamedBySetting_ReadAtEachFetchSoARotatedOneIsUsed()
    {
        var secrets = Path.Combine(_repo.Root, "secrets");
        Directory.CreateDirectory(secrets);
        await File.WriteAllTextAsync(Path.Combine(secrets, "platform-git"), "wrong:credentials\n");
        var head = _repo.Write("examples/platform/README.md", "platform\n").Commit("platform");
        var repository = new PlatformRepository(new GitSourceSpec(Url), new DirectorySecretStore(secrets), "platform-git");
        var provider = new GitPlatformProvider(Source(_server.CaPem), repository, "examples/platform");

        var rejected = await Assert.ThrowsAsync<SourceException>(() => provider.RefreshAsync());
        await File.WriteAllTextAsync(Path.Combine(secrets, "platform-git"), $"{User}:{Password}\n");
        var snapshot = await provider.RefreshAsync();

        Assert.Contains("rejected the credentials", rejected.Message, StringComparison.Ordinal);
        Assert.Contains(snapshot.Config.Clusters, c => c.Name == "eu-1");
        Assert.Equal(head, snapshot.Commit);
    }

    [Fact]
    public async Task PlatformRepository_SecretMissingFromTheStore_NamesTheSecretAndTheVariable()
    {
        var repository = new PlatformRepository(new GitSourceSpec(Url), new EnvironmentSecretStore(), "no-such-platform-secret");

        var error = await Assert.ThrowsAsync<SourceException>(() => repository.SpecAsync().AsTask());

        Assert.Contains("'no-such-platform-secret'", error.Message, StringComparison.Ordinal);
        Assert.Contains("FLEETFUNCTIONS_SECRET_NO_SUCH_PLATFORM_SECRET", error.Message, StringComparison.Ordinal);
        Assert.Contains(GitRepositories.PlatformSecretSetting, error.Message, StringComparison.Ordinal);
    }

    private GitRepositories Source(string? trustedCaPem) => new(new GitCacheOptions
    {
        CacheDirectory = Path.Combine(_repo.Root, "cache-" + Guid.NewGuid().ToString("N")[..8]),
        TrustedCertificateAuthorities = trustedCaPem is null ? [] : GitCacheOptions.ReadCertificateAuthorities(trustedCaPem, "test"),
    });
}
