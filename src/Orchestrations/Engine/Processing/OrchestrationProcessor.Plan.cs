using FleetFunctions.Orchestrations.Engine.History;
using FleetFunctions.Orchestrations.Engine.Replay;
using FleetFunctions.Orchestrations.Engine.Storage;

namespace FleetFunctions.Orchestrations.Engine.Processing;

internal sealed partial class OrchestrationProcessor
{
    private enum Decision
    {
        Accept,
        Park,
        Duplicate,
        Stale,
    }

    /// <summary>
    /// Decides what each message does to the instance, runs the orchestrator when there is something new for it,
    /// and builds the checkpoint. Returns null when nothing needs committing (all duplicates or stale).
    /// </summary>
    private async Task<EpisodePlan?> PlanAsync(InstanceSession session, IReadOnlyList<TaskMessage> messages, CancellationToken cancellationToken)
    {
        var now = DateTime.UtcNow;
        var instanceId = session.InstanceId;
        var candidates = session.Inbox.Select(r => (r.Message, InboxKey: (string?)r.RowKey))
            .Concat(messages.Select(m => (Message: m, InboxKey: (string?)null)))
            .ToList();

        var state = session.State;
        var etag = session.ETag;
        var episodeEvents = new List<HistoryEvent> { new() { EventType = HistoryEventType.OrchestratorStarted, Timestamp = now } };
        var outbox = new List<OutboundMessage>();
        var inboxDeletes = new List<string>();
        var parks = new List<TaskMessage>();
        var stale = new List<string>();
        var newExecution = false;
        var runCode = false;
        var sawStale = false;

        void Consume(string? inboxKey)
        {
            if (inboxKey is not null)
            {
                inboxDeletes.Add(inboxKey);
            }
        }

        // Forced ends first: terminate, or a failure recorded for a poisoned message.
        // One addressed to another run of this id (a cascaded terminate after the id was reused) is stale.
        var end = candidates.FirstOrDefault(c => c.Message.Event.EventType is HistoryEventType.ExecutionTerminated or HistoryEventType.ExecutionCompleted
            && AddressesCurrentRun(c.Message, state));
        if (end.Message is not null)
        {
            if (state is null && end.Message is { ExecutionId: { } childExecution, Event: { EventType: HistoryEventType.ExecutionTerminated, Parent: not null } })
            {
                // A parent's terminate overtook the child's start: record the child run as terminated, so its start is ignored.
                var tombstone = new InstanceState
                {
                    InstanceId = instanceId, Name = end.Message.Event.Name ?? string.Empty, Status = OrchestrationRuntimeStatus.Terminated,
                    ExecutionId = childExecution, Output = end.Message.Event.Result, CreatedTime = now, LastUpdatedTime = now, CompletedTime = now,
                    Parent = end.Message.Event.Parent,
                };
                episodeEvents.Add(end.Message.Event with { Timestamp = now });
                return BuildPlan(session, tombstone, etag, episodeEvents, [], [], [], [], true);
            }

            if (state is null || state.Status.IsTerminal())
            {
                if (session.FromCache)
                {
                    return EpisodePlan.Reload;
                }

                candidates.ForEach(c => Consume(c.InboxKey));
                return inboxDeletes.Count == 0 ? null : BuildPlan(session, state!, etag, [], [], inboxDeletes, [], [], false);
            }

            var e = end.Message.Event;
            var terminated = e.EventType == HistoryEventType.ExecutionTerminated;
            var failure = terminated
                ? new TaskFailureDetails("OrchestrationTerminated", $"orchestration '{instanceId}' was terminated: {e.Result ?? "no reason given"}")
                : e.FailureDetails;
            state = state with
            {
                Status = terminated ? OrchestrationRuntimeStatus.Terminated : OrchestrationRuntimeStatus.Failed,
                Output = terminated ? e.Result : state.Output,
                Failure = terminated ? null : failure,
                CompletedTime = now,
                LastUpdatedTime = now,
            };
            episodeEvents.Add(e with { Timestamp = now });
            NotifyParent(state, null, failure, outbox, now);
            if (terminated)
            {
                TerminateChildren(session, e.Result, outbox, now);
            }

            candidates.ForEach(c => Consume(c.InboxKey));
            return BuildPlan(session, state, etag, episodeEvents, outbox, inboxDeletes, [], [], false);
        }

        // Lifecycle: start, suspend, resume, in arrival order.
        HistoryEvent? startEvent = null;
        bool Redelivered(TaskMessage message) => !newExecution && session.RecordedMessageIds.Contains(message.Id);
        foreach (var (message, inboxKey) in candidates)
        {
            var e = message.Event;
            switch (e.EventType)
            {
                case HistoryEventType.ExecutionStarted:
                    var executionId = message.ExecutionId ?? e.ExecutionId ?? string.Empty;
                    if (state is null || (!state.Started && state.ExecutionId == executionId))
                    {
                        state = new InstanceState
                        {
                            InstanceId = instanceId,
                            Name = e.Name ?? string.Empty,
                            Version = e.Version ?? string.Empty,
                            Status = OrchestrationRuntimeStatus.Running,
                            ExecutionId = executionId,
                            Input = e.Input,
                            CreatedTime = state?.CreatedTime ?? now,
                            LastUpdatedTime = now,
                            Parent = e.Parent,
                            Episode = 0,
                        };
                        startEvent = e with { ExecutionId = executionId };
                        newExecution = true;
                    }
                    else if (state.ExecutionId != executionId && e.Parent is not null && state.Status.IsTerminal())
                    {
                        // A parent starts a child whose id finished before: a fresh execution replaces it.
                        stale.AddRange(session.HistoryRowKeys);
                        state = state with
                        {
                            Name = e.Name ?? string.Empty, Version = e.Version ?? string.Empty, Status = OrchestrationRuntimeStatus.Running,
                            ExecutionId = executionId, Input = e.Input, Output = null, CustomStatus = null, Failure = null,
                            CompletedTime = null, CreatedTime = now, LastUpdatedTime = now, Parent = e.Parent, Episode = 0,
                        };
                        startEvent = e with { ExecutionId = executionId };
                        newExecution = true;
                    }
                    else if (state.ExecutionId != executionId && e.Parent is { } parent)
                    {
                        outbox.Add(ToParent(parent, now, null, new TaskFailureDetails(
                            typeof(OrchestrationAlreadyExistsException).FullName!,
                            $"sub-orchestration '{instanceId}' could not start: an instance with that id is {state.Status}.")));
                    }
                    else if (state.ExecutionId != executionId)
                    {
                        sawStale = true;
                    }

                    Consume(inboxKey);
                    break;
                // Recorded with their message id, so a redelivery (a suspend whose queue message outlived its
                // checkpoint, arriving after the resume) is dropped instead of applied again.
                case HistoryEventType.ExecutionSuspended:
                    if (state is { Status: OrchestrationRuntimeStatus.Running } && !Redelivered(message))
                    {
                        state = state with { Status = OrchestrationRuntimeStatus.Suspended, LastUpdatedTime = now };
                        episodeEvents.Add(e with { Timestamp = now, MessageId = message.Id });
                    }

                    Consume(inboxKey);
                    break;
                case HistoryEventType.ExecutionResumed:
                    if (state is { Status: OrchestrationRuntimeStatus.Suspended } && !Redelivered(message))
                    {
                        state = state with { Status = OrchestrationRuntimeStatus.Running, LastUpdatedTime = now };
                        episodeEvents.Add(e with { Timestamp = now, MessageId = message.Id });
                    }

                    Consume(inboxKey);
                    break;
                default:
                    break;
            }
        }

        if (startEvent is not null)
        {
            episodeEvents.Add(startEvent);
            runCode = true;
        }

        // Work results and raised events.
        var acceptedTasks = new HashSet<int>();
        var acceptedEvents = new HashSet<string>(StringComparer.Ordinal);
        var history = newExecution ? null : session;
        foreach (var (message, inboxKey) in candidates)
        {
            var e = message.Event;
            if (e.EventType is HistoryEventType.ExecutionStarted or HistoryEventType.ExecutionSuspended or HistoryEventType.ExecutionResumed)
            {
                continue;
            }

            var decision = Decide(state, history, message, acceptedTasks, acceptedEvents);
            switch (decision)
            {
                case Decision.Accept:
                    episodeEvents.Add(e.EventType == HistoryEventType.EventRaised ? e with { MessageId = message.Id } : e);
                    runCode = true;
                    Consume(inboxKey);
                    break;
                case Decision.Park:
                    if (inboxKey is null)
                    {
                        parks.Add(message);
                    }

                    break;
                case Decision.Stale:
                    sawStale = true;
                    Consume(inboxKey);
                    break;
                default:
                    Consume(inboxKey);
                    break;
            }
        }

        if (sawStale && session.FromCache)
        {
            return EpisodePlan.Reload;
        }

        if (state is null)
        {
            return null;
        }

        if (!runCode)
        {
            var lifecycleOnly = episodeEvents.Count > 1;
            if (!lifecycleOnly && parks.Count == 0 && inboxDeletes.Count == 0 && outbox.Count == 0)
            {
                return null;
            }

            return BuildPlan(session, state, etag, lifecycleOnly ? episodeEvents : [], outbox, inboxDeletes, parks, stale, newExecution);
        }

        var episodeExecution = state.ExecutionId;
        var past = newExecution ? (IReadOnlyList<HistoryEvent>)[] : session.History;
        await hub.Payloads.PrefetchAsync(past.Concat(episodeEvents).SelectMany(e => new[] { e.Input, e.Result }), session.Payloads, cancellationToken);
        var payloads = session.Payloads;

        // The orchestrator kept from the last episode continues with the new events only; otherwise it is replayed over
        // the whole history. Either way the session holds no orchestrator until this episode has committed.
        var kept = session.Live;
        session.Live = null;
        LiveExecution? live;
        var result = !newExecution && kept is not null && kept.HistoryCount == session.History.Count
            ? OrchestrationExecutor.Continue(kept, episodeEvents, out live)
            : OrchestrationExecutor.Execute(instanceId, past, episodeEvents, registry, hub.Converter, v => PayloadStore.IsReference(v) ? payloads[v!] : v, out live);

        var newHistory = new List<HistoryEvent>(episodeEvents);
        foreach (var action in result.NewActions)
        {
            var scheduled = action.ToHistoryEvent(now) with { Input = await hub.Payloads.OffloadAsync(instanceId, action.Input, cancellationToken) };
            if (scheduled.EventType == HistoryEventType.SubOrchestrationInstanceCreated)
            {
                // The child's execution id is recorded, so a terminate can be addressed to exactly this child run.
                scheduled = scheduled with { ExecutionId = Guid.NewGuid().ToString("N") };
            }

            newHistory.Add(scheduled);
            outbox.Add(ToOutbound(state, scheduled, now));
        }

        if (result.CustomStatusSet)
        {
            state = state with { CustomStatus = await hub.Payloads.OffloadAsync(instanceId, result.CustomStatus, cancellationToken) };
        }

        state = state with { LastUpdatedTime = now };
        if (result.Completion is { } completion)
        {
            state = await CompleteAsync(state, completion, newHistory, outbox, stale, session, now, cancellationToken);
        }

        newHistory.Add(new HistoryEvent { EventType = HistoryEventType.OrchestratorCompleted, Timestamp = now });
        return BuildPlan(session, state, etag, newHistory, outbox, inboxDeletes, parks, stale, newExecution, episodeExecution, live);
    }

