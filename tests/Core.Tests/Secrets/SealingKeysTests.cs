using FleetFunctions.Core.Secrets;
using FleetFunctions.Core.Tests.Support;
using Xunit;

namespace FleetFunctions.Core.Tests.Secrets;

public sealed class SealingKeysTests
{
    [Fact]
    public void Generate_ParsesBack_WithACertificateForItsKey()
    {
        var keys = SealingKeys.Parse(SealingKeys.Generate(), "generated");

        Assert.Single(keys.PrivateKeys);
        Assert.Equal(4096, keys.PrivateKeys[0].Modulus.BitLength);
        Assert.StartsWith("-----BEGIN CERTIFICATE-----", keys.CertificatePem, StringComparison.Ordinal);
        Assert.Equal(keys.PrivateKeys[0].Modulus, SealingKeys.PublicKeyOf(keys.CertificatePem, "cert").Modulus);
    }

    [Fact]
    public void Parse_OldKeyBesideTheNewPair_BothUnseal_TheNewCertificateIsPublished()
    {
        var old = SealingTestKeys.NewPem("old");
        var current = SealingTestKeys.NewPem("current", pkcs1: true);
        var oldKeyOnly = old[old.IndexOf("-----BEGIN PRIVATE KEY-----", StringComparison.Ordinal)..];

        var keys = SealingKeys.Parse(oldKeyOnly + current, "rotated");

        Assert.Equal(SealingTestKeys.CertificateOf(current), keys.CertificatePem);
        Assert.Equal(2, keys.PrivateKeys.Count);
        var value = Convert.FromBase64String(SealingTestKeys.Seal(old, "before the rotation", "a", "b"));
        Assert.Equal("before the rotation"u8.ToArray(), SealedSecretCrypto.Unseal(keys.PrivateKeys[1], value, SealedSecretCrypto.Label("a", "b", SealingScope.Strict)));
    }

    [Fact]
    public void Parse_NoCertificate_SaysHowToMakeAPair()
    {
        var pem = SealingTestKeys.NewPem();
        var e = Assert.Throws<SealingException>(() => SealingKeys.Parse(pem[pem.IndexOf("-----BEGIN PRIVATE KEY-----", StringComparison.Ordinal)..], "secret 'sealing-key'"));

        Assert.StartsWith("secret 'sealing-key': ", e.Message, StringComparison.Ordinal);
        Assert.Contains("fleetfunctions sealing-key new", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_CertificateOfAnotherKey_Refused()
    {
        var a = SealingTestKeys.NewPem("a");
        var b = SealingTestKeys.NewPem("b");

        var e = Assert.Throws<SealingException>(() => SealingKeys.Parse(SealingTestKeys.CertificateOf(a) + b[b.IndexOf("-----BEGIN PRIVATE KEY-----", StringComparison.Ordinal)..], "mixed"));

        Assert.Contains("none of its private keys belongs to its (first) certificate", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PublicKeyOf_KeyUnder2048Bits_Refused()
    {
        var e = Assert.Throws<SealingException>(() => SealingKeys.PublicKeyOf(SealingTestKeys.CertificateOf(SealingTestKeys.NewPem("weak", bits: 1024)), "Cluster/old spec.sealingCertificate"));

        Assert.Equal("Cluster/old spec.sealingCertificate: the certificate's RSA key has 1024 bits; sealing needs at least 2048 (sealed-secrets controllers make 4096)", e.Message);
    }

    [Fact]
    public void PublicKeyOf_NotACertificate_NamesItAndTheFix()
    {
        var e = Assert.Throws<SealingException>(() => SealingKeys.PublicKeyOf("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "Cluster/eu-1 spec.sealingCertificate"));

        Assert.StartsWith("Cluster/eu-1 spec.sealingCertificate: not a readable PEM certificate", e.Message, StringComparison.Ordinal);
        Assert.Contains("kubeseal --fetch-cert", e.Message, StringComparison.Ordinal);
    }
}
