using System.Net;
using FleetFunctions.Core.Fleet;
using FleetFunctions.TestSupport;
using Xunit;

namespace FleetFunctions.Functions.Tests.Http;

/// <summary>
/// The standalone app's API key: every endpoint that reads or changes rollouts, fleets or deliveries needs it,
/// including the Durable-Functions-shaped management API on both of its paths (it can approve, terminate and purge).
/// </summary>
public sealed class ApiKeyTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private const string ApiKey = "s3cret-key";

    public static TheoryData<string, string> Keyed => new()
    {
        { "GET", "api/fleets" },
        { "GET", "api/clusters/c1" },
        { "GET", "api/rollouts" },
        { "POST", "api/rollouts/web-1111111111111111111111111111111111111111/approve" },
        { "GET", "api/deliveries/github/d1" },
        { "GET", "runtime/webhooks/durabletask/instances" },
        { "GET", "runtime/webhooks/durabletask/instances/web-1111111111111111111111111111111111111111" },
        { "POST", "runtime/webhooks/durabletask/instances/web-1111111111111111111111111111111111111111/raiseEvent/approve" },
        { "POST", "runtime/webhooks/durabletask/instances/web-1111111111111111111111111111111111111111/terminate" },
        { "DELETE", "runtime/webhooks/durabletask/instances/web-1111111111111111111111111111111111111111" },
        { "GET", "api/durabletask/instances" },
        { "POST", "api/durabletask/instances/web-1111111111111111111111111111111111111111/raiseEvent/approve" },
    };

    [Theory]
    [MemberData(nameof(Keyed))]
    public async Task KeyedEndpoint_WithoutOrWithAWrongKey_401_WithTheKeyInHeaderOrQuery_Answered(string method, string path)
    {
        await using var app = await StartAsync();

        using var without = await app.Client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
        using var wrong = await app.Client.SendAsync(Request(method, path, "not-the-key"));
        using var inQuery = await app.Client.SendAsync(new HttpRequestMessage(new HttpMethod(method), $"{path}{(path.Contains('?', StringComparison.Ordinal) ? '&' : '?')}code={ApiKey}"));
        using var keyed = await app.Client.SendAsync(Request(method, path, ApiKey));

        Assert.Equal(HttpStatusCode.Unauthorized, without.StatusCode);
        Assert.Contains("x-api-key", await without.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Contains("not valid", await wrong.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.NotEqual(HttpStatusCode.Unauthorized, inQuery.StatusCode);
        Assert.NotEqual(HttpStatusCode.Unauthorized, keyed.StatusCode);
        Assert.True((int)keyed.StatusCode < 500, $"{method} {path}: {(int)keyed.StatusCode} {await keyed.Content.ReadAsStringAsync()}");
    }

    [Theory]
    [InlineData("api/healthz")]
    [InlineData("api/sealing/cert.pem")]
    public async Task OpenEndpoint_WithoutAKey_NotRefused(string path)
    {
        await using var app = await StartAsync();

        using var response = await app.Client.GetAsync(path);

        Assert.NotEqual(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    private static HttpRequestMessage Request(string method, string path, string key)
    {
        var request = new HttpRequestMessage(new HttpMethod(method), path);
        request.Headers.Add("x-api-key", key);
        return request;
    }

    private Task<TestApp> StartAsync() => TestApp.StartKeyedAsync(azurite.ConnectionString, ApiKey, PlatformLoader.Load([("p.yaml", """
        apiVersion: fleetfunctions.io/v1alpha1
        kind: Cluster
        metadata: {name: c1}
        spec: {server: "http://127.0.0.1:1", region: eu}
        """)]));
}
