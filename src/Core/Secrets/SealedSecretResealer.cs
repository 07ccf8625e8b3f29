using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using FleetFunctions.Core.Manifests;
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
public sealed class SealedSecretResealer(ISealingKeySource keys, ISealingCertificates certificates)
{
    public const string Group = "bitnami.com";
    public const string Kind = "SealedSecret";
    public const string ResealAnnotation = "fleetfunctions.io/reseal";
    public const string ClusterWideAnnotation = "sealedsecrets.bitnami.com/cluster-wide";
    public const string NamespaceWideAnnotation = "sealedsecrets.bitnami.com/namespace-wide";

    /// <summary>
    /// Re-sealed values by (hash of the sealed value, FleetFunctions' key, recipient, label), so the RSA work is done once per value and
    /// cluster: at most <see cref="MaxRemembered"/> of them and <see cref="MaxRememberedChars"/> characters, forgotten
    /// all at once beyond that (the next uses re-seal them to the same bytes).
    /// </summary>
    private const int MaxRemembered = 8192;

    private const long MaxRememberedChars = 16L * 1024 * 1024;

    private readonly ConcurrentDictionary<(string ValueHash, string Sealer, string Recipient, string Label), string> _remembered = new();
    private long _rememberedChars;

    /// <summary>Clusters' public keys and their ids by certificate PEM, parsed once (a changed certificate is a new entry).</summary>
    private readonly ConcurrentDictionary<string, (RsaKeyParameters Key, string Id)> _recipients = new(StringComparer.Ordinal);

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

        var first = sealedSecrets[0];
        var pem = await certificates.GetAsync(cluster, cancellationToken)
            ?? throw new SealingException($"Cluster/{cluster}: has no spec.sealingCertificate, so {Describe(first)}{More(sealedSecrets.Count)} cannot be re-sealed for it. " +
                "Set spec.sealingCertificate to the certificate of the cluster's sealed-secrets controller (kubeseal --fetch-cert), " +
                $"or annotate SealedSecrets already sealed for this cluster with {ResealAnnotation}: \"false\"; nothing was applied.");
        var (recipient, recipientId) = RecipientOf(cluster, pem);
        var controller = await keys.GetAsync(cancellationToken);

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
        if (_recipients.Count >= MaxRemembered)
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

            var remembered = (Convert.ToHexString(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(value))), controller.Id, recipientId, labelText);
            if (_remembered.TryGetValue(remembered, out var known))
            {
                encryptedData[key] = known;
                continue;
            }

            if (Unseal(controller, value, label) is not { } plaintext)
            {
                errors.Add($"{Describe(obj)}: spec.encryptedData.{key} cannot be unsealed with FleetFunctions' sealing key for the {ScopeName(scope)} scope (label \"{labelText}\"). " +
                    "Seal it with kubeseal --cert <FleetFunctions' certificate, GET /api/sealing/cert.pem> for this name, namespace and scope.");
                continue;
            }

            var resealed = Convert.ToBase64String(SealedSecretCrypto.Seal(recipient, plaintext, label, controller.DerivationKey));
            CryptographicOperations.ZeroMemory(plaintext);
            Remember(remembered, resealed);
            encryptedData[key] = resealed;
        }

        return copy;
    }

    private void Remember((string ValueHash, string Sealer, string Recipient, string Label) key, string resealed)
    {
        if (_remembered.Count >= MaxRemembered || Interlocked.Add(ref _rememberedChars, resealed.Length) > MaxRememberedChars)
        {
            _remembered.Clear();
            Interlocked.Exchange(ref _rememberedChars, resealed.Length);
        }

        _remembered[key] = resealed;
    }

    private static byte[]? Unseal(SealingKeys controller, string value, byte[] label)
    {
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
