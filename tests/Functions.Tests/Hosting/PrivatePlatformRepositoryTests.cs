using FleetFunctions.Core.Fleet;
using FleetFunctions.Core.Sources;
using FleetFunctions.Functions.Hosting;
using FleetFunctions.TestSupport;
using LibGit2Sharp;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace FleetFunctions.Functions.Tests.Hosting;

/// <summary>
/// The app's settings for a private platform repository on a self-hosted Git server: the secret named by
/// FLEETFUNCTIONS_PlatformRepositorySecret and the CA of FLEETFUNCTIONS_GitCaCertificates reach the Git client.
/// </summary>
public sealed class PrivatePlatformRepositoryTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("private-platform-");

    public void Dispose() => _dir.Delete(recursive: true);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task App_PlatformRepositoryOverHttpsWithSecretAndPrivateCa_LoadsTheResources(bool caAsFile)
    {
        var commit = CreatePlatformRepository();
        await using var server = await GitHttpsServer.StartAsync(_dir.FullName, "ops", "platform-s3cret");
        var secrets = Directory.CreateDirectory(Path.Combine(_dir.FullName, "secrets")).FullName;
        await File.WriteAllTextAsync(Path.Combine(secrets, "platform-git"), "ops:platform-s3cret\n");
        var caFile = Path.Combine(_dir.FullName, "ca.pem");
        await File.WriteAllTextAsync(caFile, server.CaPem);
        var options = From(
            ("FLEETFUNCTIONS_PlatformRepository", server.BaseUrl + "/platform"),
            ("FLEETFUNCTIONS_PlatformRepositorySecret", "platform-git"),
            ("FLEETFUNCTIONS_SecretsDirectory", secrets),
            ("FLEETFUNCTIONS_GitCaCertificates", caAsFile ? caFile : server.CaPem),
            ("FLEETFUNCTIONS_CacheDirectory", Path.Combine(_dir.FullName, "cache")));
        using var provider = new ServiceCollection().AddLogging().AddFleetFunctions(options).BuildServiceProvider();

        var snapshot = await provider.GetRequiredService<IPlatformProvider>().GetCurrentAsync();

        Assert.Equal(commit, snapshot.Commit);
        Assert.Equal(["c1"], snapshot.Config.Clusters.Select(c => c.Name));
        Assert.Contains(server.Requests, r => r.User == "ops");
    }

    [Fact]
    public async Task App_PlatformRepositoryOverHttpsWithoutTheSecret_ErrorSaysWhichSettingToSet()
    {
        CreatePlatformRepository();
        await using var server = await GitHttpsServer.StartAsync(_dir.FullName, "ops", "platform-s3cret");
        var options = From(
            ("FLEETFUNCTIONS_PlatformRepository", server.BaseUrl + "/platform"),
            ("FLEETFUNCTIONS_GitCaCertificates", server.CaPem),
            ("FLEETFUNCTIONS_CacheDirectory", Path.Combine(_dir.FullName, "cache")));
        using var provider = new ServiceCollection().AddLogging().AddFleetFunctions(options).BuildServiceProvider();

        var error = await Assert.ThrowsAsync<SourceException>(() => provider.GetRequiredService<IPlatformProvider>().GetCurrentAsync().AsTask());

        Assert.Contains("FLEETFUNCTIONS_PlatformRepositorySecret", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task App_PlatformRepositoryAsAGitHubAppInstallation_LoadsTheResources()
    {
        var commit = CreatePlatformRepository();
        using var appKey = System.Security.Cryptography.RSA.Create(2048);
        await using var api = await FakeGitHubApi.StartAsync(4242, 777, appKey);
        await using var server = await GitHttpsServer.StartAsync(_dir.FullName, (user, password) => user == "x-access-token" && password == api.LastToken);
        var secrets = Directory.CreateDirectory(Path.Combine(_dir.FullName, "secrets")).FullName;
        await File.WriteAllTextAsync(Path.Combine(secrets, "platform-app-key"), appKey.ExportRSAPrivateKeyPem());
        var options = From(
            ("FLEETFUNCTIONS_PlatformRepository", server.BaseUrl + "/platform"),
            ("FLEETFUNCTIONS_PlatformRepositorySecret", "platform-app-key"),
            ("FLEETFUNCTIONS_PlatformGitHubAppId", "4242"),
            ("FLEETFUNCTIONS_PlatformGitHubAppInstallationId", "777"),
            ("FLEETFUNCTIONS_PlatformGitHubAppBaseUrl", api.BaseUrl),
            ("FLEETFUNCTIONS_SecretsDirectory", secrets),
            ("FLEETFUNCTIONS_GitCaCertificates", server.CaPem + "\n" + api.CaPem),
            ("FLEETFUNCTIONS_CacheDirectory", Path.Combine(_dir.FullName, "cache")));
        using var provider = new ServiceCollection().AddLogging().AddFleetFunctions(options).BuildServiceProvider();

        var snapshot = await provider.GetRequiredService<IPlatformProvider>().GetCurrentAsync();

        Assert.Equal(commit, snapshot.Commit);
        Assert.Equal(1, api.Issued);
        Assert.Contains(server.Requests, r => r.User == "x-access-token");
    }

    [Theory]
    [InlineData("FLEETFUNCTIONS_PlatformGitHubAppId=4242", "FLEETFUNCTIONS_PlatformGitHubAppInstallationId is required")]
    [InlineData("FLEETFUNCTIONS_PlatformGitHubAppId=app;FLEETFUNCTIONS_PlatformGitHubAppInstallationId=7;FLEETFUNCTIONS_PlatformRepositorySecret=k", "FLEETFUNCTIONS_PlatformGitHubAppId 'app' must be a positive number")]
    [InlineData("FLEETFUNCTIONS_PlatformGitHubAppId=1;FLEETFUNCTIONS_PlatformGitHubAppInstallationId=7", "FLEETFUNCTIONS_PlatformRepositorySecret must name the secret holding the GitHub App's private key")]
    [InlineData("FLEETFUNCTIONS_PlatformGitHubAppBaseUrl=https://ghe.example.com/api/v3", "FLEETFUNCTIONS_PlatformGitHubAppBaseUrl is set without")]
    public void From_PlatformGitHubAppIncomplete_ErrorNamesTheSetting(string settings, string says)
    {
        var pairs = settings.Split(';').Select(p => p.Split('=', 2)).Select(p => (p[0], p[1])).ToArray();

        var error = Assert.Throws<InvalidOperationException>(() => From(pairs));

        Assert.Contains(says, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/no/such/ca.pem", "is neither PEM text nor an existing file")]
    [InlineData("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n", "cannot be read")]
    [InlineData("-----BEGIN PUBLIC KEY-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END PUBLIC KEY-----\n", "no '-----BEGIN CERTIFICATE-----' block")]
    public void From_GitCaCertificatesUnusable_ErrorNamesTheSettingAndWhatToGive(string value, string says)
    {
        var error = Assert.Throws<InvalidOperationException>(() => From(("FLEETFUNCTIONS_GitCaCertificates", value)));

        Assert.Contains("FLEETFUNCTIONS_GitCaCertificates", error.Message, StringComparison.Ordinal);
        Assert.Contains(says, error.Message, StringComparison.Ordinal);
    }

    private string CreatePlatformRepository()
    {
        var path = Path.Combine(_dir.FullName, "platform");
        using var repo = new Repository(Repository.Init(path));
        repo.Refs.UpdateTarget("HEAD", "refs/heads/main");
        File.WriteAllText(Path.Combine(path, "clusters.yaml"), """
            apiVersion: fleetfunctions.io/v1alpha1
            kind: Cluster
            metadata:
              name: c1
            spec:
              server: https://127.0.0.1:6443
              region: eu
            """);
        Commands.Stage(repo, "*");
        var signature = new Signature("Platform Team", "platform@example.com", DateTimeOffset.UnixEpoch);
        return repo.Commit("platform", signature, signature).Sha;
    }

    private static AppOptions From(params (string Key, string Value)[] settings)
    {
        var values = new Dictionary<string, string?> { ["FLEETFUNCTIONS_Storage"] = "UseDevelopmentStorage=true", ["FLEETFUNCTIONS_PlatformRepository"] = "/srv/platform" };
        foreach (var (key, value) in settings)
        {
            values[key] = value;
        }

        return AppOptions.From(new ConfigurationBuilder().AddInMemoryCollection(values).Build());
    }
}
