namespace FleetFunctions.Orchestrations.Engine;

/// <summary>
/// What went wrong in an activity, a sub-orchestration or an orchestration: the exception type, its
/// message, its stack trace and the failure that caused it. Crosses process boundaries as data, so
/// callers branch on <see cref="ErrorType"/> (or <see cref="IsCausedBy{TException}"/>), not on CLR types.
/// </summary>
public sealed record TaskFailureDetails(string ErrorType, string ErrorMessage, string? StackTrace = null, TaskFailureDetails? InnerFailure = null)
{
    private const int MaxStackTraceLength = 8 * 1024;
    private const int MaxDepth = 8;

    /// <summary>Builds details from an exception, its inner exceptions included (stack traces truncated to 8 KB).</summary>
    public static TaskFailureDetails FromException(Exception exception) => FromException(exception, 0);

    /// <summary>True when <see cref="ErrorType"/> names <typeparamref name="TException"/> or a type derived from it that is loaded in this process.</summary>
    public bool IsCausedBy<TException>()
        where TException : Exception
    {
        var target = typeof(TException);
        if (ErrorType == target.FullName)
        {
            return true;
        }

        var type = AppDomain.CurrentDomain.GetAssemblies()
            .Select(a => a.GetType(ErrorType, throwOnError: false))
            .FirstOrDefault(t => t is not null);
        return type is not null && target.IsAssignableFrom(type);
    }

    public override string ToString() =>
        InnerFailure is null ? $"{ErrorType}: {ErrorMessage}" : $"{ErrorType}: {ErrorMessage} ---> {InnerFailure}";

    private static TaskFailureDetails FromException(Exception exception, int depth)
    {
        if (exception is TaskFailedException failed)
        {
            // Keep the remote failure as the cause rather than the local wrapper's stack only.
            return new TaskFailureDetails(
                typeof(TaskFailedException).FullName!,
                failed.Message,
                Truncate(failed.StackTrace),
                failed.FailureDetails);
        }

        var inner = exception.InnerException is { } innerException && depth < MaxDepth
            ? FromException(innerException, depth + 1)
            : null;
        return new TaskFailureDetails(exception.GetType().FullName ?? exception.GetType().Name, exception.Message, Truncate(exception.StackTrace), inner);
    }

    private static string? Truncate(string? stackTrace) =>
        stackTrace is { Length: > MaxStackTraceLength } ? stackTrace[..MaxStackTraceLength] + "\n   ...(truncated)" : stackTrace;
}
