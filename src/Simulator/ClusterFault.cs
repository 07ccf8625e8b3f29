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

    /// <summary>
    /// Requests with one of <see cref="ClusterFault.Methods"/> get 429 TooManyRequests with a <c>Retry-After</c> header, as
    /// API Priority and Fairness answers when a priority level's queues are full; with <see cref="ClusterFault.Count"/>, only
    /// that many, then they are served again.
    /// </summary>
    Throttling,
}

/// <summary>A fault injected into one simulated cluster; <see cref="None"/> clears it.</summary>
public sealed record ClusterFault
{
    private ClusterFault(ClusterFaultMode mode, TimeSpan latency, int retryAfterSeconds = 0, IReadOnlyList<string>? methods = null, int? count = null)
    {
        Mode = mode;
        Latency = latency;
        RetryAfterSeconds = retryAfterSeconds;
        Methods = methods ?? [];
        Count = count;
    }

    public ClusterFaultMode Mode { get; }

    /// <summary>Added latency per request, for <see cref="ClusterFaultMode.Slow"/>.</summary>
    public TimeSpan Latency { get; }

    /// <summary>The <c>Retry-After</c> of a <see cref="ClusterFaultMode.Throttling"/> answer, in seconds.</summary>
    public int RetryAfterSeconds { get; }

    /// <summary>The HTTP methods a <see cref="ClusterFaultMode.Throttling"/> fault refuses (upper case); empty for every request.</summary>
    public IReadOnlyList<string> Methods { get; }

    /// <summary>How many requests a <see cref="ClusterFaultMode.Throttling"/> fault refuses before serving again; null for all of them.</summary>
    public int? Count { get; }

    public static ClusterFault None { get; } = new(ClusterFaultMode.None, TimeSpan.Zero);

    public static ClusterFault Down { get; } = new(ClusterFaultMode.Down, TimeSpan.Zero);

    public static ClusterFault Erroring { get; } = new(ClusterFaultMode.Erroring, TimeSpan.Zero);

    /// <summary>Answers every request after <paramref name="latency"/>.</summary>
    public static ClusterFault Slow(TimeSpan latency) => latency > TimeSpan.Zero
        ? new ClusterFault(ClusterFaultMode.Slow, latency)
        : throw new ArgumentOutOfRangeException(nameof(latency), latency, "A slow fault needs a positive latency.");

    /// <summary>
    /// Answers requests with one of <paramref name="methods"/> (every request when null or empty) 429 TooManyRequests with
    /// <c>Retry-After: <paramref name="retryAfterSeconds"/></c>; with <paramref name="count"/>, only the next that many such requests.
    /// </summary>
    public static ClusterFault Throttling(IEnumerable<string>? methods = null, int retryAfterSeconds = 1, int? count = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(retryAfterSeconds);
        if (count is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, "A throttling fault's count must be at least 1 (or null for every request).");
        }

        IReadOnlyList<string> refused = [.. (methods ?? []).Select(m => string.IsNullOrWhiteSpace(m)
            ? throw new ArgumentException("A throttling fault's methods must be HTTP methods such as PATCH.", nameof(methods))
            : m.ToUpperInvariant()).Distinct()];
        return new ClusterFault(ClusterFaultMode.Throttling, TimeSpan.Zero, retryAfterSeconds, refused, count);
    }

    /// <summary>True when a <see cref="ClusterFaultMode.Throttling"/> fault applies to requests with <paramref name="method"/>.</summary>
    public bool Throttles(string method) =>
        Mode == ClusterFaultMode.Throttling && (Methods.Count == 0 || Methods.Contains(method, StringComparer.OrdinalIgnoreCase));

    public override string ToString() => Mode switch
    {
        ClusterFaultMode.Slow => $"slow ({Latency.TotalMilliseconds} ms)",
        ClusterFaultMode.Throttling =>
            $"throttling ({(Methods.Count == 0 ? "every request" : string.Join(", ", Methods))}{(Count is { } n ? $", the first {n}" : string.Empty)}; Retry-After {RetryAfterSeconds}s)",
        _ => Mode.ToString().ToLowerInvariant(),
    };
}

/// <summary>Counters of one cluster: every request, and the requests that changed state.</summary>
public sealed record SimulatedClusterStats(string Name, long Requests, long Writes, int Objects, long ResourceVersion, string Fault);
