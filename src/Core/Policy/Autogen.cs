using System.Text.Json.Nodes;

namespace FleetFunctions.Core.Policy;

/// <summary>
/// Kyverno's auto-generated rules for Pod controllers: a rule written for Pods is copied as <c>autogen-NAME</c>
/// for DaemonSet, Deployment, Job, StatefulSet, ReplicaSet and ReplicationController (pod template under
/// <c>spec.template</c>) and as <c>autogen-cronjob-NAME</c> for CronJob (<c>spec.jobTemplate.spec.template</c>),
/// unless the policy's <c>pod-policies.kyverno.io/autogen-controllers</c> annotation says otherwise or a rule
/// matches by name, selector or annotations, or mixes Pods with other kinds, or the policy generates or mutates with
/// <c>patchesJson6902</c>.
/// </summary>
internal static partial class Autogen
{
    public const string ControllersAnnotation = "pod-policies.kyverno.io/autogen-controllers";

    public static List<JsonObject> Expand(JsonObject policy, IReadOnlyList<JsonObject> rules)
    {
        var result = new List<JsonObject>(rules);
        var controllers = Controllers(policy);
        if (controllers.Count == 0 || !rules.All(CanAutogen))
        {
            return result;
        }

        var podControllers = controllers.Where(c => c != "CronJob").ToList();
        var cronJob = controllers.Contains("CronJob");
        foreach (var rule in rules)
        {
            if (!MatchesPod(rule) || rule["validate"] is not JsonObject)
            {
                continue;
            }

            var name = JsonUtil.GetString(rule, "name") ?? "";
            if (podControllers.Count > 0)
            {
                result.Add(Generate(rule, "autogen-" + name, podControllers, PodTemplates.ControllerTemplate));
            }

            if (cronJob)
            {
                result.Add(Generate(rule, "autogen-cronjob-" + name, ["CronJob"], PodTemplates.TemplatePath("CronJob")!));
            }
        }

        return result;
    }

    private static List<string> Controllers(JsonObject policy)
    {
        var annotation = JsonUtil.GetString(policy, "metadata", "annotations", ControllersAnnotation);
        if (annotation is null)
        {
            return [.. PodTemplates.Controllers];
        }

        if (annotation.Trim().Equals("none", StringComparison.OrdinalIgnoreCase))
        {
            return [];
        }

        return annotation.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(PodTemplates.Controllers.Contains).ToList();
    }

    private static IEnumerable<JsonObject> Descriptions(JsonNode? block)
    {
        if (block is not JsonObject match)
        {
            yield break;
        }

        foreach (var listName in new[] { "any", "all" })
        {
            if (match[listName] is JsonArray list)
            {
                foreach (var filter in list.OfType<JsonObject>())
                {
                    if (filter["resources"] is JsonObject resources)
                    {
                        yield return resources;
                    }
                }
            }
        }

        if (match["resources"] is JsonObject legacy)
        {
            yield return legacy;
        }
    }

    private static IEnumerable<string> Kinds(JsonObject description) =>
        description["kinds"] is JsonArray kinds ? kinds.Select(k => JsonUtil.AsString(k) ?? "") : [];

    private static string KindName(string spec)
    {
        var parts = spec.Split('/');
        return parts.Length == 1 ? parts[0] : parts[^1];
    }

    private static bool CanAutogen(JsonObject rule)
    {
        foreach (var description in Descriptions(rule["match"]).Concat(Descriptions(rule["exclude"])))
        {
            if (description["name"] is not null || description["names"] is JsonArray { Count: > 0 } || description["selector"] is not null
                || description["annotations"] is JsonObject { Count: > 0 })
            {
                return false;
            }

            var kinds = Kinds(description).ToList();
            if (kinds.Count > 1 && kinds.Any(k => KindName(k) == "Pod"))
            {
                return false;
            }
        }

        return rule["generate"] is null && !UsesJsonPatch(rule["mutate"]);
    }

    /// <summary>
    /// Kyverno's CanAutoGen refuses autogen for the whole policy when a rule generates, or mutates with
    /// <c>patchesJson6902</c> at the top of <c>mutate</c> or in one of its <c>foreach</c> entries (nested foreach
    /// is not looked at): such a patch addresses Pod paths that do not exist in a pod template. Strategic merge
    /// patches are rewritten by Kyverno and leave autogen on, so a policy that mutates that way still gets
    /// autogen copies of its validate rules (this engine applies no mutations, so only those copies are made).
    /// </summary>
    private static bool UsesJsonPatch(JsonNode? mutate) =>
        mutate is JsonObject m
        && (!string.IsNullOrEmpty(JsonUtil.AsString(m["patchesJson6902"]))
            || (m["foreach"] as JsonArray ?? []).OfType<JsonObject>().Any(f => !string.IsNullOrEmpty(JsonUtil.AsString(f["patchesJson6902"]))));

