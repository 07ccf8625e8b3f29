using System.Collections.Concurrent;
using System.Diagnostics;
using FleetFunctions.Orchestrations.Engine;
using Microsoft.Extensions.Logging;

namespace FleetFunctions.Benchmarks;

/// <summary>
/// Records the instant the engine's commit of an instance's terminal episode returned, from the worker's
/// "episode committed" log event (id 4000, <c>Log.EpisodeCommitted</c> in the engine). Polling the instance for
/// completion instead adds up to the polling interval plus a read to every end-to-end figure.
/// </summary>
internal sealed class CompletionRecorder : ILoggerFactory, ILogger
{
    private const int EpisodeCommittedEventId = 4000;
    private readonly ConcurrentDictionary<string, long> _completed = new(StringComparer.Ordinal);

    /// <summary>The <see cref="Stopwatch"/> timestamp of the instance's terminal commit, if it was seen.</summary>
    public long? CompletedAt(string instanceId) => _completed.TryGetValue(instanceId, out var at) ? at : null;

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
            _completed.TryAdd(instanceId, now);
        }
    }

    public void Dispose()
    {
    }
}
