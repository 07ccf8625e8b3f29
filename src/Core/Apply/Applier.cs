using System.Text.Json.Nodes;
using FleetFunctions.Core.Clusters;
using FleetFunctions.Core.Drift;
using FleetFunctions.Core.Health;
using FleetFunctions.Core.Inventory;
using FleetFunctions.Core.Manifests;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FleetFunctions.Core.Apply;

/// <summary>
/// Staged server-side apply of a manifest set to one cluster. An object whose checksum equals the one in
/// the previous inventory is read (listed with its neighbours, or one GET) and compared field by field; when the cluster still matches,
/// nothing is written and the object is Unchanged. New and changed objects are applied without a prior
/// read. Everything is applied with field manager
/// <c>fleetfunctions</c>. Objects in a stage are applied in parallel (bounded); a stage with failures
/// stops the apply and later objects are Skipped.
/// </summary>
public sealed partial class Applier
{
    private readonly ClusterClient _client;
    private readonly ApplyOptions _options;
    private readonly ILogger _logger;

    public Applier(ClusterClient client, ApplyOptions? options = null, ILogger<Applier>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        _client = client;
        _options = (options ?? new ApplyOptions()).Validate();
        _logger = logger ?? NullLogger<Applier>.Instance;
    }

    /// <summary>Applies <paramref name="desired"/>; <paramref name="previous"/> (the last inventory) enables the no-write path.</summary>
    public async Task<ChangeSet> ApplyAsync(ManifestSet desired, FleetInventory? previous = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(desired);
        var known = previous?.ToDictionary() ?? new Dictionary<ObjectReference, InventoryEntry>();
        var stages = desired.Objects
            .GroupBy(o => ApplyStages.IndexOf(_options.Stages, o.Group, o.Kind))
            .OrderBy(g => g.Key)
            .ToList();
        var changes = new List<ObjectChange>();
        var failed = false;
        foreach (var stage in stages)
        {
            var objects = stage.ToList();
            if (failed)
            {
                changes.AddRange(objects.Select(o => new ObjectChange(o.Reference, o.ApiVersion, ChangeAction.Skipped, "not applied: an earlier stage failed")));
                continue;
            }

            var compared = await CompareUnchangedAsync(objects, known, cancellationToken);
            var results = new ObjectChange[objects.Count];
            await Parallel.ForEachAsync(
                Enumerable.Range(0, objects.Count),
                new ParallelOptions { MaxDegreeOfParallelism = _options.Concurrency, CancellationToken = cancellationToken },
                async (i, ct) => results[i] = await ApplyOneAsync(objects[i], known, compared, ct));
            changes.AddRange(results);
            Log.StageApplied(_logger, _options.Stages[stage.Key].Name, _client.Name, objects.Count);
            failed = results.Any(r => r.Action == ChangeAction.Failed);

            if (!failed && _options.Stages[stage.Key].WaitForCrdsEstablished)
            {
                var crds = results.Where(r => r.Reference.Kind == "CustomResourceDefinition" && r.Reference.Group == "apiextensions.k8s.io").ToList();
                if (crds.Count > 0)
                {
                    var waited = await WaitForCrdsAsync(crds, cancellationToken);
                    failed = waited.Any(w => w.Action == ChangeAction.Failed);
                    for (var i = 0; i < changes.Count; i++)
                    {
                        var replacement = waited.FirstOrDefault(w => w.Reference == changes[i].Reference && w.Action == ChangeAction.Failed);
                        if (replacement is not null)
                        {
                            changes[i] = replacement;
                        }
                    }
                }
            }
        }

        return new ChangeSet(changes);
    }

