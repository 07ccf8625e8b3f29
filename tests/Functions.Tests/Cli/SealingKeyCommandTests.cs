using System.Net;
using FleetFunctions.Core.Secrets;
using FleetFunctions.Core.Tests.Support;
using FleetFunctions.Functions.Cli;
using FleetFunctions.Functions.Hosting;
using FleetFunctions.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace FleetFunctions.Functions.Tests.Cli;

public sealed class SealingKeyCommandTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>, IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("sealing-key-");

    public void Dispose() => _dir.Delete(recursive: true);

    [Fact]
    public async Task New_WritesAPairOnlyTheOwnerReads_CertPrintsItsCertificate()
    {
        var file = Path.Combine(_dir.FullName, "sealing-key.pem");

        var (created, _, createdError) = await RunAsync("sealing-key", "new", "--out", file);
        var (printed, certificate, _) = await RunAsync("sealing-key", "cert", file);

        Assert.Equal(0, created);
        Assert.Contains("FLEETFUNCTIONS_SealingKeySecret", createdError, StringComparison.Ordinal);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        }

        var keys = SealingKeys.Parse(File.ReadAllText(file), file);
        Assert.Equal(0, printed);
        Assert.Equal(keys.CertificatePem, certificate);
        Assert.DoesNotContain("PRIVATE KEY", certificate, StringComparison.Ordinal);
        var (again, _, againError) = await RunAsync("sealing-key", "new", "--out", file);
        Assert.Equal(1, again);
        Assert.Contains("refusing to overwrite", againError, StringComparison.Ordinal);
        Assert.Equal(keys.CertificatePem, SealingKeys.Parse(File.ReadAllText(file), file).CertificatePem);
    }

    [Fact]
    public async Task DotnetRun_RelativeOut_WritesWhereTheCommandWasTyped()
    {
        // README's `dotnet run --project src/Functions -- ...` commands, typed in another folder: the Web SDK would start
        // the program in the project folder and put the key there, inside the Git work tree.
        var project = Path.Combine(RepoPaths.Root, "src", "Functions");
        var name = $"{_dir.Name}.pem";
        var strayKey = Path.Combine(project, name);
        try
        {
            var result = await ExternalProcess.RunAsync(
                "dotnet",
                ["run", "--project", project, "--no-build", "-c", RepoPaths.Configuration, "--", "sealing-key", "new", "--out", name],
                workingDirectory: _dir.FullName);

            Assert.True(result.ExitCode == 0, result.ToString());
            Assert.True(File.Exists(Path.Combine(_dir.FullName, name)), result.ToString());
            Assert.False(File.Exists(strayKey), result.ToString());
        }
        finally
        {
            File.Delete(strayKey);
        }
    }

    [Fact]
    public async Task Cert_NotAKeyPair_ExitsOneNamingTheFile()
    {
        var file = Path.Combine(_dir.FullName, "not-a-key.pem");
        File.WriteAllText(file, "hello\n");

        var (exit, _, error) = await RunAsync("sealing-key", "cert", file);

        Assert.Equal(1, exit);
        Assert.StartsWith($"{file}: needs a PEM certificate and its RSA private key", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CertificateEndpoint_NoSealingKeyStored_503SayingWhatToSet()
    {
        var options = new AppOptions { StorageConnectionString = azurite.ConnectionString, PlatformRepository = _dir.FullName, CacheDirectory = Path.Combine(_dir.FullName, "cache"), SealingKeySecret = "missing-sealing-key" };
        await using var app = await TestApp.StartAsync(options, platform: null, services => services.AddSingleton<ISecretStore>(new InMemorySecretStore(new Dictionary<string, string>())));

        using var response = await app.Client.GetAsync("api/sealing/cert.pem");
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains("secret 'missing-sealing-key' is not in the secret store", body, StringComparison.Ordinal);
        Assert.Contains("fleetfunctions sealing-key new", body, StringComparison.Ordinal);
    }

    private static Task<(int Exit, string Output, string Error)> RunAsync(params string[] args) => CliRunner.RunAsync(SealingKeyCommand.Create(), args);
}
