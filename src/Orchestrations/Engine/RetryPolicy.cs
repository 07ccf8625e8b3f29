namespace FleetFunctions.Orchestrations.Engine;

/// <summary>
/// Retries a failed activity or sub-orchestration from the orchestrator, with durable timers between attempts
/// (so waiting costs nothing and survives restarts). Delay before retry n (1-based) is
/// <c>min(FirstRetryInterval * BackoffCoefficient^(n-1), MaxRetryInterval)</c>.
/// </summary>
public sealed record RetryPolicy
{
    public RetryPolicy(int maxNumberOfAttempts, TimeSpan firstRetryInterval, double backoffCoefficient = 1.0, TimeSpan? maxRetryInterval = null)
    {
        if (maxNumberOfAttempts < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(maxNumberOfAttempts), maxNumberOfAttempts, "RetryPolicy: MaxNumberOfAttempts must be at least 1.");
        }

        if (firstRetryInterval <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(firstRetryInterval), firstRetryInterval, "RetryPolicy: FirstRetryInterval must be positive.");
        }

        if (backoffCoefficient < 1.0)
        {
            throw new ArgumentOutOfRangeException(nameof(backoffCoefficient), backoffCoefficient, "RetryPolicy: BackoffCoefficient must be at least 1.0.");
        }

        MaxNumberOfAttempts = maxNumberOfAttempts;
        FirstRetryInterval = firstRetryInterval;
        BackoffCoefficient = backoffCoefficient;
        MaxRetryInterval = maxRetryInterval ?? TimeSpan.FromHours(1);
    }

    /// <summary>Total attempts including the first.</summary>
    public int MaxNumberOfAttempts { get; }

    public TimeSpan FirstRetryInterval { get; }

    public double BackoffCoefficient { get; }

    public TimeSpan MaxRetryInterval { get; }

    /// <summary>Which failures are worth retrying; all of them when null.</summary>
    public Func<TaskFailureDetails, bool>? Handle { get; init; }

    /// <summary>Delay before the retry that follows failed attempt <paramref name="attempt"/> (1-based).</summary>
    public TimeSpan GetDelay(int attempt)
    {
        var factor = Math.Pow(BackoffCoefficient, Math.Max(0, attempt - 1));
        var ticks = FirstRetryInterval.Ticks * factor;
        return ticks >= MaxRetryInterval.Ticks ? MaxRetryInterval : TimeSpan.FromTicks((long)ticks);
    }
}

/// <summary>Options for one activity call.</summary>
public record TaskOptions(RetryPolicy? Retry = null)
{
    /// <summary>Shorthand for <c>new TaskOptions(policy)</c>.</summary>
    public static TaskOptions FromRetryPolicy(RetryPolicy policy) => new(policy);
}

/// <summary>Options for one sub-orchestration call: retries and an explicit child instance id.</summary>
public sealed record SubOrchestrationOptions(RetryPolicy? Retry = null, string? InstanceId = null) : TaskOptions(Retry);
