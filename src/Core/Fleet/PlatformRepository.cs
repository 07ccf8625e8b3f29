using FleetFunctions.Core.Secrets;
using FleetFunctions.Core.Sources;

namespace FleetFunctions.Core.Fleet;

/// <summary>
/// The platform repository: where it is fetched from and, when it is private, the secret (a token, or
/// <c>user:password</c>) it is fetched with. The secret is read at each use, so a rotated one needs no restart.
/// </summary>
public sealed class PlatformRepository(GitSourceSpec spec, ISecretStore? secrets = null, string? secretName = null)
{
    public string DisplayUrl => spec.DisplayUrl;

    /// <summary>The repository with its current credentials.</summary>
    /// <exception cref="SourceException">The named secret is not in the secret store.</exception>
    public async ValueTask<GitSourceSpec> SpecAsync(CancellationToken cancellationToken = default)
    {
        if (secretName is null || secrets is null)
        {
            return spec;
        }

        var secret = await secrets.GetAsync(secretName, cancellationToken)
            ?? throw new SourceException(
                $"{spec.DisplayUrl}: secret '{secretName}' named by {GitRepositories.PlatformSecretSetting} is not in the secret store; set {EnvironmentSecretStore.VariableFor(secretName)} (or add the file to the secrets folder)");
        return spec with { Credentials = GitCredentials.FromSecret(secret) };
    }
}
