using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using FleetFunctions.Core.Manifests;
using Org.BouncyCastle.Crypto.Parameters;

namespace FleetFunctions.Core.Secrets;

/// <summary>
/// Turns Kubernetes Secrets into bitnami <c>SealedSecret</c>s for a certificate, as <c>kubeseal --cert</c> does: each
/// value sealed for the scope's label, the Secret's type, labels and annotations kept in <c>spec.template</c>, the
/// scope written as the annotation the controller (and FleetFunctions' re-sealing) reads it from. Sealing here is
/// randomised, like kubeseal's: the same value sealed twice gives different bytes.
/// </summary>
public static class SecretSealer
{
    private static readonly string[] s_lastAppliedAnnotations =
        ["kubectl.kubernetes.io/last-applied-configuration", "kubecfg.ksonnet.io/last-applied-configuration"];

    /// <summary>
    /// The SealedSecret of <paramref name="secret"/> for <paramref name="recipient"/>. A Secret without a namespace is
    /// sealed for <paramref name="defaultNamespace"/>, which is written into the result. Without <paramref name="scope"/>
    /// the scope is the one the Secret's own annotations ask for (<c>sealedsecrets.bitnami.com/cluster-wide</c> or
    /// <c>namespace-wide: "true"</c>; strict without either), as kubeseal does without <c>--scope</c>.
    /// </summary>
    /// <exception cref="SealingException">Not a v1 Secret, no name, no data, or a <c>data</c> value that is not base64.</exception>
    public static JsonObject Seal(ManifestObject secret, RsaKeyParameters recipient, SealingScope? scope = null, string defaultNamespace = "default")
    {
        ArgumentNullException.ThrowIfNull(secret);
        ArgumentNullException.ThrowIfNull(recipient);
        if (secret.ApiVersion != "v1" || secret.Kind != "Secret")
        {
            throw new SealingException($"{secret.Location}: is a {secret.ApiVersion} {secret.Kind}, not a v1 Secret; only Secrets are sealed.");
        }

        if (secret.Name.Length == 0)
        {
            throw new SealingException($"{secret.Location}: the Secret has no metadata.name; a strict or namespace-wide SealedSecret is bound to it, so name it.");
        }

        var ns = secret.Namespace.Length > 0 ? secret.Namespace : defaultNamespace;
        var sealingScope = scope ?? SealedSecretResealer.ScopeOf(secret);
        var values = Values(secret);
        if (values.Count == 0)
        {
            throw new SealingException($"{secret.Location}: Secret/{secret.Name} has no data or stringData to seal.");
        }

        var label = SealedSecretCrypto.Label(ns, secret.Name, sealingScope);
        var encrypted = new JsonObject();
        foreach (var (key, plaintext) in values.OrderBy(v => v.Key, StringComparer.Ordinal))
        {
            // A fresh derivation key per value: the sealing is as random as kubeseal's.
            encrypted[key] = Convert.ToBase64String(SealedSecretCrypto.Seal(recipient, plaintext, label, RandomNumberGenerator.GetBytes(32)));
            CryptographicOperations.ZeroMemory(plaintext);
        }

        var metadata = secret.Object["metadata"] as JsonObject;
        var scopeAnnotation = SealedSecretResealer.ScopeAnnotation(sealingScope);
        var annotations = (metadata?["annotations"] as JsonObject)?.DeepClone() as JsonObject ?? [];
        annotations.Remove(SealedSecretResealer.NamespaceWideAnnotation);
        annotations.Remove(SealedSecretResealer.ClusterWideAnnotation);

        // A Secret read back from a cluster (kubectl get -o yaml) carries a full copy of itself, values in clear, in the
        // last-applied annotations of kubectl and kubecfg: kept, they would go into Git unsealed (kubeseal strips them too).
        foreach (var lastApplied in s_lastAppliedAnnotations)
        {
            annotations.Remove(lastApplied);
        }
        if (scopeAnnotation is not null)
        {
            annotations[scopeAnnotation] = "true";
        }

        var templateMetadata = new JsonObject { ["name"] = secret.Name, ["namespace"] = ns };
        if (metadata?["labels"] is JsonObject labels && labels.Count > 0)
        {
            templateMetadata["labels"] = labels.DeepClone();
        }

        if (annotations.Count > 0)
        {
            templateMetadata["annotations"] = annotations.DeepClone();
        }

        var template = new JsonObject { ["metadata"] = templateMetadata };
        if (secret.Object["type"] is JsonValue type)
        {
            template["type"] = type.DeepClone();
        }

        if (secret.Object["immutable"] is JsonValue immutable)
        {
            template["immutable"] = immutable.DeepClone();
        }

        var sealedMetadata = new JsonObject { ["name"] = secret.Name, ["namespace"] = ns };
        if (scopeAnnotation is not null)
        {
            sealedMetadata["annotations"] = new JsonObject { [scopeAnnotation] = "true" };
        }

        return new JsonObject
        {
            ["apiVersion"] = "bitnami.com/v1alpha1",
            ["kind"] = "SealedSecret",
            ["metadata"] = sealedMetadata,
            ["spec"] = new JsonObject { ["encryptedData"] = encrypted, ["template"] = template },
        };
    }

    /// <summary>The Secret's values: <c>data</c> decoded, then <c>stringData</c>, which wins for a key in both (as the API server merges them).</summary>
    private static Dictionary<string, byte[]> Values(ManifestObject secret)
    {
        var values = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        if (secret.Object["data"] is JsonObject data)
        {
            foreach (var (key, node) in data)
            {
                var text = node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
                try
                {
                    values[key] = text is null ? throw new FormatException() : Convert.FromBase64String(text);
                }
                catch (FormatException)
                {
                    throw new SealingException($"{secret.Location}: Secret/{secret.Name} data.{key} is not base64; put plain text under stringData instead, or encode it (base64 -w0).");
                }
            }
        }

        if (secret.Object["stringData"] is JsonObject stringData)
        {
            foreach (var (key, node) in stringData)
            {
                values[key] = node is JsonValue v && v.TryGetValue<string>(out var s)
                    ? Encoding.UTF8.GetBytes(s)
                    : throw new SealingException($"{secret.Location}: Secret/{secret.Name} stringData.{key} is not a string; quote it.");
            }
        }

        return values;
    }
}
