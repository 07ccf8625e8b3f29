using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using FleetFunctions.Simulator.Resources;

namespace FleetFunctions.Simulator.Api;

/// <summary>
/// kube-apiserver's update validation of immutable fields, with its wording (apimachinery
/// <c>ValidateImmutableField</c>: <c>Invalid value: &lt;Go %#v of the new value&gt;: field is immutable</c>):
/// apps/v1 Deployment, ReplicaSet and DaemonSet <c>spec.selector</c>; StatefulSet spec beyond the updatable fields;
/// Job <c>spec.selector</c> and <c>spec.template</c>; Service <c>spec.clusterIPs</c> once set; ConfigMap and Secret
/// contents once <c>immutable: true</c>; PersistentVolumeClaim spec beyond <c>resources.requests</c>.
/// </summary>
internal static class UpdateValidation
{
    private const string Immutable = "field is immutable";
    private const string ImmutableWhenSet = "field is immutable when `immutable` is set";

    /// <summary>StatefulSet spec fields an update may change (kube-apiserver 1.32).</summary>
    private static readonly string[] s_statefulSetUpdatable =
        ["replicas", "ordinals", "template", "updateStrategy", "revisionHistoryLimit", "persistentVolumeClaimRetentionPolicy", "minReadySeconds"];

    /// <summary>The causes an update from <paramref name="live"/> to <paramref name="next"/> is rejected with; empty when allowed.</summary>
    public static List<StatusCause> Validate(ResourceType type, JsonObject live, JsonObject next)
    {
        var causes = new List<StatusCause>();
        switch (type.Group, type.Kind)
        {
            case ("apps", "Deployment" or "ReplicaSet" or "DaemonSet"):
                ImmutableSelector(live, next, causes);
                break;
            case ("apps", "StatefulSet"):
                StatefulSet(live, next, causes);
                break;
            case ("batch", "Job"):
                ImmutableSelector(live, next, causes);
                if (!JsonNode.DeepEquals(live["spec"]?["template"], next["spec"]?["template"]))
                {
                    causes.Add(Invalid("spec.template", "core.PodTemplateSpec{...}", Immutable));
                }

                break;
            case ("", "Service"):
                ServiceClusterIps(live, next, causes);
                break;
            case ("", "ConfigMap"):
                ImmutableData(live, next, [("data", ["data"]), ("binaryData", ["binaryData"])], causes);
                break;
            case ("", "Secret"):
                ImmutableData(live, next, [("data", ["data", "stringData"])], causes);
                // kube-apiserver defaults an absent type to Opaque
                var newType = next["type"]?.ToString() ?? "Opaque";
                if ((live["type"]?.ToString() ?? "Opaque") != newType)
                {
                    causes.Add(Invalid("type", GoString(newType), Immutable));
                }

                break;
            case ("", "PersistentVolumeClaim"):
                PersistentVolumeClaim(live, next, causes);
                break;
        }

        return causes;
    }

    private static void ImmutableSelector(JsonObject live, JsonObject next, List<StatusCause> causes)
    {
        var selector = next["spec"]?["selector"];
        if (!JsonNode.DeepEquals(live["spec"]?["selector"], selector))
        {
            causes.Add(Invalid("spec.selector", GoLabelSelector(selector as JsonObject), Immutable));
        }
    }

    private static void StatefulSet(JsonObject live, JsonObject next, List<StatusCause> causes)
    {
        if (!JsonNode.DeepEquals(Without(live["spec"], s_statefulSetUpdatable), Without(next["spec"], s_statefulSetUpdatable)))
        {
            var fields = string.Join(", ", s_statefulSetUpdatable[..^1].Select(f => $"'{f}'"));
            causes.Add(Forbidden("spec", $"updates to statefulset spec for fields other than {fields} and '{s_statefulSetUpdatable[^1]}' are forbidden"));
        }
    }

    /// <summary>
    /// kube-apiserver's <c>validateUpgradeDowngradeClusterIPs</c>: the allocated IPs stay, except when the Service is
    /// or becomes ExternalName, or stays headless.
    /// </summary>
    private static void ServiceClusterIps(JsonObject live, JsonObject next, List<StatusCause> causes)
    {
        if (next["spec"]?["type"]?.ToString() == "ExternalName" || live["spec"]?["type"]?.ToString() == "ExternalName"
            || (live["spec"]?["clusterIP"]?.ToString() == "None" && next["spec"]?["clusterIP"]?.ToString() == "None"))
        {
            return;
        }

        var before = Strings(live["spec"]?["clusterIPs"]);
        var after = Strings(next["spec"]?["clusterIPs"]);
        if (before.Count > 0 && after.Count == 0)
        {
            causes.Add(Invalid("spec.clusterIPs[0]", GoStrings(after), "primary clusterIP can not be unset"));
            return;
        }

        for (var i = 0; i < Math.Min(before.Count, after.Count); i++)
        {
            if (before[i] != after[i])
            {
                causes.Add(Invalid($"spec.clusterIPs[{i}]", GoStrings(after), "may not change once set"));
            }
        }
    }

