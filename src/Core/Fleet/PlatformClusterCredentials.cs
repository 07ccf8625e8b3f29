using System.Collections.Concurrent;
using Azure.Core;
using FleetFunctions.Core.Clusters;
using FleetFunctions.Core.Secrets;

namespace FleetFunctions.Core.Fleet;

/// <summary>
/// Connections for the clusters declared as <c>Cluster</c> resources in the platform repository: the server URL
/// with the bearer token named by <c>credentialsRef</c> (from the secret store) or an Entra ID token of the app's
/// managed identity (<c>azureIdentity</c>), or the kubeconfig file and context. A rotated token gives a new
/// connection, which makes the client factory build a new client.
/// </summary>
/// <param name="azureCredentials">The app's Azure credential for a user-assigned identity's client ID (null: its default identity).</param>
public sealed class PlatformClusterCredentials(IPlatformProvider platform, ISecretStore secrets, Func<string?, TokenCredential>? azureCredentials = null) : IClusterCredentialsProvider
{
    private readonly ConcurrentDictionary<string, TokenCredential> _credentials = new(StringComparer.Ordinal);

    public async ValueTask<ClusterConnection> GetConnectionAsync(string cluster, CancellationToken cancellationToken = default)
    {
        var snapshot = await platform.GetCurrentAsync(cancellationToken);
        var resource = snapshot.Config.Clusters.FirstOrDefault(c => c.Name == cluster)
            ?? throw new KeyNotFoundException($"cluster {cluster}: no Cluster resource with this name in the platform repository; add one or remove the cluster from the fleet");
        if (resource.Kubeconfig is { } kubeconfig)
        {
            return ClusterConnection.FromKubeconfig(cluster, kubeconfig.Path, kubeconfig.Context);
        }

        string? token = null;
        if (resource.AzureIdentity is { } identity)
        {
            token = await AzureTokenAsync(cluster, identity, cancellationToken);
        }
        else if (resource.CredentialsRef is { } secretRef)
        {
            token = await secrets.GetAsync(secretRef.Name, cancellationToken)
                ?? throw new KeyNotFoundException($"cluster {cluster}: secret '{secretRef.Name}' named by its credentialsRef is not in the secret store ({EnvironmentSecretStore.HowToSet(secretRef.Name)})");
        }

        return new ClusterConnection
        {
            Name = cluster,
            Server = new Uri(resource.Server!),
            Token = token,
            CertificateAuthorityData = resource.CaData,
            SkipTlsVerify = resource.InsecureSkipTlsVerify,
        };
    }

    /// <summary>A token of the app's identity for <paramref name="identity"/>'s scope (Azure.Identity caches it until shortly before it expires).</summary>
    private async Task<string> AzureTokenAsync(string cluster, AzureIdentitySpec identity, CancellationToken cancellationToken)
    {
        if (azureCredentials is null)
        {
            throw new KeyNotFoundException($"cluster {cluster}: azureIdentity needs the app's Azure credential, which this host does not provide; use credentialsRef or a kubeconfig");
        }

        var credential = _credentials.GetOrAdd(identity.ClientId ?? string.Empty, id => azureCredentials(id.Length == 0 ? null : id));
        try
        {
            return (await credential.GetTokenAsync(new TokenRequestContext([identity.Scope]), cancellationToken)).Token;
        }
        catch (Exception e) when (e is Azure.RequestFailedException or Azure.Identity.AuthenticationFailedException or Azure.Identity.CredentialUnavailableException)
        {
            throw new ClusterUnreachableException(cluster,
                $"cluster {cluster}: no Entra ID token for {identity.Scope} from the app's {(identity.ClientId is { } id ? $"identity {id}" : "default identity")} ({e.Message}); " +
                "check that the identity is assigned to the app and has an AKS RBAC role on the cluster, or use credentialsRef.", e);
        }
    }
}
