namespace FleetFunctions.Core.Sources;

/// <summary>Path checks on a materialised tree, shared by the tree writer and the renderer.</summary>
internal static class TreePaths
{
    /// <summary>Whether <paramref name="fullPath"/> is <paramref name="root"/> or lies below it (both full paths; no prefix tricks: /a/bc is not in /a/b).</summary>
    public static bool IsWithin(string root, string fullPath)
    {
        var trimmed = root.TrimEnd(Path.DirectorySeparatorChar);
        return fullPath == trimmed || fullPath.StartsWith(trimmed + Path.DirectorySeparatorChar, StringComparison.Ordinal);
    }
}
