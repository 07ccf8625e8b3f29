using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using FleetFunctions.Core.Manifests;

namespace FleetFunctions.Core.Clusters;

/// <summary>Turns a failed response (a Kubernetes <c>Status</c> body) into the typed exception callers branch on. The only place that parses Status.</summary>
public static partial class KubernetesStatus
{
    /// <summary>The Status cause type of a create refused in a namespace being deleted (<c>v1.NamespaceTerminatingCause</c>).</summary>
    private const string NamespaceTerminatingCause = "NamespaceTerminating";

    /// <summary>How kube-apiserver's structured merge words an applied configuration that does not fit the schema.</summary>
    private const string TypedPatchFailure = "failed to create typed patch object";

    /// <summary>Builds the exception for a non-success response.</summary>
    public static KubernetesApiException ToException(string cluster, ObjectReference? target, HttpStatusCode statusCode, string body)
    {
        JsonObject? status = null;
        try
        {
            status = JsonNode.Parse(body) as JsonObject;
        }
        catch (JsonException)
        {
            // Not a Status body (a proxy error page): fall back to the raw text.
        }

        var reason = status?.GetString("reason") ?? statusCode.ToString();
        var text = body.Trim();
        var message = status?.GetString("message") ?? (text.Length > 300 ? text[..300] : text);
        var causes = (status?.At("details.causes") as JsonArray ?? [])
            .OfType<JsonObject>()
            .Select(c => (Type: c.GetString("reason") ?? string.Empty, Message: c.GetString("message") ?? string.Empty, Field: c.GetString("field") ?? string.Empty))
            .ToList();
        var subject = target is { } t ? t.On(cluster) : cluster;

        if (statusCode == HttpStatusCode.Conflict && causes.Any(c => c.Type == "FieldManagerConflict"))
        {
            var conflicts = causes
                .Where(c => c.Type == "FieldManagerConflict")
                .Select(c => new FieldConflict(ManagerPattern().Match(c.Message) is { Success: true } m ? m.Groups[1].Value : c.Message, c.Field))
                .ToList();
            var described = string.Join("; ", conflicts.GroupBy(c => c.Manager).Select(g => $"{g.Key} owns {string.Join(", ", g.Select(c => c.Field))}"));
            return new FieldConflictException(
                $"{subject}: field manager conflict: {described}; remove these fields from Git, make the other manager stop setting them, or set force on the fleet to take ownership.",
                cluster, target, conflicts);
        }

        // A server-side apply that does not fit the kind's schema (an unknown field, two items with one key in a keyed list)
        // is answered with a plain 500 up to 1.32 at least (kubernetes/kubernetes#122480): the object is invalid, a retry
        // cannot help. The message names the object again, then the problem (several: "errors:" and one line each).
        if (message.StartsWith(TypedPatchFailure, StringComparison.Ordinal))
        {
            var problem = message.IndexOf("): ", StringComparison.Ordinal) is var at and >= 0 ? message[(at + 3)..] : message;
            IReadOnlyList<string> problems = [.. problem.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Where(p => p != "errors:")];
            return new InvalidObjectException($"{subject}: invalid object: {string.Join("; ", problems)}; fix the manifest in Git.", cluster, target, problems);
        }

        if (statusCode == HttpStatusCode.UnprocessableEntity || reason == "Invalid")
        {
            if (causes.Count == 0)
            {
                causes.Add((string.Empty, message, string.Empty));
            }

            var texts = causes.Select(c => c.Field.Length > 0 && !c.Message.StartsWith(c.Field, StringComparison.Ordinal) ? $"{c.Field}: {c.Message}" : c.Message).ToList();

            // only when every cause is an update-only restriction does deleting and recreating the object help
            if (causes.All(c => IsUpdateOnly(c.Message)))
            {
                var fields = causes.Select(c => c.Field.Length > 0 ? c.Field : "(object)").Distinct().ToList();
                return new ImmutableFieldException(
                    $"{subject}: immutable field changed: {string.Join("; ", texts)}; revert {string.Join(", ", fields)} in Git, or set recreate: true on the fleet to delete and recreate the object.",
                    cluster, target, texts, fields);
            }

            return new InvalidObjectException($"{subject}: invalid object: {string.Join("; ", texts)}; fix the manifest in Git.", cluster, target, texts);
        }

        if (statusCode == HttpStatusCode.NotFound)
        {
            return new ObjectNotFoundException($"{subject}: not found: {message}", cluster, target);
        }

        // NamespaceLifecycle admission refuses new objects in a namespace being deleted (403 with a NamespaceTerminating
        // cause); once the namespace is gone, the same apply creates it again.
        if (statusCode == HttpStatusCode.Forbidden && (causes.Any(c => c.Type == NamespaceTerminatingCause) || TerminatingPattern().IsMatch(message)))
        {
            var ns = TerminatingPattern().Match(message) is { Success: true } m ? m.Groups[1].Value : target?.Namespace ?? string.Empty;
            return new KubernetesApiException(
                $"{subject}: namespace {ns} is being terminated; the reconcile will be retried once it is gone " +
                $"(if it stays Terminating, look at what holds it: kubectl get namespace {ns} -o yaml).",
                cluster, target, statusCode, reason) { IsTransient = true };
        }

        var advice = statusCode switch
        {
            HttpStatusCode.Unauthorized => "check the cluster's credentials (token expired or wrong)",
            HttpStatusCode.Forbidden => "grant the controller's identity the needed RBAC permissions on the cluster",
            HttpStatusCode.TooManyRequests => "the API server is throttling; the reconcile will be retried",
            >= HttpStatusCode.InternalServerError => "the API server failed; the reconcile will be retried",
            _ => "check the manifest and the cluster",
        };
        return new KubernetesApiException($"{subject}: {(int)statusCode} {reason}: {message}; {advice}.", cluster, target, statusCode, reason);
    }

    /// <summary>
    /// kube-apiserver's wording of changes it refuses on update but accepts on create: immutable fields
    /// (<c>ValidateImmutableField</c>), Service cluster IPs, StatefulSet and Pod spec, PVC/PV spec, RoleBinding roleRef,
    /// StorageClass provisioner and parameters, PriorityClass value.
    /// </summary>
    private static readonly string[] s_updateOnlyPhrases =
    [
        "field is immutable",
        "may not change once set",
        "can not be unset",
        "is immutable after creation",
        "updates to statefulset spec for fields other than",
        "pod updates may not change fields other than",
        "may not be changed in an update",
        "cannot change roleRef",
        "updates to provisioner are forbidden",
        "updates to parameters are forbidden",
    ];

    private static bool IsUpdateOnly(string causeMessage) =>
        s_updateOnlyPhrases.Any(p => causeMessage.Contains(p, StringComparison.Ordinal));

    [GeneratedRegex("conflict with \"([^\"]+)\"")]
    private static partial Regex ManagerPattern();

    /// <summary>kube-apiserver's NamespaceLifecycle admission: <c>unable to create new content in namespace X because it is being terminated</c>.</summary>
    [GeneratedRegex("unable to create new content in namespace (\\S+) because it is being terminated")]
    private static partial Regex TerminatingPattern();
}
