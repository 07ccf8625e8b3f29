using System.Net;
using FleetFunctions.Core.Manifests;

namespace FleetFunctions.Core.Clusters;

/// <summary>
/// The API server rejected a request. The message starts with <c>cluster/Kind/namespace/name</c>.
/// Subclasses exist only where callers branch: conflict, immutable field, invalid, not found.
/// Built in one place (<see cref="KubernetesStatus.ToException"/>) from the Kubernetes Status body.
/// </summary>
public class KubernetesApiException : Exception
{
    public KubernetesApiException(string message, string cluster, ObjectReference? target, HttpStatusCode statusCode, string reason)
        : base(message)
    {
        Cluster = cluster;
        Target = target;
        StatusCode = statusCode;
        Reason = reason;
        IsTransient = statusCode is HttpStatusCode.TooManyRequests || (int)statusCode >= 500;
    }

    public KubernetesApiException()
        : this("Kubernetes API error", string.Empty, null, 0, string.Empty)
    {
    }

    public KubernetesApiException(string message)
        : this(message, string.Empty, null, 0, string.Empty)
    {
    }

    public KubernetesApiException(string message, Exception innerException)
        : base(message, innerException)
    {
        Cluster = string.Empty;
        Reason = string.Empty;
    }

    public string Cluster { get; }

    public ObjectReference? Target { get; }

    public HttpStatusCode StatusCode { get; }

    /// <summary>The Status reason (<c>Conflict</c>, <c>Invalid</c>, <c>NotFound</c>, ...).</summary>
    public string Reason { get; }

    /// <summary>True for trouble that passes by itself, worth retrying: throttling (429), server errors (5xx), a namespace being terminated.</summary>
    public bool IsTransient { get; init; }
}

/// <summary>A field involved in a server-side apply conflict and the manager that owns it.</summary>
public sealed record FieldConflict(string Manager, string Field);

/// <summary>Server-side apply conflicts: other field managers own fields this apply sets. Use force to take ownership.</summary>
public sealed class FieldConflictException(string message, string cluster, ObjectReference? target, IReadOnlyList<FieldConflict> conflicts)
    : KubernetesApiException(message, cluster, target, HttpStatusCode.Conflict, "Conflict")
{
    public IReadOnlyList<FieldConflict> Conflicts { get; } = conflicts;
}

/// <summary>The object is invalid (422). <see cref="Causes"/> are the API server's field messages.</summary>
public class InvalidObjectException(string message, string cluster, ObjectReference? target, IReadOnlyList<string> causes)
    : KubernetesApiException(message, cluster, target, HttpStatusCode.UnprocessableEntity, "Invalid")
{
    public IReadOnlyList<string> Causes { get; } = causes;
}

/// <summary>
/// An immutable field (a Deployment's selector, a Service's cluster IP, an immutable ConfigMap's data) was changed;
/// the object must be recreated. <see cref="Fields"/> are the refused field paths (<c>spec.selector</c>).
/// </summary>
public sealed class ImmutableFieldException(string message, string cluster, ObjectReference? target, IReadOnlyList<string> causes, IReadOnlyList<string> fields)
    : InvalidObjectException(message, cluster, target, causes)
{
    public IReadOnlyList<string> Fields { get; } = fields;
}

/// <summary>The object (or its namespace) does not exist.</summary>
public sealed class ObjectNotFoundException(string message, string cluster, ObjectReference? target)
    : KubernetesApiException(message, cluster, target, HttpStatusCode.NotFound, "NotFound");

/// <summary>The cluster does not serve the object's apiVersion and kind (a CRD is missing).</summary>
public sealed class UnknownKindException(string message, string cluster, ObjectReference? target)
    : KubernetesApiException(message, cluster, target, HttpStatusCode.NotFound, "NotFound");

/// <summary>The cluster could not be reached (connection refused, DNS, TLS, timeout). Transient.</summary>
public sealed class ClusterUnreachableException : Exception
{
    public ClusterUnreachableException(string cluster, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Cluster = cluster;
    }

    public ClusterUnreachableException()
        : this(string.Empty, "cluster unreachable")
    {
    }

    public ClusterUnreachableException(string message)
        : this(string.Empty, message)
    {
    }

    public ClusterUnreachableException(string message, Exception innerException)
        : this(string.Empty, message, innerException)
    {
    }

    public string Cluster { get; }
}