    /// <summary>
    /// What is applied and compared of a desired object: namespaced kinds without a namespace go to <c>default</c>,
    /// cluster-scoped kinds lose theirs, and the <c>rules</c> of an aggregated ClusterRole are left out: the
    /// clusterrole-aggregation-controller owns them (it force-applies the rules it aggregates), so sending them, even
    /// the <c>rules: []</c> of the Kubernetes docs' example, conflicts with it, or with force empties the role's
    /// permissions until the controller fills them in again; and they are never drift.
    /// </summary>
    internal static ManifestObject Normalise(ManifestObject obj, ResourceInfo resource)
    {
        var aggregated = obj.Kind == "ClusterRole" && obj.Group == "rbac.authorization.k8s.io" && obj.Object["aggregationRule"] is not null && obj.Object.ContainsKey("rules");
        if (resource.Namespaced && obj.Namespace.Length == 0)
        {
            return obj.WithNamespace("default");
        }

        if ((!resource.Namespaced && obj.Namespace.Length > 0) || aggregated)
        {
            var copy = (JsonObject)obj.Object.DeepClone();
            if (!resource.Namespaced)
            {
                (copy["metadata"] as JsonObject)?.Remove("namespace");
            }

            if (aggregated)
            {
                copy.Remove("rules");
            }

            return new ManifestObject(copy, obj.Source, obj.Line);
        }

        return obj;
    }

    private async Task<ObjectChange> ApplyOneAsync(
        ManifestObject raw, IReadOnlyDictionary<ObjectReference, InventoryEntry> known, IReadOnlyDictionary<ObjectReference, LiveComparison> compared, CancellationToken cancellationToken)
    {
        var reference = raw.Reference;
        try
        {
            var resource = await _client.ResolveAsync(raw.ApiVersion, raw.Kind, reference, cancellationToken);
            var obj = Normalise(raw, resource);
            reference = obj.Reference;
            if (!known.TryGetValue(reference, out var entry))
            {
                // New in Git: write without reading first; the response tells whether this apply created it.
                return await WriteAsync(obj, resource, liveResourceVersion: null, cancellationToken);
            }

            if (entry.Checksum != obj.Checksum)
            {
                // Changed in Git since the last apply: write without reading first.
                var written = await WriteAsync(obj, resource, liveResourceVersion: null, cancellationToken);
                return written.Action == ChangeAction.Created ? written with { Action = ChangeAction.Configured } : written;
            }

            // Git did not change this object since the last apply: compared with the cluster (listed with its
            // neighbours, or one GET), and written only if the cluster drifted.
            if (compared.TryGetValue(reference, out var comparison))
            {
                if (comparison.Drifted.Count == 0)
                {
                    return new ObjectChange(reference, obj.ApiVersion, ChangeAction.Unchanged, Checksum: obj.Checksum) { Health = comparison.Health };
                }

                return await HealAsync(obj, resource, comparison.Drifted, comparison.ResourceVersion, cancellationToken);
            }

            var live = await _client.GetAsync(resource, obj.Namespace, obj.Name, cancellationToken);
            IReadOnlyList<string> drifted = live is null ? [LiveComparison.MissingMarker] : FieldDiff.Compare(obj.Object, live);
            if (drifted.Count == 0)
            {
                return new ObjectChange(reference, obj.ApiVersion, ChangeAction.Unchanged, Checksum: obj.Checksum) { Health = HealthOf(reference, live!) };
            }

            return await HealAsync(obj, resource, drifted, live is null ? null : ResourceVersion(live) ?? string.Empty, cancellationToken);
        }
        catch (Exception e) when (e is KubernetesApiException or ClusterUnreachableException)
        {
            return ObjectChange.FailedBy(reference, raw.ApiVersion, e, raw.Checksum);
        }
    }

    /// <summary>
    /// Writes an object that drifted (<paramref name="drifted"/>) from an unchanged Git definition: one being deleted is
    /// created again once gone, any other is re-applied.
    /// </summary>
    private async Task<ObjectChange> HealAsync(ManifestObject obj, ResourceInfo resource, IReadOnlyList<string> drifted, string? liveResourceVersion, CancellationToken cancellationToken)
    {
        var change = drifted[0] == FieldDiff.BeingDeletedMarker
            ? await WriteAfterDeletionAsync(obj, resource, cancellationToken)
            : await WriteAsync(obj, resource, liveResourceVersion, cancellationToken);
        return change with { DriftedFields = drifted };
    }

