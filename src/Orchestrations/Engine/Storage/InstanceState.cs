using Azure.Data.Tables;
using FleetFunctions.Orchestrations.Engine.History;

namespace FleetFunctions.Orchestrations.Engine.Storage;

/// <summary>The state row of an instance (row key <c>state</c>): what the status API reports.</summary>
internal sealed record InstanceState
{
    public const string RowKey = "state";

    public required string InstanceId { get; init; }

    public required string Name { get; init; }

    public string Version { get; init; } = string.Empty;

    public required OrchestrationRuntimeStatus Status { get; init; }

    /// <summary>Current execution (changes on ContinueAsNew and on restart of a finished instance).</summary>
    public required string ExecutionId { get; init; }

    public string? Input { get; init; }

    public string? Output { get; init; }

    public string? CustomStatus { get; init; }

    public TaskFailureDetails? Failure { get; init; }

    public DateTime CreatedTime { get; init; }

    public DateTime LastUpdatedTime { get; init; }

    public DateTime? CompletedTime { get; init; }

    public ParentInstance? Parent { get; init; }

    /// <summary>For a start scheduled ahead (<c>StartAt</c>): when it may run; every resend of the start waits until then.</summary>
    public DateTime? ScheduledStartTime { get; init; }

    /// <summary>Number of checkpointed episodes of the current execution (numbers the history rows).</summary>
    public int Episode { get; init; }

    /// <summary>True once the current execution's first episode ran (its history has ExecutionStarted).</summary>
    public bool Started => Status is not (OrchestrationRuntimeStatus.Pending or OrchestrationRuntimeStatus.ContinuedAsNew);

    /// <summary>
    /// The start message of the current execution (the same id whoever sends it, so copies are dropped), visible no
    /// earlier than <see cref="ScheduledStartTime"/>.
    /// </summary>
    public TaskMessage ToStartMessage() => new()
    {
        Id = "start-" + ExecutionId,
        InstanceId = InstanceId,
        ExecutionId = ExecutionId,
        VisibleAt = ScheduledStartTime,
        Event = new HistoryEvent
        {
            EventType = HistoryEventType.ExecutionStarted,
            Timestamp = CreatedTime,
            Name = Name,
            Version = Version,
            Input = Input,
            ExecutionId = ExecutionId,
            Parent = Parent,
        },
    };

    public TableEntity ToEntity()
    {
        var entity = new TableEntity(KeyEncoding.ToPartitionKey(InstanceId), RowKey)
        {
            ["InstanceId"] = InstanceId,
            ["Name"] = Name,
            ["Version"] = Version,
            ["RuntimeStatus"] = Status.ToString(),
            ["ExecutionId"] = ExecutionId,
            ["CreatedTime"] = CreatedTime,
            ["LastUpdatedTime"] = LastUpdatedTime,
            ["Episode"] = Episode,
        };
        if (CompletedTime is { } completed)
        {
            entity["CompletedTime"] = completed;
        }

        if (ScheduledStartTime is { } startAt)
        {
            entity["ScheduledStartTime"] = startAt;
        }

        TableText.Set(entity, "Input", Input);
        TableText.Set(entity, "Output", Output);
        TableText.Set(entity, "CustomStatus", CustomStatus);
        TableText.Set(entity, "Failure", Failure is null ? null : EngineJson.Serialize(Failure));
        TableText.Set(entity, "Parent", Parent is null ? null : EngineJson.Serialize(Parent));
        return entity;
    }

    public static InstanceState FromEntity(TableEntity entity)
    {
        var failure = TableText.Get(entity, "Failure");
        var parent = TableText.Get(entity, "Parent");
        return new InstanceState
        {
            InstanceId = entity.GetString("InstanceId"),
            Name = entity.GetString("Name") ?? string.Empty,
            Version = entity.GetString("Version") ?? string.Empty,
            Status = Enum.Parse<OrchestrationRuntimeStatus>(entity.GetString("RuntimeStatus")),
            ExecutionId = entity.GetString("ExecutionId"),
            Input = TableText.Get(entity, "Input"),
            Output = TableText.Get(entity, "Output"),
            CustomStatus = TableText.Get(entity, "CustomStatus"),
            Failure = failure is null ? null : EngineJson.Deserialize<TaskFailureDetails>(failure),
            CreatedTime = entity.GetDateTimeOffset("CreatedTime")?.UtcDateTime ?? default,
            LastUpdatedTime = entity.GetDateTimeOffset("LastUpdatedTime")?.UtcDateTime ?? default,
            CompletedTime = entity.GetDateTimeOffset("CompletedTime")?.UtcDateTime,
            ScheduledStartTime = entity.GetDateTimeOffset("ScheduledStartTime")?.UtcDateTime,
            Parent = parent is null ? null : EngineJson.Deserialize<ParentInstance>(parent),
            Episode = entity.GetInt32("Episode") ?? 0,
        };
    }
}
