using FleetFunctions.Orchestrations.Engine.Client;

namespace FleetFunctions.Orchestrations.Rollouts;

/// <summary>
/// A fleet's claim as it stands. The claim is cleared when its rollout records its end; a rollout that ended without
/// recording it (terminated through the API, or its last activity failed for good) leaves a claim that holds nothing.
/// </summary>
public static class FleetClaims
{
    /// <summary>
    /// <paramref name="state"/>, without its claim when the claiming instance (other than <paramref name="self"/>) is
    /// no longer running: a terminated rollout neither blocks older commits nor counts as the fleet's active rollout.
    /// </summary>
    public static async Task<FleetState> WithoutStaleClaimAsync(this DurableClient client, FleetState state, string? self = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(state);
        if (state.ActiveInstance is not { } active || active == self)
        {
            return state;
        }

        return await client.GetInstanceAsync(active, cancellationToken: cancellationToken) is { IsRunning: true }
            ? state
            : state with { ActiveInstance = null, ActiveCommit = null };
    }
}
