using FleetFunctions.Core.Apply;
using FleetFunctions.Core.Clusters;
using FleetFunctions.Core.Manifests;
using FleetFunctions.Core.Sources;

namespace FleetFunctions.Core.Drift;

/// <summary>How an object drifted.</summary>
public enum DriftKind
{
    /// <summary>Fields set in Git differ or are missing on the cluster.</summary>
    Modified,

    /// <summary>The object is gone from the cluster.</summary>
    Missing,
}

/// <summary>One drifted object with the field paths that differ (empty for Missing).</summary>
public sealed record ObjectDrift(ObjectReference Reference, string ApiVersion, DriftKind Kind, IReadOnlyList<string> Fields)
{
    /// <summary>The field managers other than ours that own the drifted fields on the cluster (<c>kubectl-edit</c>, <c>hpa-controller</c>); empty when unknown.</summary>
    public IReadOnlyList<string> ChangedBy { get; init; } = [];

    public override string ToString() => Kind == DriftKind.Missing ? $"{Reference}: missing" : $"{Reference}: {string.Join(", ", Fields)}";
}

/// <summary>Drift of one fleet on one cluster against a commit (an empty <see cref="Commit"/>: the fleet was never applied there).</summary>
public sealed record DriftReport(string Cluster, string Fleet, string Commit, IReadOnlyList<ObjectDrift> Objects, IReadOnlyList<string> Errors)
{
    public bool HasDrift => Objects.Count > 0;

    /// <summary>False when the fleet has no inventory on the cluster (nothing to compare).</summary>
    public bool WasApplied => Commit.Length > 0;

    /// <summary>True when the cluster did not answer (the check says nothing about drift).</summary>
    public bool Unreachable { get; init; }

    /// <summary>One line per drifted object: <c>cluster/Kind/namespace/name: .spec.replicas</c>.</summary>
    public IReadOnlyList<string> Describe() => [.. Objects.Select(o => $"{o.Reference.On(Cluster)}: {(o.Kind == DriftKind.Missing ? "missing" : string.Join(", ", o.Fields))}")];
}

/// <summary>Options of a drift check.</summary>
public sealed record DriftCheckOptions
{
    /// <summary>Where the applied commit can be fetched when the render cache misses; null: a miss is an error.</summary>
    public GitSourceSpec? Source { get; init; }

    /// <summary>Objects read at once per cluster (default 8).</summary>
    public int Concurrency { get; init; } = 8;
}

/// <summary>
/// Compares live objects with the desired ones (what Git sets; server-populated fields, status and fields
/// only other managers set are ignored). Reads only: a paged LIST where enough objects share a resource and namespace
/// (<see cref="ListComparer"/>), one GET per object elsewhere.
/// </summary>
public sealed class DriftDetector(ClusterClient client, int concurrency = 8)
{
    /// <summary>Drift of <paramref name="desired"/> on the cluster.</summary>
    public async Task<DriftReport> DetectAsync(string fleet, string commit, ManifestSet desired, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(desired);
        var objects = desired.Objects;
        var results = new (ObjectDrift? Drift, string? Error)[objects.Count];
        var resolved = new (ResourceInfo Resource, ManifestObject Object)?[objects.Count];
        for (var i = 0; i < objects.Count; i++)
        {
            try
            {
                var resource = await client.ResolveAsync(objects[i].ApiVersion, objects[i].Kind, objects[i].Reference, cancellationToken);
                resolved[i] = (resource, Applier.Normalise(objects[i], resource));
            }
            catch (UnknownKindException)
            {
                results[i] = (new ObjectDrift(objects[i].Reference, objects[i].ApiVersion, DriftKind.Missing, []), null);
            }
            catch (KubernetesApiException e)
            {
                results[i] = (null, e.Message);
            }
        }

        var listed = await ListComparer.CompareAsync(client, [.. resolved.Where(r => r is not null).Select(r => r!.Value)], concurrency, cancellationToken);
        await Parallel.ForEachAsync(
            Enumerable.Range(0, objects.Count).Where(i => resolved[i] is not null),
            new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken },
            async (i, ct) =>
            {
                var (resource, obj) = resolved[i]!.Value;
                if (listed.TryGetValue(obj.Reference, out var comparison))
                {
                    results[i] = (comparison.IsMissing ? new ObjectDrift(obj.Reference, obj.ApiVersion, DriftKind.Missing, [])
                        : comparison.Drifted.Count > 0 ? new ObjectDrift(obj.Reference, obj.ApiVersion, DriftKind.Modified, comparison.Drifted) { ChangedBy = comparison.ChangedBy }
                        : null, null);
                    return;
                }

                try
                {
                    var live = await client.GetAsync(resource, obj.Namespace, obj.Name, ct);
                    if (live is null)
                    {
                        results[i] = (new ObjectDrift(obj.Reference, obj.ApiVersion, DriftKind.Missing, []), null);
                        return;
                    }

                    var fields = FieldDiff.Compare(obj.Object, live);
                    results[i] = (fields.Count > 0
                        ? new ObjectDrift(obj.Reference, obj.ApiVersion, DriftKind.Modified, fields) { ChangedBy = FieldOwners.Of(live, fields, client.FieldManager) }
                        : null, null);
                }
                catch (KubernetesApiException e)
                {
                    results[i] = (null, e.Message);
                }
            });
        return new DriftReport(
            client.Name,
            fleet,
            commit,
            [.. results.Where(r => r.Drift is not null).Select(r => r.Drift!)],
            [.. results.Where(r => r.Error is not null).Select(r => r.Error!)]);
    }
}
