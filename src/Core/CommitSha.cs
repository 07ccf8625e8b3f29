namespace FleetFunctions.Core;

/// <summary>Commit SHAs as messages show them.</summary>
public static class CommitSha
{
    /// <summary>The first 12 characters (what Git hosts show), or the whole value when shorter.</summary>
    public static string Short(string sha) => sha.Length > 12 ? sha[..12] : sha;
}
