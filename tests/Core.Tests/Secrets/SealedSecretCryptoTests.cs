using System.Security.Cryptography;
using System.Text;
using FleetFunctions.Core.Secrets;
using FleetFunctions.Core.Tests.Support;
using Xunit;

namespace FleetFunctions.Core.Tests.Secrets;

public sealed class SealedSecretCryptoTests
{
    private static readonly string s_pem = SealingTestKeys.NewPem();

    [Fact]
    public void Seal_ClusterWide_OpensWithDotNetsOwnOaepAndAesGcm()
    {
        // An independent reading of the bitnami layout: .NET's OAEP (SHA-256, empty label) and AES-GCM with a zero nonce.
        var sealedValue = SealedSecretCrypto.Seal(SealingKeys.PublicKeyOf(SealingTestKeys.CertificateOf(s_pem), "test"), "s3cret"u8, [], RandomNumberGenerator.GetBytes(32));

        using var rsa = RSA.Create();
        rsa.ImportFromPem(s_pem);
        var wrappedLength = (sealedValue[0] << 8) | sealedValue[1];
        Assert.Equal(rsa.KeySize / 8, wrappedLength);
        var sessionKey = rsa.Decrypt(sealedValue.AsSpan(2, wrappedLength).ToArray(), RSAEncryptionPadding.OaepSHA256);
        Assert.Equal(32, sessionKey.Length);
        var body = sealedValue.AsSpan(2 + wrappedLength);
        var plaintext = new byte[body.Length - 16];
        using var aes = new AesGcm(sessionKey, 16);
        aes.Decrypt(new byte[12], body[..plaintext.Length], body[plaintext.Length..], plaintext);
        Assert.Equal("s3cret", Encoding.UTF8.GetString(plaintext));
    }

    [Fact]
    public void Unseal_ValueSealedByDotNetsOwnOaepAndAesGcm_ReturnsThePlaintext()
    {
        using var rsa = RSA.Create();
        rsa.ImportFromPem(s_pem);
        var sessionKey = RandomNumberGenerator.GetBytes(32);
        var wrapped = rsa.Encrypt(sessionKey, RSAEncryptionPadding.OaepSHA256);
        var plaintext = "from elsewhere"u8.ToArray();
        var ciphertext = new byte[plaintext.Length];
        var tag = new byte[16];
        using (var aes = new AesGcm(sessionKey, 16))
        {
            aes.Encrypt(new byte[12], plaintext, ciphertext, tag);
        }

        byte[] sealedValue = [(byte)(wrapped.Length >> 8), (byte)wrapped.Length, .. wrapped, .. ciphertext, .. tag];

        Assert.Equal("from elsewhere", Encoding.UTF8.GetString(SealedSecretCrypto.Unseal(SealingKeys.Parse(s_pem, "test").PrivateKeys[0], sealedValue, [])));
    }

    [Fact]
    public void Seal_SameInputs_SameBytes_AnotherValueOrLabelOrSecret_OtherBytes()
    {
        var recipient = SealingKeys.PublicKeyOf(SealingTestKeys.CertificateOf(s_pem), "test");
        var secret = RandomNumberGenerator.GetBytes(32);
        var label = SealedSecretCrypto.Label("apps", "db", SealingScope.Strict);

        var first = SealedSecretCrypto.Seal(recipient, "password"u8, label, secret);

        Assert.Equal(first, SealedSecretCrypto.Seal(recipient, "password"u8, label, secret));
        Assert.NotEqual(first, SealedSecretCrypto.Seal(recipient, "passwore"u8, label, secret));
        Assert.NotEqual(first, SealedSecretCrypto.Seal(recipient, "password"u8, SealedSecretCrypto.Label("apps", "db2", SealingScope.Strict), secret));
        Assert.NotEqual(first, SealedSecretCrypto.Seal(recipient, "password"u8, label, RandomNumberGenerator.GetBytes(32)));
    }

    [Theory]
    [InlineData(SealingScope.Strict, "apps/db")]
    [InlineData(SealingScope.NamespaceWide, "apps")]
    [InlineData(SealingScope.ClusterWide, "")]
    public void Label_EachScope_BitnamisLabel(SealingScope scope, string expected) =>
        Assert.Equal(expected, Encoding.UTF8.GetString(SealedSecretCrypto.Label("apps", "db", scope)));

    [Fact]
    public void Unseal_AnotherLabel_Throws()
    {
        var value = Convert.FromBase64String(SealingTestKeys.Seal(s_pem, "x", "apps", "db"));

        Assert.Throws<CryptographicException>(() => SealedSecretCrypto.Unseal(SealingKeys.Parse(s_pem, "test").PrivateKeys[0], value, SealedSecretCrypto.Label("apps", "other", SealingScope.Strict)));
        Assert.Throws<CryptographicException>(() => SealedSecretCrypto.Unseal(SealingKeys.Parse(s_pem, "test").PrivateKeys[0], [0, 5, 1], []));
    }

    [Fact]
    public void Unseal_SealedForALargerKey_ThrowsCryptographicException()
    {
        // The wrapped key, read as a number, is larger than a smaller key's modulus: BouncyCastle's "input too large"
        // must come out as the same CryptographicException as any other key that does not fit, so the next key is tried.
        var value = Convert.FromBase64String(SealingTestKeys.Seal(SealingTestKeys.NewPem("large", bits: 3072), "x", "apps", "db"));
        var small = SealingKeys.Parse(SealingTestKeys.NewPem("small", bits: 1024), "small").PrivateKeys[0];

        Assert.Throws<CryptographicException>(() => SealedSecretCrypto.Unseal(small, value, SealedSecretCrypto.Label("apps", "db", SealingScope.Strict)));
    }
}
