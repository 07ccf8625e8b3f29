namespace FleetFunctions.Core.Policy;

/// <summary>
/// Where a Pod controller keeps its pod template: <c>spec.template</c> for DaemonSet, Deployment, Job, StatefulSet,
/// ReplicaSet and ReplicationController, <c>spec.jobTemplate.spec.template</c> for CronJob. The one list that
/// autogen, the Pod Security checks and image extraction share.
/// </summary>
internal static class PodTemplates
{
    /// <summary>The Pod controllers, in Kyverno's autogen order.</summary>
    public static readonly IReadOnlyList<string> Controllers = ["DaemonSet", "Deployment", "Job", "StatefulSet", "ReplicaSet", "ReplicationController", "CronJob"];

    /// <summary>The pod template of every controller but CronJob.</summary>
    public static readonly string[] ControllerTemplate = ["spec", "template"];

    private static readonly string[] s_cronJobTemplate = ["spec", "jobTemplate", "spec", "template"];

    /// <summary>
    /// The path from the object's root to <paramref name="kind"/>'s pod template (its <c>metadata</c> and <c>spec</c>):
    /// empty for a Pod, which is its own template; null for kinds that are not Pod controllers.
    /// </summary>
    public static string[]? TemplatePath(string kind) => kind switch
    {
        "Pod" => [],
        "CronJob" => s_cronJobTemplate,
        _ when Controllers.Contains(kind) => ControllerTemplate,
        _ => null,
    };
}
