namespace FleetFunctions.Core.Fleet;

/// <summary>Gives the platform configuration currently in force (the platform repository at its followed branch).</summary>
public interface IPlatformProvider
{
    ValueTask<PlatformConfig> GetCurrentAsync(CancellationToken cancellationToken = default);
}

/// <summary>A fixed platform configuration (tests, and hosts that load it once at start-up).</summary>
public sealed class StaticPlatformProvider(PlatformConfig platform) : IPlatformProvider
{
    public ValueTask<PlatformConfig> GetCurrentAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult(platform);
}

/// <summary>Instance ids of rollout orchestrations: one per (fleet, commit), so a redelivered push starts nothing new.</summary>
public static class RolloutInstanceId
{
    public static string For(string fleet, string commit) => $"{fleet}-{commit}";
}
