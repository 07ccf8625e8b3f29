using System.Text.Json.Nodes;

namespace FleetFunctions.Core.Policy;

/// <summary>Kyverno's match/exclude: kinds (group/version/wildcards), names, namespaces, labels, namespace labels, operations, annotations, user info.</summary>
internal static class ResourceMatcher
{
    public static bool Matches(CompiledRule rule, JsonObject resource, PolicyContext context, string operation)
    {
        if (!MatchesBlock(rule.Match, resource, context, operation))
        {
            return false;
        }

        return rule.Exclude is null || !MatchesBlock(rule.Exclude, resource, context, operation);
    }

    public static bool MatchesBlock(MatchBlock block, JsonObject resource, PolicyContext context, string operation)
    {
        if (block.Any is { } any)
        {
            foreach (var filter in any)
            {
                if (MatchesFilter(filter, resource, context, operation))
                {
                    return true;
                }
            }

            return false;
        }

        if (block.All is { } all)
        {
            foreach (var filter in all)
            {
                if (!MatchesFilter(filter, resource, context, operation))
                {
                    return false;
                }
            }

            return all.Count > 0;
        }

        return block.Legacy is not null && MatchesFilter(block.Legacy, resource, context, operation);
    }

    private static bool AnyKindMatches(IReadOnlyList<KindSpec> kinds, JsonObject resource)
    {
        foreach (var kind in kinds)
        {
            if (KindMatches(kind, resource))
            {
                return true;
            }
        }

        return false;
    }

    private static bool MatchesFilter(ResourceFilter filter, JsonObject resource, PolicyContext context, string operation)
    {
        if (filter.Kinds.Count > 0 && !AnyKindMatches(filter.Kinds, resource))
        {
            return false;
        }

        var metadata = resource["metadata"] as JsonObject;
        var name = JsonUtil.GetString(metadata, "name") ?? JsonUtil.GetString(metadata, "generateName") ?? "";
        if (filter.Names.Count > 0 && !filter.Names.Any(n => Wildcard.Match(n, name)))
        {
            return false;
        }

        var kind = JsonUtil.GetString(resource, "kind");
        var ns = kind == "Namespace" ? name : JsonUtil.GetString(metadata, "namespace") ?? "";
        if (filter.Namespaces.Count > 0 && !filter.Namespaces.Any(n => Wildcard.Match(n, ns)))
        {
            return false;
        }

        if (filter.Annotations.Count > 0)
        {
            var annotations = metadata?["annotations"] as JsonObject;
            foreach (var (key, value) in filter.Annotations)
            {
                var found = annotations?.Any(p => Wildcard.Match(key, p.Key) && Wildcard.Match(value, JsonUtil.Sprint(p.Value))) == true;
                if (!found)
                {
                    return false;
                }
            }
        }

        if (filter.Selector is { } selector && !SelectorMatches(selector, Labels(metadata?["labels"])))
        {
            return false;
        }

        if (filter.NamespaceSelector is { } nsSelector)
        {
            if (ns.Length == 0 && kind != "Namespace")
            {
                return false;
            }

            var labels = kind == "Namespace"
                ? Labels(metadata?["labels"])
                : context.NamespaceLabels.TryGetValue(ns, out var l) ? l : new Dictionary<string, string>();
            if (!SelectorMatches(nsSelector, labels))
            {
                return false;
            }
        }

        if (filter.Operations.Count > 0 && !filter.Operations.Contains(operation, StringComparer.Ordinal))
        {
            return false;
        }

        if (filter.Roles.Count > 0 && !filter.Roles.Any(r => context.Roles.Contains(r, StringComparer.Ordinal)))
        {
            return false;
        }

        if (filter.ClusterRoles.Count > 0 && !filter.ClusterRoles.Any(r => context.ClusterRoles.Contains(r, StringComparer.Ordinal)))
        {
            return false;
        }

        if (filter.Subjects.Count > 0 && !filter.Subjects.Any(s => SubjectMatches(s, context)))
        {
            return false;
        }

        return true;
    }

    private static bool SubjectMatches(JsonNode subject, PolicyContext context)
    {
        var kind = JsonUtil.GetString(subject, "kind");
        var name = JsonUtil.GetString(subject, "name") ?? "";
        var user = context.UserName ?? "";
        return kind switch
        {
            "ServiceAccount" => user == $"system:serviceaccount:{JsonUtil.GetString(subject, "namespace")}:{name}",
            "User" => Wildcard.Match(name, user),
            _ => false,
        };
    }

    private static IReadOnlyDictionary<string, string> Labels(JsonNode? node) =>
        node is JsonObject labels ? labels.ToDictionary(p => p.Key, p => JsonUtil.Sprint(p.Value)) : new Dictionary<string, string>();

    internal static bool SelectorMatches(LabelSelector selector, IReadOnlyDictionary<string, string> labels)
    {
        foreach (var (key, value) in selector.MatchLabels)
        {
            if (Wildcard.Contains(key) || Wildcard.Contains(value))
            {
                if (!labels.Any(l => Wildcard.Match(key, l.Key) && Wildcard.Match(value, l.Value)))
                {
                    return false;
                }
            }
            else if (!labels.TryGetValue(key, out var actual) || actual != value)
            {
                return false;
            }
        }

        foreach (var (key, op, values) in selector.Expressions)
        {
            var has = labels.TryGetValue(key, out var actual);
            var ok = op switch
            {
                "In" => has && values.Contains(actual!, StringComparer.Ordinal),
                "NotIn" => !has || !values.Contains(actual!, StringComparer.Ordinal),
                "Exists" => has,
                _ => !has,
            };
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }

    private static bool KindMatches(KindSpec spec, JsonObject resource)
    {
        if (spec.Kind == "*" && spec.Group is null && spec.Version is null)
        {
            return true;
        }

        if (spec.Subresource is not null)
        {
            return false;
        }

        var kind = JsonUtil.GetString(resource, "kind") ?? "";
        if (!Wildcard.Match(spec.Kind, kind))
        {
            return false;
        }

        var apiVersion = JsonUtil.GetString(resource, "apiVersion") ?? "";
        var slash = apiVersion.LastIndexOf('/');
        var group = slash < 0 ? "" : apiVersion[..slash];
        var version = slash < 0 ? apiVersion : apiVersion[(slash + 1)..];
        if (spec.Group is not null && !Wildcard.Match(spec.Group, group))
        {
            return false;
        }

        return spec.Version is null || Wildcard.Match(spec.Version, version);
    }
}
