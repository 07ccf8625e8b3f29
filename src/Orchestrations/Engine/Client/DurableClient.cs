using FleetFunctions.Orchestrations.Engine.History;
using FleetFunctions.Orchestrations.Engine.Storage;

namespace FleetFunctions.Orchestrations.Engine.Client;

/// <summary>
/// Starts, inspects and manages orchestration instances of a task hub. Thread-safe; needs no worker in the
/// same process (requests travel through the hub's queues and tables).
/// </summary>
public sealed partial class DurableClient(DurableTaskHub hub, string defaultVersion = "")
{
    public DurableTaskHub Hub => hub;

    /// <summary>
    /// Schedules a new instance and returns its id. With an explicit id: an instance still pending, running or
    /// suspended is rejected or returned as configured; a finished one is replaced by a new execution.
    /// </summary>
    public async Task<string> ScheduleNewOrchestrationInstanceAsync(
        string orchestratorName, object? input = null, StartOrchestrationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(orchestratorName);
        options ??= new StartOrchestrationOptions();
        var instanceId = options.InstanceId ?? Guid.NewGuid().ToString("N");
        KeyEncoding.ValidateInstanceId(instanceId);
        var serialized = await hub.Payloads.OffloadAsync(instanceId, hub.Converter.Serialize(input), cancellationToken);

        // A new id is the common case: try to create the instance straight away, and read what is there only when
        // that conflicts (one storage round trip less per start).
        (InstanceState State, Azure.ETag ETag)? existing = null;
        for (var attempt = 0; ; attempt++)
        {
            if (existing is { } found && !found.State.Status.IsTerminal())
            {
                if (!found.State.Started)
                {
                    // Pending: re-send its start message, in case the client that created it died before sending.
                    await hub.SendAsync(new OutboundMessage(TaskHubQueue.Control, found.State.ToStartMessage()), cancellationToken);
                }

                return options.IfRunning == OrchestrationIdReusePolicy.ReturnExisting
                    ? instanceId
                    : throw new OrchestrationAlreadyExistsException(instanceId, found.State.Status);
            }

            var now = DateTime.UtcNow;
            var state = new InstanceState
            {
                InstanceId = instanceId,
                Name = orchestratorName,
                Version = options.Version ?? defaultVersion,
                Status = OrchestrationRuntimeStatus.Pending,
                ExecutionId = Guid.NewGuid().ToString("N"),
                Input = serialized,
                CreatedTime = now,
                LastUpdatedTime = now,
                ScheduledStartTime = options.StartAt is { } startAt ? DateTime.SpecifyKind(startAt, DateTimeKind.Utc) : null,
            };
            OutboxRow row;
            var start = state.ToStartMessage();
            if (existing is null && options.StartAt is null && hub.LocalCreates is { } createHere)
            {
                // A worker in this process commits the instance with its first episode (one transaction, not two).
                var outcome = await createHere(state, start, cancellationToken);
                if (outcome == LocalCreateOutcome.Created)
                {
                    return instanceId;
                }

                if (outcome == LocalCreateOutcome.IdTaken && attempt < 5)
                {
                    existing = await hub.Store.ReadStateAsync(instanceId, cancellationToken);
                    continue;
                }
            }

            try
            {
                row = await hub.Store.CreateOrReplaceAsync(state, existing?.ETag, start, cancellationToken);
            }
            catch (CheckpointConflictException) when (attempt < 5)
            {
                // The id exists, or a retried request created it already: then it is ours, and only the send is left.
                var current = await hub.Store.ReadStateAsync(instanceId, cancellationToken);
                if (current?.State.ExecutionId != state.ExecutionId)
                {
                    existing = current;
                    continue;
                }

                row = new OutboxRow(InstanceStore.OutboxRowKey(state.ExecutionId, 0, 0), [new OutboundMessage(TaskHubQueue.Control, start)]);
            }

            if (options.StartAt is null && hub.LocalStarts is { } local && local(new LocalStart(instanceId, row)))
            {
                return instanceId;
            }

            await hub.FlushOutboxAsync(instanceId, [row], cancellationToken);
            return instanceId;
        }
    }

    /// <summary>Sends an event to an instance; it is delivered to a waiting <c>WaitForExternalEvent</c> or buffered.</summary>
    public async Task RaiseEventAsync(string instanceId, string eventName, object? eventData = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(eventName);
        var data = await hub.Payloads.OffloadAsync(instanceId, hub.Converter.Serialize(eventData), cancellationToken);
        await SendAsync(instanceId, new HistoryEvent { EventType = HistoryEventType.EventRaised, Timestamp = DateTime.UtcNow, Name = eventName, Input = data }, cancellationToken);
    }

    /// <summary>Ends an instance now; its output becomes the reason. Running activities finish but their results are ignored.</summary>
    public Task TerminateAsync(string instanceId, object? reason = null, CancellationToken cancellationToken = default) =>
        SendAsync(instanceId, new HistoryEvent { EventType = HistoryEventType.ExecutionTerminated, Timestamp = DateTime.UtcNow, Result = hub.Converter.Serialize(reason) }, cancellationToken);

    /// <summary>Pauses an instance: messages to it are parked until it is resumed.</summary>
    public Task SuspendAsync(string instanceId, string? reason = null, CancellationToken cancellationToken = default) =>
        SendAsync(instanceId, new HistoryEvent { EventType = HistoryEventType.ExecutionSuspended, Timestamp = DateTime.UtcNow, Result = hub.Converter.Serialize(reason) }, cancellationToken);

    /// <summary>Resumes a suspended instance; parked messages are processed.</summary>
    public Task ResumeAsync(string instanceId, string? reason = null, CancellationToken cancellationToken = default) =>
        SendAsync(instanceId, new HistoryEvent { EventType = HistoryEventType.ExecutionResumed, Timestamp = DateTime.UtcNow, Result = hub.Converter.Serialize(reason) }, cancellationToken);

    /// <summary>Polls until the instance is Completed, Failed or Terminated (or the token is cancelled).</summary>
    public async Task<OrchestrationMetadata> WaitForInstanceCompletionAsync(string instanceId, bool getInputsAndOutputs = true, CancellationToken cancellationToken = default)
    {
        var delay = TimeSpan.FromMilliseconds(20);
        while (true)
        {
            var metadata = await GetInstanceAsync(instanceId, getInputsAndOutputs, cancellationToken: cancellationToken);
            if (metadata is { IsCompleted: true })
            {
                return metadata;
            }

            await Task.Delay(delay, cancellationToken);
            delay = TimeSpan.FromMilliseconds(Math.Min(500, delay.TotalMilliseconds * 1.5));
        }
    }

    private Task SendAsync(string instanceId, HistoryEvent e, CancellationToken cancellationToken)
    {
        KeyEncoding.ValidateInstanceId(instanceId);
        return hub.SendAsync(new OutboundMessage(TaskHubQueue.Control, new TaskMessage { Id = Guid.NewGuid().ToString("N"), InstanceId = instanceId, Event = e }), cancellationToken);
    }
}
