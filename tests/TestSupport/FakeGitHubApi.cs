using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace FleetFunctions.TestSupport;

/// <summary>
/// The part of GitHub's REST API a GitHub App client uses: <c>POST {BaseUrl}/app/installations/{id}/access_tokens</c>,
/// answered as GitHub does (201 with <c>token</c> and <c>expires_at</c>; 401 for a JWT that does not verify against the
/// App's public key or names another App; 404 for an unknown installation). HTTPS with a certificate from a throw-away
/// CA (<see cref="CaPem"/>), on loopback, under <c>/api/v3</c> as GitHub Enterprise Server serves it.
/// </summary>
public sealed class FakeGitHubApi : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly long _appId;
    private readonly long _installationId;
    private readonly RSA _publicKey;
    private int _issued;

    private FakeGitHubApi(WebApplication app, long appId, long installationId, RSA publicKey, string caPem, int port)
    {
        _app = app;
        _appId = appId;
        _installationId = installationId;
        _publicKey = publicKey;
        CaPem = caPem;
        BaseUrl = $"https://127.0.0.1:{port}/api/v3";
    }

    public string BaseUrl { get; }

    public string CaPem { get; }

    /// <summary>How long issued tokens live (GitHub: one hour).</summary>
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Tokens issued so far; token N is <c>ghs_test-N</c>.</summary>
    public int Issued => Volatile.Read(ref _issued);

    /// <summary>The token most recently issued.</summary>
    public string? LastToken => Issued == 0 ? null : $"ghs_test-{Issued}";

    /// <summary>Starts the API for one App (its public key verifies the JWTs) installed once.</summary>
    public static async Task<FakeGitHubApi> StartAsync(long appId, long installationId, RSA appKey)
    {
        var publicKey = RSA.Create();
        publicKey.ImportRSAPublicKey(appKey.ExportRSAPublicKey(), out _);
        FakeGitHubApi? api = null;
        var (app, port, caPem) = await LoopbackHttps.StartAsync(web => web.MapPost("/api/v3/app/installations/{id}/access_tokens", (HttpContext context, long id) => api!.IssueAsync(context, id)));
        api = new FakeGitHubApi(app, appId, installationId, publicKey, caPem, port);
        return api;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        _publicKey.Dispose();
    }

    private async Task IssueAsync(HttpContext context, long id)
    {
        var header = context.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.Ordinal) || !Verifies(header["Bearer ".Length..]))
        {
            await Answer(context, StatusCodes.Status401Unauthorized, new JsonObject { ["message"] = "A JSON web token could not be decoded" });
            return;
        }

        if (id != _installationId)
        {
            await Answer(context, StatusCodes.Status404NotFound, new JsonObject { ["message"] = "Not Found" });
            return;
        }

        var n = Interlocked.Increment(ref _issued);
        await Answer(context, StatusCodes.Status201Created, new JsonObject
        {
            ["token"] = $"ghs_test-{n}",
            ["expires_at"] = DateTimeOffset.UtcNow.Add(TokenLifetime).ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture),
        });
    }

    /// <summary>RS256 over header.payload with the App's key, issued by the App, expiring within ten minutes.</summary>
    private bool Verifies(string jwt)
    {
        var parts = jwt.Split('.');
        if (parts.Length != 3 || JsonNode.Parse(Decode(parts[0]))?["alg"]?.GetValue<string>() != "RS256")
        {
            return false;
        }

        if (!_publicKey.VerifyData(Encoding.ASCII.GetBytes($"{parts[0]}.{parts[1]}"), Decode(parts[2]), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1))
        {
            return false;
        }

        var claims = JsonNode.Parse(Decode(parts[1]))!;
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        return claims["iss"]?.GetValue<string>() == _appId.ToString(System.Globalization.CultureInfo.InvariantCulture)
            && claims["iat"]!.GetValue<long>() <= now + 60
            && claims["exp"]!.GetValue<long>() > now
            && claims["exp"]!.GetValue<long>() - now <= 600;
    }

    private static byte[] Decode(string part)
    {
        var base64 = part.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(base64.PadRight(base64.Length + ((4 - (base64.Length % 4)) % 4), '='));
    }

    private static async Task Answer(HttpContext context, int status, JsonObject body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString());
    }
}
