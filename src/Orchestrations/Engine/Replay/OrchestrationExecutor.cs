using FleetFunctions.Orchestrations.Engine.History;

namespace FleetFunctions.Orchestrations.Engine.Replay;

/// <summary>
/// Replays an orchestrator over its history, then applies the episode's new events, and reports the new steps
/// and whether the orchestration ended. Pure: no I/O (payload references are resolved by the caller's function).
/// </summary>
internal static class OrchestrationExecutor
{
    public static ExecutionResult Execute(
        string instanceId,
        IReadOnlyList<HistoryEvent> past,
        IReadOnlyList<HistoryEvent> newEvents,
        DurableTaskRegistry registry,
        JsonDataConverter converter,
        Func<string?, string?> resolve)
    {
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

        var context = new ReplayContext(instanceId, name, started.Version ?? string.Empty, schedules, converter, resolve);
        var scheduler = new InlineTaskScheduler();
        var previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(null);
        try
        {
            Task<object?>? run = null;
            context.Replaying = true;
            foreach (var e in past)
            {
                run = ApplyOne(e, context, scheduler, orchestrator, converter, resolve, run);
                if (context.NonDeterminismError is not null)
                {
                    break;
                }
            }

            context.Replaying = false;
            if (context.NonDeterminismError is null)
            {
                foreach (var e in newEvents)
                {
                    run = ApplyOne(e, context, scheduler, orchestrator, converter, resolve, run);
                    if (context.NonDeterminismError is not null)
                    {
                        break;
                    }
                }
            }

            if (context.NonDeterminismError is { } error)
            {
                return new ExecutionResult([], new OrchestrationCompletion(
                    OrchestrationRuntimeStatus.Failed, null, new TaskFailureDetails(typeof(NonDeterministicOrchestrationException).FullName!, error)),
                    context.CustomStatusSet, context.CustomStatus);
            }

            return new ExecutionResult(context.NewActions, Completion(run, context, converter), context.CustomStatusSet, context.CustomStatus);
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }
    }

    private static Task<object?>? ApplyOne(
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

    private static OrchestrationCompletion? Completion(Task<object?>? run, ReplayContext context, JsonDataConverter converter)
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
