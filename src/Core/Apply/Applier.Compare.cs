using FleetFunctions.Core.Clusters;
using FleetFunctions.Core.Drift;
using FleetFunctions.Core.Health;
using FleetFunctions.Core.Inventory;
using FleetFunctions.Core.Manifests;

namespace FleetFunctions.Core.Apply;

/// <summary>
/// The no-write check of objects Git did not change since the last apply: where many of them share a resource and
/// namespace, one paged LIST replaces a GET per object; each page is compared and dropped, so memory stays at one page.
/// </summary>
public sealed partial class Applier
{
    /// <summary>
    /// What the cluster holds for an unchanged object: drifted fields (empty when it matches Git), its health, and its
    /// resourceVersion (null when missing).
    /// </summary>
    private sealed record LiveComparison(IReadOnlyList<string> Drifted, ObjectHealth? Health, string? ResourceVersion);

    /// <summary>
    /// Compares the unchanged objects of a stage that share a resource and namespace with at least
    /// <see cref="ReadBatching.ListThreshold"/> others by listing them. Objects not covered (few per namespace, unresolvable kinds,
    /// a failed LIST) are absent from the result and get their own GET.
    /// </summary>
    private async Task<IReadOnlyDictionary<ObjectReference, LiveComparison>> CompareUnchangedAsync(
        IReadOnlyList<ManifestObject> objects, IReadOnlyDictionary<ObjectReference, InventoryEntry> known, CancellationToken cancellationToken)
    {
        var candidates = new List<(ResourceInfo Resource, ManifestObject Object)>();
        foreach (var raw in objects)
        {
            if (!known.ContainsKey(raw.Reference) && !known.ContainsKey(raw.Reference with { Namespace = "default" }))
            {
                continue;
            }

            ResourceInfo resource;
            try
            {
                resource = await _client.ResolveAsync(raw.ApiVersion, raw.Kind, raw.Reference, cancellationToken);
            }
            catch (KubernetesApiException)
            {
                continue;
            }
            catch (ClusterUnreachableException)
            {
                continue;
            }

            var obj = Normalise(raw, resource);
            if (known.TryGetValue(obj.Reference, out var entry) && entry.Checksum == obj.Checksum)
            {
                candidates.Add((resource, obj));
            }
        }

        var groups = candidates
            .GroupBy(c => (c.Resource, Namespace: c.Resource.Namespaced ? c.Object.Namespace : string.Empty))
            .Where(g => g.Count() >= ReadBatching.ListThreshold)
            .ToList();
        var compared = new Dictionary<ObjectReference, LiveComparison>[groups.Count];
        await Parallel.ForEachAsync(
            Enumerable.Range(0, groups.Count),
            new ParallelOptions { MaxDegreeOfParallelism = _options.Concurrency, CancellationToken = cancellationToken },
            async (i, ct) => compared[i] = await CompareGroupAsync(groups[i].Key.Resource, groups[i].Key.Namespace, [.. groups[i].Select(c => c.Object)], ct));
        return compared.SelectMany(c => c).ToDictionary(c => c.Key, c => c.Value);
    }

    private async Task<Dictionary<ObjectReference, LiveComparison>> CompareGroupAsync(ResourceInfo resource, string ns, IReadOnlyList<ManifestObject> desired, CancellationToken cancellationToken)
    {
        var byName = desired.ToDictionary(o => o.Name, StringComparer.Ordinal);
        var result = new Dictionary<ObjectReference, LiveComparison>();
        try
        {
            await foreach (var live in _client.ListAsync(resource, ns, ReadBatching.PageSize, cancellationToken))
            {
                if (live.StringAt("metadata.name") is { } name && byName.TryGetValue(name, out var obj))
                {
                    var drifted = FieldDiff.Compare(obj.Object, live);
                    // the item is read here and not kept (ListAsync's items live until the next page)
                    result[obj.Reference] = drifted.Count == 0
                        ? new LiveComparison(drifted, HealthOf(obj.Reference, live), null)
                        : new LiveComparison(drifted, null, live.StringAt("metadata.resourceVersion") ?? string.Empty);
                }
            }
        }
        catch (KubernetesApiException)
        {
            // Not listable (RBAC may allow get but not list): these objects fall back to a GET each.
            return [];
        }

        foreach (var obj in desired.Where(o => !result.ContainsKey(o.Reference)))
        {
            result[obj.Reference] = new LiveComparison(["(object missing)"], null, null);
        }

        return result;
    }
}