    private static Decision Decide(InstanceState? state, InstanceSession? history, TaskMessage message, HashSet<int> acceptedTasks, HashSet<string> acceptedEvents)
    {
        var e = message.Event;
        if (state is null || state.Status.IsTerminal())
        {
            return Decision.Stale;
        }

        if (e.EventType == HistoryEventType.EventRaised)
        {
            if (!state.Started || state.Status == OrchestrationRuntimeStatus.Suspended)
            {
                return Decision.Park;
            }

            return (history?.RecordedMessageIds.Contains(message.Id) ?? false) || !acceptedEvents.Add(message.Id) ? Decision.Duplicate : Decision.Accept;
        }

        if (!e.IsCompletionEvent)
        {
            return Decision.Stale;
        }

        if (message.ExecutionId != state.ExecutionId)
        {
            return Decision.Stale;
        }

        if (!state.Started || state.Status == OrchestrationRuntimeStatus.Suspended)
        {
            return Decision.Park;
        }

        if (history is null || !history.ScheduledTaskIds.Contains(e.TaskScheduledId))
        {
            return Decision.Stale;
        }

        return history.CompletedTaskIds.Contains(e.TaskScheduledId) || !acceptedTasks.Add(e.TaskScheduledId) ? Decision.Duplicate : Decision.Accept;
    }

