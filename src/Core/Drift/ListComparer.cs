using FleetFunctions.Core.Clusters;
using FleetFunctions.Core.Health;
using FleetFunctions.Core.Manifests;

namespace FleetFunctions.Core.Drift;

/// <summary>
/// What the cluster holds for a desired object: the fields that differ (empty when it matches Git; <c>(object missing)</c>
/// when it is gone), its health when it matches, and its resourceVersion when it differs.
/// </summary>
internal sealed record LiveComparison(IReadOnlyList<string> Drifted, ObjectHealth? Health, string? ResourceVersion)
{
    public const string MissingMarker = "(object missing)";

    /// <summary>The field managers other than ours that own the drifted fields (<see cref="FieldOwners"/>).</summary>
    public IReadOnlyList<string> ChangedBy { get; init; } = [];

    public static LiveComparison Missing { get; } = new([MissingMarker], null, null);

    public bool IsMissing => ReferenceEquals(this, Missing);
}

/// <summary>
/// Compares desired objects with the cluster by listing: where at least <see cref="ReadBatching.ListThreshold"/> of them
/// share a resource and namespace, one paged LIST replaces their GETs, and each page is compared and dropped, so memory
/// stays at one page per group. Objects not covered (few per namespace, a LIST the server refuses or that does not get
/// through) are absent from the result: the caller reads them one by one, and each read reports its own failure.
/// </summary>
internal static class ListComparer
{
    public static async Task<IReadOnlyDictionary<ObjectReference, LiveComparison>> CompareAsync(
        ClusterClient client, IReadOnlyList<(ResourceInfo Resource, ManifestObject Object)> objects, int concurrency, CancellationToken cancellationToken)
    {
        var groups = objects
            .GroupBy(c => (c.Resource, Namespace: c.Resource.Namespaced ? c.Object.Namespace : string.Empty))
            .Where(g => g.Count() >= ReadBatching.ListThreshold)
            .ToList();
        var compared = new Dictionary<ObjectReference, LiveComparison>[groups.Count];
        await Parallel.ForEachAsync(
            Enumerable.Range(0, groups.Count),
            new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken },
            async (i, ct) => compared[i] = await CompareGroupAsync(client, groups[i].Key.Resource, groups[i].Key.Namespace, [.. groups[i].Select(c => c.Object)], ct));
        return compared.SelectMany(c => c).ToDictionary(c => c.Key, c => c.Value);
    }

    private static async Task<Dictionary<ObjectReference, LiveComparison>> CompareGroupAsync(
        ClusterClient client, ResourceInfo resource, string ns, IReadOnlyList<ManifestObject> desired, CancellationToken cancellationToken)
    {
        var byName = desired.ToDictionary(o => o.Name, StringComparer.Ordinal);
        var result = new Dictionary<ObjectReference, LiveComparison>();
        try
        {
            await foreach (var live in client.ListAsync(resource, ns, ReadBatching.PageSize, cancellationToken))
            {
                if (live.StringAt("metadata.name") is { } name && byName.TryGetValue(name, out var obj))
                {
                    // the item is read here and not kept (ListAsync's items live until the next page)
                    var drifted = FieldDiff.Compare(obj.Object, live);
                    if (drifted.Count == 0)
                    {
                        var (status, reason) = HealthRules.Evaluate(live);
                        result[obj.Reference] = new LiveComparison(drifted, new ObjectHealth(obj.Reference, status, reason), null);
                    }
                    else
                    {
                        result[obj.Reference] = new LiveComparison(drifted, null, live.StringAt("metadata.resourceVersion") ?? string.Empty)
                        {
                            ChangedBy = FieldOwners.Of(live, drifted, client.FieldManager),
                        };
                    }
                }
            }
        }
        catch (Exception e) when (e is KubernetesApiException or ClusterUnreachableException)
        {
            // Not listable (RBAC may allow get but not list), or the LIST did not get through: these objects are read one
            // by one, and a read that fails too names its object.
            return [];
        }

        foreach (var obj in desired.Where(o => !result.ContainsKey(o.Reference)))
        {
            result[obj.Reference] = LiveComparison.Missing;
        }

        return result;
    }
}
