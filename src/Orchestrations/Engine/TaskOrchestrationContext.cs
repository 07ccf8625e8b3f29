using Microsoft.Extensions.Logging;

namespace FleetFunctions.Orchestrations.Engine;

/// <summary>
/// The orchestrator's view of the durable runtime. Orchestrator code is replayed from history, so it must be
/// deterministic: no I/O, no <c>DateTime.UtcNow</c>, no <c>Guid.NewGuid</c>, no <c>Random</c>, no
/// <c>ConfigureAwait(false)</c>, no <c>Task.Run</c>/<c>Task.Delay</c>; use the members of this context.
/// </summary>
public abstract class TaskOrchestrationContext
{
    /// <summary>Registered name of the running orchestrator.</summary>
    public abstract string Name { get; }

    /// <summary>Id of this instance.</summary>
    public abstract string InstanceId { get; }

    /// <summary>Version string stored with the instance when it was scheduled.</summary>
    public abstract string Version { get; }

    /// <summary>Replay-safe current time: the time the current episode started, the same on every replay.</summary>
    public abstract DateTime CurrentUtcDateTime { get; }

    /// <summary>True while the code is re-executing steps already recorded in history.</summary>
    public abstract bool IsReplaying { get; }

    /// <summary>Deserializes the instance input.</summary>
    public abstract T? GetInput<T>();

    /// <summary>Schedules an activity and returns its result; throws <see cref="TaskFailedException"/> when it fails (after retries).</summary>
    public abstract Task<TResult> CallActivityAsync<TResult>(string name, object? input = null, TaskOptions? options = null);

    /// <summary>Schedules an activity without a result.</summary>
    public Task CallActivityAsync(string name, object? input = null, TaskOptions? options = null) =>
        CallActivityAsync<object?>(name, input, options);

    /// <summary>Starts a child orchestration and returns its output; throws <see cref="TaskFailedException"/> when it fails.</summary>
    public abstract Task<TResult> CallSubOrchestratorAsync<TResult>(string orchestratorName, object? input = null, SubOrchestrationOptions? options = null);

    /// <summary>Starts a child orchestration and waits for it, ignoring its output.</summary>
    public Task CallSubOrchestratorAsync(string orchestratorName, object? input = null, SubOrchestrationOptions? options = null) =>
        CallSubOrchestratorAsync<object?>(orchestratorName, input, options);

    /// <summary>A durable timer firing at <paramref name="fireAt"/> (UTC). Cancelling the token completes the task as cancelled.</summary>
    public abstract Task CreateTimer(DateTime fireAt, CancellationToken cancellationToken);

    /// <summary>A durable timer firing after <paramref name="delay"/> from <see cref="CurrentUtcDateTime"/>.</summary>
    public Task CreateTimer(TimeSpan delay, CancellationToken cancellationToken) => CreateTimer(CurrentUtcDateTime + delay, cancellationToken);

    /// <summary>
    /// Waits for an event raised to this instance (names are case-insensitive; events that arrive before anyone
    /// waits are buffered in order). Cancelling the token completes the task as cancelled; combine with
    /// <see cref="CreateTimer(DateTime, CancellationToken)"/> in <c>Task.WhenAny</c> for a timeout.
    /// </summary>
    public abstract Task<T> WaitForExternalEvent<T>(string eventName, CancellationToken cancellationToken = default);

    /// <summary>Waits for an event with a durable timeout; throws <see cref="TimeoutException"/> when the timer wins.</summary>
    public async Task<T> WaitForExternalEvent<T>(string eventName, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource();
        var eventTask = WaitForExternalEvent<T>(eventName, cts.Token);
        var timerTask = CreateTimer(CurrentUtcDateTime + timeout, cts.Token);
        var winner = await Task.WhenAny(eventTask, timerTask);
        // Cancel synchronously: CancelAsync would resume this code on the thread pool, outside the replay.
#pragma warning disable CA1849
        cts.Cancel();
#pragma warning restore CA1849
        if (winner == eventTask)
        {
            return await eventTask;
        }

        throw new TimeoutException($"orchestration '{InstanceId}': event '{eventName}' was not raised within {timeout}.");
    }

    /// <summary>A deterministic name-based (v5) UUID, the same on every replay.</summary>
    public abstract Guid NewGuid();

    /// <summary>Sets the custom status shown by the status API (serialized to JSON), recorded at the next checkpoint.</summary>
    public abstract void SetCustomStatus(object? customStatus);

    /// <summary>
    /// Restarts the instance with new input once the orchestrator returns, discarding its history (eternal
    /// orchestrations). Events received but not yet consumed are carried over when <paramref name="preserveUnprocessedEvents"/>.
    /// </summary>
    public abstract void ContinueAsNew(object? newInput, bool preserveUnprocessedEvents = true);

    /// <summary>A logger that writes only when the code is not replaying, so each line appears once.</summary>
    public abstract ILogger CreateReplaySafeLogger(ILogger logger);
}
