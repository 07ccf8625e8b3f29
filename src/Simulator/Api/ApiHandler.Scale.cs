using System.Text.Json.Nodes;
using FleetFunctions.Simulator.Patching;
using FleetFunctions.Simulator.Resources;
using FleetFunctions.Simulator.Store;
using Microsoft.AspNetCore.Http;

namespace FleetFunctions.Simulator.Api;

/// <summary>
/// The <c>scale</c> subresource of Deployments, StatefulSets and ReplicaSets (<c>kubectl scale</c>): an
/// autoscaling/v1 Scale view whose writes change <c>spec.replicas</c> of the object.
/// </summary>
internal sealed partial class ApiHandler
{
    private const string ScaleSubresource = "scale";

    private static bool HasScale(ResourceType type) =>
        type.Group == "apps" && type.Kind is "Deployment" or "StatefulSet" or "ReplicaSet";

    private async Task ScaleAsync(HttpContext context, ResourceType type, string ns, string name)
    {
        var method = context.Request.Method;
        if (method == "GET")
        {
            await WriteJsonAsync(context, Scale(backend.Get(type, ns, name)));
            return;
        }

        if (method is not ("PUT" or "PATCH"))
        {
            throw ApiException.MethodNotAllowed($"the server does not allow this method on the requested resource ({method} scale)");
        }

        var body = await ReadBodyAsync(context);
        JsonObject desired;
        if (method == "PUT")
        {
            desired = body as JsonObject ?? throw ApiException.BadRequest("the request body must be an autoscaling/v1 Scale object");
        }
        else
        {
            var contentType = (context.Request.ContentType ?? "").Split(';')[0].Trim().ToLowerInvariant();
            var current = Scale(backend.Get(type, ns, name));
            desired = contentType switch
            {
                PatchTypes.Merge or PatchTypes.Strategic => MergePatch.Apply(current, body),
                PatchTypes.Json => JsonPatch.Apply(current, body as JsonArray ?? throw ApiException.BadRequest("json patch: the body must be a JSON array of operations")),
                _ => throw ApiException.UnsupportedMediaType(contentType),
            } as JsonObject ?? throw ApiException.BadRequest("the patch must produce a Scale object");
        }

        if (desired["spec"]?["replicas"] is not JsonValue replicasValue || !replicasValue.TryGetValue<long>(out var replicas) || replicas < 0)
        {
            throw ApiException.Invalid(type, name, [new StatusCause("FieldValueInvalid", "Invalid value: must be a non-negative integer", "spec.replicas")]);
        }

        var patch = new JsonObject { ["spec"] = new JsonObject { ["replicas"] = replicas } };
        if (desired["metadata"]?["resourceVersion"]?.ToString() is { Length: > 0 } rv)
        {
            patch["metadata"] = new JsonObject { ["resourceVersion"] = rv };
        }

        var result = backend.Patch(type, ns, name, PatchTypes.Merge, patch, ScaleSubresource, WriteOptionsOf(context, apply: false));
        await WriteJsonAsync(context, Scale(result.Object));
    }

    /// <summary>The autoscaling/v1 Scale view of a workload.</summary>
    private static JsonObject Scale(StoredObject stored)
    {
        var obj = stored.ToJsonObject();
        var selector = obj["spec"]?["selector"]?["matchLabels"] as JsonObject ?? [];
        return new JsonObject
        {
            ["kind"] = "Scale",
            ["apiVersion"] = "autoscaling/v1",
            ["metadata"] = new JsonObject
            {
                ["name"] = obj["metadata"]?["name"]?.DeepClone(),
                ["namespace"] = obj["metadata"]?["namespace"]?.DeepClone(),
                ["uid"] = obj["metadata"]?["uid"]?.DeepClone(),
                ["resourceVersion"] = obj["metadata"]?["resourceVersion"]?.DeepClone(),
                ["creationTimestamp"] = obj["metadata"]?["creationTimestamp"]?.DeepClone(),
            },
            ["spec"] = new JsonObject { ["replicas"] = obj["spec"]?["replicas"]?.GetValue<long>() ?? 1 },
            ["status"] = new JsonObject
            {
                ["replicas"] = obj["status"]?["replicas"]?.GetValue<long>() ?? 0,
                ["selector"] = string.Join(",", selector.Select(p => $"{p.Key}={p.Value}")),
            },
        };
    }
}
