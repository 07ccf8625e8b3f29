using FleetFunctions.Core.Fleet;
using FleetFunctions.Core.Secrets;
using FleetFunctions.Core.Sources;
using FleetFunctions.TestSupport;
using Xunit;

namespace FleetFunctions.Core.Tests.Sources;

/// <summary>
/// Git over SSH against OpenSSH's sshd on loopback: a deploy key and the server's host key per source (from a
/// GitSource's secret and <c>spec.knownHosts</c>), and the errors when either is wrong.
/// </summary>
public sealed class GitSshTests : IAsyncLifetime
{
    private readonly GitTestRepo _repo = GitTestRepo.Create(RepoPaths.Examples, "examples");
    private SshGitServer _server = null!;

    private string Url => _server.UrlOf(_repo.WorkDir);

    public async Task InitializeAsync() => _server = await SshGitServer.StartAsync();

    public Task DisposeAsync()
    {
        _server.Dispose();
        _repo.Dispose();
        return Task.CompletedTask;
    }

    private GitRepositories Source() => new(new GitCacheOptions { CacheDirectory = _repo.CacheDir });

    private GitSourceSpec Spec(string? key = null, string? knownHosts = null) =>
        new(Url, "main") { SshPrivateKey = key ?? _server.ClientKey, SshKnownHosts = knownHosts ?? _server.KnownHosts };

    [Fact]
    public async Task ResolveAsync_DeployKeyAndKnownHost_FetchesEachNewCommitAndReadsItsTree()
    {
        var source = Source();
        var first = await source.ResolveAsync(Spec());
        var pushed = _repo.Write("examples/over-ssh.yaml", "kind: ConfigMap\n").Commit("over ssh");

        var second = await source.ResolveAsync(Spec());
        var tree = await source.GetTreeAsync(Spec(), second.Commit);

        Assert.NotEqual(first.Commit, second.Commit);
        Assert.Equal(pushed, second.Commit);
        Assert.Equal("kind: ConfigMap\n", await File.ReadAllTextAsync(Path.Combine(tree.Directory, "examples", "over-ssh.yaml")));
        Assert.True(await source.IsAncestorAsync(Spec(), first.Commit, second.Commit));
    }

    [Fact]
    public async Task ResolveAsync_GitSourceWithSecretAndKnownHosts_KeyComesFromTheSecretStore()
    {
        var head = _repo.Write("examples/secret.txt", "s\n").Commit("from the secret");
        var gitSource = new GitSource("apps", Url, "main", new SecretReference("apps-deploy-key"), null, new ResourceOrigin("sources.yaml", 1), KnownHosts: _server.KnownHosts);
        var secrets = new InMemorySecretStore(new Dictionary<string, string> { ["apps-deploy-key"] = _server.ClientKey });

        var spec = await GitSourceSpecs.ForAsync(gitSource, secrets);
        var revision = await Source().ResolveAsync(spec);

        Assert.Null(spec.Credentials);
        Assert.Equal(head, revision.Commit);
    }

    [Fact]
    public async Task ResolveAsync_KeyTheServerDoesNotKnow_ErrorSaysToAddTheDeployKeyAndPrintsNoKey()
    {
        var (stranger, _) = await SshGitServer.StrangerAsync(_server.Port);

        var error = await Assert.ThrowsAsync<SourceException>(() => Source().ResolveAsync(Spec(key: stranger)));

        Assert.Contains("the server refused the SSH key", error.Message, StringComparison.Ordinal);
        Assert.Contains("Permission denied", error.Message, StringComparison.Ordinal);
        Assert.Contains("deploy key", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("PRIVATE KEY", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResolveAsync_HostKeyNotAmongTheKnownHosts_RefusedBeforeAnyFetchNamingKnownHosts()
    {
        var (_, foreignHost) = await SshGitServer.StrangerAsync(_server.Port);

        var error = await Assert.ThrowsAsync<SourceException>(() => Source().ResolveAsync(Spec(knownHosts: foreignHost)));

        Assert.Contains("host key is not among the known hosts", error.Message, StringComparison.Ordinal);
        Assert.Contains("spec.knownHosts", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResolveAsync_NoKnownHosts_RefusedWithWhatToSet()
    {
        var spec = new GitSourceSpec(Url, "main") { SshPrivateKey = _server.ClientKey };

        var error = await Assert.ThrowsAsync<SourceException>(() => Source().ResolveAsync(spec));

        Assert.Contains("an SSH URL needs the server's host keys", error.Message, StringComparison.Ordinal);
        Assert.Contains(GitRepositories.PlatformKnownHostsSetting, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResolveAsync_KeyRotatedInTheSecret_NextFetchUsesTheNewKey()
    {
        var source = Source();
        var (stranger, _) = await SshGitServer.StrangerAsync(_server.Port);
        await Assert.ThrowsAsync<SourceException>(() => source.ResolveAsync(Spec(key: stranger)));

        var revision = await source.ResolveAsync(Spec());

        Assert.Equal(40, revision.Commit.Length);
        var identity = Directory.EnumerateFiles(Path.Combine(_repo.CacheDir, "ssh"), "identity", SearchOption.AllDirectories).Single();
        Assert.True(!OperatingSystem.IsWindows() && File.GetUnixFileMode(identity) == (UnixFileMode.UserRead | UnixFileMode.UserWrite), "the key file is readable by its owner only");
    }

    [Fact]
    public async Task ResolveAsync_WrapperCannotRun_ErrorSaysToInstallSshAndAllowRunningProgramsInTheCache()
    {
        var source = Source();
        await source.ResolveAsync(Spec());
        var wrapper = Directory.EnumerateFiles(Path.Combine(_repo.CacheDir, "ssh"), "ssh", SearchOption.AllDirectories).Single();
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(wrapper, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        _repo.Write("examples/next.txt", "n\n").Commit("next");

        var error = await Assert.ThrowsAsync<SourceException>(() => source.ResolveAsync(Spec()));

        Assert.Contains("ssh could not be started", error.Message, StringComparison.Ordinal);
        Assert.Contains("FLEETFUNCTIONS_CacheDirectory", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ToString_SpecWithAKey_NeverPrintsIt()
    {
        var printed = Spec().ToString();

        Assert.DoesNotContain("PRIVATE KEY", printed, StringComparison.Ordinal);
        Assert.Contains("SshPrivateKey = ***", printed, StringComparison.Ordinal);
        Assert.Contains(_server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), printed, StringComparison.Ordinal);
    }

    [Fact]
    public void IsSshUrl_SchemesAndScpLikeForms()
    {
        Assert.True(GitRepositories.IsSshUrl("ssh://git@github.com/org/app.git"));
        Assert.True(GitRepositories.IsSshUrl("git@github.com:org/app.git"));
        Assert.True(GitRepositories.IsSshUrl("git+ssh://git@example.com/app"));
        Assert.False(GitRepositories.IsSshUrl("https://user@github.com/org/app.git"));
        Assert.False(GitRepositories.IsSshUrl("/srv/git/app"));
        Assert.False(GitRepositories.IsSshUrl("file:///srv/git/app"));
    }
}
