using System.Text.Json.Nodes;
using FleetFunctions.Core.Manifests;

namespace FleetFunctions.Core.Health;

/// <summary>Health of one object, kstatus-style.</summary>
public enum HealthStatus
{
    /// <summary>Fully reconciled: rolled out, complete, bound, established or Ready.</summary>
    Current,

    /// <summary>Still rolling out.</summary>
    InProgress,

    /// <summary>Will not become healthy without a change (deadline exceeded, Job failed).</summary>
    Failed,

    /// <summary>The object does not exist.</summary>
    NotFound,
}

/// <summary>
/// kstatus-style rules: an object being deleted (metadata.deletionTimestamp set) is InProgress, whatever its status; an
/// object whose status.observedGeneration differs from its metadata.generation is InProgress;
/// then Deployment, StatefulSet, DaemonSet and ReplicaSet rollouts complete; Job complete; PersistentVolumeClaim
/// bound; CRD established; Pods running and ready; bitnami SealedSecrets Synced; any object with a Ready condition;
/// other objects are Current when they exist. Pure functions of the live object.
/// </summary>
public static class HealthRules
{
    /// <summary>Evaluates the live object.</summary>
    public static (HealthStatus Status, string Reason) Evaluate(JsonObject live)
    {
        ArgumentNullException.ThrowIfNull(live);
        if (live.StringAt("metadata.deletionTimestamp") is { Length: > 0 })
        {
            return (HealthStatus.InProgress, BeingDeleted(live));
        }

        var kind = live.GetString("kind") ?? string.Empty;
        var generation = live.Int64At("metadata.generation");
        var observed = live.Int64At("status.observedGeneration");

        // As kstatus: a status written for another generation (a Ready=True left from the spec before this apply) says
        // nothing about this one. The rollout controllers always report the generation they saw, so its absence counts too.
        var rollout = kind is "Deployment" or "StatefulSet" or "DaemonSet" or "ReplicaSet";
        if (generation is { } g && (observed is { } o ? o != g : rollout))
        {
            return (HealthStatus.InProgress, $"waiting for the controller to observe generation {g} (observed {observed?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"})");
        }

