using FleetFunctions.Core.Clusters;
using FleetFunctions.Core.Fleet;
using FleetFunctions.Core.Secrets;
using FleetFunctions.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Xunit;

namespace FleetFunctions.Core.Tests.Clusters;

/// <summary>
/// A Cluster addressed by server URL and token whose API server has a certificate from a private CA (as AKS, EKS and
/// GKE API servers do): spec.caData makes it trusted, insecureSkipTLSVerify skips the check, and without either the
/// error says what to set. The API server is a loopback HTTPS endpoint answering <c>/version</c> for a known token.
/// </summary>
public sealed class ClusterTlsTests : IAsyncLifetime
{
    private const string Token = "eu-1-token";
    private WebApplication _app = null!;
    private string _server = null!;
    private string _caPem = null!;

    public async Task InitializeAsync()
    {
        var (app, port, caPem) = await LoopbackHttps.StartAsync(web => web.MapGet("/version", (HttpContext context) =>
            context.Request.Headers.Authorization.ToString() == $"Bearer {Token}"
                ? Results.Json(new { major = "1", minor = "32", gitVersion = "v1.32.0" })
                : Results.StatusCode(StatusCodes.Status401Unauthorized)));
        (_app, _server, _caPem) = (app, $"https://127.0.0.1:{port}", caPem);
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task Probe_CaDataOfTheServersCa_Trusted()
    {
        using var clients = Clients($"caData: {Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(_caPem))}");

        await (await clients.GetClientAsync("eu-1")).ProbeAsync();
    }

    [Fact]
    public async Task Probe_InsecureSkipTlsVerify_NotChecked()
    {
        using var clients = Clients("insecureSkipTLSVerify: true");

        await (await clients.GetClientAsync("eu-1")).ProbeAsync();
    }

    [Fact]
    public async Task Probe_NoCaData_ErrorSaysTheCertificateIsNotTrustedAndWhatToSet()
    {
        using var clients = Clients(null);

        var error = await Assert.ThrowsAsync<ClusterUnreachableException>(async () => await (await clients.GetClientAsync("eu-1")).ProbeAsync());

        Assert.Contains("eu-1: the API server at", error.Message, StringComparison.Ordinal);
        Assert.Contains("certificate the controller does not trust", error.Message, StringComparison.Ordinal);
        Assert.Contains("spec.caData", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Probe_CaDataOfAnotherCa_NotTrusted()
    {
        var (other, _, otherCa) = await LoopbackHttps.StartAsync(_ => { });
        await other.DisposeAsync();
        using var clients = Clients($"caData: {Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(otherCa))}");

        var error = await Assert.ThrowsAsync<ClusterUnreachableException>(async () => await (await clients.GetClientAsync("eu-1")).ProbeAsync());

        Assert.Contains("spec.caData", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("caData: not-base64!!", "caData", "is not base64 of PEM CA certificates")]
    [InlineData("caData: aGVsbG8=", "caData", "decodes to no '-----BEGIN CERTIFICATE-----' block")]
    [InlineData("caData: aGVsbG8=\n  insecureSkipTLSVerify: true", "insecureSkipTLSVerify", "not both")]
    public void Load_ServerTlsMisconfigured_ErrorNamesTheField(string tls, string field, string says)
    {
        var ex = Assert.Throws<ResourceValidationException>(() => Platform(tls));

        Assert.Contains(ex.Errors, e => e.Field == "spec." + field && e.Message.Contains(says, StringComparison.Ordinal));
    }

    [Fact]
    public void Load_CaDataWithAKubeconfig_RefusedAsTheKubeconfigCarriesItsOwn()
    {
        var ex = Assert.Throws<ResourceValidationException>(() => PlatformLoader.Load([("clusters.yaml", """
            apiVersion: fleetfunctions.io/v1alpha1
            kind: Cluster
            metadata: {name: eu-1}
            spec:
              kubeconfig: {path: /etc/kube/config}
              region: eu
              insecureSkipTLSVerify: true
            """)]));

        Assert.Contains(ex.Errors, e => e.Field == "spec.insecureSkipTLSVerify" && e.Message.Contains("applies to server only", StringComparison.Ordinal));
    }

    private ClusterClientFactory Clients(string? tls)
    {
        var secrets = new InMemorySecretStore(new Dictionary<string, string> { ["eu-1-token"] = Token });
        return new ClusterClientFactory(new PlatformClusterCredentials(new StaticPlatformProvider(Platform(tls)), secrets),
            new ClusterClientOptions { RequestTimeout = TimeSpan.FromSeconds(10) });
    }

    private PlatformConfig Platform(string? tls) => PlatformLoader.Load([("clusters.yaml", $"""
        apiVersion: fleetfunctions.io/v1alpha1
        kind: Cluster
        metadata: {"{"}name: eu-1{"}"}
        spec:
          server: {_server ?? "https://127.0.0.1:1"}
          credentialsRef: {"{"}name: eu-1-token{"}"}
          region: eu
          {tls ?? string.Empty}
        """)]);
}
