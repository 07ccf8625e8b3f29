using FleetFunctions.Core.Manifests;
using FleetFunctions.Core.Sources;
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

    /// <summary>
    /// What in the kustomizations read when rendering <paramref name="path"/> reaches beyond the tree: remote
    /// resources or bases (fetched over the network at render time), absolute paths and <c>../</c> chains that
    /// leave it. One message per entry, starting with the kustomization file; empty when everything is local.
    /// </summary>
    public static IReadOnlyList<string> FindEscapes(string treeDirectory, string path)
    {
        var root = Path.GetFullPath(treeDirectory);
        var escapes = new List<string>();
        Visit(root, Path.GetFullPath(Path.Combine(root, path)), new HashSet<string>(StringComparer.Ordinal), escapes);
        return escapes;
    }

    private static void Visit(string root, string fullPath, HashSet<string> result, List<string>? escapes = null)
    {
        if (!TreePaths.IsWithin(root, fullPath))
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
            var target = IsRemote(reference) || Path.IsPathRooted(reference) ? null : Path.GetFullPath(Path.Combine(fullPath, reference));
            if (target is not null && TreePaths.IsWithin(root, target))
            {
                Visit(root, target, result, escapes);
            }
            else
            {
                escapes?.Add($"{Path.GetRelativePath(root, kustomization).Replace('\\', '/')}: '{GitRepositories.RedactUrl(reference)}' {Reason(reference)}; "
                    + "vendor it: copy the files into this repository and refer to them by a relative path.");
            }
        }
    }

    private static string Reason(string reference) =>
        IsRemote(reference) ? "is remote (fetched over the network at every render, so not reproducible), which is not allowed"
        : Path.IsPathRooted(reference) ? "is an absolute path, which is not allowed"
        : "leaves the repository, which is not allowed";

    /// <summary>
    /// Entries kustomize fetches instead of reading from disk: URLs, scp-like Git addresses, go-getter and
    /// <c>gh:</c> forms, well-known hosts, and the <c>repo//path</c> and <c>?ref=</c> forms of a remote base.
    /// </summary>
    private static bool IsRemote(string value) =>
        value.Contains("://", StringComparison.Ordinal) || value.Contains("?ref=", StringComparison.Ordinal) || value.Contains("?version=", StringComparison.Ordinal)
        || value.IndexOf("//", StringComparison.Ordinal) > 0
        || new[] { "git@", "git::", "gh:", "github.com/", "gitlab.com/", "bitbucket.org/" }.Any(p => value.StartsWith(p, StringComparison.Ordinal));

    /// <summary>Paths and URLs named by a kustomization (inline patches are skipped).</summary>
    private static IEnumerable<string> References(string kustomizationFile)
    {
        var stream = new YamlStream();
        try
        {
            // Guarded as manifests are: a kustomization whose alias is its own key would never finish loading.
            stream.Load(new ManifestParser.GuardedParser(new Parser(new StringReader(File.ReadAllText(kustomizationFile))), kustomizationFile));
        }
        catch (Exception e) when (e is YamlException or ManifestException)
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

        static IEnumerable<string> Strings(YamlMappingNode node, string key) =>
            node.Children.TryGetValue(new YamlScalarNode(key), out var value) && value is YamlSequenceNode sequence
                ? sequence.Children.OfType<YamlScalarNode>().Select(s => s.Value).OfType<string>()
                : [];

        static IEnumerable<YamlMappingNode> Mappings(YamlMappingNode node, string key) =>
            node.Children.TryGetValue(new YamlScalarNode(key), out var value) && value is YamlSequenceNode sequence
                ? sequence.Children.OfType<YamlMappingNode>()
                : [];

        static string? Scalar(YamlMappingNode node, string key) =>
            node.Children.TryGetValue(new YamlScalarNode(key), out var value) && value is YamlScalarNode { Value: { } text } ? text : null;
    }
}
