using FleetFunctions.Core.Secrets;
using FleetFunctions.Core.Sources;

namespace FleetFunctions.Core.Fleet;

/// <summary>
/// Where a Git repository is fetched from, with the credentials its secret reference names (a token or
/// <c>user:password</c>; with <c>githubApp</c>, the App's private key), read from the secret store at each use (a
/// rotated secret needs no restart). A reference to a secret the store does not hold is an
/// error naming the secret, what names it and the variable to set; it never degrades to an anonymous fetch.
/// </summary>
public static class GitSourceSpecs
{
    /// <summary>The repository of a <c>GitSource</c>, with the credentials of its <c>spec.secretRef</c>.</summary>
    /// <exception cref="SourceException">The secret is not in the secret store.</exception>
    public static ValueTask<GitSourceSpec> ForAsync(GitSource source, ISecretStore secrets, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        return ForAsync(new GitSourceSpec(source.Url, source.Branch) { SshKnownHosts = source.KnownHosts }, secrets, source.SecretRef?.Name, source.GitHubApp, $"spec.secretRef of GitSource/{source.Name}", cancellationToken);
    }

    /// <summary>The repository of a rollout plan's fleet settings, with the credentials of its source's secret.</summary>
    /// <exception cref="SourceException">The secret is not in the secret store.</exception>
    public static ValueTask<GitSourceSpec> ForAsync(FleetSettings settings, ISecretStore secrets, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return ForAsync(new GitSourceSpec(settings.SourceUrl, settings.SourceBranch) { SshKnownHosts = settings.SourceKnownHosts }, secrets, settings.SourceSecretRef, settings.SourceGitHubApp, $"spec.secretRef of GitSource/{settings.SourceName}", cancellationToken);
    }

    /// <summary>
    /// <paramref name="spec"/> with the credentials <paramref name="secretName"/> holds: a token or <c>user:password</c>,
    /// an SSH private key for an SSH URL, or with <paramref name="app"/> the App's private key.
    /// </summary>
    /// <param name="namedBy">What names the secret, for errors (a resource field or a setting).</param>
    /// <exception cref="SourceException">The secret is not in the secret store, or an App has no secret named.</exception>
    public static async ValueTask<GitSourceSpec> ForAsync(
        GitSourceSpec spec, ISecretStore? secrets, string? secretName, GitHubAppSpec? app, string namedBy, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (app is null)
        {
            return await WithSecretAsync(spec, secrets, secretName, namedBy, cancellationToken);
        }

        // The secret is the App's private key: it signs the JWT exchanged for an installation token at each fetch.
        var key = await ReadAsync(spec, secrets, secretName ?? throw new SourceException($"{spec.DisplayUrl}: a GitHub App is configured but no secret holds its private key; set {namedBy}"), namedBy, cancellationToken);
        return spec with
        {
            GitHubApp = new GitHubAppAuth(app.AppId, app.InstallationId, key, app.BaseUrl is { } baseUrl ? new Uri(baseUrl.TrimEnd('/') + "/") : GitHubAppAuth.DefaultApiBase),
        };
    }

    /// <summary><paramref name="spec"/> with the credentials held by <paramref name="secretName"/>, or unchanged when no secret is named.</summary>
    /// <param name="namedBy">What names the secret, for the error (a resource field or a setting).</param>
    /// <exception cref="SourceException">The secret is not in the secret store.</exception>
    private static async ValueTask<GitSourceSpec> WithSecretAsync(GitSourceSpec spec, ISecretStore? secrets, string? secretName, string namedBy, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (secretName is null)
        {
            return spec;
        }

        var secret = await ReadAsync(spec, secrets, secretName, namedBy, cancellationToken);

        // Over SSH the secret is the private key; otherwise a token or user:password.
        return spec.IsSsh ? spec with { SshPrivateKey = secret } : spec with { Credentials = GitCredentials.FromSecret(secret) };
    }

    private static async ValueTask<string> ReadAsync(GitSourceSpec spec, ISecretStore? secrets, string secretName, string namedBy, CancellationToken cancellationToken) =>
        (secrets is null ? null : await secrets.GetAsync(secretName, cancellationToken))
            ?? throw new SourceException(
                $"{spec.DisplayUrl}: secret '{secretName}' named by {namedBy} is not in the secret store; {EnvironmentSecretStore.HowToSet(secretName)} (or add the file to the secrets folder)");
}
