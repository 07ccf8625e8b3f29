using FleetFunctions.Orchestrations.Engine.History;

namespace FleetFunctions.Orchestrations.Engine.Replay;

/// <summary>
/// Replays an orchestrator over its history, then applies the episode's new events, and reports the new steps
/// and whether the orchestration ended. Pure: no I/O (payload references are resolved by the caller's function).
/// </summary>
internal static class OrchestrationExecutor
{
    /// <summary>
    /// Returns, as <paramref name="live"/>, the orchestrator still suspended at its awaits when it has not ended, so the
    /// next episode can <see cref="Continue"/> it instead of replaying the whole history again.
    /// </summary>
    public static ExecutionResult Execute(
        string instanceId,
        IReadOnlyList<HistoryEvent> past,
        IReadOnlyList<HistoryEvent> newEvents,
        DurableTaskRegistry registry,
        JsonDataConverter converter,
        Func<string?, string?> resolve,
        out LiveExecution? live)
    {
        live = null;
        var started = past.Concat(newEvents).FirstOrDefault(e => e.EventType == HistoryEventType.ExecutionStarted);
        if (started is null)
        {
            return Failed(new TaskFailureDetails("InvalidOperationException", $"orchestration '{instanceId}': history has no ExecutionStarted event; purge the instance and start it again."));
        }

        var schedules = new Dictionary<int, HistoryEvent>();
        foreach (var e in past)
        {
            if (e.IsSchedulingEvent)
            {
                schedules[e.EventId] = e;
            }
        }

        var name = started.Name ?? string.Empty;
        var orchestrator = registry.CreateOrchestrator(name);
        if (orchestrator is null)
        {
            return Failed(new TaskFailureDetails(
                "InvalidOperationException",
                $"orchestration '{instanceId}': orchestrator '{name}' is not registered in this worker; register it with DurableTaskRegistry.AddOrchestrator or start an orchestrator that exists."));
        }

        var execution = new LiveExecution(new ReplayContext(instanceId, name, started.Version ?? string.Empty, schedules, converter, resolve), new InlineTaskScheduler(), orchestrator, converter, resolve);
        execution.Context.Replaying = true;
        execution.Apply(past);
        execution.Context.Replaying = false;
        var result = execution.Apply(newEvents);
        live = result.Completion is null ? execution : null;
        return result;
    }

    /// <summary>
    /// Runs the next episode of an orchestrator kept from the previous one (its history is exactly what that episode
    /// committed): applies only the new events. Returns null as <paramref name="next"/> once the orchestration ended.
    /// </summary>
    public static ExecutionResult Continue(LiveExecution live, IReadOnlyList<HistoryEvent> newEvents, out LiveExecution? next)
    {
        live.Context.BeginEpisode();
        var result = live.Apply(newEvents);
        next = result.Completion is null ? live : null;
        return result;
    }

    internal static Task<object?>? ApplyOne(
        HistoryEvent e,
        ReplayContext context,
        InlineTaskScheduler scheduler,
        ITaskOrchestrator orchestrator,
        JsonDataConverter converter,
        Func<string?, string?> resolve,
        Task<object?>? run)
    {
        if (e.EventType == HistoryEventType.ExecutionStarted)
        {
            if (run is not null)
            {
                return run;
            }

            context.SetInput(e.Input);
            run = Task.Factory.StartNew(
                () => RunOrchestrator(orchestrator, context, converter, resolve(e.Input)),
                CancellationToken.None,
                TaskCreationOptions.DenyChildAttach,
                scheduler).Unwrap();
        }
        else
        {
            context.Apply(e);
        }

        scheduler.RunPending();
        return run;
    }

    private static Task<object?> RunOrchestrator(ITaskOrchestrator orchestrator, ReplayContext context, JsonDataConverter converter, string? input)
    {
        object? value;
        try
        {
            value = converter.Deserialize(input, orchestrator.InputType);
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or NotSupportedException)
        {
            throw new ArgumentException($"orchestration '{context.InstanceId}' ({context.Name}): input does not deserialize to {orchestrator.InputType.Name}: {ex.Message}", ex);
        }

        return orchestrator.RunAsync(context, value);
    }

    internal static OrchestrationCompletion? Completion(Task<object?>? run, ReplayContext context, JsonDataConverter converter)
    {
        if (run is null || !run.IsCompleted)
        {
            return null;
        }

        if (run.IsFaulted)
        {
            var exception = run.Exception!.InnerExceptions.Count == 1 ? run.Exception.InnerException! : run.Exception;
            return new OrchestrationCompletion(OrchestrationRuntimeStatus.Failed, null, TaskFailureDetails.FromException(exception));
        }

        if (run.IsCanceled)
        {
            return new OrchestrationCompletion(OrchestrationRuntimeStatus.Failed, null,
                new TaskFailureDetails(typeof(TaskCanceledException).FullName!, $"orchestration '{context.InstanceId}' ({context.Name}): the orchestrator's task was cancelled."));
        }

        if (context.ContinueAsNewRequest is { } request)
        {
            return new OrchestrationCompletion(OrchestrationRuntimeStatus.ContinuedAsNew, null, null, request.Input,
                request.PreserveEvents ? context.UnconsumedEvents() : []);
        }

        string? output;
        try
        {
            output = converter.Serialize(run.Result);
        }
        catch (Exception ex) when (ex is NotSupportedException or System.Text.Json.JsonException)
        {
            return new OrchestrationCompletion(OrchestrationRuntimeStatus.Failed, null, TaskFailureDetails.FromException(ex));
        }

        return new OrchestrationCompletion(OrchestrationRuntimeStatus.Completed, output, null);
    }

    private static ExecutionResult Failed(TaskFailureDetails failure) =>
        new([], new OrchestrationCompletion(OrchestrationRuntimeStatus.Failed, null, failure), false, null);
}

/// <summary>
/// An orchestrator suspended at its awaits between episodes, with the context and scheduler it runs on. Kept with the
/// cached instance (see <see cref="Storage.InstanceSession.Live"/>) only while it matches the committed history.
/// </summary>
internal sealed class LiveExecution(ReplayContext context, InlineTaskScheduler scheduler, ITaskOrchestrator orchestrator, JsonDataConverter converter, Func<string?, string?> resolve)
{
    private Task<object?>? _run;

    public ReplayContext Context { get; } = context;

    /// <summary>How many history events of the instance this orchestrator has seen (set once its episode committed).</summary>
    public int HistoryCount { get; set; } = -1;

    /// <summary>Applies events in order, running the orchestrator after each, and reports the episode's outcome.</summary>
    public ExecutionResult Apply(IReadOnlyList<HistoryEvent> events)
    {
        var previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(null);
        try
        {
            // Nothing more is applied once the code diverged from history (in the replay, or in these events).
            foreach (var e in events)
            {
                if (Context.NonDeterminismError is not null)
                {
                    break;
                }

                _run = OrchestrationExecutor.ApplyOne(e, Context, scheduler, orchestrator, converter, resolve, _run);
            }
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }

        return Context.NonDeterminismError is { } error
            ? new ExecutionResult([], new OrchestrationCompletion(
                OrchestrationRuntimeStatus.Failed, null, new TaskFailureDetails(typeof(NonDeterministicOrchestrationException).FullName!, error)),
                Context.CustomStatusSet, Context.CustomStatus)
            : new ExecutionResult([.. Context.NewActions], OrchestrationExecutor.Completion(_run, Context, converter), Context.CustomStatusSet, Context.CustomStatus);
    }
}
