using System.Text.Json.Nodes;

namespace FleetFunctions.Core.Policy;

/// <summary>Kyverno's <c>images</c> variable: per container kind, per container name, the parsed image reference.</summary>
internal static class ImageInfo
{
    private static readonly string[] s_containerKinds = ["containers", "initContainers", "ephemeralContainers"];

    public static JsonObject Extract(JsonObject resource)
    {
        var result = new JsonObject();
        var spec = PodSpec(resource);
        if (spec is null)
        {
            return result;
        }

        foreach (var kind in s_containerKinds)
        {
            if (spec[kind] is not JsonArray containers)
            {
                continue;
            }

            var byName = new JsonObject();
            foreach (var container in containers)
            {
                if (JsonUtil.GetString(container, "name") is { } name && JsonUtil.GetString(container, "image") is { } image)
                {
                    byName[name] = Parse(image);
                }
            }

            if (byName.Count > 0)
            {
                result[kind] = byName;
            }
        }

        return result;
    }

    /// <summary>The pod spec of a Pod or Pod controller; other kinds are read at <c>spec.template.spec</c> like the controllers.</summary>
    private static JsonObject? PodSpec(JsonObject resource) =>
        JsonUtil.Get(resource, [.. PodTemplates.TemplatePath(JsonUtil.GetString(resource, "kind") ?? "") ?? PodTemplates.ControllerTemplate, "spec"]) as JsonObject;

    /// <summary>
    /// Kyverno's <c>image_normalize()</c>: the fully qualified reference (<c>nginx</c> is
    /// <c>docker.io/library/nginx:latest</c>; a digest wins over a tag).
    /// </summary>
    /// <exception cref="PolicyEvaluationException">The text is not an image reference.</exception>
    public static string Normalize(string image)
    {
        var trimmed = image.Trim();
        if (trimmed.Length == 0 || trimmed.Any(char.IsWhiteSpace) || trimmed.EndsWith(':') || trimmed.EndsWith('@') || trimmed.StartsWith('/'))
        {
            throw new PolicyEvaluationException($"function image_normalize(): '{image}' is not an image reference");
        }

        var (registry, path, tag, digest) = Split(trimmed);
        if (registry == "docker.io" && !path.Contains('/', StringComparison.Ordinal))
        {
            path = "library/" + path;
        }

        return registry + "/" + path + (digest.Length > 0 ? "@" + digest : ":" + tag);
    }

    /// <summary>
    /// One entry of the <c>images</c> variable, as Kyverno's GetImageInfo builds it: the reference parsed without
    /// Docker's normalization, so Docker Hub images keep their path (<c>nginx:1.25</c> is registry <c>docker.io</c>,
    /// path and name <c>nginx</c>; <c>image_normalize()</c> is what adds <c>library/</c>). <c>tag</c> and <c>digest</c>
    /// are left out when empty; <c>reference</c> is <c>registry/path@digest</c> or <c>registry/path:tag</c>, and
    /// <c>referenceWithTag</c> is always <c>registry/path:tag</c>.
    /// </summary>
    public static JsonObject Parse(string image)
    {
        var (registry, path, tag, digest) = Split(image);
        var info = new JsonObject
        {
            ["registry"] = registry,
            ["name"] = path[(path.LastIndexOf('/') + 1)..],
            ["path"] = path,
        };
        if (tag.Length > 0)
        {
            info["tag"] = tag;
        }

        if (digest.Length > 0)
        {
            info["digest"] = digest;
        }

        info["reference"] = registry + "/" + path + (digest.Length > 0 ? "@" + digest : ":" + tag);
        info["referenceWithTag"] = registry + "/" + path + ":" + tag;
        return info;
    }

    /// <summary>
    /// Splits <c>registry/path:tag@digest</c>. The first path component is the registry when it has a <c>.</c> or a
    /// <c>:</c> or is <c>localhost</c>; otherwise the registry is <c>docker.io</c>. Without tag and digest
    /// the tag is <c>latest</c>.
    /// </summary>
    private static (string Registry, string Path, string Tag, string Digest) Split(string image)
    {
        var rest = image;
        var digest = "";
        var at = rest.IndexOf('@', StringComparison.Ordinal);
        if (at >= 0)
        {
            digest = rest[(at + 1)..];
            rest = rest[..at];
        }

        var tag = "";
        var lastSlash = rest.LastIndexOf('/');
        var colon = rest.LastIndexOf(':');
        if (colon > lastSlash)
        {
            tag = rest[(colon + 1)..];
            rest = rest[..colon];
        }

        var registry = "docker.io";
        var path = rest;
        var firstSlash = rest.IndexOf('/', StringComparison.Ordinal);
        if (firstSlash > 0)
        {
            var candidate = rest[..firstSlash];
            if (candidate.Contains('.', StringComparison.Ordinal) || candidate.Contains(':', StringComparison.Ordinal) || candidate == "localhost")
            {
                registry = candidate;
                path = rest[(firstSlash + 1)..];
            }
        }

        if (tag.Length == 0 && digest.Length == 0)
        {
            tag = "latest";
        }

        return (registry, path, tag, digest);
    }
}
