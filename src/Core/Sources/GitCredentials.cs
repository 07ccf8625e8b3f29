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

    public override string ToString() => $"GitCredentials {{ Username = {Username}, Password = *** }}";
}
