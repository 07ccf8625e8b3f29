using System.Text.Json;

namespace FleetFunctions.Core.Sources;

/// <summary>
/// Keeps a materialised tree closed: a committed symbolic link that resolves outside the tree (an absolute target,
/// <c>../</c> past the root, or through another link) is removed before the tree is published, so neither the renderer
/// nor kustomize can read host files through it. The links removed are recorded in the tree folder and returned as
/// <see cref="SourceTree.RefusedLinks"/>, so a render that needs one fails naming it instead of missing a file.
/// </summary>
internal static class TreeLinks
{
    /// <summary>The record of refused links in the tree's root (written for every tree, so a committed file of that name is replaced).</summary>
    internal const string RecordFile = ".fleetfunctions-refused-links.json";

    /// <summary>Links followed while resolving one path before it counts as a loop (Linux's own limit).</summary>
    private const int MaxLinkHops = 40;

    /// <summary>Removes the links among <paramref name="links"/> that resolve outside <paramref name="root"/>, and records them.</summary>
    public static void RemoveEscaping(string root, IReadOnlyList<string> links)
    {
        var realRoot = RealPath(Path.GetFullPath(root)) ?? throw new IOException($"{root}: cannot resolve the tree folder.");

        // Every link is judged before any is removed: a link through a refused one then leads nowhere, never outside.
        var refused = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var link in links)
        {
            var target = new FileInfo(link).LinkTarget!;
            var real = Path.IsPathRooted(target) ? null : RealPath(link);
            if (real is null || !TreePaths.IsWithin(realRoot, real))
            {
                refused[Path.GetRelativePath(root, link).Replace('\\', '/')] = target;
            }
        }

        foreach (var link in refused.Keys)
        {
            File.Delete(Path.Combine(root, link));
        }

        File.WriteAllText(Path.Combine(root, RecordFile), JsonSerializer.Serialize(refused));
    }

    /// <summary>False for a tree written before links were checked (it has no record).</summary>
    public static bool WasChecked(string directory) => File.Exists(Path.Combine(directory, RecordFile));

    /// <summary>The tree at <paramref name="directory"/> with the links refused when it was written.</summary>
    public static SourceTree Open(string url, string commit, string directory)
    {
        var refused = JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(Path.Combine(directory, RecordFile)));
        return new SourceTree(url, commit, directory) { RefusedLinks = refused ?? new Dictionary<string, string>(StringComparer.Ordinal) };
    }

    /// <summary>
    /// The physical path <paramref name="path"/> (absolute) leads to, following every link in every component as the
    /// kernel does; components that do not exist are taken as written. Null for a loop.
    /// </summary>
    private static string? RealPath(string path)
    {
        var pending = new Stack<string>(Components(path).Reverse());
        var current = Path.GetPathRoot(path)!;
        for (var hops = 0; pending.Count > 0;)
        {
            var part = pending.Pop();
            if (part == ".")
            {
                continue;
            }

            if (part == "..")
            {
                current = Path.GetDirectoryName(current) ?? current;
                continue;
            }

            var next = Path.Combine(current, part);
            if (new FileInfo(next).LinkTarget is not { } target)
            {
                current = next;
                continue;
            }

            if (++hops > MaxLinkHops)
            {
                return null;
            }

            foreach (var component in Components(target).Reverse())
            {
                pending.Push(component);
            }

            if (Path.IsPathRooted(target))
            {
                current = Path.GetPathRoot(target)!;
            }
        }

        return current;
    }

    private static IEnumerable<string> Components(string path) =>
        path.Split(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries);
}
