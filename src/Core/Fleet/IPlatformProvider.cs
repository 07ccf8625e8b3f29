namespace FleetFunctions.Core.Fleet;

/// <summary>The platform configuration at one commit of the platform repository (null commit: not from Git).</summary>
public sealed record PlatformSnapshot(PlatformConfig Config, string? Commit);

/// <summary>Gives the platform configuration: the one in force (fast, cached) and the one at a given commit.</summary>
public interface IPlatformProvider
{
    /// <summary>The configuration in force; cheap enough for the webhook request path.</summary>
    ValueTask<PlatformSnapshot> GetCurrentAsync(CancellationToken cancellationToken = default);

    /// <summary>The configuration at <paramref name="commit"/> of the platform repository.</summary>
    ValueTask<PlatformSnapshot> GetAtCommitAsync(string commit, CancellationToken cancellationToken = default);
}

/// <summary>A fixed platform configuration (tests, and hosts that load it once at start-up).</summary>
public sealed class StaticPlatformProvider(PlatformConfig platform) : IPlatformProvider
{
    public ValueTask<PlatformSnapshot> GetCurrentAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult(new PlatformSnapshot(platform, null));

    public ValueTask<PlatformSnapshot> GetAtCommitAsync(string commit, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(new PlatformSnapshot(platform, commit));
}

/// <summary>Instance ids of rollout orchestrations: one per (fleet, commit), so a redelivered push starts nothing new.</summary>
public static class RolloutInstanceId
{
    public static string For(string fleet, string commit) => $"{fleet}-{commit}";
}
