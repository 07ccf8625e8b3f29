namespace FleetFunctions.Simulator;

/// <summary>The kinds of cluster-wide failure the simulator can inject.</summary>
public enum ClusterFaultMode
{
    /// <summary>Healthy.</summary>
    None,

    /// <summary>The listener is closed: connections are refused.</summary>
    Down,

    /// <summary>Every request gets a 503 ServiceUnavailable Status.</summary>
    Erroring,

    /// <summary>Every request is answered after <see cref="ClusterFault.Latency"/>.</summary>
    Slow,
}

/// <summary>A fault injected into one simulated cluster; <see cref="None"/> clears it.</summary>
public sealed record ClusterFault
{
    private ClusterFault(ClusterFaultMode mode, TimeSpan latency)
    {
        Mode = mode;
        Latency = latency;
    }

    public ClusterFaultMode Mode { get; }

    /// <summary>Added latency per request, for <see cref="ClusterFaultMode.Slow"/>.</summary>
    public TimeSpan Latency { get; }

    public static ClusterFault None { get; } = new(ClusterFaultMode.None, TimeSpan.Zero);

    public static ClusterFault Down { get; } = new(ClusterFaultMode.Down, TimeSpan.Zero);

    public static ClusterFault Erroring { get; } = new(ClusterFaultMode.Erroring, TimeSpan.Zero);

    /// <summary>Answers every request after <paramref name="latency"/>.</summary>
    public static ClusterFault Slow(TimeSpan latency) => latency > TimeSpan.Zero
        ? new ClusterFault(ClusterFaultMode.Slow, latency)
        : throw new ArgumentOutOfRangeException(nameof(latency), latency, "A slow fault needs a positive latency.");

    public override string ToString() => Mode == ClusterFaultMode.Slow ? $"slow ({Latency.TotalMilliseconds} ms)" : Mode.ToString().ToLowerInvariant();
}

/// <summary>Counters of one cluster: every request, and the requests that changed state.</summary>
public sealed record SimulatedClusterStats(string Name, long Requests, long Writes, int Objects, long ResourceVersion, string Fault);
