using System.Globalization;
using FleetFunctions.Orchestrations.Engine.History;
using Microsoft.Extensions.Logging;

namespace FleetFunctions.Orchestrations.Engine.Replay;

/// <summary>
/// The orchestration context during one episode: records the steps the code asks for, checks them against
/// the history being replayed, and completes the code's pending tasks as history and new events are applied.
/// </summary>
internal sealed partial class ReplayContext : TaskOrchestrationContext
{
    private readonly JsonDataConverter _converter;
    private readonly Func<string?, string?> _resolve;
    private readonly IReadOnlyDictionary<int, HistoryEvent> _historySchedules;
    private readonly Dictionary<int, Action<HistoryEvent>> _openTasks = [];
    private readonly HashSet<int> _createdIds = [];
    private readonly List<OrchestratorAction> _newActions = [];
    private readonly Dictionary<string, Queue<HistoryEvent>> _bufferedEvents = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, LinkedList<Action<HistoryEvent>>> _eventWaiters = new(StringComparer.OrdinalIgnoreCase);
    private int _nextTaskId;
    private int _guidCounter;
    private string? _serializedInput;

    public ReplayContext(
        string instanceId,
        string name,
        string version,
        IReadOnlyDictionary<int, HistoryEvent> historySchedules,
        JsonDataConverter converter,
        Func<string?, string?> resolve)
    {
        InstanceId = instanceId;
        Name = name;
        Version = version;
        _historySchedules = historySchedules;
        _converter = converter;
        _resolve = resolve;
    }

    public override string Name { get; }

    public override string InstanceId { get; }

    public override string Version { get; }

    public override DateTime CurrentUtcDateTime => CurrentTime;

    public override bool IsReplaying => Replaying;

    internal DateTime CurrentTime { get; set; }

    internal bool Replaying { get; set; }

    /// <summary>Set when the code diverged from history; the episode then fails the instance with it.</summary>
    internal string? NonDeterminismError { get; private set; }

    internal IReadOnlyList<OrchestratorAction> NewActions => _newActions;

    internal bool CustomStatusSet { get; private set; }

    internal string? CustomStatus { get; private set; }

    internal (string? Input, bool PreserveEvents)? ContinueAsNewRequest { get; private set; }

    internal void SetInput(string? serializedInput) => _serializedInput = serializedInput;

    /// <summary>
    /// Starts another episode of a kept orchestrator: the previous episode's steps are history now, and only what this
    /// episode asks for is new.
    /// </summary>
    internal void BeginEpisode()
    {
        _newActions.Clear();
        CustomStatusSet = false;
    }

    public override T? GetInput<T>()
        where T : default => _converter.Deserialize<T>(_resolve(_serializedInput));

    public override Task<TResult> CallActivityAsync<TResult>(string name, object? input = null, TaskOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var serialized = _converter.Serialize(input);
        return options?.Retry is { } retry
            ? WithRetryAsync(retry, () => ScheduleActivity<TResult>(name, serialized))
            : ScheduleActivity<TResult>(name, serialized);
    }

    public override Task<TResult> CallSubOrchestratorAsync<TResult>(string orchestratorName, object? input = null, SubOrchestrationOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(orchestratorName);
        var serialized = _converter.Serialize(input);
        return options?.Retry is { } retry
            ? WithRetryAsync(retry, () => ScheduleSubOrchestration<TResult>(orchestratorName, serialized, options.InstanceId))
            : ScheduleSubOrchestration<TResult>(orchestratorName, serialized, options?.InstanceId);
    }

    public override Task CreateTimer(DateTime fireAt, CancellationToken cancellationToken)
    {
        var utc = fireAt.Kind switch
        {
            DateTimeKind.Local => fireAt.ToUniversalTime(),
            DateTimeKind.Unspecified => DateTime.SpecifyKind(fireAt, DateTimeKind.Utc),
            _ => fireAt,
        };
        var id = RecordAction(HistoryEventType.TimerCreated, null, null, utc, null);
        var tcs = new TaskCompletionSource();
        _openTasks[id] = _ => tcs.TrySetResult();
        if (cancellationToken.CanBeCanceled)
        {
            cancellationToken.Register(() => tcs.TrySetCanceled(cancellationToken));
        }

        return tcs.Task;
    }