    /// <summary>
    /// Applies <paramref name="obj"/>; <paramref name="liveResourceVersion"/> is the version read before (null when the
    /// object was not read or is missing): the object drifted, and the fields the server returns still differing from
    /// Git are <see cref="ObjectChange.KeptFields"/>.
    /// </summary>
    private async Task<ObjectChange> WriteAsync(ManifestObject obj, ResourceInfo resource, string? liveResourceVersion, CancellationToken cancellationToken)
    {
        try
        {
            var sentAt = DateTimeOffset.UtcNow;
            return await _client.ApplyAsync(resource, obj, _options.Force, applied =>
            {
                var action = liveResourceVersion is not null
                    ? ResourceVersion(applied) == liveResourceVersion ? ChangeAction.Unchanged : ChangeAction.Configured
                    : CreatedByThisApply(applied, sentAt) ? ChangeAction.Created : ChangeAction.Configured;
                return new ObjectChange(obj.Reference, obj.ApiVersion, action, Checksum: obj.Checksum)
                {
                    Health = HealthOf(obj.Reference, applied),
                    KeptFields = liveResourceVersion is null ? [] : FieldDiff.Compare(obj.Object, applied),
                };
            }, cancellationToken);
        }
        catch (ImmutableFieldException e) when (_options.Recreate)
        {
            return await RecreateAsync(obj, resource, e.Fields, cancellationToken);
        }
    }

    /// <summary>
    /// Git wants an object the cluster is deleting (its finalizers hold it): re-applying would not stop the deletion, so it
    /// is created again once gone.
    /// </summary>
    private async Task<ObjectChange> WriteAfterDeletionAsync(ManifestObject obj, ResourceInfo resource, CancellationToken cancellationToken) =>
        await WaitGoneAsync(resource, obj, "while Git still has it (it is created again once gone)", cancellationToken)
            ?? await WriteAsync(obj, resource, liveResourceVersion: null, cancellationToken);

    /// <summary>Waits (up to <see cref="ApplyOptions.RecreateTimeout"/>) for the object to disappear; a transient Failed change naming its finalizers when it does not.</summary>
    private async Task<ObjectChange?> WaitGoneAsync(ResourceInfo resource, ManifestObject obj, string why, CancellationToken cancellationToken)
    {
        var deadline = DateTimeOffset.UtcNow + _options.RecreateTimeout;
        while (await _client.GetAsync(resource, obj.Namespace, obj.Name, cancellationToken) is { } live)
        {
            if (DateTimeOffset.UtcNow > deadline)
            {
                return new ObjectChange(
                    obj.Reference,
                    obj.ApiVersion,
                    ChangeAction.Failed,
                    $"{obj.Reference.On(_client.Name)}: still present {_options.RecreateTimeout.TotalSeconds:0}s {why}: {HealthRules.BeingDeleted(live)}; " +
                    "the controller that owns those finalizers must release them (a later reconcile retries).",
                    obj.Checksum) { IsTransient = true };
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken);
        }

        return null;
    }

    /// <summary>Health as seen in an object the server returned (saves the health phase a read of objects already Current).</summary>
    private static ObjectHealth HealthOf(ObjectReference reference, JsonObject live)
    {
        var (status, reason) = HealthRules.Evaluate(live);
        return new ObjectHealth(reference, status, reason);
    }

    private static string? ResourceVersion(JsonObject obj) => obj.StringAt("metadata.resourceVersion");

    /// <summary>
    /// Without a prior read: the object was created by this apply when our Apply entry is its only field
    /// manager outside the status subresource and was written at its creation time (to the second; servers
    /// stamp the two separately, so a second boundary between them is tolerated). A server that returns no
    /// managedFields is judged by the creation time alone, against the time the request was sent.
    /// </summary>
    private bool CreatedByThisApply(JsonObject applied, DateTimeOffset sentAt)
    {
        if (!DateTimeOffset.TryParse(applied.StringAt("metadata.creationTimestamp"), System.Globalization.CultureInfo.InvariantCulture, out var created))
        {
            return false;
        }

        var entries = (applied.At("metadata.managedFields") as JsonArray ?? []).OfType<JsonObject>().Where(e => e.GetString("subresource") is null or "").ToList();
        if (entries.Count == 0)
        {
            return created >= sentAt - TimeSpan.FromSeconds(2);
        }

        return entries is [var entry]
            && entry.GetString("manager") == _client.FieldManager
            && entry.GetString("operation") == "Apply"
            && DateTimeOffset.TryParse(entry.GetString("time"), System.Globalization.CultureInfo.InvariantCulture, out var written)
            && (written - created).Duration() <= TimeSpan.FromSeconds(1);
    }
}
