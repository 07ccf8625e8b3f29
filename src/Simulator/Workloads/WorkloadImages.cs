using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace FleetFunctions.Simulator.Workloads;

/// <summary>Reads what a workload runs: the pod template, its images and a stable template hash.</summary>
internal static class WorkloadImages
{
    private static readonly string[] s_containerLists = ["initContainers", "containers"];

    /// <summary>The pod spec of a workload (spec.template.spec) or of a Pod itself (spec).</summary>
    public static JsonObject? PodSpec(JsonObject obj) =>
        obj["kind"]?.ToString() == "Pod" ? obj["spec"] as JsonObject : obj["spec"]?["template"]?["spec"] as JsonObject;

    public static IEnumerable<string> Images(JsonObject obj)
    {
        var spec = PodSpec(obj);
        foreach (var list in s_containerLists)
        {
            foreach (var container in spec?[list] as JsonArray ?? [])
            {
                if (container?["image"]?.ToString() is { Length: > 0 } image)
                {
                    yield return image;
                }
            }
        }
    }

    /// <summary>The first container whose image matches, for messages.</summary>
    public static string? FirstContainerMatching(JsonObject obj, System.Text.RegularExpressions.Regex pattern)
    {
        var spec = PodSpec(obj);
        return (spec?["containers"] as JsonArray ?? []).FirstOrDefault(c => c?["image"]?.ToString() is { } image && pattern.IsMatch(image))?["name"]?.ToString();
    }

    /// <summary>A pod-template-hash-like suffix, stable for the same template.</summary>
    public static string TemplateHash(JsonObject obj)
    {
        var template = obj["spec"]?["template"]?.ToJsonString() ?? "";
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(template));
        return Convert.ToHexStringLower(hash)[..10];
    }
}
