namespace FleetFunctions.Orchestrations.Engine.Worker;

/// <summary>How a standalone worker polls and how much it runs at once.</summary>
public sealed record DurableWorkerOptions
{
    /// <summary>Episodes running at once (each for a different instance).</summary>
    public int MaxConcurrentOrchestrations { get; init; } = 64;

    /// <summary>Activities executing at once.</summary>
    public int MaxConcurrentActivities { get; init; } = 64;

    /// <summary>
    /// Activities scheduled by this worker's episodes run in this worker, without a trip through the work-item queue,
    /// while fewer than <see cref="MaxConcurrentActivities"/> are held locally; the rest go to the queue. The work
    /// items are committed with the episode either way, so a crash loses none.
    /// </summary>
    public bool RunActivitiesLocally { get; init; } = true;

    /// <summary>
    /// Instances started by a <see cref="Client.DurableClient"/> of the same <see cref="DurableTaskHub"/> object run
    /// their first episode in this worker without a trip through the control queue. A new instance is created by the
    /// commit of that episode (one transaction instead of the client's create and then the episode's commit); a
    /// restart under a finished instance's id is created by the client, its start message committed with it (an
    /// outbox row, deleted once the episode has recorded it), so a crash loses none.
    /// </summary>
    public bool StartInstancesLocally { get; init; } = true;

    /// <summary>Received but unfinished messages per queue; polling pauses above it.</summary>
    public int MaxMessagesInFlight { get; init; } = 1000;

    /// <summary>Concurrent receive loops on the work-item queue (each takes up to 32 messages per call).</summary>
    public int WorkItemPollers { get; init; } = 4;

    /// <summary>Concurrent receive loops on the control queue.</summary>
    public int ControlPollers { get; init; } = 2;

    /// <summary>Longest pause between polls while this worker has work in flight.</summary>
    public TimeSpan MaxPollingIntervalBusy { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Longest pause between polls when idle.</summary>
    public TimeSpan MaxPollingIntervalIdle { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>First pause after an empty poll; doubles up to the maximum.</summary>
    public TimeSpan MinPollingInterval { get; init; } = TimeSpan.FromMilliseconds(25);

    /// <summary>How often the worker looks for outbox rows orphaned by a crash.</summary>
    public TimeSpan OutboxSweepInterval { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Most instances one sweep looks into (one partition query each), taken from the outbox index in key order; the
    /// next sweep continues where this one stopped, so a large hub is covered over several sweeps.
    /// </summary>
    public int MaxInstancesPerSweep { get; init; } = 200;

    /// <summary>Instances whose loaded partition is kept in memory between episodes.</summary>
    public int InstanceCacheSize { get; init; } = 2000;

    /// <summary>Most messages for one instance handled in one episode.</summary>
    public int MaxMessagesPerEpisode { get; init; } = 200;
}
