using FleetFunctions.Core.Clusters;
using FleetFunctions.Core.Drift;
using FleetFunctions.Core.Inventory;
using FleetFunctions.Core.Manifests;

namespace FleetFunctions.Core.Apply;

/// <summary>
/// The no-write check of objects Git did not change since the last apply: where many of them share a resource and
/// namespace, one paged LIST replaces a GET per object (<see cref="ListComparer"/>).
/// </summary>
public sealed partial class Applier
{
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

        return await ListComparer.CompareAsync(_client, candidates, _options.Concurrency, cancellationToken);
    }
}
