using System.Collections.Frozen;
using System.Text.Json.Nodes;
using FleetFunctions.Core.Manifests;

namespace FleetFunctions.Core.Policy;

/// <summary>
/// Which kinds are cluster-scoped, decided without a cluster: the built-in cluster-scoped kinds of Kubernetes (and
/// Kyverno's own), plus the kinds of <c>CustomResourceDefinition</c>s with <c>spec.scope: Cluster</c> in the same
/// rendered set. Every other kind counts as namespaced. Immutable and thread-safe.
/// </summary>
public sealed class ResourceScopes
{
    private static readonly FrozenSet<(string Group, string Kind)> s_builtInClusterScoped = new (string, string)[]
    {
        ("", "Namespace"), ("", "Node"), ("", "PersistentVolume"), ("", "ComponentStatus"),
        ("rbac.authorization.k8s.io", "ClusterRole"), ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
        ("apiextensions.k8s.io", "CustomResourceDefinition"),
        ("apiregistration.k8s.io", "APIService"),
        ("storage.k8s.io", "StorageClass"), ("storage.k8s.io", "CSIDriver"), ("storage.k8s.io", "CSINode"),
        ("storage.k8s.io", "VolumeAttachment"), ("storage.k8s.io", "VolumeAttributesClass"),
        ("scheduling.k8s.io", "PriorityClass"),
        ("networking.k8s.io", "IngressClass"), ("networking.k8s.io", "IPAddress"), ("networking.k8s.io", "ServiceCIDR"),
        ("node.k8s.io", "RuntimeClass"),
        ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"), ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"),
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"), ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding"),
        ("admissionregistration.k8s.io", "MutatingAdmissionPolicy"), ("admissionregistration.k8s.io", "MutatingAdmissionPolicyBinding"),
        ("certificates.k8s.io", "CertificateSigningRequest"), ("certificates.k8s.io", "ClusterTrustBundle"),
        ("flowcontrol.apiserver.k8s.io", "FlowSchema"), ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"),
        ("resource.k8s.io", "DeviceClass"), ("resource.k8s.io", "ResourceSlice"),
        ("internal.apiserver.k8s.io", "StorageVersion"),
        ("storagemigration.k8s.io", "StorageVersionMigration"),
        ("policy", "PodSecurityPolicy"),
        ("authentication.k8s.io", "TokenReview"), ("authentication.k8s.io", "SelfSubjectReview"),
        ("authorization.k8s.io", "SubjectAccessReview"), ("authorization.k8s.io", "SelfSubjectAccessReview"),
        ("authorization.k8s.io", "SelfSubjectRulesReview"),
        ("kyverno.io", "ClusterPolicy"), ("kyverno.io", "ClusterCleanupPolicy"),
        ("wgpolicyk8s.io", "ClusterPolicyReport"),
        ("policies.kyverno.io", "ValidatingPolicy"), ("policies.kyverno.io", "ImageValidatingPolicy"),
        ("policies.kyverno.io", "MutatingPolicy"), ("policies.kyverno.io", "GeneratingPolicy"), ("policies.kyverno.io", "DeletingPolicy"),
    }.ToFrozenSet();

    private readonly FrozenSet<(string Group, string Kind)> _customClusterScoped;

    private ResourceScopes(FrozenSet<(string, string)> customClusterScoped) => _customClusterScoped = customClusterScoped;

    /// <summary>Built-in kinds only.</summary>
    public static ResourceScopes BuiltIn { get; } = new(FrozenSet<(string, string)>.Empty);

    /// <summary>Built-in kinds plus the cluster-scoped kinds the CRDs among <paramref name="objects"/> define.</summary>
    public static ResourceScopes For(IEnumerable<JsonObject> objects)
    {
        var custom = objects
            .Where(o => JsonUtil.GetString(o, "kind") == "CustomResourceDefinition"
                && ObjectReference.SplitApiVersion(JsonUtil.GetString(o, "apiVersion") ?? string.Empty).Group == "apiextensions.k8s.io"
                && JsonUtil.GetString(o, "spec", "scope") == "Cluster")
            .Select(o => (JsonUtil.GetString(o, "spec", "group") ?? string.Empty, JsonUtil.GetString(o, "spec", "names", "kind") ?? string.Empty))
            .Where(k => k.Item2.Length > 0)
            .ToFrozenSet();
        return custom.Count == 0 ? BuiltIn : new ResourceScopes(custom);
    }

    /// <summary>False for the built-in cluster-scoped kinds and cluster-scoped CRDs of the set; true otherwise.</summary>
    public bool IsNamespaced(string group, string kind) =>
        !s_builtInClusterScoped.Contains((group, kind)) && !_customClusterScoped.Contains((group, kind));
}
