using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace FleetFunctions.Simulator.Workloads;

/// <summary>
/// The status a kube-controller-manager would eventually write, per kind: finished rollouts for healthy
/// images, and for broken images the terminal failure (CrashLoopBackOff, ProgressDeadlineExceeded).
/// </summary>
internal static class WorkloadStatus
{
    public static JsonObject Compute(JsonObject obj, Regex brokenImages, string now)
    {
        var name = obj["metadata"]?["name"]?.ToString() ?? "";
        var generation = obj["metadata"]?["generation"]?.GetValue<long>() ?? 1;
        var replicas = obj["spec"]?["replicas"]?.GetValue<long>() ?? 1;
        var brokenContainer = WorkloadImages.FirstContainerMatching(obj, brokenImages)
            ?? (WorkloadImages.Images(obj).Any(brokenImages.IsMatch) ? "init" : null);
        var broken = brokenContainer is not null;
        var revision = $"{name}-{WorkloadImages.TemplateHash(obj)}";
        var crashMessage = $"back-off restarting failed container {brokenContainer} (CrashLoopBackOff)";
        return obj["kind"]?.ToString() switch
        {
            "Deployment" => Deployment(generation, replicas, broken, revision, crashMessage, now),
            "StatefulSet" => new JsonObject
            {
                ["observedGeneration"] = generation,
                ["replicas"] = replicas,
                ["readyReplicas"] = broken ? 0 : replicas,
                ["currentReplicas"] = replicas,
                ["updatedReplicas"] = replicas,
                ["availableReplicas"] = broken ? 0 : replicas,
                ["currentRevision"] = revision,
                ["updateRevision"] = revision,
                ["collisionCount"] = 0,
            },
            "DaemonSet" => new JsonObject
            {
                ["observedGeneration"] = generation,
                ["currentNumberScheduled"] = 1,
                ["desiredNumberScheduled"] = 1,
                ["numberMisscheduled"] = 0,
                ["numberReady"] = broken ? 0 : 1,
                ["numberAvailable"] = broken ? 0 : 1,
                ["numberUnavailable"] = broken ? 1 : 0,
                ["updatedNumberScheduled"] = 1,
            },
            "ReplicaSet" => new JsonObject
            {
                ["observedGeneration"] = generation,
                ["replicas"] = replicas,
                ["fullyLabeledReplicas"] = replicas,
                ["readyReplicas"] = broken ? 0 : replicas,
                ["availableReplicas"] = broken ? 0 : replicas,
            },
            "Job" => Job(obj, broken, crashMessage, now),
            "Pod" => Pod(broken, brokenContainer, now),
            "PersistentVolumeClaim" => new JsonObject
            {
                ["phase"] = "Bound",
                ["accessModes"] = obj["spec"]?["accessModes"]?.DeepClone() ?? new JsonArray("ReadWriteOnce"),
                ["capacity"] = new JsonObject { ["storage"] = obj["spec"]?["resources"]?["requests"]?["storage"]?.DeepClone() ?? "1Gi" },
            },
            "SealedSecret" => new JsonObject
            {
                ["conditions"] = new JsonArray(new JsonObject { ["type"] = "Synced", ["status"] = "True", ["lastTransitionTime"] = now, ["lastUpdateTime"] = now }),
                ["observedGeneration"] = generation,
            },
            "Service" => new JsonObject { ["loadBalancer"] = new JsonObject { ["ingress"] = new JsonArray(new JsonObject { ["ip"] = "127.0.0.1", ["ipMode"] = "VIP" }) } },
            _ => obj["status"]?.DeepClone() as JsonObject ?? [],
        };
    }

    private static JsonObject Deployment(long generation, long replicas, bool broken, string replicaSet, string crashMessage, string now)
    {
        JsonObject Condition(string type, bool status, string reason, string message) => new()
        {
            ["type"] = type,
            ["status"] = status ? "True" : "False",
            ["lastUpdateTime"] = now,
            ["lastTransitionTime"] = now,
            ["reason"] = reason,
            ["message"] = message,
        };

        var status = new JsonObject
        {
            ["observedGeneration"] = generation,
            ["replicas"] = replicas,
            ["updatedReplicas"] = replicas,
        };
        if (broken)
        {
            status["unavailableReplicas"] = replicas;
            status["conditions"] = new JsonArray(
                Condition("Available", false, "MinimumReplicasUnavailable", "Deployment does not have minimum availability."),
                Condition("Progressing", false, "ProgressDeadlineExceeded", $"ReplicaSet \"{replicaSet}\" has timed out progressing: {crashMessage}"));
        }
        else
        {
            status["readyReplicas"] = replicas;
            status["availableReplicas"] = replicas;
            status["conditions"] = new JsonArray(
                Condition("Available", true, "MinimumReplicasAvailable", "Deployment has minimum availability."),
                Condition("Progressing", true, "NewReplicaSetAvailable", $"ReplicaSet \"{replicaSet}\" has successfully progressed."));
        }

        return status;
    }

    private static JsonObject Job(JsonObject obj, bool broken, string crashMessage, string now)
    {
        JsonObject Condition(string type, string reason, string message) => new()
        {
            ["type"] = type,
            ["status"] = "True",
            ["lastProbeTime"] = now,
            ["lastTransitionTime"] = now,
            ["reason"] = reason,
            ["message"] = message,
        };

        if (broken)
        {
            return new JsonObject
            {
                ["startTime"] = now,
                ["failed"] = (obj["spec"]?["backoffLimit"]?.GetValue<long>() ?? 6) + 1,
                ["conditions"] = new JsonArray(
                    Condition("FailureTarget", "BackoffLimitExceeded", "Job has reached the specified backoff limit"),
                    Condition("Failed", "BackoffLimitExceeded", $"Job has reached the specified backoff limit: {crashMessage}")),
            };
        }

        return new JsonObject
        {
            ["startTime"] = now,
            ["completionTime"] = now,
            ["succeeded"] = obj["spec"]?["completions"]?.GetValue<long>() ?? 1,
            ["ready"] = 0,
            ["conditions"] = new JsonArray(
                Condition("SuccessCriteriaMet", "CompletionsReached", "Reached expected number of succeeded pods"),
                Condition("Complete", "CompletionsReached", "Reached expected number of succeeded pods")),
        };
    }

    private static JsonObject Pod(bool broken, string? brokenContainer, string now) => new()
    {
        ["phase"] = broken ? "Pending" : "Running",
        ["conditions"] = new JsonArray(broken
            ? new JsonObject { ["type"] = "Ready", ["status"] = "False", ["lastTransitionTime"] = now, ["reason"] = "ContainersNotReady" }
            : new JsonObject { ["type"] = "Ready", ["status"] = "True", ["lastTransitionTime"] = now }),
        ["containerStatuses"] = broken
            ? new JsonArray(new JsonObject
            {
                ["name"] = brokenContainer,
                ["ready"] = false,
                ["restartCount"] = 5,
                ["state"] = new JsonObject { ["waiting"] = new JsonObject { ["reason"] = "CrashLoopBackOff", ["message"] = "back-off restarting failed container" } },
            })
            : new JsonArray(),
        ["startTime"] = now,
    };
}
