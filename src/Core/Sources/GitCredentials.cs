namespace FleetFunctions.Core.Sources;

/// <summary>
/// HTTPS credentials for a Git source: basic (username + password) or a token (sent as the password of
/// a placeholder user, which GitHub, GitLab, Azure DevOps and Gitea all accept). Never printed:
/// <see cref="ToString"/> redacts the secret.
/// </summary>
public sealed record GitCredentials(string Username, string Password)
{
    /// <summary>Credentials for a personal access or app token.</summary>
    public static GitCredentials FromToken(string token) => new("git", token);

    /// <summary>Credentials from a stored secret: <c>user:password</c> is basic authentication, anything else a token.</summary>
    public static GitCredentials FromSecret(string secret)
    {
        var colon = secret.IndexOf(':', StringComparison.Ordinal);
        return colon > 0 ? new GitCredentials(secret[..colon], secret[(colon + 1)..]) : FromToken(secret);
    }

    public override string ToString() => $"GitCredentials {{ Username = {Username}, Password = *** }}";
}
