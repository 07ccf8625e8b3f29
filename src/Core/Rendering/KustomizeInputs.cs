using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace FleetFunctions.Core.Rendering;

/// <summary>
/// The repository paths a render of one folder reads: the folder itself, and for a kustomization every local
/// resource, base, component, patch and generator file it refers to, followed recursively (an overlay reads
/// <c>../base</c>). Used to decide whether a push touches a fleet, so a change to a shared base rolls out the
/// overlays built on it while a change to another app's folder rolls out nothing.
/// </summary>
public static class KustomizeInputs
{
    private static readonly string[] s_kustomizationFiles = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

    /// <summary>Repository-relative folders and files (with '/' separators) read when rendering <paramref name="path"/>.</summary>
    public static IReadOnlySet<string> Collect(string treeDirectory, string path)
    {
        var root = Path.GetFullPath(treeDirectory);
        var result = new HashSet<string>(StringComparer.Ordinal);
        Visit(root, Path.GetFullPath(Path.Combine(root, path)), result);
        return result;
    }

    /// <summary>True when <paramref name="changedPath"/> (repository-relative) is one of, or inside one of, <paramref name="inputs"/>.</summary>
    public static bool Touches(IReadOnlySet<string> inputs, string changedPath)
    {
        if (inputs.Contains(".") || inputs.Contains(changedPath))
        {
            return true;
        }

        for (var slash = changedPath.LastIndexOf('/'); slash > 0; slash = changedPath.LastIndexOf('/', slash - 1))
        {
            if (inputs.Contains(changedPath[..slash]))
            {
                return true;
            }
        }

        return false;
    }

    private static void Visit(string root, string fullPath, HashSet<string> result)
    {
        if (!fullPath.StartsWith(root, StringComparison.Ordinal))
        {
            return; // outside the repository: not something a push can change
        }

        var relative = Path.GetRelativePath(root, fullPath).Replace('\\', '/');
        if (!result.Add(relative) || !Directory.Exists(fullPath))
        {
            return;
        }

        var kustomization = s_kustomizationFiles.Select(f => Path.Combine(fullPath, f)).FirstOrDefault(File.Exists);
        if (kustomization is null)
        {
            return;
        }

        foreach (var reference in References(kustomization))
        {
            Visit(root, Path.GetFullPath(Path.Combine(fullPath, reference)), result);
        }
    }

    /// <summary>Local paths named by a kustomization (remote URLs and inline patches are skipped).</summary>
    private static IEnumerable<string> References(string kustomizationFile)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(File.ReadAllText(kustomizationFile)));
        }
        catch (YamlException)
        {
            // The renderer reports malformed kustomizations with their location; here nothing more can be learnt.
            yield break;
        }

        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode map)
        {
            yield break;
        }

        foreach (var key in new[] { "resources", "bases", "components", "crds", "patchesStrategicMerge", "transformers", "generators", "validators" })
        {
            foreach (var item in Strings(map, key))
            {
                yield return item;
            }
        }

        foreach (var key in new[] { "patches", "patchesJson6902", "replacements" })
        {
            foreach (var entry in Mappings(map, key))
            {
                if (Scalar(entry, "path") is { } path)
                {
                    yield return path;
                }
            }
        }

        foreach (var key in new[] { "configMapGenerator", "secretGenerator" })
        {
            foreach (var entry in Mappings(map, key))
            {
                foreach (var file in Strings(entry, "files").Concat(Strings(entry, "envs")).Append(Scalar(entry, "env")).OfType<string>())
                {
                    var equals = file.IndexOf('=', StringComparison.Ordinal);
                    yield return equals >= 0 ? file[(equals + 1)..] : file;
                }
            }
        }

        static bool IsLocal(string value) => !value.Contains("://", StringComparison.Ordinal) && !value.StartsWith("git@", StringComparison.Ordinal)
            && !value.StartsWith("github.com/", StringComparison.Ordinal);

        static IEnumerable<string> Strings(YamlMappingNode node, string key) =>
            node.Children.TryGetValue(new YamlScalarNode(key), out var value) && value is YamlSequenceNode sequence
                ? sequence.Children.OfType<YamlScalarNode>().Select(s => s.Value).OfType<string>().Where(IsLocal)
                : [];

        static IEnumerable<YamlMappingNode> Mappings(YamlMappingNode node, string key) =>
            node.Children.TryGetValue(new YamlScalarNode(key), out var value) && value is YamlSequenceNode sequence
                ? sequence.Children.OfType<YamlMappingNode>()
                : [];

        static string? Scalar(YamlMappingNode node, string key) =>
            node.Children.TryGetValue(new YamlScalarNode(key), out var value) && value is YamlScalarNode { Value: { } text } && IsLocal(text) ? text : null;
    }
}
