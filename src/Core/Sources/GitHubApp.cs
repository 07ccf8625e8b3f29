using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace FleetFunctions.Core.Sources;

/// <summary>
/// A GitHub App installation to fetch as: the App's ID and private key (PEM) sign a short-lived JWT, which GitHub's
/// API exchanges for an installation token; the token is the password of user <c>x-access-token</c> over HTTPS.
/// Never printed: <see cref="ToString"/> leaves the key out.
/// </summary>
/// <param name="ApiBase">GitHub's REST API: <c>https://api.github.com/</c>, or <c>https://HOST/api/v3/</c> for GitHub Enterprise Server.</param>
public sealed record GitHubAppAuth(long AppId, long InstallationId, string PrivateKeyPem, Uri ApiBase)
{
    public static readonly Uri DefaultApiBase = new("https://api.github.com/");

    public override string ToString() => $"GitHubAppAuth {{ AppId = {AppId}, InstallationId = {InstallationId}, ApiBase = {ApiBase}, PrivateKey = *** }}";
}

/// <summary>
/// Installation tokens of GitHub Apps (<c>POST /app/installations/{id}/access_tokens</c>), cached until five minutes
/// before they expire (GitHub issues them for an hour). Thread-safe.
/// </summary>
internal sealed class GitHubAppTokens : IDisposable
{
    private static readonly TimeSpan s_refreshBefore = TimeSpan.FromMinutes(5);
    private readonly HttpClient _http;
    private readonly ConcurrentDictionary<string, Lazy<Task<(string Token, DateTimeOffset ExpiresAt)>>> _tokens = new(StringComparer.Ordinal);

    /// <param name="trustedAuthorities">Accepted besides the system's roots (GitHub Enterprise Server with a private CA), for the host they name.</param>
    public GitHubAppTokens(X509Certificate2Collection trustedAuthorities)
    {
        var handler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(10) };
        if (trustedAuthorities.Count > 0)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                errors == SslPolicyErrors.None || (certificate is not null && errors == SslPolicyErrors.RemoteCertificateChainErrors && GitCacheOptions.ChainsTo(certificate, trustedAuthorities));
        }

        _http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };
    }

    /// <summary>A token for <paramref name="app"/>, from the cache while it has more than five minutes left.</summary>
    /// <exception cref="SourceException">The key cannot be read, GitHub refused the JWT or the installation, or GitHub cannot be reached.</exception>
    public async Task<string> TokenAsync(GitHubAppAuth app, string displayUrl, CancellationToken cancellationToken = default)
    {
        var key = string.Create(CultureInfo.InvariantCulture, $"{app.ApiBase}|{app.AppId}|{app.InstallationId}|{Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(app.PrivateKeyPem)))}");
        Lazy<Task<(string Token, DateTimeOffset ExpiresAt)>> lazy;
        while (true)
        {
            lazy = _tokens.GetOrAdd(key, _ => new Lazy<Task<(string, DateTimeOffset)>>(() => ExchangeAsync(app, displayUrl, cancellationToken)));
            var stale = lazy.IsValueCreated && lazy.Value.IsCompletedSuccessfully && lazy.Value.Result.ExpiresAt - DateTimeOffset.UtcNow <= s_refreshBefore;
            if (!stale)
            {
                break;
            }

            // A cached token close to its expiry: exchange again (a fresh token is used however short its life).
            _tokens.TryRemove(new KeyValuePair<string, Lazy<Task<(string, DateTimeOffset)>>>(key, lazy));
        }

        try
        {
            return (await lazy.Value).Token;
        }
        catch
        {
            _tokens.TryRemove(new KeyValuePair<string, Lazy<Task<(string, DateTimeOffset)>>>(key, lazy));
            throw;
        }
    }

    public void Dispose() => _http.Dispose();

    private async Task<(string Token, DateTimeOffset ExpiresAt)> ExchangeAsync(GitHubAppAuth app, string displayUrl, CancellationToken cancellationToken)
    {
        var what = $"{displayUrl}: GitHub App {app.AppId}, installation {app.InstallationId}";
        var jwt = Jwt(app, what);
        var endpoint = new Uri(app.ApiBase, string.Create(CultureInfo.InvariantCulture, $"app/installations/{app.InstallationId}/access_tokens"));
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", jwt);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/vnd.github+json"));
        request.Headers.UserAgent.Add(new ProductInfoHeaderValue("fleetfunctions", "1.0"));
        request.Headers.Add("X-GitHub-Api-Version", "2022-11-28");
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, cancellationToken);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            throw new SourceException($"{what}: GitHub's API at {app.ApiBase} cannot be reached for an installation token ({e.Message}); check githubApp.baseURL and the network.", e);
        }

        using (response)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                var message = TryMessage(body);
                throw new SourceException(response.StatusCode switch
                {
                    HttpStatusCode.Unauthorized => $"{what}: GitHub rejected the App's JWT ({message}); check githubApp.appID and that the secret holds that App's private key.",
                    HttpStatusCode.NotFound => $"{what}: GitHub knows no such installation of the App ({message}); check githubApp.installationID and that the App is installed on the repository's owner.",
                    HttpStatusCode.Forbidden => $"{what}: GitHub refused an installation token ({message}); the installation may be suspended.",
                    _ => $"{what}: GitHub answered {(int)response.StatusCode} to the token request ({message}).",
                });
            }

            var json = JsonNode.Parse(body) as JsonObject;
            var token = json?["token"]?.GetValue<string>();
            var expires = json?["expires_at"]?.GetValue<string>();
            if (token is not { Length: > 0 } || !DateTimeOffset.TryParse(expires, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var expiresAt))
            {
                throw new SourceException($"{what}: GitHub's token response has no token or expires_at; check githubApp.baseURL points at GitHub's REST API.");
            }

            return (token, expiresAt);
        }
    }

    /// <summary>The App's JWT: RS256, issued a minute in the past (clock drift), valid nine minutes (GitHub allows ten).</summary>
    private static string Jwt(GitHubAppAuth app, string what)
    {
        using var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(app.PrivateKeyPem);
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            throw new SourceException($"{what}: the secret does not hold an RSA private key in PEM form ('-----BEGIN RSA PRIVATE KEY-----' as GitHub issues it, or PKCS#8); download the App's private key again.", e);
        }

        var now = DateTimeOffset.UtcNow;
        var header = Base64Url("""{"alg":"RS256","typ":"JWT"}"""u8);
        var payload = Base64Url(JsonSerializer.SerializeToUtf8Bytes(new JsonObject
        {
            ["iat"] = now.AddMinutes(-1).ToUnixTimeSeconds(),
            ["exp"] = now.AddMinutes(9).ToUnixTimeSeconds(),
            ["iss"] = app.AppId.ToString(CultureInfo.InvariantCulture),
        }));
        var signature = rsa.SignData(Encoding.ASCII.GetBytes($"{header}.{payload}"), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return $"{header}.{payload}.{Base64Url(signature)}";
    }

    private static string Base64Url(ReadOnlySpan<byte> bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static string TryMessage(string body)
    {
        try
        {
            return (JsonNode.Parse(body) as JsonObject)?["message"]?.GetValue<string>() ?? "no message";
        }
        catch (JsonException)
        {
            return body.Length > 200 ? body[..200] : body;
        }
    }
}
