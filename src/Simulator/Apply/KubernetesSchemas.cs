using System.Collections.Frozen;
using System.Text.Json.Nodes;
using static FleetFunctions.Simulator.Apply.TypeSchema;

namespace FleetFunctions.Simulator.Apply;

/// <summary>
/// Merge schemas of the built-in Kubernetes 1.32 kinds, as data: the <c>x-kubernetes-list-type</c>,
/// <c>x-kubernetes-list-map-keys</c> and <c>x-kubernetes-map-type</c>/<c>structType</c> markers of the
/// fields that are not plain granular objects or atomic lists. Kinds not listed (custom resources) are
/// deduced: objects merge per field, every list is atomic.
/// </summary>
internal static class KubernetesSchemas
{
    private static readonly TypeSchema LabelSelector = AtomicStruct();

    private static readonly TypeSchema ObjectMeta = Struct(
        ("finalizers", SetList()),
        ("ownerReferences", ListMap("uid")),
        ("managedFields", AtomicList()));

    private static readonly TypeSchema Conditions = ListMap("type");

    private static readonly TypeSchema StatusWithConditions = Struct(("conditions", Conditions));

    private static readonly TypeSchema Handler = Struct(
        ("exec", Struct(("command", AtomicList()))),
        ("httpGet", Struct(("httpHeaders", AtomicList()))));

    private static readonly TypeSchema Container = Struct(
        ("command", AtomicList()),
        ("args", AtomicList()),
        ("ports", ListMap("containerPort", "protocol=TCP")),
        ("envFrom", AtomicList()),
        ("env", ListMap(
            Struct(("valueFrom", Struct(
                ("fieldRef", AtomicStruct()),
                ("resourceFieldRef", AtomicStruct()),
                ("configMapKeyRef", AtomicStruct()),
                ("secretKeyRef", AtomicStruct())))),
            "name")),
        ("resources", Struct(("claims", ListMap("name")))),
        ("resizePolicy", AtomicList()),
        ("volumeMounts", ListMap("mountPath")),
        ("volumeDevices", ListMap("devicePath")),
        ("livenessProbe", Handler),
        ("readinessProbe", Handler),
        ("startupProbe", Handler),
        ("lifecycle", Struct(("postStart", Handler), ("preStop", Handler))),
        ("securityContext", Struct(("capabilities", Struct(("add", AtomicList()), ("drop", AtomicList()))))));

    private static readonly TypeSchema Volume = Struct(
        ("configMap", Struct(("items", AtomicList()))),
        ("secret", Struct(("items", AtomicList()))),
        ("downwardAPI", Struct(("items", AtomicList()))),
        ("projected", Struct(("sources", AtomicList()))));

    private static readonly TypeSchema PodAffinity = Struct(
        ("requiredDuringSchedulingIgnoredDuringExecution", AtomicList()),
        ("preferredDuringSchedulingIgnoredDuringExecution", AtomicList()));

    private static readonly TypeSchema PodSpec = Struct(
        ("volumes", ListMap(Volume, "name")),
        ("initContainers", ListMap(Container, "name")),
        ("containers", ListMap(Container, "name")),
        ("ephemeralContainers", ListMap(Container, "name")),
        ("imagePullSecrets", ListMap(AtomicStruct(), "name")),
        ("tolerations", AtomicList()),
        ("hostAliases", ListMap(Struct(("hostnames", AtomicList())), "ip")),
        ("topologySpreadConstraints", ListMap(Struct(("labelSelector", LabelSelector), ("matchLabelKeys", AtomicList())), "topologyKey", "whenUnsatisfiable")),
        ("readinessGates", AtomicList()),
        ("resourceClaims", ListMap("name")),
        ("schedulingGates", ListMap("name")),
        ("securityContext", Struct(("supplementalGroups", AtomicList()), ("sysctls", AtomicList()))),
        ("dnsConfig", Struct(("nameservers", AtomicList()), ("searches", AtomicList()), ("options", AtomicList()))),
        ("affinity", Struct(
            ("nodeAffinity", Struct(
                ("requiredDuringSchedulingIgnoredDuringExecution", AtomicStruct()),
                ("preferredDuringSchedulingIgnoredDuringExecution", AtomicList()))),
            ("podAffinity", PodAffinity),
            ("podAntiAffinity", PodAffinity))));

