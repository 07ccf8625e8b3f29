namespace FleetFunctions.Core.Webhooks;

/// <summary>
/// Compares repository URLs the way a person would: <c>https://github.com/Org/App.git</c>,
/// <c>git@github.com:org/app</c> and <c>ssh://git@github.com/org/app.git</c> are the same repository.
/// Credentials, ports of the default schemes, a trailing <c>.git</c> and slashes do not matter; case does
/// not matter in the host nor (as on the big hosting services) in the path. Local paths and file:// URLs
/// compare by their full path.
/// </summary>
public static class RepositoryUrl
{
    /// <summary>A canonical key: <c>host/path</c> for remote repositories, <c>file:/abs/path</c> for local ones.</summary>
    public static string Normalize(string url)
    {
        var text = url.Trim();
        if (text.Length == 0)
        {
            return string.Empty;
        }

        // scp-like syntax: [user@]host:path (no scheme, a colon before any slash).
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (!text.Contains("://", StringComparison.Ordinal) && colon > 0 && (slash < 0 || colon < slash) && !IsWindowsDrive(text))
        {
            var hostPart = text[..colon];
            var at = hostPart.LastIndexOf('@');
            return Canonical(at >= 0 ? hostPart[(at + 1)..] : hostPart, text[(colon + 1)..]);
        }

        if (text.StartsWith('/') || IsWindowsDrive(text))
        {
            return "file:" + TrimPath(Path.GetFullPath(text), lower: false);
        }

        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri))
        {
            return text.ToLowerInvariant();
        }

        if (uri.IsFile)
        {
            return "file:" + TrimPath(uri.LocalPath, lower: false);
        }

        return Canonical(uri.Host, Uri.UnescapeDataString(uri.AbsolutePath));
    }

    /// <summary>True when both URLs name the same repository.</summary>
    public static bool SameRepository(string a, string b) => Normalize(a) == Normalize(b);

    private static string Canonical(string host, string path) => host.ToLowerInvariant() + "/" + TrimPath(path, lower: true);

    private static string TrimPath(string path, bool lower)
    {
        var trimmed = path.Replace('\\', '/').Trim('/');
        if (trimmed.EndsWith(".git", StringComparison.OrdinalIgnoreCase))
        {
            trimmed = trimmed[..^4].TrimEnd('/');
        }

        return lower ? trimmed.ToLowerInvariant() : "/" + trimmed;
    }

    private static bool IsWindowsDrive(string text) => text.Length >= 3 && char.IsAsciiLetter(text[0]) && text[1] == ':' && text[2] is '\\' or '/';
}