    /// <summary>
    /// <paramref name="contents"/>: the field named in the error and the stored fields it covers (a Secret's
    /// stringData is data to kube-apiserver, which converts it before validating).
    /// </summary>
    private static void ImmutableData(JsonObject live, JsonObject next, (string Field, string[] Stored)[] contents, List<StatusCause> causes)
    {
        if (live["immutable"]?.GetValueKind() != System.Text.Json.JsonValueKind.True)
        {
            return;
        }

        if (next["immutable"]?.GetValueKind() != System.Text.Json.JsonValueKind.True)
        {
            causes.Add(Forbidden("immutable", ImmutableWhenSet));
        }

        foreach (var (field, stored) in contents)
        {
            if (stored.Any(s => !JsonNode.DeepEquals(live[s], next[s])))
            {
                causes.Add(Forbidden(field, ImmutableWhenSet));
            }
        }
    }

    private static void PersistentVolumeClaim(JsonObject live, JsonObject next, List<StatusCause> causes)
    {
        var before = live["spec"]?.DeepClone() as JsonObject ?? [];
        var after = next["spec"]?.DeepClone() as JsonObject ?? [];
        foreach (var spec in (ReadOnlySpan<JsonObject>)[before, after])
        {
            spec.Remove("volumeAttributesClassName");
            if (live["status"]?["phase"]?.ToString() == "Bound" && spec["resources"]?["requests"] is JsonObject requests)
            {
                requests.Remove("storage");
            }
        }

        if (!before.ContainsKey("volumeName"))
        {
            after.Remove("volumeName");
        }

        if (!before.ContainsKey("storageClassName"))
        {
            after.Remove("storageClassName");
        }

        if (!JsonNode.DeepEquals(before, after))
        {
            causes.Add(Forbidden("spec", "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims"));
        }
    }

    private static StatusCause Invalid(string field, string goValue, string detail) =>
        new("FieldValueInvalid", $"Invalid value: {goValue}: {detail}", field);

    private static StatusCause Forbidden(string field, string detail) => new("FieldValueForbidden", $"Forbidden: {detail}", field);

    private static JsonObject? Without(JsonNode? spec, string[] fields)
    {
        if (spec?.DeepClone() is not JsonObject copy)
        {
            return null;
        }

        foreach (var field in fields)
        {
            copy.Remove(field);
        }

        return copy;
    }

    private static List<string> Strings(JsonNode? node) =>
        (node as JsonArray ?? []).Select(n => n?.ToString() ?? "").ToList();

    /// <summary>Go's <c>%#v</c> of a <c>metav1.LabelSelector</c>, as kube-apiserver prints the rejected value.</summary>
    internal static string GoLabelSelector(JsonObject? selector)
    {
        if (selector is null)
        {
            return "null";
        }

        var text = new StringBuilder("v1.LabelSelector{MatchLabels:");
        if (selector["matchLabels"] is JsonObject labels)
        {
            text.Append("map[string]string{")
                .AppendJoin(", ", labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{GoString(l.Key)}:{GoString(l.Value?.ToString() ?? "")}"))
                .Append('}');
        }
        else
        {
            text.Append("map[string]string(nil)");
        }

        text.Append(", MatchExpressions:");
        if (selector["matchExpressions"] is JsonArray expressions)
        {
            text.Append("[]v1.LabelSelectorRequirement{")
                .AppendJoin(", ", expressions.Select(e => string.Create(
                    CultureInfo.InvariantCulture,
                    $"v1.LabelSelectorRequirement{{Key:{GoString(e?["key"]?.ToString() ?? "")}, Operator:{GoString(e?["operator"]?.ToString() ?? "")}, Values:{GoStrings(Strings(e?["values"]), nilWhenEmpty: e?["values"] is null)}}}")))
                .Append('}');
        }
        else
        {
            text.Append("[]v1.LabelSelectorRequirement(nil)");
        }

        return text.Append('}').ToString();
    }

    private static string GoStrings(List<string> values, bool nilWhenEmpty = true) =>
        values.Count == 0 && nilWhenEmpty ? "[]string(nil)" : $"[]string{{{string.Join(", ", values.Select(GoString))}}}";

    private static string GoString(string value) =>
        "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}
