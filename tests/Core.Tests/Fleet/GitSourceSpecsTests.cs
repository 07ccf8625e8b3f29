using FleetFunctions.Core.Fleet;
using FleetFunctions.Core.Secrets;
using FleetFunctions.Core.Sources;
using Xunit;

namespace FleetFunctions.Core.Tests.Fleet;

/// <summary>A GitSource's repository with the credentials its secretRef names, read from the secret store at each use.</summary>
public sealed class GitSourceSpecsTests
{
    private static readonly GitSource Private = new("apps", "https://git.example.com/org/apps.git", "main", new SecretReference("apps-git"), null, new ResourceOrigin("platform.yaml", 1));

    [Fact]
    public async Task ForAsync_SecretMissing_ThrowsNamingTheSecretWhatNamesItAndTheVariable()
    {
        var error = await Assert.ThrowsAsync<SourceException>(async () => await GitSourceSpecs.ForAsync(Private, new InMemorySecretStore(new Dictionary<string, string>())));

        Assert.Contains("https://git.example.com/org/apps.git", error.Message, StringComparison.Ordinal);
        Assert.Contains("secret 'apps-git' named by spec.secretRef of GitSource/apps", error.Message, StringComparison.Ordinal);
        Assert.Contains(EnvironmentSecretStore.VariableFor("apps-git"), error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ghp_token", "git", "ghp_token")]
    [InlineData("deploy:pa:ss", "deploy", "pa:ss")]
    public async Task ForAsync_SecretInTheStore_TokenOrUserPassword(string secret, string username, string password)
    {
        var store = new SwappableSecrets(secret);

        var spec = await GitSourceSpecs.ForAsync(Private, store);
        store.Value = "rotated";
        var rotated = await GitSourceSpecs.ForAsync(Private, store);

        Assert.Equal(new GitCredentials(username, password), spec.Credentials);
        Assert.Equal(("https://git.example.com/org/apps.git", "main"), (spec.Url, spec.Ref));
        Assert.Equal(new GitCredentials("git", "rotated"), rotated.Credentials);
    }

    [Fact]
    public async Task ForAsync_FleetSettingsWithoutASecret_NoCredentialsAndNoStoreRead()
    {
        var settings = new FleetSettings("apps", "/srv/git/apps", "release", null, Prune: true, AllowEmpty: false, Force: false, Recreate: false, PolicySet: null, PlatformCommit: null);

        var spec = await GitSourceSpecs.ForAsync(settings, new SwappableSecrets(null) { ThrowOnRead = true });

        Assert.Equal(new GitSourceSpec("/srv/git/apps", "release"), spec);
    }

    [Fact]
    public async Task ForAsync_FleetSettingsWithAGitHubApp_TheSecretIsTheAppsKeyNotBasicCredentials()
    {
        const string Key = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nMIIB\n-----END RSA PRIVATE KEY-----\n";
        var settings = new FleetSettings("apps", "https://github.com/org/apps.git", "main", "apps-git", Prune: true, AllowEmpty: false, Force: false, Recreate: false,
            PolicySet: null, PlatformCommit: null, SourceGitHubApp: new GitHubAppSpec(1, 2, "https://github.example.com/api/v3"));

        var spec = await GitSourceSpecs.ForAsync(settings, new SwappableSecrets(Key));

        Assert.Null(spec.Credentials);
        Assert.Equal(new GitHubAppAuth(1, 2, Key, new Uri("https://github.example.com/api/v3/")), spec.GitHubApp);
        Assert.DoesNotContain("Proc-Type", spec.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ForAsync_FleetSettingsOfAnSshSource_TheSecretIsThePrivateKeyWithTheKnownHosts()
    {
        const string Key = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n";
        const string Hosts = "git.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
        var settings = new FleetSettings("apps", "git@git.example.com:org/apps.git", "main", "apps-git", Prune: true, AllowEmpty: false, Force: false, Recreate: false,
            PolicySet: null, PlatformCommit: null, SourceKnownHosts: Hosts);

        var spec = await GitSourceSpecs.ForAsync(settings, new SwappableSecrets(Key));

        Assert.True(spec.IsSsh);
        Assert.Null(spec.Credentials);
        Assert.Equal(Key, spec.SshPrivateKey);
        Assert.Equal(Hosts, spec.SshKnownHosts);
    }

    private sealed class SwappableSecrets(string? value) : ISecretStore
    {
        public string? Value { get; set; } = value;

        public bool ThrowOnRead { get; init; }

        public ValueTask<string?> GetAsync(string name, CancellationToken cancellationToken = default) =>
            ThrowOnRead ? throw new InvalidOperationException($"read {name}") : ValueTask.FromResult(name == "apps-git" ? Value : null);
    }
}