        return kind switch
        {
            "Deployment" => Deployment(live),
            "StatefulSet" => StatefulSet(live),
            "DaemonSet" => DaemonSet(live),
            "ReplicaSet" => ReplicaSet(live),
            "Job" => Job(live),
            "PersistentVolumeClaim" => live.StringAt("status.phase") == "Bound"
                ? (HealthStatus.Current, "Bound")
                : (HealthStatus.InProgress, $"claim is {live.StringAt("status.phase") ?? "Pending"}, not Bound"),
            "CustomResourceDefinition" => HasCondition(live, "Established", "True")
                ? (HealthStatus.Current, "Established")
                : (HealthStatus.InProgress, "not Established yet"),
            "Pod" => Pod(live),
            "SealedSecret" when live.GetString("apiVersion")?.StartsWith("bitnami.com/", StringComparison.Ordinal) == true => SealedSecret(live),
            _ => Generic(live),
        };
    }

    /// <summary>"being deleted", with the finalizers that hold the object (a Namespace's own in spec.finalizers too).</summary>
    public static string BeingDeleted(JsonObject live)
    {
        ArgumentNullException.ThrowIfNull(live);
        var own = live.GetString("kind") == "Namespace" ? live.At("spec.finalizers") as JsonArray : null;
        var finalizers = (live.At("metadata.finalizers") as JsonArray ?? []).Concat(own ?? [])
            .Select(f => f?.ToString()).Where(f => !string.IsNullOrEmpty(f)).ToList();
        return finalizers.Count == 0 ? "being deleted" : $"being deleted, waiting for finalizers {string.Join(", ", finalizers)}";
    }

    /// <summary>True when <c>status.conditions</c> has <paramref name="type"/> with <paramref name="status"/>.</summary>
    public static bool HasCondition(JsonObject obj, string type, string status) =>
        Condition(obj, type) is { } c && c.GetString("status") == status;

    /// <summary>The condition of <paramref name="type"/>, or null.</summary>
    public static JsonObject? Condition(JsonObject obj, string type) =>
        (obj.At("status.conditions") as JsonArray ?? []).OfType<JsonObject>().FirstOrDefault(c => c.GetString("type") == type);

    private static (HealthStatus, string) Deployment(JsonObject live)
    {
        var progressing = Condition(live, "Progressing");
        if (progressing?.GetString("reason") == "ProgressDeadlineExceeded")
        {
            return (HealthStatus.Failed, $"rollout stuck: {progressing.GetString("message") ?? "progress deadline exceeded"}");
        }

        var replicas = live.Int64At("spec.replicas") ?? 1;
        var updated = live.Int64At("status.updatedReplicas") ?? 0;
        var total = live.Int64At("status.replicas") ?? 0;
        var available = live.Int64At("status.availableReplicas") ?? 0;
        var detail = progressing?.GetString("message") is { } m ? $" ({m})" : string.Empty;
        if (updated < replicas)
        {
            return (HealthStatus.InProgress, $"{updated} of {replicas} replicas updated{detail}");
        }

        if (total > updated)
        {
            return (HealthStatus.InProgress, $"{total - updated} old replicas pending termination{detail}");
        }

        if (available < replicas)
        {
            return (HealthStatus.InProgress, $"{available} of {replicas} replicas available{detail}");
        }

        return (HealthStatus.Current, $"{available} of {replicas} replicas available");
    }

    private static (HealthStatus, string) StatefulSet(JsonObject live)
    {
        var replicas = live.Int64At("spec.replicas") ?? 1;
        var ready = live.Int64At("status.readyReplicas") ?? 0;
        var updated = live.Int64At("status.updatedReplicas") ?? 0;
        var current = live.StringAt("status.currentRevision");
        var update = live.StringAt("status.updateRevision");
        if (ready < replicas)
        {
            return (HealthStatus.InProgress, $"{ready} of {replicas} replicas ready");
        }

        if (live.StringAt("spec.updateStrategy.type") is not (null or "RollingUpdate"))
        {
            return (HealthStatus.Current, $"{ready} of {replicas} replicas ready");
        }

        // With a partition only the ordinals at or above it are updated; the others keep the current revision.
        if (live.Int64At("spec.updateStrategy.rollingUpdate.partition") is { } partition)
        {
            var target = Math.Max(replicas - partition, 0);
            return updated < target
                ? (HealthStatus.InProgress, $"{updated} of {target} replicas at or above partition {partition} updated to revision {update}")
                : (HealthStatus.Current, $"{ready} of {replicas} replicas ready, {updated} updated (partition {partition})");
        }

        if (updated < replicas || (update is not null && current != update))
        {
            return (HealthStatus.InProgress, $"{updated} of {replicas} replicas updated to revision {update}");
        }

        return (HealthStatus.Current, $"{ready} of {replicas} replicas ready");
    }

    private static (HealthStatus, string) DaemonSet(JsonObject live)
    {
        var desired = live.Int64At("status.desiredNumberScheduled") ?? 0;
        var updated = live.Int64At("status.updatedNumberScheduled") ?? 0;
        var available = live.Int64At("status.numberAvailable") ?? 0;
        if (updated < desired)
        {
            return (HealthStatus.InProgress, $"{updated} of {desired} pods updated");
        }

        return available < desired
            ? (HealthStatus.InProgress, $"{available} of {desired} pods available")
            : (HealthStatus.Current, $"{available} of {desired} pods available");
    }

    private static (HealthStatus, string) ReplicaSet(JsonObject live)
    {
        var replicas = live.Int64At("spec.replicas") ?? 1;
        var available = live.Int64At("status.availableReplicas") ?? 0;
        return available < replicas
            ? (HealthStatus.InProgress, $"{available} of {replicas} replicas available")
            : (HealthStatus.Current, $"{available} of {replicas} replicas available");
    }

    private static (HealthStatus, string) Job(JsonObject live)
    {
        if (HasCondition(live, "Failed", "True"))
        {
            var failed = Condition(live, "Failed")!;
            return (HealthStatus.Failed, $"job failed: {failed.GetString("reason")}: {failed.GetString("message")}");
        }

        return HasCondition(live, "Complete", "True")
            ? (HealthStatus.Current, "job complete")
            : (HealthStatus.InProgress, $"job running: {live.Int64At("status.succeeded") ?? 0} succeeded");
    }

    private static (HealthStatus, string) Pod(JsonObject live)
    {
        var phase = live.StringAt("status.phase");
        if (phase == "Succeeded" || (phase == "Running" && HasCondition(live, "Ready", "True")))
        {
            return (HealthStatus.Current, phase);
        }

        return phase == "Failed" ? (HealthStatus.Failed, "pod failed") : (HealthStatus.InProgress, $"pod is {phase ?? "Pending"}");
    }

    /// <summary>
    /// A bitnami SealedSecret, as Argo CD's health check reads it: the cluster's sealed-secrets controller reports a
    /// <c>Synced</c> condition (v0.17 and later; older ones only with <c>--update-status</c>) for the generation it
    /// saw (the observedGeneration gate above). False means it could not make the Secret, most often because none of
    /// its keys opens the values ("no key could decrypt secret"): they were re-sealed for a certificate that is not
    /// its own.
    /// </summary>
    private static (HealthStatus, string) SealedSecret(JsonObject live)
    {
        var synced = Condition(live, "Synced");
        return synced?.GetString("status") switch
        {
            "True" => (HealthStatus.Current, "unsealed into its Secret"),
            "False" => (HealthStatus.Failed,
                $"the cluster's sealed-secrets controller cannot unseal it: {synced.GetString("message") ?? synced.GetString("reason") ?? "Synced is False"}; " +
                "check that the Cluster's spec.sealingCertificate is that controller's certificate (kubeseal --fetch-cert)"),
            _ => (HealthStatus.InProgress, "waiting for the cluster's sealed-secrets controller to unseal it (no Synced condition yet)"),
        };
    }

    private static (HealthStatus, string) Generic(JsonObject live)
    {
        if (Condition(live, "Ready") is { } ready)
        {
            return ready.GetString("status") == "True"
                ? (HealthStatus.Current, "Ready")
                : (HealthStatus.InProgress, $"not Ready: {ready.GetString("reason")} {ready.GetString("message")}".Trim());
        }

        return (HealthStatus.Current, "exists");
    }
}
