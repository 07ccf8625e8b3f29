using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Security;

namespace FleetFunctions.Core.Secrets;

/// <summary>
/// FleetFunctions' own sealing keys: what SealedSecrets in Git are sealed for (<c>kubeseal --cert</c> with
/// <see cref="CertificatePem"/>). Read from one PEM text holding the certificate and one or more RSA private keys
/// (PKCS#1 or PKCS#8): after a rotation, keep the old key beside the new one until Git holds no value sealed for it.
/// The certificate published is the first one, and its key must be among the private keys.
/// </summary>
public sealed class SealingKeys
{
    private const string DerivationInfo = "fleetfunctions sealed-secret re-sealing v1";

    /// <summary>The smallest RSA key sealed for (NIST's floor; OAEP with SHA-256 needs more than 784 bits anyway).</summary>
    private const int MinimumKeyBits = 2048;

    private SealingKeys(IReadOnlyList<RsaPrivateCrtKeyParameters> privateKeys, string certificatePem, byte[] derivationKey)
    {
        PrivateKeys = privateKeys;
        CertificatePem = certificatePem;
        DerivationKey = derivationKey;
        Id = Convert.ToHexString(SHA256.HashData(derivationKey));
    }

    /// <summary>Every private key, the published certificate's first.</summary>
    public IReadOnlyList<RsaPrivateCrtKeyParameters> PrivateKeys { get; }

    /// <summary>The certificate to seal for, as PEM.</summary>
    public string CertificatePem { get; }

    /// <summary>The secret deterministic re-sealing derives its keys from (HKDF of the first private key).</summary>
    internal byte[] DerivationKey { get; }

    /// <summary>Identifies <see cref="DerivationKey"/> (its SHA-256) without revealing it: what is re-sealed under it changes with it.</summary>
    internal string Id { get; }

    /// <summary>Reads keys and certificate from <paramref name="pem"/>; <paramref name="origin"/> names it in errors.</summary>
    /// <exception cref="SealingException">The text holds no certificate, no RSA private key, or a certificate whose key is not among them.</exception>
    public static SealingKeys Parse(string pem, string origin)
    {
        ArgumentNullException.ThrowIfNull(pem);
        var keys = new List<RSA>();
        X509Certificate2? certificate = null;
        try
        {
            var rest = pem.AsSpan();
            while (PemEncoding.TryFind(rest, out var fields))
            {
                var label = rest[fields.Label].ToString();
                var block = rest[fields.Location].ToString();
                rest = rest[fields.Location.End.Value..];
                switch (label)
                {
                    case "CERTIFICATE" when certificate is null:
                        certificate = X509Certificate2.CreateFromPem(block);
                        break;
                    case "PRIVATE KEY" or "RSA PRIVATE KEY":
                        var rsa = RSA.Create();
                        rsa.ImportFromPem(block);
                        keys.Add(rsa);
                        break;
                }
            }

            if (certificate is null || keys.Count == 0)
            {
                throw new SealingException($"{origin}: needs a PEM certificate and its RSA private key (-----BEGIN CERTIFICATE----- and -----BEGIN PRIVATE KEY-----); " +
                    "make a pair with `fleetfunctions sealing-key new`");
            }

            using var published = certificate.GetRSAPublicKey()
                ?? throw new SealingException($"{origin}: the certificate's key is not RSA; sealed secrets need an RSA key");
            var publishedModulus = published.ExportParameters(false).Modulus!;
            var first = keys.FindIndex(k => k.ExportParameters(false).Modulus!.AsSpan().SequenceEqual(publishedModulus));
            if (first < 0)
            {
                throw new SealingException($"{origin}: none of its private keys belongs to its (first) certificate; put the certificate's key in the same text");
            }

            var ordered = keys.Where((_, i) => i == first).Concat(keys.Where((_, i) => i != first)).ToList();
            var privateKeys = ordered.Select(k => (RsaPrivateCrtKeyParameters)DotNetUtilities.GetRsaKeyPair(k).Private).ToList();
            var derivationKey = HKDF.DeriveKey(HashAlgorithmName.SHA256, ordered[0].ExportPkcs8PrivateKey(), 32, info: Encoding.ASCII.GetBytes(DerivationInfo));
            return new SealingKeys(privateKeys, certificate.ExportCertificatePem() + "\n", derivationKey);
        }
        catch (CryptographicException e)
        {
            throw new SealingException($"{origin}: not a readable PEM certificate or RSA private key ({e.Message})", e);
        }
        finally
        {
            certificate?.Dispose();
            keys.ForEach(k => k.Dispose());
        }
    }

    /// <summary>A new 4096-bit RSA key and a self-signed certificate for it (valid ten years), as one PEM text for <see cref="Parse"/>.</summary>
    public static string Generate(string commonName = "fleetfunctions-sealing")
    {
        using var rsa = RSA.Create(4096);
        var request = new CertificateRequest($"CN={commonName}", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyEncipherment | X509KeyUsageFlags.DataEncipherment, critical: true));
        var now = DateTimeOffset.UtcNow;
        using var certificate = request.CreateSelfSigned(now.AddMinutes(-5), now.AddYears(10));
        return certificate.ExportCertificatePem() + "\n" + rsa.ExportPkcs8PrivateKeyPem() + "\n";
    }

    /// <summary>The RSA public key of a PEM certificate (a cluster's <c>sealingCertificate</c>).</summary>
    /// <exception cref="SealingException">Not a PEM certificate with an RSA key of at least 2048 bits.</exception>
    public static RsaKeyParameters PublicKeyOf(string certificatePem, string origin)
    {
        var (key, problem) = Read(certificatePem);
        return key ?? throw new SealingException($"{origin}: {problem}");
    }

    /// <summary>Why <paramref name="certificatePem"/> cannot be sealed for, or null when it can.</summary>
    public static string? ProblemWith(string certificatePem) => Read(certificatePem).Problem;

    private static (RsaKeyParameters? Key, string? Problem) Read(string certificatePem)
    {
        try
        {
            using var certificate = X509Certificate2.CreateFromPem(certificatePem);
            using var rsa = certificate.GetRSAPublicKey();
            if (rsa is null)
            {
                return (null, "the certificate's key is not RSA; sealed secrets need an RSA key");
            }

            return rsa.KeySize < MinimumKeyBits
                ? (null, $"the certificate's RSA key has {rsa.KeySize} bits; sealing needs at least {MinimumKeyBits} (sealed-secrets controllers make 4096)")
                : (DotNetUtilities.GetRsaPublicKey(rsa), null);
        }
        catch (CryptographicException e)
        {
            return (null, $"not a readable PEM certificate ({e.Message}); use the certificate of the cluster's sealed-secrets controller (kubeseal --fetch-cert)");
        }
    }
}

/// <summary>A sealing key, certificate or sealed value that cannot be used; the message names it and says what to do.</summary>
public sealed class SealingException(string message, Exception? inner = null) : Exception(message, inner);
