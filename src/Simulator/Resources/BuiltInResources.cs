using System.Collections.Frozen;
using FleetFunctions.Core.Drift;

namespace FleetFunctions.Simulator.Resources;

/// <summary>The built-in kinds the simulator serves: data, one row per resource.</summary>
internal static class BuiltInResources
{
    private const string Apps = "apps";
    private const string Batch = "batch";
    private const string Networking = "networking.k8s.io";
    private const string Rbac = "rbac.authorization.k8s.io";

    public static readonly IReadOnlyList<ResourceType> All =
    [
        new("", "v1", "Namespace", "namespaces", Namespaced: false, HasStatus: true, ShortNames: ["ns"]),
        new("", "v1", "ConfigMap", "configmaps", Namespaced: true, ShortNames: ["cm"]),
        new("", "v1", "Secret", "secrets", Namespaced: true),
        new("", "v1", "Service", "services", Namespaced: true, HasStatus: true, ShortNames: ["svc"], Categories: ["all"]),
        new("", "v1", "ServiceAccount", "serviceaccounts", Namespaced: true, ShortNames: ["sa"]),
        new("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", Namespaced: true, HasStatus: true, ShortNames: ["pvc"]),
        new("", "v1", "PersistentVolume", "persistentvolumes", Namespaced: false, HasStatus: true, ShortNames: ["pv"]),
        new("", "v1", "Pod", "pods", Namespaced: true, HasStatus: true, ShortNames: ["po"], Categories: ["all"]),
        new("", "v1", "Event", "events", Namespaced: true, ShortNames: ["ev"]),
        new("", "v1", "LimitRange", "limitranges", Namespaced: true, ShortNames: ["limits"]),
        new("", "v1", "ResourceQuota", "resourcequotas", Namespaced: true, HasStatus: true, ShortNames: ["quota"]),
        new(Apps, "v1", "Deployment", "deployments", Namespaced: true, HasStatus: true, ShortNames: ["deploy"], Categories: ["all"]),
        new(Apps, "v1", "StatefulSet", "statefulsets", Namespaced: true, HasStatus: true, ShortNames: ["sts"], Categories: ["all"]),
        new(Apps, "v1", "DaemonSet", "daemonsets", Namespaced: true, HasStatus: true, ShortNames: ["ds"], Categories: ["all"]),
        new(Apps, "v1", "ReplicaSet", "replicasets", Namespaced: true, HasStatus: true, ShortNames: ["rs"], Categories: ["all"]),
        new(Batch, "v1", "Job", "jobs", Namespaced: true, HasStatus: true, Categories: ["all"]),
        new(Batch, "v1", "CronJob", "cronjobs", Namespaced: true, HasStatus: true, ShortNames: ["cj"], Categories: ["all"]),
        new("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", Namespaced: true, HasStatus: true, ShortNames: ["hpa"], Categories: ["all"]),
        new("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", Namespaced: true, HasStatus: true, ShortNames: ["pdb"]),
        new(Networking, "v1", "Ingress", "ingresses", Namespaced: true, HasStatus: true, ShortNames: ["ing"]),
        new(Networking, "v1", "IngressClass", "ingressclasses", Namespaced: false),
        new(Networking, "v1", "NetworkPolicy", "networkpolicies", Namespaced: true, ShortNames: ["netpol"]),
        new(Rbac, "v1", "Role", "roles", Namespaced: true),
        new(Rbac, "v1", "RoleBinding", "rolebindings", Namespaced: true),
        new(Rbac, "v1", "ClusterRole", "clusterroles", Namespaced: false),
        new(Rbac, "v1", "ClusterRoleBinding", "clusterrolebindings", Namespaced: false),
        new("storage.k8s.io", "v1", "StorageClass", "storageclasses", Namespaced: false, ShortNames: ["sc"]),
        new("scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", Namespaced: false, ShortNames: ["pc"]),
        new("coordination.k8s.io", "v1", "Lease", "leases", Namespaced: true),
        new("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", Namespaced: false, HasStatus: true, ShortNames: ["crd", "crds"]),
    ];

    /// <summary>Namespaces every cluster has, recreated after a wipe.</summary>
    public static readonly IReadOnlyList<string> DefaultNamespaces = ["default", "kube-system", "kube-public", "kube-node-lease"];

    public static readonly ResourceType Namespace = All.Single(t => t.Kind == "Namespace");

    public static readonly ResourceType CustomResourceDefinition = All.Single(t => t.Kind == "CustomResourceDefinition");

    /// <summary>Storage keys of the kinds kube-apiserver stores through Go types (<see cref="Serialization.StoredForm"/>): every built-in kind, CRDs included.</summary>
    public static readonly FrozenSet<string> Typed = All.Where(t => TypedFields.IsBuiltIn(t.Group)).Select(t => t.StorageKey).ToFrozenSet(StringComparer.Ordinal);
}
