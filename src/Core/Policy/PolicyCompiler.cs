using System.Text.Json.Nodes;

namespace FleetFunctions.Core.Policy;

/// <summary>Turns policy JSON into compiled rules, naming <c>file:line</c>, the policy and the rule in every error.</summary>
public sealed partial class PolicySet
{
    private static CompiledPolicy Compile(JsonObject document, string path, int line)
    {
        var kind = JsonUtil.GetString(document, "kind")!;
        var name = JsonUtil.GetString(document, "metadata", "name");
        var where = $"{path}:{line}: {kind}";
        if (string.IsNullOrEmpty(name))
        {
            throw new PolicyLoadException($"{where}: metadata.name is required");
        }

        where = $"{where} {name}";
        string? ns = null;
        if (kind == "Policy")
        {
            ns = JsonUtil.GetString(document, "metadata", "namespace") ?? "default";
        }

        if (document["spec"] is not JsonObject spec)
        {
            throw new PolicyLoadException($"{where}: spec is required");
        }

        var action = ParseAction(JsonUtil.GetString(spec, "validationFailureAction"), where) ?? FailureAction.Audit;
        var overrides = CompileOverrides(spec["validationFailureActionOverrides"], where + " validationFailureActionOverrides");

        if (spec["rules"] is not JsonArray ruleArray)
        {
            throw new PolicyLoadException($"{where}: spec.rules is required");
        }

        var rawRules = new List<JsonObject>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var node in ruleArray)
        {
            if (node is not JsonObject rule || JsonUtil.GetString(rule, "name") is not { Length: > 0 } ruleName)
            {
                throw new PolicyLoadException($"{where}: every rule needs a name");
            }

            if (!names.Add(ruleName))
            {
                throw new PolicyLoadException($"{where}: duplicate rule name '{ruleName}'");
            }

            rawRules.Add(rule);
        }

        var expanded = Autogen.Expand(document, rawRules);
        var rules = new List<CompiledRule>();
        foreach (var rule in expanded)
        {
            if (rule["validate"] is not JsonObject)
            {
                continue;
            }

            var ruleName = JsonUtil.GetString(rule, "name")!;
            var sourceName = ruleName.StartsWith("autogen-cronjob-", StringComparison.Ordinal) ? ruleName["autogen-cronjob-".Length..]
                : ruleName.StartsWith("autogen-", StringComparison.Ordinal) && !names.Contains(ruleName) ? ruleName["autogen-".Length..]
                : ruleName;
            rules.Add(CompileRule(rule, ruleName, sourceName, $"{where} rule {ruleName}"));
        }

