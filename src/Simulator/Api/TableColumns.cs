using System.Globalization;
using System.Text.Json.Nodes;

namespace FleetFunctions.Simulator.Api;

/// <summary>
/// The columns kube-apiserver prints for <c>kubectl get</c> (server-side printing, <c>as=Table</c>), per kind:
/// data, one row per column with how to compute its cell.
/// </summary>
internal static class TableColumns
{
    internal sealed record Column(string Name, string Type, Func<JsonObject, DateTimeOffset, JsonNode?> Cell, string Format = "", int Priority = 0);

    private static readonly Column s_name = new("Name", "string", (o, _) => o["metadata"]?["name"]?.DeepClone(), "name");
    private static readonly Column s_age = new("Age", "string", (o, now) => Age(o, now));

    public static IReadOnlyList<Column> For(string kind) => kind switch
    {
        "Namespace" => [s_name, Text("Status", o => o["status"]?["phase"]), s_age],
        "ConfigMap" => [s_name, Number("Data", o => Count(o["data"]) + Count(o["binaryData"])), s_age],
        "Secret" => [s_name, Text("Type", o => o["type"] ?? "Opaque"), Number("Data", o => Count(o["data"]) + Count(o["stringData"])), s_age],
        "Service" =>
        [
            s_name, Text("Type", o => o["spec"]?["type"] ?? "ClusterIP"), Text("Cluster-IP", o => o["spec"]?["clusterIP"] ?? "<none>"),
            Text("External-IP", o => (o["status"]?["loadBalancer"]?["ingress"] as JsonArray)?.FirstOrDefault()?["ip"] ?? "<none>"),
            Text("Port(s)", o => string.Join(",", (o["spec"]?["ports"] as JsonArray ?? []).Select(p => $"{p?["port"]}/{p?["protocol"] ?? "TCP"}"))), s_age,
        ],
        "Deployment" =>
        [
            s_name, Text("Ready", o => $"{Int(o["status"]?["readyReplicas"])}/{Int(o["spec"]?["replicas"], 1)}"),
            Number("Up-to-date", o => Int(o["status"]?["updatedReplicas"])), Number("Available", o => Int(o["status"]?["availableReplicas"])), s_age,
        ],
        "StatefulSet" => [s_name, Text("Ready", o => $"{Int(o["status"]?["readyReplicas"])}/{Int(o["spec"]?["replicas"], 1)}"), s_age],
        "ReplicaSet" =>
        [
            s_name, Number("Desired", o => Int(o["spec"]?["replicas"], 1)), Number("Current", o => Int(o["status"]?["replicas"])),
            Number("Ready", o => Int(o["status"]?["readyReplicas"])), s_age,
        ],
        "DaemonSet" =>
        [
            s_name, Number("Desired", o => Int(o["status"]?["desiredNumberScheduled"])), Number("Current", o => Int(o["status"]?["currentNumberScheduled"])),
            Number("Ready", o => Int(o["status"]?["numberReady"])), Number("Up-to-date", o => Int(o["status"]?["updatedNumberScheduled"])),
            Number("Available", o => Int(o["status"]?["numberAvailable"])), s_age,
        ],
        "Job" =>
        [
            s_name, Text("Status", o => JobStatus(o)),
            Text("Completions", o => $"{Int(o["status"]?["succeeded"])}/{Int(o["spec"]?["completions"], 1)}"), s_age,
        ],
        "Pod" =>
        [
            s_name, Text("Ready", o => $"{(o["status"]?["containerStatuses"] as JsonArray ?? []).Count(c => c?["ready"]?.GetValue<bool>() == true)}/{(o["spec"]?["containers"] as JsonArray)?.Count ?? 0}"),
            Text("Status", o => o["status"]?["phase"] ?? "Pending"), Number("Restarts", o => (o["status"]?["containerStatuses"] as JsonArray ?? []).Sum(c => Int(c?["restartCount"]))), s_age,
        ],
        "PersistentVolumeClaim" =>
        [
            s_name, Text("Status", o => o["status"]?["phase"] ?? "Pending"), Text("Volume", o => o["spec"]?["volumeName"] ?? ""),
            Text("Capacity", o => o["status"]?["capacity"]?["storage"] ?? ""),
            Text("Access Modes", o => string.Join(",", (o["status"]?["accessModes"] as JsonArray ?? []).Select(m => Abbreviate(m?.ToString())))), s_age,
        ],
        "CustomResourceDefinition" => [s_name, new Column("Created At", "date", (o, _) => o["metadata"]?["creationTimestamp"]?.DeepClone())],
        _ => [s_name, s_age],
    };

    /// <summary>A relative age like kube-apiserver prints it (<c>45s</c>, <c>5m3s</c>, <c>3h</c>, <c>2d4h</c>).</summary>
    public static string HumanDuration(TimeSpan d)
    {
        var seconds = (long)d.TotalSeconds;
        if (seconds < -1)
        {
            return "<invalid>";
        }

        if (seconds < 0)
        {
            return "0s";
        }

        if (seconds < 120)
        {
            return $"{seconds}s";
        }

        var minutes = seconds / 60;
        if (minutes < 10)
        {
            return seconds % 60 == 0 ? $"{minutes}m" : $"{minutes}m{seconds % 60}s";
        }

        if (minutes < 180)
        {
            return $"{minutes}m";
        }

        var hours = minutes / 60;
        if (hours < 8)
        {
            return minutes % 60 == 0 ? $"{hours}h" : $"{hours}h{minutes % 60}m";
        }

        if (hours < 48)
        {
            return $"{hours}h";
        }

        var days = hours / 24;
        if (hours < 24 * 8)
        {
            return hours % 24 == 0 ? $"{days}d" : $"{days}d{hours % 24}h";
        }

        if (days < 365 * 2)
        {
            return $"{days}d";
        }

        var years = days / 365;
        return days < 365 * 8 && days % 365 != 0 ? $"{years}y{days % 365}d" : $"{years}y";
    }

    private static Column Text(string name, Func<JsonObject, object?> value) =>
        new(name, "string", (o, _) => JsonValue.Create(value(o)?.ToString() ?? ""));

    private static Column Number(string name, Func<JsonObject, long> value) =>
        new(name, "integer", (o, _) => JsonValue.Create(value(o)));

    private static JsonNode Age(JsonObject obj, DateTimeOffset now) =>
        DateTimeOffset.TryParse(obj["metadata"]?["creationTimestamp"]?.ToString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var created)
            ? JsonValue.Create(HumanDuration(now - created))
            : JsonValue.Create("<unknown>");

    private static long Int(JsonNode? node, long fallback = 0) => node is JsonValue v && v.TryGetValue<long>(out var n) ? n : fallback;

    private static int Count(JsonNode? node) => (node as JsonObject)?.Count ?? 0;

    private static string JobStatus(JsonObject job)
    {
        var conditions = job["status"]?["conditions"] as JsonArray ?? [];
        bool Has(string type) => conditions.Any(c => c?["type"]?.ToString() == type && c?["status"]?.ToString() == "True");
        return Has("Complete") ? "Complete" : Has("Failed") ? "Failed" : "Running";
    }

    private static string Abbreviate(string? mode) => mode switch
    {
        "ReadWriteOnce" => "RWO",
        "ReadOnlyMany" => "ROX",
        "ReadWriteMany" => "RWX",
        "ReadWriteOncePod" => "RWOP",
        _ => mode ?? "",
    };
}
