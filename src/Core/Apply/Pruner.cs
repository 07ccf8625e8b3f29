using System.Text.Json.Nodes;
using FleetFunctions.Core.Clusters;
using FleetFunctions.Core.Inventory;
using FleetFunctions.Core.Manifests;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FleetFunctions.Core.Apply;

/// <summary>Options of <see cref="Pruner"/>.</summary>
public sealed record PruneOptions
{
    /// <summary>Annotation that keeps an object on the cluster when it leaves Git (value <c>disabled</c>).</summary>
    public const string PruneAnnotation = "fleetfunctions.io/prune";

    /// <summary>Objects deleted in parallel within a stage.</summary>
    public int Concurrency { get; init; } = 8;

    /// <summary>The staged order; prune walks it backwards.</summary>
    public IReadOnlyList<ApplyStage> Stages { get; init; } = ApplyStages.Default;

    public PruneOptions Validate()
    {
        if (Concurrency < 1)
        {
            throw new ArgumentException("PruneOptions.Concurrency must be at least 1.");
        }

        return this;
    }
}

/// <summary>
/// Deletes objects that left Git (previous inventory minus the new one), in reverse staged order:
/// workloads first, namespaces and CRDs last. Objects annotated <c>fleetfunctions.io/prune: disabled</c>
/// on the cluster are kept (Skipped).
/// </summary>
public sealed class Pruner
{
    private readonly ClusterClient _client;
    private readonly PruneOptions _options;
    private readonly ILogger _logger;

    public Pruner(ClusterClient client, PruneOptions? options = null, ILogger<Pruner>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        _client = client;
        _options = (options ?? new PruneOptions()).Validate();
        _logger = logger ?? NullLogger<Pruner>.Instance;
    }

    /// <summary>Entries of <paramref name="previous"/> that are not in <paramref name="current"/>.</summary>
    public static IReadOnlyList<InventoryEntry> Stale(FleetInventory? previous, IEnumerable<ObjectReference> current)
    {
        var keep = current.ToHashSet();
        return previous is null ? [] : [.. previous.Entries.Where(e => !keep.Contains(e.Reference))];
    }

    /// <summary>Deletes <paramref name="stale"/>; returns Deleted, Skipped or Failed per object.</summary>
    public async Task<ChangeSet> PruneAsync(IReadOnlyList<InventoryEntry> stale, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stale);
        var changes = new List<ObjectChange>();
        foreach (var stage in stale.GroupBy(e => ApplyStages.IndexOf(_options.Stages, e.Reference.Group, e.Reference.Kind)).OrderByDescending(g => g.Key))
        {
            var entries = stage.ToList();
            var results = new ObjectChange[entries.Count];
            await Parallel.ForEachAsync(
                Enumerable.Range(0, entries.Count),
                new ParallelOptions { MaxDegreeOfParallelism = _options.Concurrency, CancellationToken = cancellationToken },
                async (i, ct) => results[i] = await PruneOneAsync(entries[i], ct));
            changes.AddRange(results);
        }

        return new ChangeSet(changes);
    }

    private async Task<ObjectChange> PruneOneAsync(InventoryEntry entry, CancellationToken cancellationToken)
    {
        var reference = entry.Reference;
        try
        {
            ResourceInfo resource;
            try
            {
                resource = await _client.ResolveAsync(entry.ApiVersion, reference.Kind, reference, cancellationToken);
            }
            catch (UnknownKindException)
            {
                return new ObjectChange(reference, entry.ApiVersion, ChangeAction.Deleted, "already gone (its kind is no longer served)");
            }

            var live = await _client.GetAsync(resource, reference.Namespace, reference.Name, cancellationToken);
            if (live is null)
            {
                return new ObjectChange(reference, entry.ApiVersion, ChangeAction.Deleted, "already gone");
            }

            if ((live.At("metadata.annotations") as JsonObject)?.GetString(PruneOptions.PruneAnnotation) is "disabled")
            {
                Log.PruneSkipped(_logger, _client.Name, reference.ToString(), "prune disabled by annotation");
                return new ObjectChange(reference, entry.ApiVersion, ChangeAction.Skipped, $"kept: annotated {PruneOptions.PruneAnnotation}: disabled");
            }

            await _client.DeleteAsync(resource, reference.Namespace, reference.Name, cancellationToken);
            Log.Pruned(_logger, _client.Name, reference.ToString());
            return new ObjectChange(reference, entry.ApiVersion, ChangeAction.Deleted);
        }
        catch (KubernetesApiException e)
        {
            return new ObjectChange(reference, entry.ApiVersion, ChangeAction.Failed, e.Message, entry.Checksum) { IsTransient = e.IsTransient };
        }
        catch (ClusterUnreachableException e)
        {
            return new ObjectChange(reference, entry.ApiVersion, ChangeAction.Failed, e.Message, entry.Checksum) { IsTransient = true };
        }
    }
}
