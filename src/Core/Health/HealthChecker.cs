using FleetFunctions.Core.Clusters;
using FleetFunctions.Core.Manifests;

namespace FleetFunctions.Core.Health;

/// <summary>Options of <see cref="HealthChecker.WaitAsync"/>.</summary>
public sealed record HealthOptions
{
    /// <summary>How long to wait for every object to become Current.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Longest pause between polls.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Pause before the first poll after the initial check; each pause doubles up to <see cref="PollInterval"/>, so an
    /// object that settles a moment after the apply (a Deployment whose controller observes the new generation within
    /// milliseconds) is not held for a whole interval.
    /// </summary>
    public TimeSpan FirstPollInterval { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Objects checked in parallel.</summary>
    public int Concurrency { get; init; } = 8;

    public HealthOptions Validate()
    {
        if (Timeout < TimeSpan.Zero || PollInterval <= TimeSpan.Zero || FirstPollInterval <= TimeSpan.Zero || Concurrency < 1)
        {
            throw new ArgumentException("HealthOptions: Timeout must not be negative, PollInterval and FirstPollInterval must be positive, Concurrency at least 1.");
        }

        return this;
    }
}

/// <summary>One object's health.</summary>
public sealed record ObjectHealth(ObjectReference Reference, HealthStatus Status, string Reason)
{
    public override string ToString() => $"{Reference}: {Status} ({Reason})";
}

/// <summary>Health of a set of objects on one cluster.</summary>
public sealed record HealthReport(string Cluster, IReadOnlyList<ObjectHealth> Objects, bool TimedOut)
{
    public static HealthReport Empty(string cluster) => new(cluster, [], false);

    /// <summary>
    /// Why the cluster could not be read (the first <see cref="ClusterUnreachableException"/> message, naming the object it
    /// was reading), or null. The objects not read are InProgress with that reason: their health is not known.
    /// </summary>
    public string? Unreachable { get; init; }

    public bool Healthy => Objects.All(o => o.Status == HealthStatus.Current);

    public IEnumerable<ObjectHealth> Unhealthy => Objects.Where(o => o.Status != HealthStatus.Current);

    /// <summary>One line per unhealthy object: <c>cluster/Kind/namespace/name: reason</c>.</summary>
    public IReadOnlyList<string> Describe() =>
        [.. Unhealthy.Select(o => $"{o.Reference.On(Cluster)}: {o.Status}: {o.Reason}")];
}

/// <summary>
/// Reads objects and evaluates <see cref="HealthRules"/>; waits until all are Current. Cluster problems do not throw: an
/// API error leaves its object InProgress with the error as reason, an unreachable cluster also sets
/// <see cref="HealthReport.Unreachable"/>.
/// </summary>
public sealed class HealthChecker(ClusterClient client)
{
    /// <summary>
    /// One pass over <paramref name="objects"/> (identity and apiVersion). Objects that share a resource and namespace
    /// with enough others (<see cref="ReadBatching.ListThreshold"/>) are read with one paged LIST, the rest with a GET each.
    /// </summary>
    public async Task<HealthReport> CheckAsync(IReadOnlyList<(ObjectReference Reference, string ApiVersion)> objects, int concurrency = 8, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(objects);
        var results = new ObjectHealth?[objects.Count];
        var resources = new ResourceInfo?[objects.Count];
        string? unreachable = null;
        for (var i = 0; i < objects.Count; i++)
        {
            var (reference, apiVersion) = objects[i];
            try
            {
                resources[i] = await client.ResolveAsync(apiVersion, reference.Kind, reference, cancellationToken);
            }
            catch (KubernetesApiException e)
            {
                results[i] = new ObjectHealth(reference, HealthStatus.InProgress, e.Message);
            }
            catch (ClusterUnreachableException e)
            {
                results[i] = new ObjectHealth(reference, HealthStatus.InProgress, e.Message);
                unreachable ??= e.Message;
            }
        }

        var groups = Enumerable.Range(0, objects.Count)
            .Where(i => resources[i] is not null)
            .GroupBy(i => (Resource: resources[i]!, Namespace: resources[i]!.Namespaced ? objects[i].Reference.Namespace : string.Empty))
            .Where(g => g.Count() >= ReadBatching.ListThreshold)
            .ToList();
        await Parallel.ForEachAsync(
            groups,
            new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken },
            async (group, ct) =>
            {
                var byName = group.ToDictionary(i => objects[i].Reference.Name, StringComparer.Ordinal);
                try
                {
                    await foreach (var live in client.ListAsync(group.Key.Resource, group.Key.Namespace, ReadBatching.PageSize, ct))
                    {
                        if (live.StringAt("metadata.name") is { } name && byName.TryGetValue(name, out var i))
                        {
                            results[i] = Evaluate(objects[i].Reference, live);
                        }
                    }
                }
                catch (Exception e) when (e is KubernetesApiException or ClusterUnreachableException)
                {
                    // Not listable, or the LIST did not get through: these objects are read one by one below.
                    return;
                }

                foreach (var i in group.Where(i => results[i] is null))
                {
                    results[i] = new ObjectHealth(objects[i].Reference, HealthStatus.NotFound, "not found on the cluster");
                }
            });

