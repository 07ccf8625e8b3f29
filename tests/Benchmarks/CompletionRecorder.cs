using System.Collections.Concurrent;
using System.Diagnostics;
using FleetFunctions.Orchestrations.Engine;
using Microsoft.Extensions.Logging;

namespace FleetFunctions.Benchmarks;

/// <summary>
/// Records the instant the engine's commit of an instance's terminal episode returned, from the worker's
/// "episode committed" log event (id 4000, <c>Log.EpisodeCommitted</c> in the engine). Polling the instance for
/// completion instead adds up to the polling interval plus a read to every end-to-end figure. The worker logs after
/// its commit returns, so a client that polls can see the instance complete just before the log: <see cref="CompletedAtAsync"/> waits for it.
/// </summary>
internal sealed class CompletionRecorder : ILoggerFactory, ILogger
{
    private const int EpisodeCommittedEventId = 4000;
    private readonly ConcurrentDictionary<string, TaskCompletionSource<long>> _completed = new(StringComparer.Ordinal);

    /// <summary>The <see cref="Stopwatch"/> timestamp of the instance's terminal commit, once it is logged.</summary>
    /// <exception cref="TimeoutException">It was not logged within <paramref name="timeout"/>.</exception>
    public async Task<long> CompletedAtAsync(string instanceId, TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            return await Completion(instanceId).Task.WaitAsync(timeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"the worker did not log the terminal commit of '{instanceId}' within {timeout.TotalSeconds:0}s of the instance completing; the benchmark cannot time it");
        }
    }

    private TaskCompletionSource<long> Completion(string instanceId) =>
        _completed.GetOrAdd(instanceId, _ => new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously));

    public ILogger CreateLogger(string categoryName) => this;

    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException("the recorder is its own only logger");

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (eventId.Id != EpisodeCommittedEventId || state is not IReadOnlyList<KeyValuePair<string, object?>> values)
        {
            return;
        }

        var now = Stopwatch.GetTimestamp();
        string? instanceId = null;
        var terminal = false;
        foreach (var (key, value) in values)
        {
            if (key == "InstanceId")
            {
                instanceId = value as string;
            }
            else if (key == "Status" && value is OrchestrationRuntimeStatus status)
            {
                terminal = status.IsTerminal();
            }
        }

        if (terminal && instanceId is not null)
        {
            Completion(instanceId).TrySetResult(now);
        }
    }

    public void Dispose()
    {
    }
}
