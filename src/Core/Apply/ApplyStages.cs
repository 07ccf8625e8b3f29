
namespace FleetFunctions.Core.Apply;

/// <summary>One apply stage: the kinds it holds (by group and kind) and whether CRDs in it must be Established before the next stage.</summary>
public sealed record ApplyStage(string Name, IReadOnlyList<(string Group, string Kind)> Kinds, bool WaitForCrdsEstablished = false)
{
    /// <summary>True when the stage holds this kind; an empty kind list means "everything else".</summary>
    public bool Holds(string group, string kind) => Kinds.Any(k => k.Kind == kind && k.Group == group);
}

/// <summary>
/// The staged apply order as data: definitions first (CRDs, Namespaces), then cluster-wide RBAC and
/// classes, then everything else. Prune deletes in the reverse order.
/// </summary>
public static class ApplyStages
{
    /// <summary>The default stages.</summary>
    public static IReadOnlyList<ApplyStage> Default { get; } =
    [
        new("definitions", [("apiextensions.k8s.io", "CustomResourceDefinition"), ("", "Namespace")], WaitForCrdsEstablished: true),
        new("cluster", [
            ("rbac.authorization.k8s.io", "ClusterRole"),
            ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
            ("storage.k8s.io", "StorageClass"),
            ("networking.k8s.io", "IngressClass"),
            ("scheduling.k8s.io", "PriorityClass"),
            ("node.k8s.io", "RuntimeClass"),
            ("gateway.networking.k8s.io", "GatewayClass"),
            ("", "ServiceAccount"),
            ("rbac.authorization.k8s.io", "Role"),
            ("rbac.authorization.k8s.io", "RoleBinding"),
            ("", "ResourceQuota"),
            ("", "LimitRange"),
        ]),
        new("resources", []),
    ];

    /// <summary>The index of the stage an object belongs to: the first stage listing its kind, else the last stage.</summary>
    public static int IndexOf(IReadOnlyList<ApplyStage> stages, string group, string kind)
    {
        for (var i = 0; i < stages.Count; i++)
        {
            if (stages[i].Holds(group, kind))
            {
                return i;
            }
        }

        return stages.Count - 1;
    }
}
