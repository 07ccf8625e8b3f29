using System.Text.Json.Nodes;
using FleetFunctions.Core.Clusters;
using FleetFunctions.Core.Drift;
using FleetFunctions.Core.Health;
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

    /// <summary>
    /// How long objects that finalizers keep after their DELETE may take to go before prune moves on to the next objects;
    /// those still there are reported Failed (transient), the rest Skipped, and all kept in the inventory.
    /// </summary>
    public TimeSpan FinalizerTimeout { get; init; } = TimeSpan.FromMinutes(2);

    public PruneOptions Validate()
    {
        if (Concurrency < 1)
        {
            throw new ArgumentException("PruneOptions.Concurrency must be at least 1.");
        }

        if (FinalizerTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException("PruneOptions.FinalizerTimeout must be positive.");
        }

        return this;
    }
}

/// <summary>
/// Deletes objects that left Git (previous inventory minus the new one), in reverse staged order:
/// workloads first, namespaces and CRDs last; within a stage, custom resources before the rest, so that the operator
/// whose finalizers they carry still runs to release them. After each batch, objects that finalizers keep are awaited
/// (<see cref="PruneOptions.FinalizerTimeout"/>) before the next batch is deleted; one still there is Failed (transient) and
/// the later batches are Skipped (what is left may be what releases it), so they stay in the inventory and the next
/// reconcile prunes them again. Objects annotated
/// <c>fleetfunctions.io/prune: disabled</c> on the cluster are kept (Skipped).
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
        string? terminating = null;
        foreach (var stage in stale.GroupBy(e => ApplyStages.IndexOf(_options.Stages, e.Reference.Group, e.Reference.Kind)).OrderByDescending(g => g.Key))
        {
            foreach (var batch in stage.GroupBy(e => TypedFields.IsBuiltIn(e.Reference.Group)).OrderBy(g => g.Key))
            {
                if (terminating is not null)
                {
                    // what is left may be what releases those finalizers (the operator, its RBAC, the CRD): kept for the next reconcile
                    changes.AddRange(batch.Select(e => new ObjectChange(e.Reference, e.ApiVersion, ChangeAction.Skipped, $"not pruned yet: {terminating} is still terminating", e.Checksum)));
                    continue;
                }

                (var results, terminating) = await PruneBatchAsync([.. batch], cancellationToken);
                changes.AddRange(results);
            }
        }

        return new ChangeSet(changes);
    }

    /// <summary>Deletes <paramref name="entries"/> in parallel, then waits for those finalizers keep; also names the first one still terminating.</summary>
    private async Task<(ObjectChange[] Results, string? Terminating)> PruneBatchAsync(List<InventoryEntry> entries, CancellationToken cancellationToken)
    {
        var results = new ObjectChange[entries.Count];
        var kept = new (ResourceInfo Resource, JsonObject Live)?[entries.Count];
        await Parallel.ForEachAsync(
            Enumerable.Range(0, entries.Count),
            new ParallelOptions { MaxDegreeOfParallelism = _options.Concurrency, CancellationToken = cancellationToken },
            async (i, ct) => (results[i], kept[i]) = await PruneOneAsync(entries[i], ct));
        var terminating = kept.Any(k => k is not null) ? await WaitForFinalizersAsync(entries, results, kept, cancellationToken) : null;
        return (results, terminating);
    }

    /// <summary>
    /// Polls the objects still there after their DELETE until they are gone or <see cref="PruneOptions.FinalizerTimeout"/>
    /// passes; those left become transient failures naming their finalizers. Returns the first of them, if any.
    /// </summary>
    private async Task<string?> WaitForFinalizersAsync(List<InventoryEntry> entries, ObjectChange[] results, (ResourceInfo Resource, JsonObject Live)?[] kept, CancellationToken cancellationToken)
    {
        var deadline = DateTimeOffset.UtcNow + _options.FinalizerTimeout;
        var pause = TimeSpan.FromMilliseconds(100);
        var pending = Enumerable.Range(0, entries.Count).Where(i => kept[i] is not null).ToList();
        while (pending.Count > 0 && DateTimeOffset.UtcNow < deadline)
        {
            await Task.Delay(Min(pause, deadline - DateTimeOffset.UtcNow), cancellationToken);
            pause = Min(pause * 2, TimeSpan.FromSeconds(1));
            var gone = new bool[entries.Count];
            await Parallel.ForEachAsync(
                pending,
                new ParallelOptions { MaxDegreeOfParallelism = _options.Concurrency, CancellationToken = cancellationToken },
                async (i, ct) =>
                {
                    var (resource, _) = kept[i]!.Value;
                    var reference = entries[i].Reference;
                    try
                    {
                        var live = await _client.GetAsync(resource, reference.Namespace, reference.Name, ct);
                        gone[i] = live is null;
                        kept[i] = live is null ? kept[i] : (resource, live);
                    }
                    catch (KubernetesApiException)
                    {
                        // read again at the next pause; what is left at the deadline is reported
                    }
                    catch (ClusterUnreachableException)
                    {
                        // as above
                    }
                });
            pending.RemoveAll(i => gone[i]);
        }

        foreach (var i in pending)
        {
            var entry = entries[i];
            Log.PruneTerminating(_logger, _client.Name, entry.Reference.ToString());
            results[i] = new ObjectChange(
                entry.Reference,
                entry.ApiVersion,
                ChangeAction.Failed,
                $"{entry.Reference.On(_client.Name)}: still there {_options.FinalizerTimeout.TotalSeconds:0}s after prune deleted it: {HealthRules.BeingDeleted(kept[i]!.Value.Live)}; " +
                "the controller that owns those finalizers must release them (check that it still runs). It stays in the inventory; the next reconcile prunes it again.",
                entry.Checksum) { IsTransient = true };
        }

        return pending.Count == 0 ? null : entries[pending[0]].Reference.ToString();
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    /// <summary>Deletes one object; the object as the server keeps it when finalizers hold it.</summary>
    private async Task<(ObjectChange Change, (ResourceInfo Resource, JsonObject Live)? Kept)> PruneOneAsync(InventoryEntry entry, CancellationToken cancellationToken)
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
                return (new ObjectChange(reference, entry.ApiVersion, ChangeAction.Deleted, "already gone (its kind is no longer served)"), null);
            }

            var live = await _client.GetAsync(resource, reference.Namespace, reference.Name, cancellationToken);
            if (live is null)
            {
                return (new ObjectChange(reference, entry.ApiVersion, ChangeAction.Deleted, "already gone"), null);
            }

            if ((live.At("metadata.annotations") as JsonObject)?.GetString(PruneOptions.PruneAnnotation) is "disabled")
            {
                Log.PruneSkipped(_logger, _client.Name, reference.ToString(), "prune disabled by annotation");
                return (new ObjectChange(reference, entry.ApiVersion, ChangeAction.Skipped, $"kept: annotated {PruneOptions.PruneAnnotation}: disabled"), null);
            }

            var remaining = await _client.DeleteAsync(resource, reference.Namespace, reference.Name, cancellationToken: cancellationToken);
            Log.Pruned(_logger, _client.Name, reference.ToString());
            return (new ObjectChange(reference, entry.ApiVersion, ChangeAction.Deleted), remaining is null ? null : (resource, remaining));
        }
        catch (Exception e) when (e is KubernetesApiException or ClusterUnreachableException)
        {
            return (ObjectChange.FailedBy(reference, entry.ApiVersion, e, entry.Checksum), null);
        }
    }
}
