using FleetFunctions.Core;
using FleetFunctions.Core.Fleet;
using FleetFunctions.Core.Secrets;
using FleetFunctions.Core.Sources;
using FleetFunctions.Orchestrations.Engine;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FleetFunctions.Orchestrations.Rollouts;

/// <summary>
/// Decides, from Git ancestry, whether a commit may take over a fleet: a commit that is an ancestor of the fleet's
/// running or last good commit is older than what the fleet already has (a delayed or redelivered webhook), so it
/// must neither supersede the running rollout nor roll the fleet back. Newer and unrelated commits (a force-push)
/// may. The one place this is decided; the delivery processor and the rollout's claim both ask it.
/// </summary>
public sealed class RolloutAncestry(GitRepositories git, ISecretStore secrets, ILogger<RolloutAncestry>? logger = null)
{
    private readonly ILogger _logger = logger ?? NullLogger<RolloutAncestry>.Instance;

    /// <summary>Why <paramref name="commit"/> must not roll out to the fleet of <paramref name="state"/>, or null when it may.</summary>
    /// <param name="instanceId">The rollout asking (its own claim is not a newer rollout); null before any rollout exists.</param>
    public async Task<string?> RefusalAsync(GitSourceSpec source, FleetState state, string commit, string? instanceId = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(state);
        var newer = new List<(string Commit, string What)>();
        if (state.ActiveCommit is { } active && state.ActiveInstance != instanceId)
        {
            newer.Add((active, $"the running rollout {state.ActiveInstance}"));
        }

        if (state.LastGoodCommit is { } lastGood)
        {
            newer.Add((lastGood, $"the last good commit (rollout {state.LastGoodInstance})"));
        }

        foreach (var (other, what) in newer)
        {
            bool older;
            try
            {
                older = await git.IsAncestorAsync(source, commit, other, cancellationToken);
            }
            catch (SourceException ex)
            {
                // Ancestry unknown (repository unreachable, a commit force-pushed away): let the rollout decide by
                // reconciling, which fails with the source error if the commit cannot be fetched.
                Log.AncestryUnknown(_logger, state.Fleet, commit, other, ex.Message);
                continue;
            }

            if (older)
            {
                var reason = $"ClusterFleet/{state.Fleet}: commit {CommitSha.Short(commit)} is an ancestor of {CommitSha.Short(other)}, {what}, so it was not rolled out: "
                    + "an older commit (a delayed or redelivered push) never supersedes or rolls back a newer one; to go back, push a commit that reverts the change";
                Log.OlderCommitRefused(_logger, state.Fleet, commit, other);
                return reason;
            }
        }

        return null;
    }

    /// <summary>As <see cref="RefusalAsync(GitSourceSpec, FleetState, string, string?, CancellationToken)"/>, with the Git source of a rollout plan.</summary>
    public async Task<string?> RefusalAsync(FleetSettings settings, FleetState state, string commit, string? instanceId = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        GitSourceSpec source;
        try
        {
            source = await GitSourceSpecs.ForAsync(settings, secrets, cancellationToken);
        }
        catch (SourceException ex)
        {
            // Without credentials ancestry is unknown: the reconcile fails with the same error, naming the secret.
            Log.AncestryUnknown(_logger, state.Fleet, commit, state.ActiveCommit ?? state.LastGoodCommit ?? "-", ex.Message);
            return null;
        }

        return await RefusalAsync(source, state, commit, instanceId, cancellationToken);
    }

}
