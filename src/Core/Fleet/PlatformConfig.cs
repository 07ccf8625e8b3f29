namespace FleetFunctions.Core.Fleet;

/// <summary>The platform repository's resources at one commit, validated and cross-checked.</summary>
public sealed class PlatformConfig
{
    public PlatformConfig(IEnumerable<GitSource> sources, IEnumerable<Cluster> clusters, IEnumerable<ClusterFleet> fleets)
    {
        Sources = sources.ToDictionary(s => s.Name, StringComparer.Ordinal);
        Clusters = clusters.OrderBy(c => c.Name, StringComparer.Ordinal).ToList();
        Fleets = fleets.ToDictionary(f => f.Name, StringComparer.Ordinal);
    }

    public IReadOnlyDictionary<string, GitSource> Sources { get; }

    /// <summary>Every cluster, ordered by name (plans depend on a stable order).</summary>
    public IReadOnlyList<Cluster> Clusters { get; }

    public IReadOnlyDictionary<string, ClusterFleet> Fleets { get; }

    /// <summary>The clusters <paramref name="fleet"/> selects, ordered by name.</summary>
    public IReadOnlyList<Cluster> ClustersOf(ClusterFleet fleet) => Clusters.Where(fleet.Selects).ToList();

    /// <summary>The names of the fleets that select <paramref name="cluster"/>, in ordinal order.</summary>
    public IReadOnlyList<string> FleetsOf(Cluster cluster) =>
        Fleets.Values.Where(f => f.Selects(cluster)).Select(f => f.Name).Order(StringComparer.Ordinal).ToList();

    /// <summary>The fleets that follow <paramref name="source"/>.</summary>
    public IEnumerable<ClusterFleet> FleetsFollowing(GitSource source) =>
        Fleets.Values.Where(f => f.Source.GitSource == source.Name).OrderBy(f => f.Name, StringComparer.Ordinal);

    /// <summary>Resolves a fleet's path template for one cluster (<c>${cluster.region}</c> and friends).</summary>
    public static string ResolvePath(FleetSource source, Cluster cluster)
    {
        var path = source.Path
            .Replace("${cluster.name}", cluster.Name, StringComparison.Ordinal)
            .Replace("${cluster.region}", cluster.Region, StringComparison.Ordinal);
        foreach (var (key, value) in cluster.Labels)
        {
            path = path.Replace("${cluster.labels." + key + "}", value, StringComparison.Ordinal);
        }

        return path;
    }
}
