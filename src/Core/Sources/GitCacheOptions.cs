namespace FleetFunctions.Core.Sources;

/// <summary>Options of <see cref="GitRepositories"/>.</summary>
public sealed record GitCacheOptions
{
    /// <summary>Folder holding the bare repositories (one per URL) and the materialised trees (one per commit).</summary>
    public string CacheDirectory { get; init; } = Path.Combine(Path.GetTempPath(), "fleetfunctions", "git");

    /// <summary>A branch is fetched again only when its last fetch is older than this (zero: always fetch).</summary>
    public TimeSpan MinimumFetchInterval { get; init; } = TimeSpan.Zero;

    /// <summary>Throws when the options are unusable.</summary>
    public GitCacheOptions Validate()
    {
        if (string.IsNullOrWhiteSpace(CacheDirectory))
        {
            throw new ArgumentException("GitCacheOptions.CacheDirectory must name a folder.");
        }

        if (MinimumFetchInterval < TimeSpan.Zero)
        {
            throw new ArgumentException("GitCacheOptions.MinimumFetchInterval must not be negative.");
        }

        return this;
    }
}