    private static readonly TypeSchema PodTemplateSpec = Struct(("metadata", ObjectMeta), ("spec", PodSpec));

    private static readonly TypeSchema JobSpec = Struct(
        ("selector", LabelSelector),
        ("template", PodTemplateSpec),
        ("podFailurePolicy", Struct(("rules", AtomicList()))),
        ("successPolicy", Struct(("rules", AtomicList()))));

    private static readonly TypeSchema ServiceSpec = Struct(
        ("ports", ListMap("port", "protocol=TCP")),
        ("selector", AtomicStruct()),
        ("clusterIPs", AtomicList()),
        ("externalIPs", AtomicList()),
        ("ipFamilies", AtomicList()),
        ("loadBalancerSourceRanges", AtomicList()));

    private static readonly TypeSchema LoadBalancerStatus = Struct(("ingress", AtomicList()));

    private static readonly TypeSchema Webhooks = ListMap(
        Struct(("rules", AtomicList()), ("admissionReviewVersions", AtomicList()), ("namespaceSelector", LabelSelector), ("objectSelector", LabelSelector)),
        "name");

    /// <summary>Top-level schemas by <c>group/Kind</c> (core group: <c>/Kind</c>).</summary>
    private static readonly FrozenDictionary<string, TypeSchema> Roots = new Dictionary<string, TypeSchema>(StringComparer.Ordinal)
    {
        ["/Pod"] = Root(PodSpec, Struct(("conditions", Conditions), ("containerStatuses", AtomicList()), ("initContainerStatuses", AtomicList()), ("podIPs", ListMap("ip")))),
        ["/PodTemplate"] = Struct(("metadata", ObjectMeta), ("template", PodTemplateSpec)),
        ["/ReplicationController"] = Root(Struct(("template", PodTemplateSpec), ("selector", AtomicStruct())), StatusWithConditions),
        ["/Service"] = Root(ServiceSpec, Struct(("conditions", Conditions), ("loadBalancer", LoadBalancerStatus))),
        ["/ConfigMap"] = Root(Deduced, Deduced),
        ["/Secret"] = Root(Deduced, Deduced),
        ["/ServiceAccount"] = Struct(("metadata", ObjectMeta), ("secrets", ListMap("name")), ("imagePullSecrets", AtomicList())),
        ["/Namespace"] = Root(Struct(("finalizers", AtomicList())), StatusWithConditions),
        ["/Node"] = Root(Struct(("taints", AtomicList()), ("podCIDRs", SetList())), StatusWithConditions),
        ["/PersistentVolumeClaim"] = Root(Struct(("accessModes", AtomicList()), ("selector", LabelSelector)), StatusWithConditions),
        ["/PersistentVolume"] = Root(Struct(("accessModes", AtomicList()), ("mountOptions", AtomicList())), Deduced),
        ["/Endpoints"] = Struct(("metadata", ObjectMeta), ("subsets", AtomicList())),
        ["/LimitRange"] = Root(Struct(("limits", AtomicList())), Deduced),
        ["/ResourceQuota"] = Root(Struct(("scopes", AtomicList())), Deduced),
        ["apps/Deployment"] = Root(Struct(("selector", LabelSelector), ("template", PodTemplateSpec)), StatusWithConditions),
        ["apps/ReplicaSet"] = Root(Struct(("selector", LabelSelector), ("template", PodTemplateSpec)), StatusWithConditions),
        ["apps/DaemonSet"] = Root(Struct(("selector", LabelSelector), ("template", PodTemplateSpec)), StatusWithConditions),
        ["apps/StatefulSet"] = Root(
            Struct(("selector", LabelSelector), ("template", PodTemplateSpec), ("volumeClaimTemplates", AtomicList())),
            StatusWithConditions),
        ["apps/ControllerRevision"] = Struct(("metadata", ObjectMeta)),
        ["batch/Job"] = Root(JobSpec, Struct(("conditions", AtomicList()))),
        ["batch/CronJob"] = Root(Struct(("jobTemplate", Struct(("metadata", ObjectMeta), ("spec", JobSpec)))), Struct(("active", AtomicList()))),
        ["autoscaling/HorizontalPodAutoscaler"] = Root(
            Struct(("metrics", AtomicList()), ("behavior", Struct(("scaleUp", Struct(("policies", AtomicList()))), ("scaleDown", Struct(("policies", AtomicList())))))),
            Struct(("conditions", Conditions), ("currentMetrics", AtomicList()))),
        ["policy/PodDisruptionBudget"] = Root(Struct(("selector", LabelSelector)), StatusWithConditions),
        ["networking.k8s.io/Ingress"] = Root(Struct(("rules", AtomicList()), ("tls", AtomicList())), Struct(("loadBalancer", LoadBalancerStatus))),
        ["networking.k8s.io/IngressClass"] = Root(Deduced, Deduced),
        ["networking.k8s.io/NetworkPolicy"] = Root(
            Struct(("podSelector", LabelSelector), ("ingress", AtomicList()), ("egress", AtomicList()), ("policyTypes", AtomicList())),
            Deduced),
        ["rbac.authorization.k8s.io/Role"] = Struct(("metadata", ObjectMeta), ("rules", AtomicList())),
        ["rbac.authorization.k8s.io/ClusterRole"] = Struct(
            ("metadata", ObjectMeta),
            ("rules", AtomicList()),
            ("aggregationRule", Struct(("clusterRoleSelectors", AtomicList())))),
        ["rbac.authorization.k8s.io/RoleBinding"] = Struct(("metadata", ObjectMeta), ("subjects", AtomicList()), ("roleRef", AtomicStruct())),
        ["rbac.authorization.k8s.io/ClusterRoleBinding"] = Struct(("metadata", ObjectMeta), ("subjects", AtomicList()), ("roleRef", AtomicStruct())),
        ["apiextensions.k8s.io/CustomResourceDefinition"] = Root(
            Struct(
                ("versions", AtomicList()),
                ("names", Struct(("shortNames", AtomicList()), ("categories", AtomicList())))),
            Struct(("conditions", Conditions), ("storedVersions", AtomicList()))),
        ["admissionregistration.k8s.io/ValidatingWebhookConfiguration"] = Struct(("metadata", ObjectMeta), ("webhooks", Webhooks)),
        ["admissionregistration.k8s.io/MutatingWebhookConfiguration"] = Struct(("metadata", ObjectMeta), ("webhooks", Webhooks)),
        ["storage.k8s.io/StorageClass"] = Struct(("metadata", ObjectMeta), ("mountOptions", AtomicList()), ("allowedTopologies", AtomicList())),
        ["scheduling.k8s.io/PriorityClass"] = Struct(("metadata", ObjectMeta)),
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>Kinds whose root schema is known, for which the API server serves <c>status</c> as a subresource when they have one.</summary>
    private static readonly FrozenSet<string> StatusSubresourceKinds = new[]
    {
        "/Pod", "/ReplicationController", "/Service", "/Namespace", "/Node", "/PersistentVolumeClaim", "/PersistentVolume",
        "/ResourceQuota", "apps/Deployment", "apps/ReplicaSet", "apps/DaemonSet", "apps/StatefulSet", "batch/Job", "batch/CronJob",
        "autoscaling/HorizontalPodAutoscaler", "policy/PodDisruptionBudget", "networking.k8s.io/Ingress",
        "apiextensions.k8s.io/CustomResourceDefinition",
    }.ToFrozenSet(StringComparer.Ordinal);

    private const string PodTemplate = """{"metadata":{"creationTimestamp":null},"spec":{"containers":null}}""";

    /// <summary>
    /// The JSON of a new, empty object of a built-in kind as the API server's Go types serialize it
    /// (non-pointer structs are present, nil slices and maps are null). A create is compared against it,
    /// so only objects, lists and items that are really new get their own <c>.</c> in an Update entry.
    /// Scalars do not matter here (an added or modified leaf is owned the same way).
    /// </summary>
    private static readonly FrozenDictionary<string, string> EmptyObjects = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["/Pod"] = """{"spec":{"containers":null},"status":{}}""",
        ["/PodTemplate"] = $$$"""{"template":{{{PodTemplate}}}}""",
        ["/ReplicationController"] = """{"spec":{},"status":{}}""",
        ["/Service"] = """{"spec":{},"status":{"loadBalancer":{}}}""",
        ["/Namespace"] = """{"spec":{},"status":{}}""",
        ["/Node"] = """{"spec":{},"status":{"daemonEndpoints":{"kubeletEndpoint":{}},"nodeInfo":{}}}""",
        ["/PersistentVolumeClaim"] = """{"spec":{"resources":{}},"status":{}}""",
        ["/PersistentVolume"] = """{"spec":{},"status":{}}""",
        ["/LimitRange"] = """{"spec":{"limits":null}}""",
        ["/ResourceQuota"] = """{"spec":{},"status":{}}""",
        ["apps/Deployment"] = $$$"""{"spec":{"selector":null,"template":{{{PodTemplate}}},"strategy":{}},"status":{}}""",
        ["apps/ReplicaSet"] = $$$"""{"spec":{"selector":null,"template":{{{PodTemplate}}}},"status":{}}""",
        ["apps/DaemonSet"] = $$$"""{"spec":{"selector":null,"template":{{{PodTemplate}}},"updateStrategy":{}},"status":{}}""",
        ["apps/StatefulSet"] = $$$"""{"spec":{"selector":null,"template":{{{PodTemplate}}},"updateStrategy":{}},"status":{}}""",
        ["batch/Job"] = $$$"""{"spec":{"template":{{{PodTemplate}}}},"status":{}}""",
        ["batch/CronJob"] = $$$$"""{"spec":{"jobTemplate":{"metadata":{"creationTimestamp":null},"spec":{"template":{{{{PodTemplate}}}}}}},"status":{}}""",
        ["autoscaling/HorizontalPodAutoscaler"] = """{"spec":{"scaleTargetRef":{}},"status":{}}""",
        ["policy/PodDisruptionBudget"] = """{"spec":{},"status":{}}""",
        ["networking.k8s.io/Ingress"] = """{"spec":{},"status":{"loadBalancer":{}}}""",
        ["networking.k8s.io/IngressClass"] = """{"spec":{}}""",
        ["networking.k8s.io/NetworkPolicy"] = """{"spec":{"podSelector":{}}}""",
        ["rbac.authorization.k8s.io/RoleBinding"] = """{"roleRef":{}}""",
        ["rbac.authorization.k8s.io/ClusterRoleBinding"] = """{"roleRef":{}}""",
        ["rbac.authorization.k8s.io/Role"] = """{"rules":null}""",
        ["rbac.authorization.k8s.io/ClusterRole"] = """{"rules":null}""",
        ["apiextensions.k8s.io/CustomResourceDefinition"] = """{"spec":{"names":{},"versions":null},"status":{"acceptedNames":{},"conditions":null,"storedVersions":null}}""",
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>Fallback for custom resources and unknown kinds: only the object metadata is known.</summary>
    private static readonly TypeSchema Unknown = Struct(("metadata", ObjectMeta));

    /// <summary>The schema for objects of <paramref name="apiVersion"/>/<paramref name="kind"/>.</summary>
    public static TypeSchema ForKind(string? apiVersion, string? kind) =>
        Roots.TryGetValue(GroupKind(apiVersion, kind), out var schema) ? schema : Unknown;

    /// <summary>
    /// A new empty object of a built-in kind to compare a create against (always with
    /// <c>metadata</c>); for custom resources an object with only metadata, as the API server's
    /// unstructured objects have no other fields.
    /// </summary>
    public static JsonObject EmptyObject(string? apiVersion, string? kind)
    {
        var key = GroupKind(apiVersion, kind);
        var empty = EmptyObjects.TryGetValue(key, out var json) ? JsonNode.Parse(json)!.AsObject() : [];
        if (Roots.ContainsKey(key))
        {
            empty["metadata"] = new JsonObject { ["creationTimestamp"] = null };
        }

        return empty;
    }

    /// <summary>Whether the built-in kind serves <c>status</c> as a subresource (custom resources: false, the caller knows better).</summary>
    public static bool HasStatusSubresource(string? apiVersion, string? kind) =>
        StatusSubresourceKinds.Contains(GroupKind(apiVersion, kind));

    private static string GroupKind(string? apiVersion, string? kind)
    {
        var version = apiVersion ?? string.Empty;
        var slash = version.IndexOf('/', StringComparison.Ordinal);
        var group = slash < 0 ? string.Empty : version[..slash];
        return group + "/" + kind;
    }

    private static TypeSchema Root(TypeSchema spec, TypeSchema status) =>
        Struct(("metadata", ObjectMeta), ("spec", spec), ("status", status));
}
