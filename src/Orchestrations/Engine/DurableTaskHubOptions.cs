using FleetFunctions.Core.Storage;

namespace FleetFunctions.Orchestrations.Engine;

/// <summary>
/// Where a task hub lives and how its storage is used. One storage account serves tables, queues and blobs;
/// <see cref="TaskHubName"/> prefixes every table, queue and container, so several hubs share an account.
/// </summary>
public sealed record DurableTaskHubOptions
{
    public DurableTaskHubOptions(string connectionString, string taskHubName = "fleethub")
        : this(StorageAccount.FromConnectionString(connectionString), taskHubName)
    {
    }

    public DurableTaskHubOptions(StorageAccount storage, string taskHubName = "fleethub")
    {
        ArgumentNullException.ThrowIfNull(storage);
        if (taskHubName.Length is < 3 or > 40 || !char.IsAsciiLetterLower(taskHubName[0]) || !taskHubName.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c)))
        {
            throw new ArgumentException(
                $"task hub name '{taskHubName}' is invalid: use 3-40 lower-case letters and digits, starting with a letter (it prefixes table, queue and container names).",
                nameof(taskHubName));
        }

        Storage = storage;
        TaskHubName = taskHubName;
    }

    /// <summary>The storage account of the hub's tables, queues and payload container.</summary>
    public StorageAccount Storage { get; }

    public string TaskHubName { get; }

    /// <summary>Serializer for inputs, outputs, events and custom status.</summary>
    public JsonDataConverter DataConverter { get; init; } = JsonDataConverter.Default;

    /// <summary>Payloads larger than this (UTF-8 bytes) are stored as blobs and travel by reference.</summary>
    public int LargePayloadThresholdBytes { get; init; } = 45 * 1024;

    /// <summary>
    /// A message whose processing failed this many times (transient storage failures not counted) is parked in the
    /// poison table and its instance failed.
    /// </summary>
    public int MaxDequeueCount { get; init; } = 5;

    /// <summary>
    /// Longest wait before a message whose processing failed transiently (storage unavailable or timing out, a race
    /// lost to another worker) is tried again; the wait starts at 1 s and doubles with each such failure. Transient
    /// failures never count toward <see cref="MaxDequeueCount"/>.
    /// </summary>
    public TimeSpan TransientRetryMaxDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a received control message stays invisible to other workers.</summary>
    public TimeSpan ControlMessageVisibilityTimeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>How long a received work item stays invisible; renewed while the activity runs.</summary>
    public TimeSpan WorkItemVisibilityTimeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Outbox rows older than this are considered orphaned by a crash and resent by the sweeper.</summary>
    public TimeSpan OrphanedOutboxAge { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// A pending or running instance not updated for this long has the messages it waits for sent again (null: never).
    /// A safety net for storage that loses acknowledged queue writes. An activity still running is not redriven: every
    /// quarter of this time it writes a heartbeat row, and a work item with a heartbeat younger than this is left alone.
    /// </summary>
    public TimeSpan? RedriveStalledAfter { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>
    /// Finished instances (Completed, Failed, Terminated) last updated longer ago than this are purged by the upkeep,
    /// at most once an hour (null: kept until purged through the API). Their history and status go with them; a
    /// fleet's last rollout stays in the fleet's own state. Without a limit the instances table, which the stall
    /// redrive and instance queries scan, grows with every rollout.
    /// </summary>
    public TimeSpan? FinishedInstanceRetention { get; init; } = TimeSpan.FromDays(30);

    /// <summary>Fault injection for tests of the delivery guarantees; leave null in production.</summary>
    public EngineFaultInjection? FaultInjection { get; init; }
}

/// <summary>Deliberate misbehaviour, used by fault tests to prove the delivery guarantees hold.</summary>
public sealed record EngineFaultInjection
{
    /// <summary>Every queue message is sent twice.</summary>
    public bool DuplicateEveryMessage { get; init; }

    /// <summary>
    /// Awaited just before an episode's checkpoint is committed, with the instance id and how many activities the
    /// checkpoint schedules; it may hold the commit back or change the instance's rows to make the commit conflict.
    /// </summary>
    public Func<string, int, Task>? BeforeCommit { get; init; }
}