    private async Task<InstanceState> CompleteAsync(
        InstanceState state, OrchestrationCompletion completion, List<HistoryEvent> newHistory, List<OutboundMessage> outbox,
        List<string> stale, InstanceSession session, DateTime now, CancellationToken cancellationToken)
    {
        if (completion.Status == OrchestrationRuntimeStatus.ContinuedAsNew)
        {
            var input = await hub.Payloads.OffloadAsync(state.InstanceId, completion.NewInput, cancellationToken);
            newHistory.Add(new HistoryEvent { EventType = HistoryEventType.ExecutionCompleted, Timestamp = now, OrchestrationStatus = OrchestrationRuntimeStatus.ContinuedAsNew, Result = input });
            var executionId = Guid.NewGuid().ToString("N");
            outbox.Add(new OutboundMessage(TaskHubQueue.Control, new TaskMessage
            {
                Id = Guid.NewGuid().ToString("N"),
                InstanceId = state.InstanceId,
                ExecutionId = executionId,
                Event = new HistoryEvent
                {
                    EventType = HistoryEventType.ExecutionStarted, Timestamp = now, Name = state.Name, Version = state.Version,
                    Input = input, ExecutionId = executionId, Parent = state.Parent,
                },
            }));
            foreach (var carried in completion.CarryOverEvents ?? [])
            {
                outbox.Add(new OutboundMessage(TaskHubQueue.Control, new TaskMessage
                {
                    Id = Guid.NewGuid().ToString("N"),
                    InstanceId = state.InstanceId,
                    Event = carried with { MessageId = null },
                }));
            }

            stale.AddRange(session.HistoryRowKeys);
            return state with { Status = OrchestrationRuntimeStatus.ContinuedAsNew, ExecutionId = executionId, Input = input, Output = null, CustomStatus = null };
        }

        var output = await hub.Payloads.OffloadAsync(state.InstanceId, completion.Output, cancellationToken);
        newHistory.Add(new HistoryEvent
        {
            EventType = HistoryEventType.ExecutionCompleted, Timestamp = now, OrchestrationStatus = completion.Status,
            Result = output, FailureDetails = completion.Failure,
        });
        state = state with { Status = completion.Status, Output = output, Failure = completion.Failure, CompletedTime = now };
        NotifyParent(state, output, completion.Failure, outbox, now);
        return state;
    }

