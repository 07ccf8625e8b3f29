using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using FleetFunctions.Core.Manifests;
using FleetFunctions.Core.Storage;
using Org.BouncyCastle.Crypto.Parameters;

namespace FleetFunctions.Core.Secrets;

/// <summary>FleetFunctions' sealing keys, read where they are kept.</summary>
public interface ISealingKeySource
{
    /// <summary>The keys.</summary>
    /// <exception cref="SealingException">There are none, or they cannot be read; the message says what to set.</exception>
    ValueTask<SealingKeys> GetAsync(CancellationToken cancellationToken = default);
}

/// <summary>Each cluster's sealing certificate: the certificate of its own sealed-secrets controller.</summary>
public interface ISealingCertificates
{
    /// <summary>The cluster's PEM certificate, or null when it has none.</summary>
    /// <exception cref="SealingException">The cluster is unknown.</exception>
    ValueTask<string?> GetAsync(string cluster, CancellationToken cancellationToken = default);
}

/// <summary>
/// The keys in the secret store under one name (PEM text, see <see cref="SealingKeys.Parse"/>), read at each use so a
/// rotated secret needs no restart; parsed again only when the text changed.
/// </summary>
public sealed class SecretStoreSealingKeys(ISecretStore secrets, string secretName) : ISealingKeySource
{
    /// <summary>The last text read and its keys, replaced as one reference (readers on other threads never see a mix).</summary>
    private Tuple<string, SealingKeys>? _parsed;

    public async ValueTask<SealingKeys> GetAsync(CancellationToken cancellationToken = default)
    {
        var pem = await secrets.GetAsync(secretName, cancellationToken)
            ?? throw new SealingException($"FleetFunctions has no sealing key: secret '{secretName}' is not in the secret store. Make one with `fleetfunctions sealing-key new` " +
                $"and store it as '{secretName}' (locally: {EnvironmentSecretStore.HowToSet(secretName)}), or name another secret with FLEETFUNCTIONS_SealingKeySecret.");
        if (Volatile.Read(ref _parsed) is { } parsed && parsed.Item1 == pem)
        {
            return parsed.Item2;
        }

        var keys = SealingKeys.Parse(pem, $"sealing key secret '{secretName}'");
        Volatile.Write(ref _parsed, Tuple.Create(pem, keys));
        return keys;
    }
}

/// <summary>
/// Re-seals the SealedSecrets (bitnami.com) of a rendered manifest set for one cluster: each value in
/// <c>spec.encryptedData</c>, sealed in Git for FleetFunctions' certificate, is unsealed with FleetFunctions' key and
/// sealed again for the cluster's <c>sealingCertificate</c> with the same scope, so the cluster's own sealed-secrets
/// controller can unseal it and no cluster can read another's. Re-sealing is deterministic (see
/// <see cref="SealedSecretCrypto"/>): an unchanged value gives an unchanged object. A SealedSecret annotated
/// <c>fleetfunctions.io/reseal: "false"</c> is applied as written (already sealed for the clusters' shared key).
/// </summary>
public sealed class SealedSecretResealer
{
    public const string Group = "bitnami.com";
    public const string Kind = "SealedSecret";
    public const string ResealAnnotation = "fleetfunctions.io/reseal";
    public const string ClusterWideAnnotation = "sealedsecrets.bitnami.com/cluster-wide";
    public const string NamespaceWideAnnotation = "sealedsecrets.bitnami.com/namespace-wide";

    /// <summary>
    /// How long an unsealed value is kept unused. Its plaintext is needed while the same commit is re-sealed for one
    /// cluster after another (a wave, a drift sweep: seconds to a few minutes); after that the re-sealed values below
    /// answer, and the next miss (a new cluster, a later wave) pays one RSA decryption per value again, not per cluster.
    /// </summary>
    internal static readonly TimeSpan PlaintextLifetime = TimeSpan.FromMinutes(1);

    /// <summary>Room for plaintexts (bytes), for a fleet's values, however many clusters they go to.</summary>
    private const long MaxPlaintextBytes = 8L * 1024 * 1024;

    /// <summary>Room for re-sealed values (UTF-16 bytes): 300 clusters × 30 values of a few hundred characters use ~15 MiB.</summary>
    private const long MaxResealedBytes = 64L * 1024 * 1024;

    private const int MaxRecipients = 8192;

    private readonly ISealingKeySource _keys;
    private readonly ISealingCertificates _certificates;

    /// <summary>
    /// Plaintexts by (hash of the sealed value, FleetFunctions' key, label): the private-key decryption (~32 ms for a
    /// 4096-bit key) is done once per value, not once per value and cluster. Safe to keep for a while, in bounds: this
    /// process holds FleetFunctions' private key, which opens every one of these values anyway, for its whole life; the
    /// plaintexts never leave it (never logged, stored or sent unsealed) and are zeroed when forgotten, after
    /// <see cref="PlaintextLifetime"/> unused or when the room is needed.
    /// </summary>
    private readonly RecentCache<(string ValueHash, string Sealer, string Label), UnsealedValue> _unsealed;

