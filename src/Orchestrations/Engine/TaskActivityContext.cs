namespace FleetFunctions.Orchestrations.Engine;

/// <summary>What an activity knows about its invocation.</summary>
public abstract class TaskActivityContext
{
    /// <summary>Registered name of the activity.</summary>
    public abstract string Name { get; }

    /// <summary>Instance id of the orchestration that scheduled it.</summary>
    public abstract string InstanceId { get; }

    /// <summary>Task id within the orchestration; stable across re-executions of the same call.</summary>
    public abstract int TaskId { get; }
}

internal sealed class ActivityContext(string name, string instanceId, int taskId) : TaskActivityContext
{
    public override string Name { get; } = name;

    public override string InstanceId { get; } = instanceId;

    public override int TaskId { get; } = taskId;
}
