using System.Text.Json.Nodes;
using FleetFunctions.Simulator.Resources;

namespace FleetFunctions.Simulator.Api;

/// <summary>A cause inside a Kubernetes Status' details.</summary>
internal sealed record StatusCause(string Type, string Message, string Field);

/// <summary>
/// A request that fails with a Kubernetes <c>Status</c> body (kind Status, apiVersion v1, status Failure).
/// Constructed through the factory methods so reasons and codes match kube-apiserver's.
/// </summary>
internal sealed class ApiException(
    int code,
    string reason,
    string message,
    string? name = null,
    string? group = null,
    string? kind = null,
    IReadOnlyList<StatusCause>? causes = null) : Exception(message)
{
    public int Code { get; } = code;

    public string Reason { get; } = reason;

    public string? Name { get; } = name;

    public string? Group { get; } = group;

    public string? Kind { get; } = kind;

    public IReadOnlyList<StatusCause> Causes { get; } = causes ?? [];

    public static ApiException NotFound(ResourceType type, string name) =>
        new(404, "NotFound", $"{type.GroupResource} \"{name}\" not found", name, type.Group, type.Plural);

    public static ApiException NamespaceNotFound(string ns) =>
        new(404, "NotFound", $"namespaces \"{ns}\" not found", ns, "", "namespaces");

    /// <summary>
    /// 403 like kube-apiserver's NamespaceLifecycle admission for a create into a namespace being deleted: Forbidden with
    /// a <c>NamespaceTerminating</c> cause on <c>metadata.namespace</c>.
    /// </summary>
    public static ApiException NamespaceTerminating(ResourceType type, string name, string ns) =>
        new(403, "Forbidden", $"{type.GroupResource} \"{name}\" is forbidden: unable to create new content in namespace {ns} because it is being terminated",
            name, type.Group, type.Plural, [new StatusCause("NamespaceTerminating", $"namespace {ns} is being terminated", "metadata.namespace")]);

    public static ApiException NotFoundPath(string path) =>
        new(404, "NotFound", $"the server could not find the requested resource (path {path})");

    public static ApiException AlreadyExists(ResourceType type, string name) =>
        new(409, "AlreadyExists", $"{type.GroupResource} \"{name}\" already exists", name, type.Group, type.Plural);

    public static ApiException Conflict(ResourceType type, string name, string detail) =>
        new(409, "Conflict", $"Operation cannot be fulfilled on {type.GroupResource} \"{name}\": {detail}", name, type.Group, type.Plural);

    /// <summary>
    /// 422 like kube-apiserver's <c>errors.NewInvalid</c>: message <c>Deployment.apps "web" is invalid: spec.replicas: ...</c>
    /// (one error, or <c>[e1, e2]</c>), details name/group/kind, one cause per error whose message is the error body
    /// without the field (<c>Invalid value: 3: must be ...</c>) and whose field is the path.
    /// </summary>
    public static ApiException Invalid(ResourceType type, string name, IReadOnlyList<StatusCause> causes)
    {
        var kind = type.Group.Length == 0 ? type.Kind : $"{type.Kind}.{type.Group}";
        var errors = causes.Select(c => c.Field.Length == 0 ? c.Message : $"{c.Field}: {c.Message}").ToList();
        var text = errors.Count == 1 ? errors[0] : $"[{string.Join(", ", errors)}]";
        return new ApiException(422, "Invalid", $"{kind} \"{name}\" is invalid: {text}", name, type.Group, type.Kind, causes);
    }

    public static ApiException BadRequest(string message) => new(400, "BadRequest", message);

    public static ApiException MethodNotAllowed(string message) => new(405, "MethodNotAllowed", message);

    public static ApiException UnsupportedMediaType(string contentType) =>
        new(415, "UnsupportedMediaType", $"the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json (got \"{contentType}\")");

    public static ApiException Gone(string message) => new(410, "Expired", message);

    public static ApiException ServiceUnavailable(string message) => new(503, "ServiceUnavailable", message);

    /// <summary>
    /// The plain 500 (no reason) kube-apiserver 1.32 answers a server-side apply whose configuration the kind's schema
    /// cannot type (kubernetes/kubernetes#122480): <c>failed to create typed patch object (ns/name; apps/v1, Kind=Deployment): </c>
    /// then the problem as structured-merge-diff words it.
    /// </summary>
    public static ApiException TypedPatchFailed(ResourceType type, string ns, string name, string problem) =>
        new(500, string.Empty, $"failed to create typed patch object ({ns}/{name}; {type.Group}/{type.Version}, Kind={type.Kind}): {problem}");

    /// <summary>The Status body kube-apiserver sends for this error.</summary>
    public JsonObject ToStatus()
    {
        var status = new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Failure",
            ["message"] = Message,
        };
        if (Reason.Length > 0)
        {
            status["reason"] = Reason;
        }

        if (Name is not null || Kind is not null || Causes.Count > 0)
        {
            var details = new JsonObject();
            if (Name is not null)
            {
                details["name"] = Name;
            }

            if (!string.IsNullOrEmpty(Group))
            {
                details["group"] = Group;
            }

            if (Kind is not null)
            {
                details["kind"] = Kind;
            }

            if (Causes.Count > 0)
            {
                details["causes"] = new JsonArray(Causes.Select(c => (JsonNode)new JsonObject
                {
                    ["reason"] = c.Type,
                    ["message"] = c.Message,
                    ["field"] = c.Field,
                }).ToArray());
            }

            status["details"] = details;
        }

        status["code"] = Code;
        return status;
    }
}