    private static bool MatchesPod(JsonObject rule) => Descriptions(rule["match"]).Any(d => Kinds(d).Any(k => KindName(k) == "Pod"));

    /// <param name="template">The path of the kinds' pod template from the object's root (<see cref="PodTemplates.TemplatePath"/>).</param>
    private static JsonObject Generate(JsonObject rule, string name, IReadOnlyList<string> kinds, string[] template)
    {
        var objectSpecPrefix = "request.object." + string.Join('.', template);
        var copy = (JsonObject)rule.DeepClone();
        copy["name"] = name;
        foreach (var block in new[] { copy["match"], copy["exclude"] })
        {
            foreach (var description in Descriptions(block))
            {
                if (description["kinds"] is JsonArray { Count: > 0 })
                {
                    description["kinds"] = new JsonArray([.. kinds.Select(k => (JsonNode)JsonValue.Create(k)!)]);
                }
            }
        }

        var validate = (JsonObject)copy["validate"]!;
        if (validate["pattern"] is { } pattern)
        {
            validate["pattern"] = Wrap(pattern, template);
        }

        if (validate["anyPattern"] is JsonArray anyPattern)
        {
            validate["anyPattern"] = new JsonArray([.. anyPattern.Select(p => Wrap(p ?? new JsonObject(), template))]);
        }

        if (validate["cel"] is JsonObject cel)
        {
            // CEL sees the object itself: object.spec and object.metadata move under the pod template.
            var celTemplate = objectSpecPrefix["request.".Length..];
            validate["cel"] = RewriteCel(cel, celTemplate);
        }

        var objectMetaPrefix = objectSpecPrefix + ".metadata";
        var oldSpecPrefix = objectSpecPrefix.Replace("request.object", "request.oldObject", StringComparison.Ordinal);
        return (JsonObject)RewriteStrings(copy, s => s
            .Replace("request.object.spec", objectSpecPrefix + ".spec", StringComparison.Ordinal)
            .Replace("request.oldObject.spec", oldSpecPrefix + ".spec", StringComparison.Ordinal)
            .Replace("request.object.metadata", objectMetaPrefix, StringComparison.Ordinal)
            .Replace("request.oldObject.metadata", oldSpecPrefix + ".metadata", StringComparison.Ordinal))!;
    }

    /// <summary>The CEL block with <c>object.spec</c>/<c>object.metadata</c> (and the same of <c>oldObject</c>) read from the pod template at <paramref name="template"/>.</summary>
    private static JsonNode RewriteCel(JsonObject cel, string template)
    {
        var copy = (JsonObject)cel.DeepClone();
        foreach (var list in new[] { "expressions", "variables" })
        {
            foreach (var item in (copy[list] as JsonArray ?? []).OfType<JsonObject>())
            {
                foreach (var key in new[] { "expression", "messageExpression" })
                {
                    if (JsonUtil.AsString(item[key]) is { } text)
                    {
                        item[key] = CelObjectPath().Replace(text, m => $"{m.Groups[1].Value}{template["object".Length..]}.{m.Groups[2].Value}");
                    }
                }
            }
        }

        return copy;
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"(?<![\w.])(object|oldObject)\.(spec|metadata)\b")]
    private static partial System.Text.RegularExpressions.Regex CelObjectPath();

    /// <summary>A Pod's pattern placed at the pod template <paramref name="template"/> of a controller.</summary>
    private static JsonNode Wrap(JsonNode pattern, string[] template)
    {
        var inner = pattern.DeepClone();
        for (var i = template.Length - 1; i >= 0; i--)
        {
            inner = new JsonObject { [template[i]] = inner };
        }

        return inner;
    }

    private static JsonNode? RewriteStrings(JsonNode? node, Func<string, string> rewrite)
    {
        switch (node)
        {
            case JsonObject o:
                var copy = new JsonObject();
                foreach (var (key, value) in o)
                {
                    copy[key] = key == "name" && value is JsonValue ? value.DeepClone() : RewriteStrings(value, rewrite);
                }

                return copy;
            case JsonArray a:
                return new JsonArray([.. a.Select(i => RewriteStrings(i, rewrite))]);
            default:
                return JsonUtil.AsString(node) is { } s && s.Contains("request.", StringComparison.Ordinal) ? JsonValue.Create(rewrite(s)) : node?.DeepClone();
        }
    }
}
