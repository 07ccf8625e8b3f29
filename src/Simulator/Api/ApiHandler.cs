using System.Text.Json;
using System.Text.Json.Nodes;
using FleetFunctions.Simulator.Resources;
using FleetFunctions.Simulator.Selectors;
using FleetFunctions.Simulator.Serialization;
using FleetFunctions.Simulator.Store;
using Microsoft.AspNetCore.Http;

namespace FleetFunctions.Simulator.Api;

/// <summary>The Kubernetes REST API of one cluster over HTTP: routing, discovery, reads, watches and writes.</summary>
internal sealed partial class ApiHandler(ClusterBackend backend)
{
    private const string JsonContentType = "application/json";

    public async Task HandleAsync(HttpContext context)
    {
        try
        {
            await DispatchAsync(context);
        }
        catch (ApiException ex)
        {
            await WriteStatusAsync(context, ex);
        }
        catch (FormatException ex)
        {
            await WriteStatusAsync(context, ApiException.BadRequest(ex.Message));
        }
        catch (JsonException ex)
        {
            await WriteStatusAsync(context, ApiException.BadRequest($"invalid JSON in request body: {ex.Message}"));
        }
        catch (InvalidOperationException ex)
        {
            // a body of the wrong JSON shape (e.g. a string where an object is expected) or a simulator defect:
            // answer like kube-apiserver's InternalError, naming the request, instead of dropping the connection
            await WriteStatusAsync(context, new ApiException(500, "InternalError", $"Internal error occurred: {context.Request.Method} {context.Request.Path}: {ex.Message}"));
        }
    }

    public static async Task WriteStatusAsync(HttpContext context, ApiException error)
    {
        if (context.Response.HasStarted)
        {
            return;
        }

        var json = JsonSerializer.SerializeToUtf8Bytes(error.ToStatus(), JsonDefaults.Options);
        context.Response.StatusCode = error.Code;
        context.Response.ContentType = JsonContentType;
        context.Response.ContentLength = json.Length;
        await context.Response.Body.WriteAsync(json, context.RequestAborted);
    }

