using System.Collections.Frozen;
using System.Text.Json;
using System.Text.Json.Nodes;
using k8s.Models;

namespace FleetFunctions.Core.Drift;

/// <summary>
/// The fields of built-in objects that kube-apiserver rewrites when it decodes them into their Go types and encodes them
/// back: resource quantities (canonical form) and non-pointer <c>omitempty</c> scalars (a zero value is not stored).
/// Fields are named by the field that encloses them (for list items: the list's field; <c>""</c> for top-level fields)
/// and their own name. A CustomResourceDefinition's schemas nest under property names of any spelling, so their fields
/// are known by name alone (<see cref="SchemaOmitEmpty"/>), and a CRD holds no quantities. One table for both sides: the
/// drift check (ServerForm) and the simulator's stored form, which links this file.
/// </summary>
internal static class TypedFields
{
    /// <summary>The kind whose schema fields are known by name alone (apiextensions.k8s.io, the only built-in kind of that name).</summary>
    public const string Definition = "CustomResourceDefinition";

    /// <summary>
    /// The API groups with a dot that kube-apiserver (with its built-in extension and aggregation servers) serves from Go
    /// types. Groups without a dot (apps, batch, autoscaling, policy) are all built in: a CRD's group must contain one.
    /// Every other group is a CRD's, whose objects are stored as sent, or an aggregated API server's.
    /// </summary>
    public static readonly FrozenSet<string> BuiltInGroups = new[]
    {
        "admissionregistration.k8s.io", "apiextensions.k8s.io", "apiregistration.k8s.io", "authentication.k8s.io",
        "authorization.k8s.io", "certificates.k8s.io", "coordination.k8s.io", "discovery.k8s.io", "events.k8s.io",
        "flowcontrol.apiserver.k8s.io", "internal.apiserver.k8s.io", "networking.k8s.io", "node.k8s.io",
        "rbac.authorization.k8s.io", "resource.k8s.io", "scheduling.k8s.io", "storage.k8s.io", "storagemigration.k8s.io",
    }.ToFrozenSet(StringComparer.Ordinal);

    /// <summary>Maps whose values are quantities, by field name.</summary>
    public static readonly HashSet<string> QuantityMaps = new(StringComparer.Ordinal)
    {
        "limits", "requests", "hard", "capacity", "allocatable", "overhead", "podFixed",
        "default", "defaultRequest", "min", "max", "maxLimitRequestRatio",
    };

    /// <summary>Single quantities: (enclosing field, field).</summary>
    public static readonly HashSet<(string Parent, string Field)> Quantities =
    [
        ("emptyDir", "sizeLimit"), ("target", "averageValue"), ("target", "value"),
    ];

    /// <summary>Non-pointer <c>omitempty</c> scalars: (enclosing field, field). Pointers (runAsUser, automountServiceAccountToken, ...) keep their zero.</summary>
    public static readonly HashSet<(string Parent, string Field)> OmitEmpty =
    [
        ("volumeMounts", "readOnly"), ("volumeMounts", "subPath"), ("volumeMounts", "subPathExpr"),
        ("env", "value"), ("tolerations", "value"),
        ("livenessProbe", "initialDelaySeconds"), ("readinessProbe", "initialDelaySeconds"), ("startupProbe", "initialDelaySeconds"),
        ("containers", "stdin"), ("containers", "stdinOnce"), ("containers", "tty"), ("containers", "workingDir"),
        ("initContainers", "stdin"), ("initContainers", "stdinOnce"), ("initContainers", "tty"), ("initContainers", "workingDir"),
        ("ports", "hostPort"), ("ports", "nodePort"),
        ("spec", "hostNetwork"), ("spec", "hostPID"), ("spec", "hostIPC"), ("spec", "minReadySeconds"), ("spec", "paused"),
        ("spec", "publishNotReadyAddresses"), ("spec", "nodeName"), ("spec", "serviceAccountName"),
        ("persistentVolumeClaim", "readOnly"), ("nfs", "readOnly"), ("csi", "readOnly"),
        // scheduling.k8s.io PriorityClass
        ("", "globalDefault"), ("", "description"),
        // rbac.authorization.k8s.io Subject (RoleBinding, ClusterRoleBinding)
        ("subjects", "apiGroup"), ("subjects", "namespace"),
        // admissionregistration.k8s.io webhooks and a CRD's conversion webhook ([]byte)
        ("clientConfig", "caBundle"),
        // admissionregistration.k8s.io ValidatingAdmissionPolicy
        ("validations", "message"), ("validations", "messageExpression"),
        // flowcontrol.apiserver.k8s.io FlowSchema
        ("resourceRules", "clusterScope"),
        // apiextensions.k8s.io CustomResourceDefinition
        ("spec", "preserveUnknownFields"), ("versions", "deprecated"),
        ("additionalPrinterColumns", "format"), ("additionalPrinterColumns", "description"), ("additionalPrinterColumns", "priority"),
        ("x-kubernetes-validations", "message"), ("x-kubernetes-validations", "messageExpression"), ("x-kubernetes-validations", "fieldPath"),
    ];

