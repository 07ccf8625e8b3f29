using FleetFunctions.Core.Clusters;
using FleetFunctions.Core.Secrets;

namespace FleetFunctions.Core.Fleet;

/// <summary>
/// Connections for the clusters declared as <c>Cluster</c> resources in the platform repository: the server URL
/// with the bearer token named by <c>credentialsRef</c> (from the secret store), or the kubeconfig file and
/// context. A rotated token gives a new connection, which makes the client factory build a new client.
/// </summary>
public sealed class PlatformClusterCredentials(IPlatformProvider platform, ISecretStore secrets) : IClusterCredentialsProvider
{
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
        if (resource.CredentialsRef is { } secretRef)
        {
            token = await secrets.GetAsync(secretRef.Name, cancellationToken)
                ?? throw new KeyNotFoundException($"cluster {cluster}: secret '{secretRef.Name}' named by its credentialsRef is not in the secret store (set {EnvironmentSecretStore.VariableFor(secretRef.Name)})");
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
}
