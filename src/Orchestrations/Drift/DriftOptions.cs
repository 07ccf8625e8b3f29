namespace FleetFunctions.Orchestrations.Drift;

/// <summary>Options of the drift sweep (<see cref="DriftSweeper"/>), validated when constructed.</summary>
public sealed record DriftSweepOptions
{
    private readonly int _concurrency = 8;
    private readonly int _objectConcurrency = 8;
    private readonly TimeSpan _leaseDuration = TimeSpan.FromSeconds(60);

    /// <summary>(cluster, fleet) pairs checked at once (default 8).</summary>
    public int Concurrency
    {
        get => _concurrency;
        init => _concurrency = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(Concurrency), value, "DriftSweepOptions.Concurrency must be at least 1.");
    }

    /// <summary>Objects read at once within one pair (default 8).</summary>
    public int ObjectConcurrency
    {
        get => _objectConcurrency;
        init => _objectConcurrency = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(ObjectConcurrency), value, "DriftSweepOptions.ObjectConcurrency must be at least 1.");
    }

    /// <summary>Blob lease that makes one sweep run at a time across instances: 15 to 60 seconds (Azure's limits), renewed every third of it.</summary>
    public TimeSpan LeaseDuration
    {
        get => _leaseDuration;
        init => _leaseDuration = value >= TimeSpan.FromSeconds(15) && value <= TimeSpan.FromSeconds(60)
            ? value
            : throw new ArgumentOutOfRangeException(nameof(LeaseDuration), value, "DriftSweepOptions.LeaseDuration must be between 15s and 60s (Azure blob lease limits).");
    }

    /// <summary>Blob container of the lease (default <c>fleetfunctions-leases</c>).</summary>
    public string LeaseContainer { get; init; } = "fleetfunctions-leases";

    /// <summary>Blob name of the lease (default <c>drift-sweep</c>).</summary>
    public string LeaseBlob { get; init; } = "drift-sweep";
}

/// <summary>Options of watch mode (<see cref="DriftWatcher"/>), validated when constructed.</summary>
public sealed record DriftWatchOptions
{
    private readonly TimeSpan _debounce = TimeSpan.FromMilliseconds(100);
    private readonly TimeSpan _refreshInterval = TimeSpan.FromSeconds(30);
    private readonly TimeSpan _maxBackoff = TimeSpan.FromSeconds(30);
    private readonly TimeSpan _watchTimeout = TimeSpan.FromMinutes(5);
    private readonly int _objectConcurrency = 8;

    /// <summary>Events for one (cluster, fleet) within this window lead to one check (default 100 ms; at most 1 s).</summary>
    public TimeSpan Debounce
    {
        get => _debounce;
        init => _debounce = value >= TimeSpan.Zero && value <= TimeSpan.FromSeconds(1)
            ? value
            : throw new ArgumentOutOfRangeException(nameof(Debounce), value, "DriftWatchOptions.Debounce must be between 0 and 1s (drift is caught within a second).");
    }

    /// <summary>How often the watched kinds and managed objects are re-read from the platform and the inventories (default 30 s).</summary>
    public TimeSpan RefreshInterval
    {
        get => _refreshInterval;
        init => _refreshInterval = value >= TimeSpan.FromMilliseconds(100) ? value : throw new ArgumentOutOfRangeException(nameof(RefreshInterval), value, "DriftWatchOptions.RefreshInterval must be at least 100ms.");
    }

    /// <summary>Longest wait between reconnect attempts to a cluster (default 30 s; starts at 200 ms and doubles).</summary>
    public TimeSpan MaxBackoff
    {
        get => _maxBackoff;
        init => _maxBackoff = value >= TimeSpan.FromMilliseconds(200) ? value : throw new ArgumentOutOfRangeException(nameof(MaxBackoff), value, "DriftWatchOptions.MaxBackoff must be at least 200ms.");
    }

    /// <summary>Server-side timeout of one watch request; the watch then resumes from its last version (default 5 minutes, at least 10 s).</summary>
    public TimeSpan WatchTimeout
    {
        get => _watchTimeout;
        init => _watchTimeout = value >= TimeSpan.FromSeconds(10) ? value : throw new ArgumentOutOfRangeException(nameof(WatchTimeout), value, "DriftWatchOptions.WatchTimeout must be at least 10s.");
    }

    /// <summary>Objects read at once within one check (default 8).</summary>
    public int ObjectConcurrency
    {
        get => _objectConcurrency;
        init => _objectConcurrency = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(ObjectConcurrency), value, "DriftWatchOptions.ObjectConcurrency must be at least 1.");
    }
}

/// <summary>
/// When the drift check stops healing fields another controller sets again after every heal (<see cref="DriftChecker"/>),
/// validated when constructed: an object whose same fields were healed <see cref="MaxHeals"/> times within
/// <see cref="Window"/>, against the same commit, is recorded as fought and left alone until fewer heals fall within
/// the window or another commit is applied.
/// </summary>
public sealed record DriftHealOptions
{
    private readonly int _maxHeals = 3;
    private readonly TimeSpan _window = TimeSpan.FromMinutes(30);

    /// <summary>Heals of the same fields within <see cref="Window"/> after which they are left alone (default 3).</summary>
    public int MaxHeals
    {
        get => _maxHeals;
        init => _maxHeals = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(MaxHeals), value, "DriftHealOptions.MaxHeals must be at least 1.");
    }

    /// <summary>How far back heals are counted (default 30 minutes).</summary>
    public TimeSpan Window
    {
        get => _window;
        init => _window = value > TimeSpan.Zero ? value : throw new ArgumentOutOfRangeException(nameof(Window), value, "DriftHealOptions.Window must be positive.");
    }
}
