using System.Security.Cryptography;
using System.Text;

namespace FleetFunctions.Core.Webhooks;

/// <summary>Result of checking a delivery's signature or token.</summary>
public enum SignatureCheck
{
    Valid,

    /// <summary>The request carries no signature or token at all.</summary>
    Missing,

    /// <summary>A signature or token is present but does not match the secret.</summary>
    Invalid,
}

/// <summary>
/// Verifies each provider's proof that a delivery comes from it: HMAC-SHA256 signatures (GitHub
/// <c>X-Hub-Signature-256</c>, Gitea/Forgejo <c>X-Gitea-Signature</c>, Bitbucket <c>X-Hub-Signature</c>), GitLab's
/// <c>X-Gitlab-Token</c>, and Azure DevOps basic authentication (the password is the secret). Every comparison is
/// constant-time.
/// </summary>
public static class WebhookSignature
{
    public static SignatureCheck Verify(WebhookRequest request, string secret)
    {
        var secretBytes = Encoding.UTF8.GetBytes(secret);
        switch (request.Provider)
        {
            case WebhookProvider.GitHub:
                return CheckHmac(request.Header("X-Hub-Signature-256"), "sha256=", secretBytes, request.Body.Span);
            case WebhookProvider.Bitbucket:
                return CheckHmac(request.Header("X-Hub-Signature"), "sha256=", secretBytes, request.Body.Span);
            case WebhookProvider.Gitea:
                return CheckHmac(request.Header("X-Gitea-Signature") ?? request.Header("X-Forgejo-Signature"), string.Empty, secretBytes, request.Body.Span);
            case WebhookProvider.GitLab:
                return request.Header("X-Gitlab-Token") is { } token
                    ? TokenEquals(token, secret) ? SignatureCheck.Valid : SignatureCheck.Invalid
                    : SignatureCheck.Missing;
            default:
                return CheckBasicAuth(request.Header("Authorization"), secret);
        }
    }

    /// <summary>The signature header value a provider would send for <paramref name="body"/> (tests, the demo, docs).</summary>
    public static string Sign(WebhookProvider provider, string secret, ReadOnlySpan<byte> body)
    {
        var hex = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));
        return provider switch
        {
            WebhookProvider.GitHub or WebhookProvider.Bitbucket => "sha256=" + hex,
            WebhookProvider.Gitea => hex,
            WebhookProvider.GitLab => secret,
            _ => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("fleetfunctions:" + secret)),
        };
    }

    private static SignatureCheck CheckHmac(string? header, string prefix, byte[] secret, ReadOnlySpan<byte> body)
    {
        if (string.IsNullOrEmpty(header))
        {
            return SignatureCheck.Missing;
        }

        if (!header.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
        {
            return SignatureCheck.Invalid;
        }

        byte[] provided;
        try
        {
            provided = Convert.FromHexString(header.AsSpan(prefix.Length));
        }
        catch (FormatException)
        {
            return SignatureCheck.Invalid;
        }

        var expected = HMACSHA256.HashData(secret, body);
        return CryptographicOperations.FixedTimeEquals(provided, expected) ? SignatureCheck.Valid : SignatureCheck.Invalid;
    }

    private static SignatureCheck CheckBasicAuth(string? header, string secret)
    {
        if (string.IsNullOrEmpty(header))
        {
            return SignatureCheck.Missing;
        }

        if (!header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            return SignatureCheck.Invalid;
        }

        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..].Trim()));
        }
        catch (FormatException)
        {
            return SignatureCheck.Invalid;
        }

        var colon = decoded.IndexOf(':', StringComparison.Ordinal);
        return colon >= 0 && TokenEquals(decoded[(colon + 1)..], secret) ? SignatureCheck.Valid : SignatureCheck.Invalid;
    }

    /// <summary>Constant-time equality that does not leak the length either (both sides are hashed first).</summary>
    private static bool TokenEquals(string provided, string secret) =>
        CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(provided)), SHA256.HashData(Encoding.UTF8.GetBytes(secret)));
}
