using System.Security.Cryptography.X509Certificates;

namespace FleetFunctions.Core.Sources;

/// <summary>Options of <see cref="GitRepositories"/>.</summary>
public sealed record GitCacheOptions
{
    /// <summary>Folder holding the bare repositories (one per URL) and the materialised trees (one per commit).</summary>
    public string CacheDirectory { get; init; } = Path.Combine(Path.GetTempPath(), "fleetfunctions", "git");

    /// <summary>
    /// Materialised commit trees kept on disk however long ago they were used: the most recently used ones (a fleet's
    /// current commit, the commits of running rollouts). Older trees are deleted when a new one is written, once unused
    /// for <see cref="TreeGracePeriod"/>; a later need writes them again from the bare repository.
    /// </summary>
    public int KeepTrees { get; init; } = 32;

    /// <summary>
    /// How long a tree beyond <see cref="KeepTrees"/> stays after its last use. It must exceed the longest read of a
    /// tree (a kustomize build: <c>RenderOptions.Timeout</c>, 2 minutes by default).
    /// </summary>
    public TimeSpan TreeGracePeriod { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Packs a cached repository may hold before a fetch merges the recent ones (every pack but the largest) into one.
    /// Each fetch that brings new objects adds a pack, and lookups slow down with their number (git's own
    /// <c>gc.autoPackLimit</c> is 50 too).
    /// </summary>
    public int MaxPacks { get; init; } = 50;

    /// <summary>A branch is fetched again only when its last fetch is older than this (zero: always fetch).</summary>
    public TimeSpan MinimumFetchInterval { get; init; } = TimeSpan.Zero;

    /// <summary>
    /// Certificate authorities trusted for HTTPS remotes in addition to the system's (a self-hosted Git server with a
    /// private CA). Empty: only the system's trust store.
    /// </summary>
    public X509Certificate2Collection TrustedCertificateAuthorities { get; init; } = [];

    /// <summary>Reads PEM text with one or more CA certificates into a collection for <see cref="TrustedCertificateAuthorities"/>.</summary>
    /// <exception cref="ArgumentException">The text holds no certificate, or one that cannot be read.</exception>
    public static X509Certificate2Collection ReadCertificateAuthorities(string pem, string origin)
    {
        var certificates = new X509Certificate2Collection();
        try
        {
            certificates.ImportFromPem(pem);
        }
        catch (System.Security.Cryptography.CryptographicException e)
        {
            throw new ArgumentException($"{origin}: the PEM text holds a certificate that cannot be read ({e.Message}); give one or more '-----BEGIN CERTIFICATE-----' blocks.", e);
        }

        return certificates.Count > 0
            ? certificates
            : throw new ArgumentException($"{origin}: no '-----BEGIN CERTIFICATE-----' block found; give the PEM text of the CA certificates (or a file holding it).");
    }

    /// <summary>Whether <paramref name="certificate"/> chains to one of <paramref name="authorities"/> (no revocation check: private CAs rarely publish one).</summary>
    internal static bool ChainsTo(X509Certificate certificate, X509Certificate2Collection authorities)
    {
        using var server = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(authorities);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(server);
    }

    /// <summary>Throws when the options are unusable.</summary>
    public GitCacheOptions Validate()
    {
        if (string.IsNullOrWhiteSpace(CacheDirectory))
        {
            throw new ArgumentException("GitCacheOptions.CacheDirectory must name a folder.");
        }

        if (KeepTrees < 1 || TreeGracePeriod < TimeSpan.Zero || MaxPacks < 2)
        {
            throw new ArgumentException("GitCacheOptions.KeepTrees must be at least 1, MaxPacks at least 2, and TreeGracePeriod must not be negative.");
        }

        if (MinimumFetchInterval < TimeSpan.Zero)
        {
            throw new ArgumentException("GitCacheOptions.MinimumFetchInterval must not be negative.");
        }

        return this;
    }
}