    private static void NotifyParent(InstanceState state, string? output, TaskFailureDetails? failure, List<OutboundMessage> outbox, DateTime now)
    {
        if (state.Parent is { } parent)
        {
            outbox.Add(ToParent(parent, now, state.Status == OrchestrationRuntimeStatus.Completed ? output : null,
                state.Status == OrchestrationRuntimeStatus.Completed ? null : failure ?? new TaskFailureDetails("OrchestrationTerminated", $"sub-orchestration '{state.InstanceId}' was {state.Status}.")));
        }
    }

    private static OutboundMessage ToParent(ParentInstance parent, DateTime now, string? output, TaskFailureDetails? failure) =>
        new(TaskHubQueue.Control, new TaskMessage
        {
            Id = Guid.NewGuid().ToString("N"),
            InstanceId = parent.InstanceId,
            ExecutionId = parent.ExecutionId,
            Event = new HistoryEvent
            {
                EventType = failure is null ? HistoryEventType.SubOrchestrationInstanceCompleted : HistoryEventType.SubOrchestrationInstanceFailed,
                Timestamp = now,
                TaskScheduledId = parent.TaskId,
                Result = output,
                FailureDetails = failure,
            },
        });

    private static OutboundMessage ToOutbound(InstanceState state, HistoryEvent scheduled, DateTime now)
    {
        var id = Guid.NewGuid().ToString("N");
        return scheduled.EventType switch
        {
            HistoryEventType.TaskScheduled => new OutboundMessage(TaskHubQueue.WorkItems, new TaskMessage
            {
                Id = id, InstanceId = state.InstanceId, ExecutionId = state.ExecutionId, Event = scheduled,
            }),
            HistoryEventType.TimerCreated => new OutboundMessage(TaskHubQueue.Control, new TaskMessage
            {
                Id = id, InstanceId = state.InstanceId, ExecutionId = state.ExecutionId, VisibleAt = scheduled.FireAt,
                Event = new HistoryEvent { EventType = HistoryEventType.TimerFired, Timestamp = now, TaskScheduledId = scheduled.EventId, FireAt = scheduled.FireAt },
            }),
            _ => ChildStart(state, scheduled, now, id),
        };
    }

