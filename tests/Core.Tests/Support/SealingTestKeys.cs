using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using FleetFunctions.Core.Secrets;

namespace FleetFunctions.Core.Tests.Support;

/// <summary>Key pairs as a sealed-secrets controller (or FleetFunctions) holds them, and values sealed the way kubeseal seals them.</summary>
internal static class SealingTestKeys
{
    /// <summary>A self-signed certificate and its RSA key (2048 bits unless <paramref name="bits"/>) as one PEM text (<paramref name="pkcs1"/>: the key as RSA PRIVATE KEY).</summary>
    public static string NewPem(string name = "test-sealing", bool pkcs1 = false, int bits = 2048)
    {
        using var rsa = RSA.Create(bits);
        var request = new CertificateRequest($"CN={name}", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddYears(1));
        return certificate.ExportCertificatePem() + "\n" + (pkcs1 ? rsa.ExportRSAPrivateKeyPem() : rsa.ExportPkcs8PrivateKeyPem()) + "\n";
    }

    /// <summary>The certificate part of <paramref name="pem"/>.</summary>
    public static string CertificateOf(string pem) => SealingKeys.Parse(pem, "test").CertificatePem;

    /// <summary>Seals <paramref name="value"/> for the certificate of <paramref name="pem"/> with a random session key, as kubeseal does.</summary>
    public static string Seal(string pem, string value, string ns, string name, SealingScope scope = SealingScope.Strict) =>
        Convert.ToBase64String(SealedSecretCrypto.Seal(
            SealingKeys.PublicKeyOf(CertificateOf(pem), "test"), Encoding.UTF8.GetBytes(value), SealedSecretCrypto.Label(ns, name, scope), RandomNumberGenerator.GetBytes(32)));

    /// <summary>Unseals a base64 value with the key of <paramref name="pem"/>, as the cluster's controller does.</summary>
    public static string Unseal(string pem, string value, string ns, string name, SealingScope scope = SealingScope.Strict) =>
        Encoding.UTF8.GetString(SealedSecretCrypto.Unseal(SealingKeys.Parse(pem, "test").PrivateKeys[0], Convert.FromBase64String(value), SealedSecretCrypto.Label(ns, name, scope)));

    /// <summary>A SealedSecret YAML document with <paramref name="values"/> sealed for <paramref name="pem"/>.</summary>
    public static string SealedSecretYaml(string pem, string ns, string name, IReadOnlyDictionary<string, string> values, SealingScope scope = SealingScope.Strict)
    {
        var yaml = new StringBuilder($"apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: {name}\n  namespace: {ns}\n");
        if (scope != SealingScope.Strict)
        {
            yaml.Append($"  annotations:\n    sealedsecrets.bitnami.com/{(scope == SealingScope.ClusterWide ? "cluster-wide" : "namespace-wide")}: \"true\"\n");
        }

        yaml.Append("spec:\n  encryptedData:\n");
        foreach (var (key, value) in values)
        {
            yaml.Append($"    {key}: {Seal(pem, value, ns, name, scope)}\n");
        }

        yaml.Append($"  template:\n    metadata:\n      name: {name}\n      namespace: {ns}\n    type: Opaque\n");
        return yaml.ToString();
    }

    /// <summary>The encryptedData value <paramref name="key"/> of a live or desired SealedSecret.</summary>
    public static string EncryptedValue(JsonObject sealedSecret, string key) => sealedSecret["spec"]!["encryptedData"]![key]!.GetValue<string>();
}

/// <summary>Cluster certificates by name (null: the cluster has none), as the platform repository would give them.</summary>
internal sealed class FixedSealingCertificates(IReadOnlyDictionary<string, string?> certificates) : ISealingCertificates
{
    public ValueTask<string?> GetAsync(string cluster, CancellationToken cancellationToken = default) => ValueTask.FromResult(certificates[cluster]);
}
