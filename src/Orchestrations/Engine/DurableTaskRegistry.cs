namespace FleetFunctions.Orchestrations.Engine;

/// <summary>
/// Orchestrators and activities by name, plus the version string stamped on instances this app schedules.
/// Build it once at startup; it is read-only for workers afterwards. Names are case-sensitive.
/// </summary>
public sealed class DurableTaskRegistry
{
    private readonly Dictionary<string, Func<ITaskOrchestrator>> _orchestrators = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Func<ITaskActivity>> _activities = new(StringComparer.Ordinal);

    /// <summary>Version stored with each instance scheduled without an explicit version.</summary>
    public string Version { get; init; } = string.Empty;

    public IReadOnlyCollection<string> OrchestratorNames => _orchestrators.Keys;

    public IReadOnlyCollection<string> ActivityNames => _activities.Keys;

    public DurableTaskRegistry AddOrchestrator<TInput, TOutput>(string name, Func<TaskOrchestrationContext, TInput, Task<TOutput>> orchestrator)
    {
        ArgumentNullException.ThrowIfNull(orchestrator);
        return AddOrchestrator(name, () => new DelegateOrchestrator<TInput, TOutput>(orchestrator));
    }

    public DurableTaskRegistry AddOrchestrator<TOutput>(string name, Func<TaskOrchestrationContext, Task<TOutput>> orchestrator)
    {
        ArgumentNullException.ThrowIfNull(orchestrator);
        return AddOrchestrator(name, () => new DelegateOrchestrator<object?, TOutput>((context, _) => orchestrator(context)));
    }

    /// <summary>Registers a class-based orchestrator under its type name.</summary>
    public DurableTaskRegistry AddOrchestrator<TOrchestrator>()
        where TOrchestrator : ITaskOrchestrator, new() =>
        AddOrchestrator(typeof(TOrchestrator).Name, () => new TOrchestrator());

    /// <summary>Registers an orchestrator factory (called once per episode) under <paramref name="name"/>.</summary>
    public DurableTaskRegistry AddOrchestrator(string name, Func<ITaskOrchestrator> factory)
    {
        ValidateName(name, "orchestrator");
        ArgumentNullException.ThrowIfNull(factory);
        if (!_orchestrators.TryAdd(name, factory))
        {
            throw new ArgumentException($"orchestrator '{name}' is registered twice: give each orchestrator a unique name.", nameof(name));
        }

        return this;
    }

    public DurableTaskRegistry AddActivity<TInput, TOutput>(string name, Func<TaskActivityContext, TInput, Task<TOutput>> activity)
    {
        ArgumentNullException.ThrowIfNull(activity);
        return AddActivity(name, () => new DelegateActivity<TInput, TOutput>((context, input, _) => activity(context, input)));
    }

    public DurableTaskRegistry AddActivity<TInput, TOutput>(string name, Func<TaskActivityContext, TInput, CancellationToken, Task<TOutput>> activity)
    {
        ArgumentNullException.ThrowIfNull(activity);
        return AddActivity(name, () => new DelegateActivity<TInput, TOutput>(activity));
    }

    public DurableTaskRegistry AddActivity<TInput, TOutput>(string name, Func<TInput, TOutput> activity)
    {
        ArgumentNullException.ThrowIfNull(activity);
        return AddActivity(name, () => new DelegateActivity<TInput, TOutput>((_, input, _) => Task.FromResult(activity(input))));
    }

    /// <summary>Registers a class-based activity under its type name.</summary>
    public DurableTaskRegistry AddActivity<TActivity>()
        where TActivity : ITaskActivity, new() =>
        AddActivity(typeof(TActivity).Name, () => new TActivity());

    /// <summary>Registers an activity factory (called once per execution) under <paramref name="name"/>.</summary>
    public DurableTaskRegistry AddActivity(string name, Func<ITaskActivity> factory)
    {
        ValidateName(name, "activity");
        ArgumentNullException.ThrowIfNull(factory);
        if (!_activities.TryAdd(name, factory))
        {
            throw new ArgumentException($"activity '{name}' is registered twice: give each activity a unique name.", nameof(name));
        }

        return this;
    }

    internal ITaskOrchestrator? CreateOrchestrator(string name) => _orchestrators.TryGetValue(name, out var factory) ? factory() : null;

    internal ITaskActivity? CreateActivity(string name) => _activities.TryGetValue(name, out var factory) ? factory() : null;

    private static void ValidateName(string name, string kind)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            throw new ArgumentException($"{kind} name must not be empty.", nameof(name));
        }
    }
}