        await Parallel.ForEachAsync(
            Enumerable.Range(0, objects.Count).Where(i => results[i] is null),
            new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken },
            async (i, ct) =>
            {
                var reference = objects[i].Reference;
                try
                {
                    var live = await client.GetAsync(resources[i]!, reference.Namespace, reference.Name, ct);
                    results[i] = live is null
                        ? new ObjectHealth(reference, HealthStatus.NotFound, "not found on the cluster")
                        : Evaluate(reference, live);
                }
                catch (KubernetesApiException e)
                {
                    results[i] = new ObjectHealth(reference, HealthStatus.InProgress, e.Message);
                }
                catch (ClusterUnreachableException e)
                {
                    results[i] = new ObjectHealth(reference, HealthStatus.InProgress, e.Message);
                    Interlocked.CompareExchange(ref unreachable, e.Message, null);
                }
            });
        return new HealthReport(client.Name, [.. results.Select(r => r!)], TimedOut: false) { Unreachable = unreachable };
    }

    /// <summary>
    /// Polls until every object is Current, one is Failed, the cluster cannot be reached (waiting on would only hold the
    /// reconcile until the timeout; the caller retries), or the timeout passes (pauses from
    /// <see cref="HealthOptions.FirstPollInterval"/> doubling to <see cref="HealthOptions.PollInterval"/>, the last one
    /// ending at the deadline); the last report says which objects are not healthy and why.
    /// </summary>
    public async Task<HealthReport> WaitAsync(IReadOnlyList<(ObjectReference Reference, string ApiVersion)> objects, HealthOptions? options = null, CancellationToken cancellationToken = default)
    {
        var validated = (options ?? new HealthOptions()).Validate();
        var deadline = DateTimeOffset.UtcNow + validated.Timeout;
        var pending = objects.ToList();
        var done = new Dictionary<ObjectReference, ObjectHealth>();
        var pause = validated.FirstPollInterval < validated.PollInterval ? validated.FirstPollInterval : validated.PollInterval;
        while (true)
        {
            var report = await CheckAsync(pending, validated.Concurrency, cancellationToken);
            foreach (var health in report.Objects.Where(o => o.Status == HealthStatus.Current))
            {
                done[health.Reference] = health;
            }

            pending = [.. pending.Where(p => !done.ContainsKey(p.Reference))];
            var failed = report.Objects.Any(o => o.Status == HealthStatus.Failed);
            var timedOut = DateTimeOffset.UtcNow >= deadline;
            if (pending.Count == 0 || failed || report.Unreachable is not null || timedOut)
            {
                var byReference = report.Objects.ToDictionary(o => o.Reference);
                var all = objects.Select(o => done.TryGetValue(o.Reference, out var h) ? h : byReference[o.Reference]).ToList();
                return new HealthReport(client.Name, all, TimedOut: pending.Count > 0 && !failed && report.Unreachable is null) { Unreachable = report.Unreachable };
            }

            var untilDeadline = deadline - DateTimeOffset.UtcNow;
            await Task.Delay(TimeSpan.FromMilliseconds(Math.Clamp(untilDeadline.TotalMilliseconds, 1, pause.TotalMilliseconds)), cancellationToken);
            pause = pause * 2 < validated.PollInterval ? pause * 2 : validated.PollInterval;
        }
    }

    private static ObjectHealth Evaluate(ObjectReference reference, System.Text.Json.Nodes.JsonObject live)
    {
        var (status, reason) = HealthRules.Evaluate(live);
        return new ObjectHealth(reference, status, reason);
    }
}
