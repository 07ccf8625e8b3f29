using System.Text.Json.Nodes;
using FleetFunctions.Simulator.Resources;
using Microsoft.AspNetCore.Http;

namespace FleetFunctions.Simulator.Api;

/// <summary>The write verbs over HTTP: bodies, field manager, dryRun, force, response codes.</summary>
internal sealed partial class ApiHandler
{
    private async Task CreateAsync(HttpContext context, ResourceType type, string ns)
    {
        var body = await ReadObjectAsync(context);
        var result = backend.Create(type, ns, body, WriteOptionsOf(context, apply: false));
        await WriteObjectAsync(context, type, result.Object, 201);
    }

    private async Task ReplaceAsync(HttpContext context, ResourceType type, string ns, string name, string? subresource)
    {
        var body = await ReadObjectAsync(context);
        var result = backend.Replace(type, ns, name, body, subresource, WriteOptionsOf(context, apply: false));
        await WriteObjectAsync(context, type, result.Object, 200);
    }

    private async Task PatchAsync(HttpContext context, ResourceType type, string ns, string name, string? subresource)
    {
        var contentType = (context.Request.ContentType ?? "").Split(';')[0].Trim().ToLowerInvariant();
        if (contentType == PatchTypes.Apply)
        {
            var options = WriteOptionsOf(context, apply: true);
            var applied = await ReadBodyAsync(context) as JsonObject
                ?? throw ApiException.BadRequest($"{type.GroupResource} \"{name}\": the apply body must be a YAML or JSON object");
            var result = backend.ServerSideApply(type, ns, name, applied, subresource, options);
            await WriteObjectAsync(context, type, result.Object, result.Created ? 201 : 200);
            return;
        }

        if (contentType is not (PatchTypes.Json or PatchTypes.Merge or PatchTypes.Strategic))
        {
            throw ApiException.UnsupportedMediaType(contentType);
        }

        var patch = await ReadBodyAsync(context);
        var patched = backend.Patch(type, ns, name, contentType, patch, subresource, WriteOptionsOf(context, apply: false));
        await WriteObjectAsync(context, type, patched.Object, 200);
    }

    private async Task DeleteAsync(HttpContext context, ResourceType type, string ns, string name)
    {
        var (dryRun, propagationPolicy) = await DeleteOptionsAsync(context);
        var result = backend.Delete(type, ns, name, WriteOptionsOf(context, apply: false, dryRun), propagationPolicy);
        if (!result.Removed)
        {
            // as kube-apiserver: an object that finalizers (or content) keep is answered with its marked state
            await WriteObjectAsync(context, type, result.Object, 200);
            return;
        }

        var uid = result.Object.ToJsonObject()["metadata"]?["uid"]?.ToString();
        await WriteJsonAsync(context, new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Success",
            ["details"] = new JsonObject { ["name"] = name, ["group"] = type.Group, ["kind"] = type.Plural, ["uid"] = uid },
        });
    }

    private async Task DeleteCollectionAsync(HttpContext context, ResourceType type, string? ns)
    {
        var (labels, fields) = Selectors(context);
        var options = WriteOptionsOf(context, apply: false, (await DeleteOptionsAsync(context)).DryRun);
        var deleted = backend.DeleteCollection(type, ns, labels, fields, options);
        await WriteListAsync(context, type, deleted, deleted.Count == 0 ? 0 : deleted.Max(d => d.ResourceVersion));
    }

    /// <summary>dryRun and propagationPolicy of a DeleteOptions body, the query taking precedence for the policy.</summary>
    private static async Task<(bool DryRun, string? PropagationPolicy)> DeleteOptionsAsync(HttpContext context)
    {
        var body = await ReadBodyAsync(context);
        var dryRun = body?["dryRun"] is JsonArray list && list.Any(d => d?.ToString() == "All");
        string? policy = context.Request.Query["propagationPolicy"];
        policy = string.IsNullOrEmpty(policy) ? body?["propagationPolicy"]?.ToString() : policy;
        if (policy is not (null or "Orphan" or "Background" or "Foreground"))
        {
            throw ApiException.BadRequest($"propagationPolicy: Unsupported value: \"{policy}\": supported values: \"Foreground\", \"Background\", \"Orphan\"");
        }

        return (dryRun, policy);
    }

    private static async Task<JsonObject> ReadObjectAsync(HttpContext context) =>
        await ReadBodyAsync(context) as JsonObject ?? throw ApiException.BadRequest("the request body must be a JSON object");

    /// <summary>
    /// fieldManager (required for apply; otherwise derived from the user agent like kube-apiserver does),
    /// dryRun=All and force.
    /// </summary>
    private static WriteOptions WriteOptionsOf(HttpContext context, bool apply, bool dryRunFromBody = false)
    {
        var query = context.Request.Query;
        string? manager = query["fieldManager"];
        if (string.IsNullOrEmpty(manager))
        {
            if (apply)
            {
                throw ApiException.BadRequest("PATCH: fieldManager is required for apply requests");
            }

            var agent = context.Request.Headers.UserAgent.ToString();
            manager = agent.Split('/')[0];
            if (manager.Length == 0)
            {
                manager = "unknown";
            }
        }

        if (manager.Length > 128)
        {
            throw ApiException.BadRequest($"fieldManager: Too long: may not be more than 128 characters (got {manager.Length})");
        }

        var dryRun = query["dryRun"].Any(d => d == "All") || dryRunFromBody;
        if (query["dryRun"].Any(d => d is not ("All" or "")))
        {
            throw ApiException.BadRequest($"dryRun: Unsupported value: \"{query["dryRun"]}\": supported values: \"All\"");
        }

        var force = IsTrue(query["force"]);
        if (force && !apply)
        {
            throw ApiException.BadRequest("force: Invalid value: true: may not be specified for non-apply patch");
        }

        return new WriteOptions(manager, dryRun, force);
    }
}
