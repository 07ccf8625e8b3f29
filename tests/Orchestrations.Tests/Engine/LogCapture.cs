using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace FleetFunctions.Orchestrations.Tests.Engine;

/// <summary>A logger factory that keeps every entry (event id and formatted message), for tests that assert on what the engine logged.</summary>
internal sealed class LogCapture : ILoggerFactory
{
    private readonly ConcurrentQueue<(EventId Id, string Message)> _entries = new();

    public IReadOnlyList<(EventId Id, string Message)> Entries => [.. _entries];

    /// <summary>Messages logged with <paramref name="eventId"/> that mention <paramref name="text"/>.</summary>
    public IReadOnlyList<string> Messages(int eventId, string text) =>
        [.. _entries.Where(e => e.Id.Id == eventId && e.Message.Contains(text, StringComparison.Ordinal)).Select(e => e.Message)];

    public ILogger CreateLogger(string categoryName) => new Logger(_entries);

    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException("the capture is its own only logger");

    public void Dispose()
    {
    }

    private sealed class Logger(ConcurrentQueue<(EventId, string)> entries) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            entries.Enqueue((eventId, formatter(state, exception)));
    }
}