    public override Task<T> WaitForExternalEvent<T>(string eventName, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(eventName);
        var tcs = new TaskCompletionSource<T>();
        if (_bufferedEvents.TryGetValue(eventName, out var buffered) && buffered.TryDequeue(out var raised))
        {
            Complete(tcs, raised.Input);
            return tcs.Task;
        }

        if (!_eventWaiters.TryGetValue(eventName, out var waiters))
        {
            waiters = new LinkedList<Action<HistoryEvent>>();
            _eventWaiters[eventName] = waiters;
        }

        var node = waiters.AddLast(e => Complete(tcs, e.Input));
        if (cancellationToken.CanBeCanceled)
        {
            cancellationToken.Register(() =>
            {
                if (node.List is not null)
                {
                    waiters.Remove(node);
                }

                tcs.TrySetCanceled(cancellationToken);
            });
        }

        return tcs.Task;
    }

    public override Guid NewGuid() =>
        DeterministicGuid.Create(
            DeterministicGuid.OrchestrationNamespace,
            string.Create(CultureInfo.InvariantCulture, $"{InstanceId}_{CurrentUtcDateTime:o}_{_guidCounter++}"));

    public override void SetCustomStatus(object? customStatus)
    {
        CustomStatusSet = true;
        CustomStatus = _converter.Serialize(customStatus);
    }

    public override void ContinueAsNew(object? newInput, bool preserveUnprocessedEvents = true) =>
        ContinueAsNewRequest = (_converter.Serialize(newInput), preserveUnprocessedEvents);

    public override ILogger CreateReplaySafeLogger(ILogger logger) => new ReplaySafeLogger(this, logger);

    /// <summary>Raised events that arrived but were never consumed by a waiter, oldest first.</summary>
    internal IReadOnlyList<HistoryEvent> UnconsumedEvents() => _bufferedEvents.Values.SelectMany(q => q).ToList();

    private Task<TResult> ScheduleActivity<TResult>(string name, string? serializedInput)
    {
        var id = RecordAction(HistoryEventType.TaskScheduled, name, serializedInput, null, null);
        var tcs = new TaskCompletionSource<TResult>();
        _openTasks[id] = e =>
        {
            if (e.EventType == HistoryEventType.TaskCompleted)
            {
                Complete(tcs, e.Result);
            }
            else
            {
                tcs.TrySetException(new TaskFailedException(name, id, e.FailureDetails ?? new TaskFailureDetails("unknown", "activity failed without details")));
            }
        };
        return tcs.Task;
    }

    private Task<TResult> ScheduleSubOrchestration<TResult>(string name, string? serializedInput, string? instanceId)
    {
        var id = _nextTaskId;
        var childId = instanceId ?? string.Create(CultureInfo.InvariantCulture, $"{InstanceId}:{id:D4}");
        RecordAction(HistoryEventType.SubOrchestrationInstanceCreated, name, serializedInput, null, childId);
        var tcs = new TaskCompletionSource<TResult>();
        _openTasks[id] = e =>
        {
            if (e.EventType == HistoryEventType.SubOrchestrationInstanceCompleted)
            {
                Complete(tcs, e.Result);
            }
            else
            {
                tcs.TrySetException(new TaskFailedException(name, id, e.FailureDetails ?? new TaskFailureDetails("unknown", "sub-orchestration failed without details")));
            }
        };
        return tcs.Task;
    }

    private async Task<TResult> WithRetryAsync<TResult>(RetryPolicy policy, Func<Task<TResult>> attempt)
    {
        for (var n = 1; ; n++)
        {
            try
            {
                return await attempt();
            }
            catch (TaskFailedException ex) when (n < policy.MaxNumberOfAttempts && (policy.Handle?.Invoke(ex.FailureDetails) ?? true))
            {
                await CreateTimer(CurrentUtcDateTime + policy.GetDelay(n), CancellationToken.None);
            }
        }
    }

    private int RecordAction(HistoryEventType kind, string? name, string? input, DateTime? fireAt, string? childInstanceId)
    {
        var id = _nextTaskId++;
        var action = new OrchestratorAction(kind, id, name, input, fireAt, childInstanceId, kind == HistoryEventType.SubOrchestrationInstanceCreated ? Version : null);
        _createdIds.Add(id);
        if (_historySchedules.TryGetValue(id, out var recorded))
        {
            if (!action.Matches(recorded))
            {
                NonDeterminismError ??=
                    $"orchestration '{InstanceId}' ({Name}): non-deterministic replay: history step #{id} is {OrchestratorAction.Describe(recorded)}, " +
                    $"but the code now does {action.Describe()}. The orchestrator changed while this instance was running: " +
                    "deploy incompatible changes under a new orchestrator name, or terminate and restart the instance.";
            }
        }
        else
        {
            _newActions.Add(action);
        }

        return id;
    }

    private void Complete<T>(TaskCompletionSource<T> tcs, string? payload)
    {
        try
        {
            tcs.TrySetResult(_converter.Deserialize<T>(_resolve(payload))!);
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or NotSupportedException or InvalidOperationException)
        {
            tcs.TrySetException(ex);
        }
    }
}