    private Task DispatchAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "/";
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segments.Length == 0)
        {
            return WriteJsonAsync(context, new JsonObject { ["paths"] = new JsonArray("/api", "/apis", "/version", "/openapi/v2", "/openapi/v3", "/metrics") });
        }

        switch (segments[0])
        {
            case "version":
                return WriteJsonAsync(context, VersionInfo());
            case "healthz" or "livez" or "readyz":
                context.Response.ContentType = "text/plain";
                return context.Response.WriteAsync("ok");
            case "openapi":
                return OpenApiAsync(context, segments);
            case "api" when segments.Length == 1:
                return WriteJsonAsync(context, CoreVersions(context));
            case "api" when segments.Length == 2 && segments[1] == "v1":
                return WriteJsonAsync(context, ResourceList("", "v1"));
            case "api" when segments.Length > 2 && segments[1] == "v1":
                return ResourceAsync(context, ApiRequest.Parse("", "v1", segments.AsSpan(2)), path);
            case "apis" when segments.Length == 1:
                return WriteJsonAsync(context, GroupList());
            case "apis" when segments.Length == 2:
                return WriteJsonAsync(context, Group(segments[1]) ?? throw ApiException.NotFoundPath(path));
            case "apis" when segments.Length == 3:
                return WriteJsonAsync(context, backend.Registry.Current.HasGroupVersion(segments[1], segments[2])
                    ? ResourceList(segments[1], segments[2])
                    : throw ApiException.NotFoundPath(path));
            case "apis":
                return ResourceAsync(context, ApiRequest.Parse(segments[1], segments[2], segments.AsSpan(3)), path);
            default:
                throw ApiException.NotFoundPath(path);
        }
    }

    private Task ResourceAsync(HttpContext context, ApiRequest? request, string path)
    {
        if (request is null)
        {
            throw ApiException.NotFoundPath(path);
        }

        var type = backend.Registry.Current.Find(request.Group, request.Version, request.Plural)
            ?? throw ApiException.NotFoundPath(path);
        if (request.Subresource == ScaleSubresource && HasScale(type) && request.Name is not null && !request.WatchPath)
        {
            return ScaleAsync(context, type, request.Namespace ?? "", request.Name);
        }

        if (request.Subresource is not null && (request.Subresource != "status" || !type.HasStatus))
        {
            throw ApiException.NotFoundPath(path);
        }

        if (request.Namespace is not null && !type.Namespaced)
        {
            throw ApiException.NotFoundPath(path);
        }

        var ns = request.Namespace ?? "";
        var query = context.Request.Query;
        var method = context.Request.Method;
        if (request.WatchPath || (method == "GET" && request.Name is null && IsTrue(query["watch"])))
        {
            return WatchAsync(context, type, request);
        }

        return (method, request.Name) switch
        {
            ("GET", null) => ListAsync(context, type, request.Namespace),
            ("GET", { } name) => GetAsync(context, type, ns, name),
            ("POST", null) => CreateAsync(context, type, ns),
            ("PUT", { } name) => ReplaceAsync(context, type, ns, name, request.Subresource),
            ("PATCH", { } name) => PatchAsync(context, type, ns, name, request.Subresource),
            ("DELETE", { } name) => DeleteAsync(context, type, ns, name),
            ("DELETE", null) => DeleteCollectionAsync(context, type, request.Namespace),
            _ => throw ApiException.MethodNotAllowed($"the server does not allow this method on the requested resource ({method} {path})"),
        };
    }

    private Task ListAsync(HttpContext context, ResourceType type, string? ns)
    {
        var (labels, fields) = Selectors(context);
        var (items, rv) = backend.List(type, ns, labels, fields);
        var page = ListPage.Cut(items, context.Request.Query["limit"], context.Request.Query["continue"], rv);
        if (WantsTable(context))
        {
            var table = Table(context, type, page.Items, rv);
            page.Annotate(table["metadata"]!.AsObject());
            return WriteJsonAsync(context, table);
        }

        return WriteListAsync(context, type, page.Items, rv, page);
    }

    private Task GetAsync(HttpContext context, ResourceType type, string ns, string name)
    {
        var obj = backend.Get(type, ns, name);
        return WantsTable(context)
            ? WriteJsonAsync(context, Table(context, type, [obj], obj.ResourceVersion))
            : WriteObjectAsync(context, type, obj, 200);
    }

    private static async Task WriteListAsync(HttpContext context, ResourceType type, IReadOnlyList<StoredObject> items, long rv, ListPage? page = null)
    {
        context.Response.StatusCode = 200;
        context.Response.ContentType = JsonContentType;
        await using (var writer = new Utf8JsonWriter(context.Response.BodyWriter, JsonDefaults.Writer))
        {
            writer.WriteStartObject();
            writer.WriteString("kind", type.ListKind);
            writer.WriteString("apiVersion", type.ApiVersion);
            writer.WriteStartObject("metadata");
            writer.WriteString("resourceVersion", rv.ToString(System.Globalization.CultureInfo.InvariantCulture));
            if (page?.Continue is { } token)
            {
                writer.WriteString("continue", token);
                writer.WriteNumber("remainingItemCount", page.Remaining);
            }

            writer.WriteEndObject();
            writer.WriteStartArray("items");
            foreach (var item in items)
            {
                writer.WriteRawValue(ForVersion(type, item), skipInputValidation: true);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        await context.Response.BodyWriter.FlushAsync(context.RequestAborted);
    }

    private static async Task WriteObjectAsync(HttpContext context, ResourceType type, StoredObject obj, int code)
    {
        var json = ForVersion(type, obj);
        context.Response.StatusCode = code;
        context.Response.ContentType = JsonContentType;
        context.Response.ContentLength = json.Length;
        await context.Response.Body.WriteAsync(json, context.RequestAborted);
    }

    /// <summary>The stored JSON, with apiVersion rewritten when a CRD object is read through another served version.</summary>
    private static byte[] ForVersion(ResourceType type, StoredObject obj)
    {
        if (obj.ApiVersion == type.ApiVersion)
        {
            return obj.Json;
        }

        var json = obj.ToJsonObject();
        json["apiVersion"] = type.ApiVersion;
        return JsonSerializer.SerializeToUtf8Bytes(json, JsonDefaults.Options);
    }

    private static async Task WriteJsonAsync(HttpContext context, JsonNode node, int code = 200)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(node, JsonDefaults.Options);
        context.Response.StatusCode = code;
        context.Response.ContentType = JsonContentType;
        context.Response.ContentLength = json.Length;
        await context.Response.Body.WriteAsync(json, context.RequestAborted);
    }

    private static (LabelSelector Labels, FieldSelector Fields) Selectors(HttpContext context) =>
        (LabelSelector.Parse(context.Request.Query["labelSelector"]), FieldSelector.Parse(context.Request.Query["fieldSelector"]));

    private static bool IsTrue(string? value) => value is "1" or "true" or "True";

    private static async Task<JsonNode?> ReadBodyAsync(HttpContext context)
    {
        var body = await ReadBytesAsync(context);
        if (body.Length == 0)
        {
            return null;
        }

        var contentType = context.Request.ContentType ?? "";
        if (contentType.Contains("protobuf", StringComparison.OrdinalIgnoreCase))
        {
            return ProtobufBody.TryDecode(body.Span)
                ?? throw new ApiException(415, "UnsupportedMediaType", $"the body of the request was in an unknown format - accepted media types include: application/json, application/yaml; protobuf only for core/v1 Namespace, ConfigMap, Secret and ServiceAccount (got \"{contentType}\")");
        }

        if (contentType.Contains("cbor", StringComparison.OrdinalIgnoreCase))
        {
            throw new ApiException(415, "UnsupportedMediaType", $"the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (got \"{contentType}\")");
        }

        return contentType.Contains("yaml", StringComparison.OrdinalIgnoreCase)
            ? YamlJson.Parse(body.Span)
            : JsonNode.Parse(body.Span);
    }

    /// <summary>The whole request body: one exact-size read when the client sent Content-Length, else copied as it comes.</summary>
    private static async Task<ReadOnlyMemory<byte>> ReadBytesAsync(HttpContext context)
    {
        if (context.Request.ContentLength is { } length and <= int.MaxValue)
        {
            var exact = new byte[length];
            await context.Request.Body.ReadExactlyAsync(exact, context.RequestAborted);
            return exact;
        }

        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        return buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
    }
}
