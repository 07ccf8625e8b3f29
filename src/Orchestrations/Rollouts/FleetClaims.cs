using FleetFunctions.Orchestrations.Engine;
using FleetFunctions.Orchestrations.Engine.Client;

namespace FleetFunctions.Orchestrations.Rollouts;

/// <summary>A claim on a fleet whose rollout is no longer running; <c>Status</c> is null when the instance is gone (purged).</summary>
public sealed record StaleClaim(string InstanceId, OrchestrationRuntimeStatus? Status);

/// <summary>
/// A fleet's claim as it stands. The claim is cleared when its rollout records its end; a rollout that ended without
/// recording it (terminated through the API, or its last activity failed for good) leaves a claim that holds nothing.
/// </summary>
public static class FleetClaims
{
    /// <summary>
    /// The fleet's claim when the instance holding it (other than <paramref name="self"/>) is no longer running; null
    /// when there is no claim or its rollout runs.
    /// </summary>
    public static async Task<StaleClaim?> StaleClaimAsync(this DurableClient client, FleetState state, string? self = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(state);
        if (state.ActiveInstance is not { } active || active == self)
        {
            return null;
        }

        var instance = await client.GetInstanceAsync(active, cancellationToken: cancellationToken);
        return instance is { IsRunning: true } ? null : new StaleClaim(active, instance?.RuntimeStatus);
    }

    /// <summary>
    /// <paramref name="state"/>, without its claim when it is stale (<see cref="StaleClaimAsync"/>): a terminated
    /// rollout neither blocks older commits nor counts as the fleet's active rollout.
    /// </summary>
    public static async Task<FleetState> WithoutStaleClaimAsync(this DurableClient client, FleetState state, string? self = null, CancellationToken cancellationToken = default) =>
        await client.StaleClaimAsync(state, self, cancellationToken) is null ? state : state with { ActiveInstance = null, ActiveCommit = null };
}