    /// <summary>
    /// Re-sealed values by (hash of the sealed value, FleetFunctions' key, recipient, label), so a reconcile or drift check of an
    /// unchanged commit does no RSA work at all; ciphertext only, least recently used forgotten first (the next use re-seals
    /// it from the plaintext, or unseals it again, to the same bytes).
    /// </summary>
    private readonly RecentCache<(string ValueHash, string Sealer, string Recipient, string Label), string> _resealed;

    /// <summary>Clusters' public keys and their ids by certificate PEM, parsed once (a changed certificate is a new entry).</summary>
    private readonly ConcurrentDictionary<string, (RsaKeyParameters Key, string Id)> _recipients = new(StringComparer.Ordinal);

    private long _decryptions;

    public SealedSecretResealer(ISealingKeySource keys, ISealingCertificates certificates, TimeProvider? time = null)
    {
        _keys = keys;
        _certificates = certificates;
        time ??= TimeProvider.System;
        _unsealed = new(MaxPlaintextBytes, v => v.Size, time, PlaintextLifetime, v => v.Clear());
        _resealed = new(MaxResealedBytes, v => 2L * v.Length, time);
    }

    /// <summary>RSA private-key decryptions done so far.</summary>
    internal long Decryptions => Interlocked.Read(ref _decryptions);

    /// <summary>Whether <paramref name="obj"/> is a SealedSecret to re-seal.</summary>
    public static bool NeedsResealing(ManifestObject obj) =>
        obj.Group == Group && obj.Kind == Kind && obj.GetAnnotation(ResealAnnotation) != "false";

    /// <summary>The sealing scope <paramref name="obj"/> declares (bitnami's annotations; strict by default).</summary>
    public static SealingScope ScopeOf(ManifestObject obj) =>
        obj.GetAnnotation(ClusterWideAnnotation) == "true" ? SealingScope.ClusterWide
        : obj.GetAnnotation(NamespaceWideAnnotation) == "true" ? SealingScope.NamespaceWide
        : SealingScope.Strict;

    /// <summary>The annotation that gives a SealedSecret <paramref name="scope"/> (the inverse of <see cref="ScopeOf"/>); null for strict.</summary>
    public static string? ScopeAnnotation(SealingScope scope) => scope switch
    {
        SealingScope.ClusterWide => ClusterWideAnnotation,
        SealingScope.NamespaceWide => NamespaceWideAnnotation,
        _ => null,
    };

    /// <summary>
    /// <paramref name="desired"/> with every SealedSecret re-sealed for <paramref name="cluster"/>; the same set when it
    /// has none.
    /// </summary>
    /// <exception cref="SealingException">A SealedSecret cannot be re-sealed; the message names each one and says what to do.</exception>
    public async Task<ManifestSet> ResealAsync(string cluster, ManifestSet desired, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(desired);
        var sealedSecrets = desired.Objects.Where(NeedsResealing).ToList();
        if (sealedSecrets.Count == 0)
        {
            return desired;
        }

        _unsealed.ForgetIdle();
        var first = sealedSecrets[0];
        var pem = await _certificates.GetAsync(cluster, cancellationToken)
            ?? throw new SealingException($"Cluster/{cluster}: has no spec.sealingCertificate, so {Describe(first)}{More(sealedSecrets.Count)} cannot be re-sealed for it. " +
                "Set spec.sealingCertificate to the certificate of the cluster's sealed-secrets controller (kubeseal --fetch-cert), " +
                $"or annotate SealedSecrets already sealed for this cluster with {ResealAnnotation}: \"false\"; nothing was applied.");
        var (recipient, recipientId) = RecipientOf(cluster, pem);
        var controller = await _keys.GetAsync(cancellationToken);

        var errors = new List<string>();
        var objects = desired.Objects.Select(o => NeedsResealing(o) ? Reseal(o, controller, recipient, recipientId, errors) : o).ToList();
        if (errors.Count > 0)
        {
            throw new SealingException(string.Join(Environment.NewLine, errors) + Environment.NewLine + "Nothing was applied to " + cluster + ".");
        }

        return ManifestSet.Create(objects);
    }

    private (RsaKeyParameters Key, string Id) RecipientOf(string cluster, string pem)
    {
        if (_recipients.TryGetValue(pem, out var known))
        {
            return known;
        }

        var key = SealingKeys.PublicKeyOf(pem, $"Cluster/{cluster} spec.sealingCertificate");
        if (_recipients.Count >= MaxRecipients)
        {
            _recipients.Clear();
        }

        return _recipients[pem] = (key, Convert.ToHexString(SHA256.HashData(key.Modulus.ToByteArrayUnsigned())));
    }

