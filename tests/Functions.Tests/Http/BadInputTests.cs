using System.Net;
using FleetFunctions.TestSupport;
using Xunit;

namespace FleetFunctions.Functions.Tests.Http;

/// <summary>
/// Bad input to the keyed HTTP API (the status API and the Durable-Functions-shaped API): a 400 that names the
/// parameter and says what it should look like, never a 500.
/// </summary>
public sealed class BadInputTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private const string ApiKey = "bad-input-key";
    private const string Durable = "runtime/webhooks/durabletask/instances";
    private static readonly string s_tooLong = "web-" + new string('a', 300);

    public static TheoryData<string, string, string> InvalidRolloutIds => new()
    {
        { "GET", "api/rollouts/%20", "rollout id ' '" },
        { "GET", $"api/rollouts/{s_tooLong}", "is 304 characters" },
        { "POST", "api/rollouts/%20%20/approve", "rollout id '  '" },
        { "POST", $"api/rollouts/{s_tooLong}/abort", "is 304 characters" },
    };

    public static TheoryData<string, string, string> InvalidInstanceIds => new()
    {
        { "GET", $"{Durable}/%20", "instance id ' '" },
        { "GET", $"{Durable}/{s_tooLong}", "is 304 characters" },
        { "POST", $"{Durable}/%20/raiseEvent/approve", "instance id ' '" },
        { "POST", $"{Durable}/{s_tooLong}/terminate", "is 304 characters" },
        { "POST", $"{Durable}/{s_tooLong}/suspend", "is 304 characters" },
        { "POST", $"{Durable}/%20/resume", "instance id ' '" },
        { "DELETE", $"{Durable}/{s_tooLong}", "is 304 characters" },
    };

    public static TheoryData<string, string?, string> InvalidQueries => new()
    {
        { "api/rollouts", "garbage", "x-ms-continuation-token" },
        { "api/rollouts", "not a token", "x-ms-continuation-token" },
        { "api/rollouts?status=Bogus", null, "status 'Bogus'" },
        { Durable, "garbage", "x-ms-continuation-token" },
        { Durable, "not a token", "x-ms-continuation-token" },
        { $"{Durable}?runtimeStatus=Bogus", null, "runtimeStatus 'Bogus'" },
        { $"{Durable}?top=-1", null, "top" },
        { $"{Durable}?top=abc", null, "top" },
        { $"{Durable}?createdTimeFrom=notadate", null, "createdTimeFrom" },
    };

    [Theory]
    [MemberData(nameof(InvalidRolloutIds))]
    public async Task RolloutEndpoint_IdTheEngineCannotHold_400NamingItAndTheShapeOfARolloutId(string method, string path, string expected)
    {
        await using var app = await StartAsync();

        var (status, body) = await SendAsync(app, method, path);

        Assert.True(status == HttpStatusCode.BadRequest, $"{method} {path}: {(int)status} {body}");
        Assert.Contains(expected, body, StringComparison.Ordinal);
        Assert.Contains("<fleet>-<40-hex commit>", body, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(InvalidInstanceIds))]
    public async Task DurableInstanceEndpoint_IdTheEngineCannotHold_400NamingIt(string method, string path, string expected)
    {
        await using var app = await StartAsync();

        var (status, body) = await SendAsync(app, method, path);

        Assert.True(status == HttpStatusCode.BadRequest, $"{method} {path}: {(int)status} {body}");
        Assert.Contains(expected, body, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(InvalidQueries))]
    public async Task ListEndpoint_GarbageQueryOrContinuationToken_400NamingTheParameter(string path, string? continuation, string expected)
    {
        await using var app = await StartAsync();

        var (status, body) = await SendAsync(app, "GET", path, continuation);

        Assert.True(status == HttpStatusCode.BadRequest, $"GET {path} ({continuation}): {(int)status} {body}");
        Assert.Contains(expected, body, StringComparison.Ordinal);
    }

    public static TheoryData<string> InvalidDeliveryIds => new() { "%20", "a%01b", "caf%C3%A9", new string('a', 129), new string('a', 2000) };

    [Theory]
    [MemberData(nameof(InvalidDeliveryIds))]
    public async Task GetDelivery_IdNoProviderSends_400SayingWhatADeliveryIdIs(string id)
    {
        await using var app = await StartAsync();

        var (status, body) = await SendAsync(app, "GET", $"api/deliveries/github/{id}");

        Assert.True(status == HttpStatusCode.BadRequest, $"{id}: {(int)status} {body}");
        Assert.Contains("delivery id", body, StringComparison.Ordinal);
        Assert.Contains("at most 128 printable ASCII characters", body, StringComparison.Ordinal);
    }

    private static async Task<(HttpStatusCode Status, string Body)> SendAsync(TestApp app, string method, string path, string? continuation = null)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        request.Headers.Add("x-api-key", ApiKey);
        if (continuation is not null)
        {
            request.Headers.Add("x-ms-continuation-token", continuation);
        }

        using var response = await app.Client.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private Task<TestApp> StartAsync() => TestApp.StartKeyedAsync(azurite.ConnectionString, ApiKey);
}
