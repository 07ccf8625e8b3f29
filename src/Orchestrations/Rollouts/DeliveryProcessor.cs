using FleetFunctions.Core;
using FleetFunctions.Core.Fleet;
using FleetFunctions.Core.Rendering;
using FleetFunctions.Core.Secrets;
using FleetFunctions.Core.Sources;
using FleetFunctions.Core.Webhooks;
using FleetFunctions.Orchestrations.Engine.Client;

namespace FleetFunctions.Orchestrations.Rollouts;

/// <summary>
/// Processes a recorded webhook delivery, off the request path: for each pushed commit, finds the fleets whose
/// inputs the push changed (the diff between the old and new commit against each fleet's folders, following
/// kustomization references), adds the fleets those depend on, and starts one rollout per (fleet, commit).
/// Idempotent: a delivery already processed is skipped and a rollout that already exists is not started again.
/// A commit older than what a fleet already has or is rolling out (an ancestor in Git: a delayed or redelivered
/// push) starts nothing for that fleet; the refusal is part of the delivery's message. When the old commit is not in
/// the repository (a force-push rewrote history this instance never fetched), the changes are unknown and every fleet
/// following the source is touched; the message says so.
/// </summary>
public sealed class DeliveryProcessor(
    DeliveryStore deliveries,
    IPlatformProvider platform,
    GitRepositories git,
    ISecretStore secrets,
    DurableClient client,
    FleetStateStore fleets,
    RolloutAncestry ancestry)
{
    /// <summary>Processes one queued delivery; throws on transient failures (Git or storage unreachable) so the message is retried.</summary>
    /// <param name="isLastAttempt">When true a failure is recorded on the delivery before it is rethrown (the message goes to the poison queue).</param>
    public async Task<DeliveryRecord?> ProcessAsync(DeliveryMessage message, bool isLastAttempt = false, CancellationToken cancellationToken = default)
    {
        var record = await deliveries.GetAsync(message.Provider, message.DeliveryId, cancellationToken);
        if (record is null || record.Status is DeliveryStatus.Processed or DeliveryStatus.Ignored)
        {
            return record;
        }

        try
        {
            var processed = await ResolveAndStartAsync(record, cancellationToken);
            await deliveries.UpdateAsync(processed, cancellationToken);
            return processed;
        }
        catch (Exception ex) when (isLastAttempt && ex is not OperationCanceledException)
        {
            await deliveries.UpdateAsync(record with { Status = DeliveryStatus.Failed, Message = $"processing failed for good: {ex.Message}" }, cancellationToken);
            throw;
        }
    }

    private async Task<DeliveryRecord> ResolveAndStartAsync(DeliveryRecord record, CancellationToken cancellationToken)
    {
        var started = new List<CandidateRollout>();
        var skipped = new List<string>();
        var refusals = new List<string>();
        var notes = new List<string>();
        if (platform is GitPlatformProvider platformRepository)
        {
            // The push may come with (or after) a change to the fleets themselves: read the platform's head first.
            try
            {
                await platformRepository.RefreshAsync(cancellationToken);
            }
            catch (ResourceValidationException ex)
            {
                skipped.Add($"the platform repository's head is invalid, so the configuration in force was used ({ex.Message})");
            }
        }

        var snapshot = await platform.GetCurrentAsync(cancellationToken);
        foreach (var sourceName in record.Sources)
        {
            if (!snapshot.Config.Sources.TryGetValue(sourceName, out var source))
            {
                skipped.Add($"GitSource/{sourceName} no longer exists");
                continue;
            }

            GitSourceSpec? spec = null;
            foreach (var update in record.Updates.Where(u => u.IsBranch && u.ShortName == source.Branch && u.After is not null))
            {
                spec ??= await GitSourceSpecs.ForAsync(source, secrets, cancellationToken);
                var touched = await TouchedFleetsAsync(snapshot.Config, source, spec, update, skipped, notes, cancellationToken);
                foreach (var fleet in touched)
                {
                    if (await StartAsync(fleet, spec, update.After!, snapshot.Commit, refusals, cancellationToken) is { } rollout)
                    {
                        started.Add(rollout);
                    }
                }
            }
        }

        // Refusals and fleets not touched, as many as a message names: the started rollouts are all in the record, and
        // each refusal is also logged (event 4100).
        var message = (started.Count == 0 && refusals.Count == 0
            ? $"the push touches no fleet's files{(skipped.Count > 0 ? ": " + MessageList.Listed(skipped) : string.Empty)}"
            : $"started {started.Count} rollout(s)"
                + (refusals.Count > 0 ? $"; refused {refusals.Count}: " + MessageList.Listed(refusals) : string.Empty)
                + (skipped.Count > 0 ? $"; not touched ({skipped.Count}): " + MessageList.Listed(skipped) : string.Empty))
            + string.Concat(notes.Select(n => "; " + n));
        return record with { Status = DeliveryStatus.Processed, Message = message, Rollouts = started };
    }

    private async Task<List<ClusterFleet>> TouchedFleetsAsync(
        PlatformConfig config, GitSource source, GitSourceSpec spec, RefUpdate update, List<string> skipped, List<string> notes, CancellationToken cancellationToken)
    {
        var following = config.FleetsFollowing(source).ToList();
        var changed = update.Before is null ? null : await git.GetChangedPathsAsync(spec, update.Before, update.After!, cancellationToken);
        if (update.Before is not null && changed is null)
        {
            // A force-push rewrote the history the old commit was on, and this instance's clone never held it.
            notes.Add($"the previous commit {CommitSha.Short(update.Before)} is not in the repository (force-pushed away?), so every fleet following GitSource/{source.Name} was considered touched");
        }

        var tree = await git.GetTreeAsync(spec, update.After!, cancellationToken);
        var touched = new List<ClusterFleet>();
        foreach (var fleet in following)
        {
            var paths = config.ClustersOf(fleet).Select(c => PlatformConfig.ResolvePath(fleet.Source, c)).DefaultIfEmpty(fleet.Source.Path).Distinct(StringComparer.Ordinal);
            var inputs = paths.SelectMany(p => KustomizeInputs.Collect(tree.Directory, p)).ToHashSet(StringComparer.Ordinal);
            if (changed is null || changed.Any(c => KustomizeInputs.Touches(inputs, c)))
            {
                touched.Add(fleet);
            }
            else
            {
                skipped.Add($"ClusterFleet/{fleet.Name} ({string.Join(", ", paths)})");
            }
        }

        // A touched fleet waits for the fleets it depends on to roll out the same commit: start those too.
        var byName = following.ToDictionary(f => f.Name, StringComparer.Ordinal);
        for (var i = 0; i < touched.Count; i++)
        {
            foreach (var dependency in touched[i].DependsOn)
            {
                if (byName.TryGetValue(dependency, out var needed) && !touched.Contains(needed))
                {
                    touched.Add(needed);
                    skipped.RemoveAll(s => s.StartsWith($"ClusterFleet/{needed.Name} ", StringComparison.Ordinal));
                }
            }
        }

        return touched;
    }

    /// <summary>
    /// Starts the fleet's rollout of the commit (once); returns null, adding why to <paramref name="refusals"/>, when the
    /// fleet is suspended or the commit is older than the fleet's.
    /// </summary>
    private async Task<CandidateRollout?> StartAsync(ClusterFleet fleet, GitSourceSpec spec, string commit, string? platformCommit, List<string> refusals, CancellationToken cancellationToken)
    {
        var id = RolloutInstanceId.For(fleet.Name, commit);
        if (await client.GetInstanceAsync(id, cancellationToken: cancellationToken) is null)
        {
            if (fleet.Suspend)
            {
                refusals.Add($"ClusterFleet/{fleet.Name} is suspended (spec.suspend), so commit {CommitSha.Short(commit)} was not rolled out to it");
                return null;
            }

            var state = await client.WithoutStaleClaimAsync(await fleets.GetAsync(fleet.Name, cancellationToken), cancellationToken: cancellationToken);
            if (await ancestry.RefusalAsync(spec, state, commit, cancellationToken: cancellationToken) is { } refusal)
            {
                refusals.Add(refusal);
                return null;
            }

            await RolloutOrchestrator.StartAsync(client, new RolloutRequest(fleet.Name, commit, platformCommit), id, OrchestrationIdReusePolicy.ReturnExisting, cancellationToken);
        }

        return new CandidateRollout(fleet.Name, commit, id);
    }
}