    private ManifestObject Reseal(ManifestObject obj, SealingKeys controller, RsaKeyParameters recipient, string recipientId, List<string> errors)
    {
        var copy = obj.Clone();
        var spec = copy.Object["spec"] as JsonObject;
        if (spec?["encryptedData"] is not JsonObject encryptedData)
        {
            errors.Add(spec?["data"] is not null
                ? $"{Describe(obj)}: spec.data is the sealed-secrets format before v0.7, which cannot be re-sealed; seal it again with a current kubeseal (spec.encryptedData)."
                : $"{Describe(obj)}: has no spec.encryptedData to re-seal.");
            return obj;
        }

        var scope = ScopeOf(obj);
        var ns = obj.Namespace.Length > 0 ? obj.Namespace : "default";
        var label = SealedSecretCrypto.Label(ns, obj.Name, scope);
        var labelText = System.Text.Encoding.UTF8.GetString(label);
        foreach (var (key, node) in encryptedData.ToList())
        {
            var value = node?.GetValueKind() == System.Text.Json.JsonValueKind.String ? node.GetValue<string>() : null;
            if (value is null)
            {
                errors.Add($"{Describe(obj)}: spec.encryptedData.{key} is not a string; it should hold the base64 text kubeseal wrote.");
                continue;
            }

            var valueHash = Convert.ToHexString(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(value)));
            var resealedKey = (valueHash, controller.Id, recipientId, labelText);
            if (_resealed.TryGet(resealedKey, out var known))
            {
                encryptedData[key] = known;
                continue;
            }

            if (Reseal(controller, value, valueHash, label, labelText, recipient) is not { } resealed)
            {
                errors.Add($"{Describe(obj)}: spec.encryptedData.{key} cannot be unsealed with FleetFunctions' sealing key for the {ScopeName(scope)} scope (label \"{labelText}\"). " +
                    "Seal it with kubeseal --cert <FleetFunctions' certificate, GET /api/sealing/cert.pem> for this name, namespace and scope.");
                continue;
            }

            _resealed.Add(resealedKey, resealed);
            encryptedData[key] = resealed;
        }

        return copy;
    }

    /// <summary>The value sealed for <paramref name="recipient"/>, from its remembered plaintext or unsealed now; null when FleetFunctions' keys do not open it.</summary>
    private string? Reseal(SealingKeys controller, string value, string valueHash, byte[] label, string labelText, RsaKeyParameters recipient)
    {
        var unsealedKey = (valueHash, controller.Id, labelText);
        string Seal(byte[] plaintext) => Convert.ToBase64String(SealedSecretCrypto.Seal(recipient, plaintext, label, controller.DerivationKey));
        if (_unsealed.TryGet(unsealedKey, out var remembered) && remembered.Use(Seal) is { } fromRemembered)
        {
            return fromRemembered;
        }

        if (Unseal(controller, value, label) is not { } plaintext)
        {
            return null;
        }

        var unsealed = new UnsealedValue(plaintext);
        var resealed = unsealed.Use(Seal);
        _unsealed.Add(unsealedKey, unsealed);
        return resealed;
    }

    private byte[]? Unseal(SealingKeys controller, string value, byte[] label)
    {
        Interlocked.Increment(ref _decryptions);
        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(value);
        }
        catch (FormatException)
        {
            return null;
        }

        foreach (var key in controller.PrivateKeys)
        {
            try
            {
                return SealedSecretCrypto.Unseal(key, bytes, label);
            }
            catch (CryptographicException)
            {
                // Sealed for another of the keys (rotation), or not at all: the next key, then an error naming the value.
            }
        }

        return null;
    }

    private static string Describe(ManifestObject obj) =>
        $"{obj.Location}: SealedSecret/{(obj.Namespace.Length > 0 ? obj.Namespace : "default")}/{obj.Name}";

    private static string More(int count) => count > 1 ? $" (and {count - 1} more SealedSecret(s))" : string.Empty;

    private static string ScopeName(SealingScope scope) => scope switch
    {
        SealingScope.ClusterWide => "cluster-wide",
        SealingScope.NamespaceWide => "namespace-wide",
        _ => "strict",
    };
}

/// <summary>
/// One unsealed value. Used and zeroed under its lock: a value forgotten by one thread while another re-seals from it is
/// never read half-zeroed (the other thread then unseals it again).
/// </summary>
internal sealed class UnsealedValue(byte[] plaintext)
{
    private readonly Lock _lock = new();
    private bool _cleared;

    /// <summary>What the cache counts it as (the plaintext and the entry around it).</summary>
    public long Size { get; } = plaintext.Length + 128;

    /// <summary><paramref name="use"/> of the plaintext; null once it was cleared.</summary>
    public T? Use<T>(Func<byte[], T> use)
        where T : class
    {
        lock (_lock)
        {
            return _cleared ? null : use(plaintext);
        }
    }

    /// <summary>Zeroes the plaintext.</summary>
    public void Clear()
    {
        lock (_lock)
        {
            CryptographicOperations.ZeroMemory(plaintext);
            _cleared = true;
        }
    }
}
