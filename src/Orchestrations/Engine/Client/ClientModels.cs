using FleetFunctions.Orchestrations.Engine.History;

namespace FleetFunctions.Orchestrations.Engine.Client;

/// <summary>What to do when starting an instance whose id is already pending, running or suspended.</summary>
public enum OrchestrationIdReusePolicy
{
    /// <summary>Throw <see cref="OrchestrationAlreadyExistsException"/>.</summary>
    Reject,

    /// <summary>Start nothing and return the existing id (idempotent starts, e.g. webhook redeliveries).</summary>
    ReturnExisting,
}

/// <summary>Options for scheduling an instance. A finished instance with the same id is replaced by a new execution.</summary>
public sealed record StartOrchestrationOptions(string? InstanceId = null)
{
    public OrchestrationIdReusePolicy IfRunning { get; init; } = OrchestrationIdReusePolicy.Reject;

    /// <summary>Version stored with the instance; the registry's version when null.</summary>
    public string? Version { get; init; }

    /// <summary>Delays the first episode until this time (UTC).</summary>
    public DateTime? StartAt { get; init; }
}

/// <summary>Status of one instance. Payloads are JSON text; read them typed with the Read* helpers.</summary>
public sealed record OrchestrationMetadata(string Name, string InstanceId)
{
    public OrchestrationRuntimeStatus RuntimeStatus { get; init; }

    public string Version { get; init; } = string.Empty;

    public DateTime CreatedAt { get; init; }

    public DateTime LastUpdatedAt { get; init; }

    public DateTime? CompletedAt { get; init; }

    public string? SerializedInput { get; init; }

    public string? SerializedOutput { get; init; }

    public string? SerializedCustomStatus { get; init; }

    public TaskFailureDetails? FailureDetails { get; init; }

    /// <summary>Id of the current execution (changes on ContinueAsNew).</summary>
    public string ExecutionId { get; init; } = string.Empty;

    /// <summary>History of the current execution, when requested.</summary>
    public IReadOnlyList<HistoryEvent>? History { get; init; }

    internal JsonDataConverter Converter { get; init; } = JsonDataConverter.Default;

    public bool IsRunning => RuntimeStatus is OrchestrationRuntimeStatus.Running or OrchestrationRuntimeStatus.Pending or OrchestrationRuntimeStatus.Suspended or OrchestrationRuntimeStatus.ContinuedAsNew;

    public bool IsCompleted => RuntimeStatus.IsTerminal();

    public T? ReadInputAs<T>() => Converter.Deserialize<T>(SerializedInput);

    public T? ReadOutputAs<T>() => Converter.Deserialize<T>(SerializedOutput);

    public T? ReadCustomStatusAs<T>() => Converter.Deserialize<T>(SerializedCustomStatus);
}

/// <summary>A query over instances. Empty filters match everything.</summary>
public sealed record OrchestrationQuery
{
    public IReadOnlyCollection<OrchestrationRuntimeStatus>? Statuses { get; init; }

    public DateTime? CreatedFrom { get; init; }

    public DateTime? CreatedTo { get; init; }

    /// <summary>Instances whose orchestrator name starts with this.</summary>
    public string? NamePrefix { get; init; }

    /// <summary>Instances whose id starts with this: a range of partition keys, so the service reads only those.</summary>
    public string? InstanceIdPrefix { get; init; }

    public int PageSize { get; init; } = 100;

    /// <summary>Token from the previous page.</summary>
    public string? ContinuationToken { get; init; }

    public bool FetchInputsAndOutputs { get; init; }
}

/// <summary>One page of instances and the token for the next page (null on the last page).</summary>
public sealed record OrchestrationQueryResult(IReadOnlyList<OrchestrationMetadata> Instances, string? ContinuationToken);

/// <summary>Which finished instances a bulk purge deletes.</summary>
public sealed record PurgeInstancesFilter(DateTime? CreatedFrom = null, DateTime? CreatedTo = null, IReadOnlyCollection<OrchestrationRuntimeStatus>? Statuses = null);

/// <summary>How many instances a purge deleted.</summary>
public sealed record PurgeResult(int PurgedInstanceCount);
