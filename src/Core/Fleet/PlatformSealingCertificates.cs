using FleetFunctions.Core.Secrets;

namespace FleetFunctions.Core.Fleet;

/// <summary>Each cluster's <c>spec.sealingCertificate</c>, from the platform repository's current commit (like its credentials).</summary>
public sealed class PlatformSealingCertificates(IPlatformProvider platform) : ISealingCertificates
{
    public async ValueTask<string?> GetAsync(string cluster, CancellationToken cancellationToken = default)
    {
        var snapshot = await platform.GetCurrentAsync(cancellationToken);
        var resource = snapshot.Config.Clusters.FirstOrDefault(c => c.Name == cluster)
            ?? throw new SealingException($"Cluster/{cluster}: no Cluster resource with this name in the platform repository, so its SealedSecrets have no certificate to be re-sealed for; add one or remove the cluster from the fleet");
        return resource.SealingCertificate;
    }
}
