using System.Net;
using System.Text;
using FleetFunctions.Core.Clusters;
using FleetFunctions.Core.Fleet;
using FleetFunctions.Core.Secrets;
using FleetFunctions.Functions.Hosting;
using FleetFunctions.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Xunit;

namespace FleetFunctions.Functions.Tests.Hosting;

/// <summary>Process-wide environment variables: these tests run alone.</summary>
[CollectionDefinition(nameof(ManagedIdentityEnvironment), DisableParallelization = true)]
public sealed class ManagedIdentityEnvironment;

/// <summary>
/// A Cluster with <c>azureIdentity</c>, through the app's own Azure credential (Azure.Identity's managed identity
/// client, unchanged): the token comes from a loopback endpoint shaped like App Service's managed identity endpoint
/// (<c>IDENTITY_ENDPOINT</c> / <c>IDENTITY_HEADER</c>, as on Azure Functions), and the API server (HTTPS, private CA)
/// accepts only that token.
/// </summary>
[Collection(nameof(ManagedIdentityEnvironment))]
public sealed class ClusterAzureIdentityTests : IAsyncLifetime
{
    private const string ClientId = "11111111-2222-3333-4444-555555555555";
    private const string Header = "identity-header-secret";
    private readonly List<string> _tokenRequests = [];
    private WebApplication _identity = null!;
    private WebApplication _apiServer = null!;
    private string _server = null!;
    private string _caPem = null!;
    private string? _savedEndpoint;
    private string? _savedHeader;

    public async Task InitializeAsync()
    {
        var port = FreePort.Next();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port));
        _identity = builder.Build();
        _identity.MapGet("/msi/token", (HttpContext context) =>
        {
            var query = context.Request.Query;
            lock (_tokenRequests)
            {
                _tokenRequests.Add($"resource={query["resource"]} client_id={query["client_id"]} header={context.Request.Headers["X-IDENTITY-HEADER"]}");
            }

            if (context.Request.Headers["X-IDENTITY-HEADER"] != Header || query["client_id"] != ClientId)
            {
                return Results.Json(new { statusCode = 400, message = "No User Assigned or Delegated Managed Identity found for specified ClientId/ResourceId/PrincipalId." }, statusCode: 400);
            }

            return Results.Json(new
            {
                access_token = $"entra-token-for-{query["resource"]}",
                expires_on = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture),
                resource = query["resource"].ToString(),
                token_type = "Bearer",
                client_id = ClientId,
            });
        });
        await _identity.StartAsync();
        _savedEndpoint = Environment.GetEnvironmentVariable("IDENTITY_ENDPOINT");
        _savedHeader = Environment.GetEnvironmentVariable("IDENTITY_HEADER");
        Environment.SetEnvironmentVariable("IDENTITY_ENDPOINT", $"http://127.0.0.1:{port}/msi/token");
        Environment.SetEnvironmentVariable("IDENTITY_HEADER", Header);

        var (apiServer, apiPort, caPem) = await LoopbackHttps.StartAsync(web => web.MapGet("/version", (HttpContext context) =>
            context.Request.Headers.Authorization.ToString() == $"Bearer entra-token-for-{AzureIdentitySpec.AksScope.Replace("/.default", string.Empty, StringComparison.Ordinal)}"
                ? Results.Json(new { major = "1", minor = "32", gitVersion = "v1.32.0" })
                : Results.StatusCode(StatusCodes.Status401Unauthorized)));
        (_apiServer, _server, _caPem) = (apiServer, $"https://127.0.0.1:{apiPort}", caPem);
    }

    public async Task DisposeAsync()
    {
        Environment.SetEnvironmentVariable("IDENTITY_ENDPOINT", _savedEndpoint);
        Environment.SetEnvironmentVariable("IDENTITY_HEADER", _savedHeader);
        await _identity.DisposeAsync();
        await _apiServer.DisposeAsync();
    }

    [Fact]
    public async Task Probe_UserAssignedIdentity_AksTokenFromTheManagedIdentityEndpointIsAccepted()
    {
        using var clients = Clients(ClientId);

        await (await clients.GetClientAsync("aks-eu")).ProbeAsync();

        Assert.Contains($"resource=6dae42f8-4368-4678-94ff-3960e28e3630 client_id={ClientId} header={Header}", _tokenRequests);
    }

    [Fact]
    public async Task Probe_IdentityNotAssignedToTheApp_ErrorSaysWhatToCheck()
    {
        using var clients = Clients("99999999-0000-0000-0000-000000000000");

        var error = await Assert.ThrowsAsync<ClusterUnreachableException>(async () => await clients.GetClientAsync("aks-eu"));

        Assert.Contains("cluster aks-eu: no Entra ID token for 6dae42f8-4368-4678-94ff-3960e28e3630/.default from the app's identity 99999999-0000-0000-0000-000000000000", error.Message, StringComparison.Ordinal);
        Assert.Contains("check that the identity is assigned to the app", error.Message, StringComparison.Ordinal);
    }

    private ClusterClientFactory Clients(string clientId)
    {
        var platform = PlatformLoader.Load([("clusters.yaml", $"""
            apiVersion: fleetfunctions.io/v1alpha1
            kind: Cluster
            metadata: {"{"}name: aks-eu{"}"}
            spec:
              server: {_server}
              caData: {Convert.ToBase64String(Encoding.UTF8.GetBytes(_caPem))}
              azureIdentity: {"{"}clientID: {clientId}{"}"}
              region: eu
            """)]);
        var options = AppOptions.From(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["FLEETFUNCTIONS_Storage"] = "UseDevelopmentStorage=true",
            ["FLEETFUNCTIONS_PlatformRepository"] = "/srv/platform",
        }).Build());
        return new ClusterClientFactory(
            new PlatformClusterCredentials(new StaticPlatformProvider(platform), new InMemorySecretStore(new Dictionary<string, string>()), options.AzureCredential),
            new ClusterClientOptions { RequestTimeout = TimeSpan.FromSeconds(10) });
    }
}
