using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace FleetFunctions.Simulator.Api;

/// <summary>
/// /version, legacy discovery (/api, /apis, group and resource lists) and the OpenAPI stubs kubectl needs.
/// Aggregated discovery requests get the legacy format; clients fall back to it.
/// </summary>
internal sealed partial class ApiHandler
{
    private static JsonObject VersionInfo() => new()
    {
        ["major"] = "1",
        ["minor"] = "32",
        ["gitVersion"] = "v1.32.0",
        ["gitCommit"] = "fleet-simulator",
        ["gitTreeState"] = "clean",
        ["buildDate"] = "2024-12-11T00:00:00Z",
        ["goVersion"] = "go1.23.3",
        ["compiler"] = "gc",
        ["platform"] = "linux/amd64",
    };

    private static JsonObject CoreVersions(HttpContext context) => new()
    {
        ["kind"] = "APIVersions",
        ["versions"] = new JsonArray("v1"),
        ["serverAddressByClientCIDRs"] = new JsonArray(new JsonObject
        {
            ["clientCIDR"] = "0.0.0.0/0",
            ["serverAddress"] = $"{context.Connection.LocalIpAddress}:{context.Connection.LocalPort}",
        }),
    };

    private JsonObject GroupList() => new()
    {
        ["kind"] = "APIGroupList",
        ["apiVersion"] = "v1",
        ["groups"] = new JsonArray(backend.Registry.Current.GroupVersions
            .Where(g => g.Group.Length > 0)
            .Select(g => (JsonNode)GroupObject(g.Group, g.Versions, withKind: false))
            .ToArray()),
    };

    private JsonObject? Group(string group)
    {
        var versions = backend.Registry.Current.GroupVersions.FirstOrDefault(g => g.Group == group).Versions;
        return versions is null || group.Length == 0 ? null : GroupObject(group, versions, withKind: true);
    }

    private static JsonObject GroupObject(string group, IReadOnlyList<string> versions, bool withKind)
    {
        JsonObject Version(string v) => new() { ["groupVersion"] = $"{group}/{v}", ["version"] = v };
        var result = new JsonObject();
        if (withKind)
        {
            result["kind"] = "APIGroup";
            result["apiVersion"] = "v1";
        }

        result["name"] = group;
        result["versions"] = new JsonArray(versions.Select(v => (JsonNode)Version(v)).ToArray());
        result["preferredVersion"] = Version(versions[0]);
        return result;
    }

    private JsonObject ResourceList(string group, string version)
    {
        var resources = new JsonArray();
        foreach (var type in backend.Registry.Current.All.Where(t => t.Group == group && t.Version == version))
        {
            var resource = new JsonObject
            {
                ["name"] = type.Plural,
                ["singularName"] = type.Singular,
                ["namespaced"] = type.Namespaced,
                ["kind"] = type.Kind,
                ["verbs"] = new JsonArray(Resources.ResourceType.Verbs.Select(v => (JsonNode)JsonValue.Create(v)).ToArray()),
            };
            if (type.ShortNames is { Count: > 0 })
            {
                resource["shortNames"] = new JsonArray(type.ShortNames.Select(s => (JsonNode)JsonValue.Create(s)).ToArray());
            }

            if (type.Categories is { Count: > 0 })
            {
                resource["categories"] = new JsonArray(type.Categories.Select(s => (JsonNode)JsonValue.Create(s)).ToArray());
            }

            resources.Add(resource);
            if (HasScale(type))
            {
                resources.Add(new JsonObject
                {
                    ["name"] = $"{type.Plural}/scale",
                    ["singularName"] = "",
                    ["namespaced"] = type.Namespaced,
                    ["group"] = "autoscaling",
                    ["version"] = "v1",
                    ["kind"] = "Scale",
                    ["verbs"] = new JsonArray("get", "patch", "update"),
                });
            }

            if (type.HasStatus)
            {
                resources.Add(new JsonObject
                {
                    ["name"] = $"{type.Plural}/status",
                    ["singularName"] = "",
                    ["namespaced"] = type.Namespaced,
                    ["kind"] = type.Kind,
                    ["verbs"] = new JsonArray("get", "patch", "update"),
                });
            }
        }

        return new JsonObject
        {
            ["kind"] = "APIResourceList",
            ["apiVersion"] = "v1",
            ["groupVersion"] = group.Length == 0 ? version : $"{group}/{version}",
            ["resources"] = resources,
        };
    }

    /// <summary>
    /// <c>/openapi/v3</c> answers an empty path list, <c>/openapi/v2</c> an empty protobuf document: kubectl then
    /// validates nothing client-side and applies.
    /// </summary>
    private static Task OpenApiAsync(HttpContext context, string[] segments)
    {
        if (segments.Length == 2 && segments[1] == "v3")
        {
            return WriteJsonAsync(context, new JsonObject { ["paths"] = new JsonObject() });
        }

        if (segments.Length == 2 && segments[1] == "v2")
        {
            var accept = context.Request.Headers.Accept.ToString();
            if (accept.Contains("protobuf", StringComparison.Ordinal) || !accept.Contains("json", StringComparison.Ordinal))
            {
                context.Response.StatusCode = 200;
                context.Response.ContentType = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";
                return Task.CompletedTask;
            }

            return WriteJsonAsync(context, new JsonObject
            {
                ["swagger"] = "2.0",
                ["info"] = new JsonObject { ["title"] = "Kubernetes", ["version"] = "v1.32.0" },
                ["paths"] = new JsonObject(),
            });
        }

        throw ApiException.NotFoundPath(context.Request.Path.Value ?? "/openapi");
    }
}