    /// <summary>
    /// True when a terminate or forced failure is meant for the instance's current run: a cascaded terminate (it names
    /// the parent) when the instance is still that parent's child, even after ContinueAsNew; any other when it names
    /// no execution or the current one.
    /// </summary>
    private static bool AddressesCurrentRun(TaskMessage message, InstanceState? state) => state is null || message.Event.Parent switch
    {
        { } parent => state.Parent is { } current && current.InstanceId == parent.InstanceId && current.ExecutionId == parent.ExecutionId && current.TaskId == parent.TaskId,
        null => message.ExecutionId is null || message.ExecutionId == state.ExecutionId,
    };

    /// <summary>
    /// Terminate cascades: every sub-orchestration the instance started and still waits for is terminated too
    /// (addressed to this parent's child run, so a later run reusing the id is not touched).
    /// </summary>
    private static void TerminateChildren(InstanceSession session, string? reason, List<OutboundMessage> outbox, DateTime now)
    {
        foreach (var child in session.History.Where(h => h.EventType == HistoryEventType.SubOrchestrationInstanceCreated && !session.CompletedTaskIds.Contains(h.EventId)))
        {
            outbox.Add(new OutboundMessage(TaskHubQueue.Control, new TaskMessage
            {
                Id = Guid.NewGuid().ToString("N"),
                InstanceId = child.InstanceId!,
                ExecutionId = child.ExecutionId,
                Event = new HistoryEvent
                {
                    EventType = HistoryEventType.ExecutionTerminated,
                    Timestamp = now,
                    Name = child.Name,
                    Result = reason,
                    Parent = new ParentInstance(session.InstanceId, session.State!.ExecutionId, child.EventId, session.State.Name),
                },
            }));
        }
    }

    private static OutboundMessage ChildStart(InstanceState state, HistoryEvent scheduled, DateTime now, string id)
    {
        var childExecution = scheduled.ExecutionId ?? Guid.NewGuid().ToString("N");
        return new OutboundMessage(TaskHubQueue.Control, new TaskMessage
        {
            Id = id,
            InstanceId = scheduled.InstanceId!,
            ExecutionId = childExecution,
            Event = new HistoryEvent
            {
                EventType = HistoryEventType.ExecutionStarted, Timestamp = now, Name = scheduled.Name, Version = scheduled.Version,
                Input = scheduled.Input, ExecutionId = childExecution,
                Parent = new ParentInstance(state.InstanceId, state.ExecutionId, scheduled.EventId, state.Name),
            },
        });
    }

    private static EpisodePlan BuildPlan(
        InstanceSession session, InstanceState state, Azure.ETag? etag, IReadOnlyList<HistoryEvent> newHistory, IReadOnlyList<OutboundMessage> outbox,
        IReadOnlyList<string> inboxDeletes, IReadOnlyList<TaskMessage> parks, IReadOnlyList<string> stale, bool newExecution, string? episodeExecutionId = null,
        LiveExecution? live = null)
    {
        // History rows are written under the execution that ran this episode; ContinueAsNew then moves the state on.
        var execution = episodeExecutionId ?? session.State?.ExecutionId ?? state.ExecutionId;
        var previousEpisode = newExecution ? 0 : session.State?.Episode ?? 0;
        var episode = newHistory.Count > 0 ? previousEpisode + 1 : previousEpisode;
        var continued = state.Status == OrchestrationRuntimeStatus.ContinuedAsNew;
        return new EpisodePlan
        {
            Checkpoint = new Checkpoint(state with { Episode = continued ? 0 : episode }, etag, execution, episode, newHistory, outbox, inboxDeletes, parks),
            StaleRowKeys = stale,
            NewExecution = newExecution,
            DiscardsHistory = continued,
            Live = continued ? null : live,
        };
    }
}
