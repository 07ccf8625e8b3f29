namespace FleetFunctions.Orchestrations.Engine;

/// <summary>Untyped orchestrator, as the registry stores it.</summary>
public interface ITaskOrchestrator
{
    /// <summary>Input type the serialized instance input is read into.</summary>
    Type InputType { get; }

    /// <summary>Runs the orchestrator; the result is serialized as the instance output.</summary>
    Task<object?> RunAsync(TaskOrchestrationContext context, object? input);
}

/// <summary>Base class for class-based orchestrators.</summary>
public abstract class TaskOrchestrator<TInput, TOutput> : ITaskOrchestrator
{
    Type ITaskOrchestrator.InputType => typeof(TInput);

    public abstract Task<TOutput> RunAsync(TaskOrchestrationContext context, TInput input);

    async Task<object?> ITaskOrchestrator.RunAsync(TaskOrchestrationContext context, object? input) =>
        await RunAsync(context, input is null ? default! : (TInput)input);
}

/// <summary>Untyped activity, as the registry stores it.</summary>
public interface ITaskActivity
{
    /// <summary>Input type the serialized activity input is read into.</summary>
    Type InputType { get; }

    /// <summary>Runs the activity; the result is serialized and returned to the orchestrator.</summary>
    Task<object?> RunAsync(TaskActivityContext context, object? input, CancellationToken cancellationToken);
}

/// <summary>Base class for class-based activities. Activities run at least once: make them idempotent.</summary>
public abstract class TaskActivity<TInput, TOutput> : ITaskActivity
{
    Type ITaskActivity.InputType => typeof(TInput);

    public abstract Task<TOutput> RunAsync(TaskActivityContext context, TInput input, CancellationToken cancellationToken);

    async Task<object?> ITaskActivity.RunAsync(TaskActivityContext context, object? input, CancellationToken cancellationToken) =>
        await RunAsync(context, input is null ? default! : (TInput)input, cancellationToken);
}

internal sealed class DelegateOrchestrator<TInput, TOutput>(Func<TaskOrchestrationContext, TInput, Task<TOutput>> run) : TaskOrchestrator<TInput, TOutput>
{
    public override Task<TOutput> RunAsync(TaskOrchestrationContext context, TInput input) => run(context, input);
}

internal sealed class DelegateActivity<TInput, TOutput>(Func<TaskActivityContext, TInput, CancellationToken, Task<TOutput>> run) : TaskActivity<TInput, TOutput>
{
    public override Task<TOutput> RunAsync(TaskActivityContext context, TInput input, CancellationToken cancellationToken) => run(context, input, cancellationToken);
}
