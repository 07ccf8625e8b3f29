using System.Text.Json.Nodes;
using FleetFunctions.Simulator.Api;
using FleetFunctions.Simulator.Resources;
using FleetFunctions.Simulator.Store;

namespace FleetFunctions.Simulator.Workloads;

/// <summary>
/// KWOK-style controller of one cluster: after <see cref="SimulatorOptions.WorkloadReadyDelay"/> it writes the
/// status a real controller would report for each new generation of a workload (Deployments, StatefulSets,
/// DaemonSets, ReplicaSets, Jobs, Pods), binds PVCs, gives LoadBalancer Services an address and reports bitnami
/// SealedSecrets Synced (as a sealed-secrets controller does; the simulator does not unseal them).
/// </summary>
internal sealed class WorkloadController : IDisposable
{
    private readonly ClusterBackend _backend;
    private readonly CancellationTokenSource _stopping = new();

    public WorkloadController(ClusterBackend backend)
    {
        _backend = backend;
        backend.ObjectWritten += OnWritten;
    }

    public void Dispose()
    {
        _backend.ObjectWritten -= OnWritten;
        _stopping.Cancel();
        _stopping.Dispose();
    }

    private void OnWritten(ResourceType type, StoredObject stored, JsonObject obj)
    {
        if (type.Group is not ("" or "apps" or "batch" or "bitnami.com") || !type.HasStatus)
        {
            return;
        }

        if (type.Kind is not ("Deployment" or "StatefulSet" or "DaemonSet" or "ReplicaSet" or "Job" or "Pod" or "PersistentVolumeClaim" or "Service" or "SealedSecret"))
        {
            return;
        }

        if (!NeedsStatus(type.Kind, obj))
        {
            return;
        }

        var generation = Int64Of(obj["metadata"]?["generation"]) ?? 1;
        _ = ReconcileLaterAsync(type, stored.Namespace, stored.Name, generation);
    }

    private static bool NeedsStatus(string kind, JsonObject obj)
    {
        var status = obj["status"] as JsonObject;
        return kind switch
        {
            "PersistentVolumeClaim" => status?["phase"]?.ToString() != "Bound",
            "Service" => obj["spec"]?["type"]?.ToString() == "LoadBalancer" && status?["loadBalancer"]?["ingress"] is null,
            "Job" => status?["conditions"] is null,
            "Pod" => status?["phase"] is null,
            _ => Int64Of(status?["observedGeneration"]) != (Int64Of(obj["metadata"]?["generation"]) ?? 1),
        };
    }

    /// <summary>A whole number, whether parsed (long) or set in memory by the server (int or long).</summary>
    private static long? Int64Of(JsonNode? node) => node is JsonValue value
        ? value.TryGetValue<long>(out var wide) ? wide : value.TryGetValue<int>(out var narrow) ? narrow : null
        : null;

    private async Task ReconcileLaterAsync(ResourceType type, string ns, string name, long generation)
    {
        try
        {
            var delay = _backend.Options.WorkloadReadyDelay;
            if (delay > TimeSpan.Zero)
            {
                await Task.Delay(delay, _stopping.Token);
            }
            else
            {
                await Task.Yield();
            }

            var now = ClusterBackend.Timestamp(_backend.Now);
            _backend.WriteStatus(type, ns, name, generation, obj => WorkloadStatus.Compute(obj, _backend.Options.BrokenImagePattern, now));
        }
        catch (OperationCanceledException)
        {
            // cluster removed
        }
        catch (ObjectDisposedException)
        {
            // cluster removed
        }
    }
}
