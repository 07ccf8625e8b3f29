using FleetFunctions.Core.Secrets;
using FleetFunctions.Core.Sources;

namespace FleetFunctions.Core.Fleet;

/// <summary>
/// The platform repository: where it is fetched from and, when it is private, the secret (a token, or
/// <c>user:password</c>; with a GitHub App, the App's private key) it is fetched with. The secret is read at each
/// use, so a rotated one needs no restart.
/// </summary>
public sealed class PlatformRepository(GitSourceSpec spec, ISecretStore? secrets = null, string? secretName = null, GitHubAppSpec? gitHubApp = null)
{
    public string DisplayUrl => spec.DisplayUrl;

    /// <summary>The repository with its current credentials.</summary>
    /// <exception cref="SourceException">The named secret is not in the secret store.</exception>
    public ValueTask<GitSourceSpec> SpecAsync(CancellationToken cancellationToken = default) =>
        GitSourceSpecs.ForAsync(spec, secrets, secretName, gitHubApp, GitRepositories.PlatformSecretSetting, cancellationToken);
}