    /// <summary>Non-pointer <c>omitempty</c> scalars of a CRD's schemas (JSONSchemaProps), by name.</summary>
    public static readonly HashSet<string> SchemaOmitEmpty = new(StringComparer.Ordinal)
    {
        "id", "$schema", "description", "type", "format", "title", "pattern",
        "exclusiveMaximum", "exclusiveMinimum", "uniqueItems", "nullable", "x-kubernetes-embedded-resource", "x-kubernetes-int-or-string",
    };

    /// <summary>Maps of a CRD's schemas from names (property names, ...) to schemas: their keys are names, not schema fields.</summary>
    public static readonly HashSet<string> SchemaNameMaps = new(StringComparer.Ordinal) { "properties", "patternProperties", "definitions", "dependencies" };

    /// <summary>Fields of a CRD's schemas holding JSON stored verbatim: nothing inside them is rewritten.</summary>
    public static readonly HashSet<string> SchemaValues = new(StringComparer.Ordinal) { "default", "example", "enum" };

    /// <summary>Whether objects of <paramref name="group"/> are stored through Go types (<see cref="BuiltInGroups"/>).</summary>
    public static bool IsBuiltIn(string group) => !group.Contains('.', StringComparison.Ordinal) || BuiltInGroups.Contains(group);

    /// <summary>Whether <paramref name="field"/> (inside <paramref name="parent"/>) of a <paramref name="kind"/> is a non-pointer omitempty scalar.</summary>
    public static bool IsOmitEmpty(string kind, string parent, string field) =>
        OmitEmpty.Contains((parent, field)) || (kind == Definition && SchemaOmitEmpty.Contains(field));

    /// <summary>Whether <paramref name="field"/> (inside <paramref name="parent"/>) of a <paramref name="kind"/> holds a resource quantity.</summary>
    public static bool IsQuantity(string kind, string parent, string field) =>
        kind != Definition && (QuantityMaps.Contains(parent) || Quantities.Contains((parent, field)));

    /// <summary>Whether <paramref name="value"/> is the zero value of an omitempty field (false, 0, empty string).</summary>
    public static bool IsZero(JsonValue value) => value.GetValueKind() switch
    {
        JsonValueKind.False => true,
        JsonValueKind.Number => value.TryGetValue<decimal>(out var number) ? number == 0 : value.ToJsonString() == "0",
        JsonValueKind.String => value.GetValue<string>().Length == 0,
        _ => false,
    };

    /// <summary>The quantity <paramref name="value"/> holds (<c>0.5</c>, <c>"500m"</c>), or null when it holds none; resource quantities are never negative.</summary>
    public static ResourceQuantity? Quantity(JsonValue value)
    {
        var text = value.GetValueKind() switch
        {
            JsonValueKind.String => value.GetValue<string>(),
            JsonValueKind.Number => value.ToJsonString(),
            _ => null,
        };
        if (string.IsNullOrWhiteSpace(text) || text.StartsWith('-'))
        {
            return null;
        }

        try
        {
            return new ResourceQuantity(text);
        }
        catch (Exception e) when (e is FormatException or OverflowException or ArgumentException)
        {
            return null;
        }
    }
}
