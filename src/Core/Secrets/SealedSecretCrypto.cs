using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Crypto.Encodings;
using Org.BouncyCastle.Crypto.Engines;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Prng;
using Org.BouncyCastle.Security;

namespace FleetFunctions.Core.Secrets;

/// <summary>Who may unseal a value: the scopes of bitnami sealed-secrets, which bind the value to an encryption label.</summary>
public enum SealingScope
{
    /// <summary>Only a Secret of the same name in the same namespace (label <c>namespace/name</c>); the default.</summary>
    Strict,

    /// <summary>Any Secret in the same namespace (label <c>namespace</c>).</summary>
    NamespaceWide,

    /// <summary>Any Secret anywhere (empty label).</summary>
    ClusterWide,
}

/// <summary>
/// The value format of bitnami sealed-secrets (its <c>HybridEncrypt</c>): a 2-byte big-endian length, the RSA-OAEP
/// (SHA-256, MGF1 SHA-256, label = scope label) encryption of a 32-byte AES key, then AES-256-GCM of the plaintext under
/// that key with a zero nonce (each key seals one value), tag appended.
/// </summary>
/// <remarks>
/// Sealing here is deterministic: the AES key and the OAEP seed are derived (HMAC-SHA256) from a secret of the caller,
/// the recipient's key, the label and the plaintext. The same value sealed for the same cluster and scope gives the
/// same bytes, so a re-sealed SealedSecret does not change between reconciles (no write, no false drift). A key is
/// still used for one plaintext only, which is what makes the zero nonce safe; equal ciphertexts reveal equal values
/// to someone who can read them, never the value.
/// </remarks>
public static class SealedSecretCrypto
{
    private const int SessionKeyBytes = 32;
    private const int NonceBytes = 12;
    private const int TagBytes = 16;

    /// <summary>The label a value is bound to for <paramref name="scope"/> (bitnami's <c>EncryptionLabel</c>).</summary>
    public static byte[] Label(string ns, string name, SealingScope scope) => Encoding.UTF8.GetBytes(scope switch
    {
        SealingScope.ClusterWide => string.Empty,
        SealingScope.NamespaceWide => ns,
        _ => $"{ns}/{name}",
    });

    /// <summary>Seals <paramref name="plaintext"/> for <paramref name="recipient"/>, deterministically under <paramref name="derivationKey"/>.</summary>
    public static byte[] Seal(RsaKeyParameters recipient, ReadOnlySpan<byte> plaintext, byte[] label, byte[] derivationKey)
    {
        ArgumentNullException.ThrowIfNull(recipient);
        var modulus = recipient.Modulus.ToByteArrayUnsigned();
        using var hmac = new HMACSHA256(derivationKey);
        var sessionKey = Derive(hmac, "session-key", modulus, label, plaintext);
        var seed = Derive(hmac, "oaep-seed", modulus, label, sessionKey);

        var oaep = new OaepEncoding(new RsaEngine(), new Sha256Digest(), new Sha256Digest(), label);
        var random = new SecureRandom(new DigestRandomGenerator(new Sha256Digest()));
        random.SetSeed(seed);
        oaep.Init(true, new ParametersWithRandom(recipient, random));
        var wrapped = oaep.ProcessBlock(sessionKey, 0, sessionKey.Length);

        var output = new byte[2 + wrapped.Length + plaintext.Length + TagBytes];
        BinaryPrimitives.WriteUInt16BigEndian(output, checked((ushort)wrapped.Length));
        wrapped.CopyTo(output, 2);
        var body = output.AsSpan(2 + wrapped.Length);
        using var aes = new AesGcm(sessionKey, TagBytes);
        aes.Encrypt(stackalloc byte[NonceBytes], plaintext, body[..plaintext.Length], body[plaintext.Length..]);
        return output;
    }

    /// <summary>Unseals a value sealed for <paramref name="key"/> with <paramref name="label"/>.</summary>
    /// <exception cref="CryptographicException">The value is malformed, or was sealed for another key or label.</exception>
    public static byte[] Unseal(RsaPrivateCrtKeyParameters key, ReadOnlySpan<byte> sealedValue, byte[] label)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (sealedValue.Length < 2)
        {
            throw new CryptographicException("the value is too short to be sealed");
        }

        var wrappedLength = BinaryPrimitives.ReadUInt16BigEndian(sealedValue);
        if (sealedValue.Length < 2 + wrappedLength + TagBytes)
        {
            throw new CryptographicException("the value is too short for its length prefix");
        }

        var oaep = new OaepEncoding(new RsaEngine(), new Sha256Digest(), new Sha256Digest(), label);
        oaep.Init(false, key);
        byte[] sessionKey;
        try
        {
            sessionKey = oaep.ProcessBlock(sealedValue.Slice(2, wrappedLength).ToArray(), 0, wrappedLength);
        }
        catch (Org.BouncyCastle.Crypto.CryptoException e)
        {
            // InvalidCipherTextException (another label, or key) or DataLengthException (sealed for a key whose modulus
            // is larger than this one's): either way not sealed for this key and label.
            throw new CryptographicException("the session key does not decrypt (another key or scope)", e);
        }

        if (sessionKey.Length != SessionKeyBytes)
        {
            throw new CryptographicException($"the session key is {sessionKey.Length} bytes, not {SessionKeyBytes}");
        }

        var body = sealedValue[(2 + wrappedLength)..];
        var plaintext = new byte[body.Length - TagBytes];
        using var aes = new AesGcm(sessionKey, TagBytes);
        aes.Decrypt(stackalloc byte[NonceBytes], body[..plaintext.Length], body[plaintext.Length..], plaintext);
        return plaintext;
    }

    private static byte[] Derive(HMACSHA256 hmac, string purpose, byte[] modulus, byte[] label, ReadOnlySpan<byte> data)
    {
        var input = new byte[purpose.Length + 1 + 4 + modulus.Length + 4 + label.Length + data.Length];
        var at = Encoding.ASCII.GetBytes(purpose, input);
        input[at++] = 0;
        BinaryPrimitives.WriteInt32BigEndian(input.AsSpan(at), modulus.Length);
        modulus.CopyTo(input, at += 4);
        BinaryPrimitives.WriteInt32BigEndian(input.AsSpan(at += modulus.Length), label.Length);
        label.CopyTo(input, at += 4);
        data.CopyTo(input.AsSpan(at + label.Length));
        return hmac.ComputeHash(input);
    }
}