        var applyOne = string.Equals(JsonUtil.GetString(spec, "applyRules"), "One", StringComparison.OrdinalIgnoreCase);
        return new CompiledPolicy(name, ns, path, line, action, applyOne, rules, overrides);
    }

    private static FailureAction? ParseAction(string? text, string where) => text?.ToLowerInvariant() switch
    {
        null => null,
        "audit" => FailureAction.Audit,
        "enforce" => FailureAction.Enforce,
        _ => throw new PolicyLoadException($"{where}: validationFailureAction '{text}' must be Audit or Enforce"),
    };

    /// <summary>Failure action overrides; like Kyverno, an entry without an action is skipped.</summary>
    private static List<FailureActionOverride> CompileOverrides(JsonNode? node, string where) =>
        [.. (node as JsonArray ?? []).OfType<JsonObject>()
            .Select(item => (Action: ParseAction(JsonUtil.GetString(item, "action"), where), Item: item))
            .Where(entry => entry.Action is not null)
            .Select(entry => new FailureActionOverride(
                entry.Action!.Value,
                entry.Item["namespaces"] is { } namespaces ? Strings(namespaces) : null,
                CompileSelector(entry.Item["namespaceSelector"], where + " namespaceSelector")))];

    private static CompiledRule CompileRule(JsonObject rule, string name, string sourceName, string where)
    {
        if (rule["match"] is not JsonObject match)
        {
            throw new PolicyLoadException($"{where}: match is required");
        }

        var validate = (JsonObject)rule["validate"]!;
        var action = ParseAction(JsonUtil.GetString(validate, "failureAction"), where);
        return new CompiledRule(
            name,
            sourceName,
            CompileMatch(match, where + " match"),
            rule["exclude"] is JsonObject exclude ? CompileMatch(exclude, where + " exclude") : null,
            CompileContext(rule["context"], where),
            CompileConditionList(rule["preconditions"], where + " preconditions"),
            CompileValidation(validate, where + " validate"),
            action,
            CompileOverrides(validate["failureActionOverrides"], where + " validate.failureActionOverrides"),
            CelPreconditions.Compile(rule["celPreconditions"], where));
    }

    private static ValidationSpec CompileValidation(JsonObject validate, string where, bool inForEach = false)
    {
        var message = JsonUtil.GetString(validate, "message");
        var messageTemplate = message is null ? null : Template.Compile(message);
        PatternNode? pattern = null;
        List<PatternNode>? anyPattern = null;
        List<ConditionBlock>? deny = null;
        List<ForEachSpec>? forEach = null;
        string? unsupported = null;
        if (validate.ContainsKey("pattern"))
        {
            pattern = PatternNode.Compile(validate["pattern"]);
            CheckTemplates(validate["pattern"], where + ".pattern");
        }

        if (validate["anyPattern"] is JsonArray any)
        {
            anyPattern = [.. any.Select(PatternNode.Compile)];
            CheckTemplates(any, where + ".anyPattern");
        }

        if (validate["deny"] is JsonObject denyObject)
        {
            deny = [.. CompileConditionList(denyObject["conditions"], where + ".deny.conditions")];
        }
        else if (validate.ContainsKey("deny"))
        {
            deny = [];
        }

        if (validate["foreach"] is JsonArray foreachList)
        {
            forEach = [.. foreachList.OfType<JsonObject>().Select((f, i) => CompileForEach(f, $"{where}.foreach[{i}]"))];
        }

        PodSecurityRule? podSecurity = null;
        if (validate.ContainsKey("podSecurity"))
        {
            podSecurity = inForEach
                ? throw new PolicyLoadException($"{where}.podSecurity: not allowed inside foreach (Kyverno checks a whole pod); put it in the rule's validate")
                : PodSecurityRule.Compile(validate["podSecurity"], where);
        }

        CelRule? cel = null;
        if (validate.ContainsKey("cel"))
        {
            cel = inForEach
                ? throw new PolicyLoadException($"{where}.cel: not allowed inside foreach; put it in the rule's validate")
                : CelRule.Compile(validate["cel"], where);
        }

        foreach (var key in new[] { "manifests", "assert" })
        {
            if (validate.ContainsKey(key))
            {
                unsupported = $"validate.{key} is not supported by this engine";
            }
        }

        if (pattern is null && anyPattern is null && deny is null && forEach is null && podSecurity is null && cel is null && unsupported is null)
        {
            throw new PolicyLoadException($"{where}: expected one of pattern, anyPattern, deny, foreach, podSecurity or cel");
        }

        if (messageTemplate?.Check() is { } error)
        {
            throw new PolicyLoadException($"{where}.message: {error}");
        }

        return new ValidationSpec(messageTemplate, message, pattern, anyPattern, deny, forEach, podSecurity, cel, unsupported);
    }

    private static ForEachSpec CompileForEach(JsonObject foreachObject, string where)
    {
        var list = JsonUtil.GetString(foreachObject, "list");
        if (string.IsNullOrWhiteSpace(list))
        {
            throw new PolicyLoadException($"{where}: list is required");
        }

        var listTemplate = Template.Compile(list);
        if (listTemplate is null && !Jmes.TryParse(list, out var listError))
        {
            throw new PolicyLoadException($"{where}.list: {listError}");
        }

        bool? elementScope = JsonUtil.TryGetBool(foreachObject["elementScope"], out var scope) ? scope : null;
        var validation = CompileValidation(foreachObject, where, inForEach: true);
        return new ForEachSpec(
            list,
            listTemplate,
            elementScope,
            CompileContext(foreachObject["context"], where),
            CompileConditionList(foreachObject["preconditions"], where + ".preconditions"),
            validation);
    }

    private static void CheckTemplates(JsonNode? node, string where)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (key, value) in o)
                {
                    CheckTemplates(value, where + "." + key);
                }

                break;
            case JsonArray a:
                for (var i = 0; i < a.Count; i++)
                {
                    CheckTemplates(a[i], $"{where}[{i}]");
                }

                break;
            default:
                if (JsonUtil.AsString(node) is { } s && Template.Compile(s)?.Check() is { } error)
                {
                    throw new PolicyLoadException($"{where}: {error}");
                }

                break;
        }
    }

    private static List<ConditionBlock> CompileConditionList(JsonNode? node, string where)
    {
        switch (node)
        {
            case null:
                return [];
            case JsonArray legacy:
                if (legacy.All(i => i is JsonObject o && (o.ContainsKey("any") || o.ContainsKey("all"))))
                {
                    return [.. legacy.Select(i => CompileBlock((JsonObject)i!, where))];
                }

                return [new ConditionBlock([], [.. legacy.Select((c, i) => CompileCondition(c, $"{where}[{i}]"))])];
            case JsonObject block:
                return [CompileBlock(block, where)];
            default:
                throw new PolicyLoadException($"{where}: expected a list of conditions or an object with any/all");
        }
    }

    private static ConditionBlock CompileBlock(JsonObject block, string where)
    {
        var any = block["any"] is JsonArray a ? a.Select((c, i) => CompileCondition(c, $"{where}.any[{i}]")).ToList() : [];
        var all = block["all"] is JsonArray l ? l.Select((c, i) => CompileCondition(c, $"{where}.all[{i}]")).ToList() : [];
        return new ConditionBlock(any, all);
    }

    private static Condition CompileCondition(JsonNode? node, string where)
    {
        if (node is not JsonObject c)
        {
            throw new PolicyLoadException($"{where}: a condition needs key, operator and value");
        }

        var op = JsonUtil.GetString(c, "operator") ?? throw new PolicyLoadException($"{where}: operator is required");
        var key = JsonTemplate.Compile(c["key"]?.DeepClone());
        var value = JsonTemplate.Compile(c["value"]?.DeepClone());
        var message = JsonUtil.GetString(c, "message");
        var condition = new Condition(key, Condition.ParseOperator(op, where), value, message is null ? null : Template.Compile(message), message);
        CheckTemplates(c["key"], where + ".key");
        CheckTemplates(c["value"], where + ".value");
        return condition;
    }

    private static List<ContextEntry> CompileContext(JsonNode? node, string where)
    {
        if (node is not JsonArray entries)
        {
            return [];
        }

        var result = new List<ContextEntry>();
        foreach (var item in entries.OfType<JsonObject>())
        {
            var name = JsonUtil.GetString(item, "name") ?? throw new PolicyLoadException($"{where} context: every entry needs a name");
            var at = $"{where} context {name}";
            if (item["variable"] is JsonObject variable)
            {
                var jmes = JsonUtil.GetString(variable, "jmesPath");
                if (jmes is not null && Template.Compile(jmes) is null && !Jmes.TryParse(jmes, out var error))
                {
                    throw new PolicyLoadException($"{at}: {error}");
                }

                result.Add(new ContextEntry(
                    name,
                    ContextEntryKind.Variable,
                    variable.ContainsKey("value") ? JsonTemplate.Compile(variable["value"]?.DeepClone()) : null,
                    jmes is null ? null : Template.Compile(jmes) ?? Template.Compile("{{" + jmes + "}}"),
                    jmes,
                    variable.ContainsKey("default") ? JsonTemplate.Compile(variable["default"]?.DeepClone()) : null));
                continue;
            }

            var kind = item.ContainsKey("apiCall") ? ContextEntryKind.ApiCall
                : item.ContainsKey("configMap") ? ContextEntryKind.ConfigMap
                : item.ContainsKey("imageRegistry") ? ContextEntryKind.ImageRegistry
                : item.ContainsKey("globalReference") ? ContextEntryKind.GlobalReference
                : throw new PolicyLoadException($"{at}: expected variable, apiCall, configMap, imageRegistry or globalReference");
            result.Add(new ContextEntry(name, kind, null, null, null, null));
        }

        return result;
    }

    private static MatchBlock CompileMatch(JsonObject block, string where)
    {
        var any = block["any"] is JsonArray a ? a.OfType<JsonObject>().Select(f => CompileFilter(f, where)).ToList() : null;
        var all = block["all"] is JsonArray l ? l.OfType<JsonObject>().Select(f => CompileFilter(f, where)).ToList() : null;
        ResourceFilter? legacy = null;
        if (any is null && all is null)
        {
            legacy = CompileFilter(block, where);
            if (!legacy.HasResourceDescription && !legacy.HasUserInfo)
            {
                throw new PolicyLoadException($"{where}: expected any, all or resources");
            }
        }

        return new MatchBlock(any, all, legacy);
    }

    private static ResourceFilter CompileFilter(JsonObject filter, string where)
    {
        var resources = filter["resources"] as JsonObject ?? new JsonObject();
        var names = Strings(resources["names"]);
        if (JsonUtil.GetString(resources, "name") is { } single)
        {
            names = [.. names, single];
        }

        return new ResourceFilter(
            Strings(resources["kinds"]).Select(ParseKind).ToList(),
            names,
            Strings(resources["namespaces"]),
            resources["annotations"] is JsonObject ann ? ann.ToDictionary(p => p.Key, p => JsonUtil.Sprint(p.Value)) : new Dictionary<string, string>(),
            CompileSelector(resources["selector"], where + " selector"),
            CompileSelector(resources["namespaceSelector"], where + " namespaceSelector"),
            Strings(resources["operations"]).Select(o => o.ToUpperInvariant()).ToList(),
            Strings(filter["roles"]),
            Strings(filter["clusterRoles"]),
            filter["subjects"] is JsonArray subjects ? [.. subjects.OfType<JsonNode>()] : []);
    }

    private static LabelSelector? CompileSelector(JsonNode? node, string where)
    {
        if (node is not JsonObject selector)
        {
            return null;
        }

        var labels = selector["matchLabels"] is JsonObject ml ? ml.ToDictionary(p => p.Key, p => JsonUtil.Sprint(p.Value)) : new Dictionary<string, string>();
        var expressions = new List<(string, string, IReadOnlyList<string>)>();
        if (selector["matchExpressions"] is JsonArray list)
        {
            foreach (var e in list.OfType<JsonObject>())
            {
                var op = JsonUtil.GetString(e, "operator") ?? "";
                if (op is not ("In" or "NotIn" or "Exists" or "DoesNotExist"))
                {
                    throw new PolicyLoadException($"{where}: matchExpressions operator '{op}' must be In, NotIn, Exists or DoesNotExist");
                }

                expressions.Add((JsonUtil.GetString(e, "key") ?? "", op, Strings(e["values"])));
            }
        }

        return new LabelSelector(labels, expressions);
    }

    /// <summary>Parses <c>Kind</c>, <c>v1/Kind</c>, <c>group/version/Kind</c>, <c>group/*/Kind</c> and <c>Kind/subresource</c>.</summary>
    internal static KindSpec ParseKind(string text)
    {
        var parts = text.Split('/');
        static bool IsVersion(string s) => s == "*" || System.Text.RegularExpressions.Regex.IsMatch(s, @"^v\d+((alpha|beta)\d+)?$");
        static bool IsSubresource(string s) => s.Length > 0 && char.IsLower(s[0]);
        return parts.Length switch
        {
            1 => new KindSpec(null, null, parts[0], null),
            2 when IsVersion(parts[0]) => new KindSpec("", parts[0], parts[1], null),
            2 when IsSubresource(parts[1]) => new KindSpec(null, null, parts[0], parts[1]),
            2 => new KindSpec(parts[0], null, parts[1], null),
            3 when IsVersion(parts[0]) => new KindSpec("", parts[0], parts[1], parts[2]),
            3 when IsSubresource(parts[2]) => new KindSpec(parts[0], null, parts[1], parts[2]),
            3 => new KindSpec(parts[0], parts[1], parts[2], null),
            _ => new KindSpec(parts[0], parts[1], parts[2], parts[3]),
        };
    }

    private static List<string> Strings(JsonNode? node) =>
        node is JsonArray array ? array.Select(JsonUtil.Sprint).ToList() : JsonUtil.AsString(node) is { } s ? [s] : [];
}
