namespace FleetFunctions.Orchestrations.Engine.Replay;

/// <summary>
/// Runs orchestrator code one step at a time on the replaying thread: every continuation is queued here and
/// run by <see cref="RunPending"/>, never on the thread pool, so replay is deterministic and single-threaded.
/// </summary>
internal sealed class InlineTaskScheduler : TaskScheduler
{
    private readonly Queue<Task> _queue = new();

    public override int MaximumConcurrencyLevel => 1;

    /// <summary>Runs queued work, including work queued while running, until nothing is left.</summary>
    public void RunPending()
    {
        while (_queue.TryDequeue(out var task))
        {
            TryExecuteTask(task);
        }
    }

    protected override void QueueTask(Task task) => _queue.Enqueue(task);

    protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued) => false;

    protected override IEnumerable<Task> GetScheduledTasks() => _queue.ToArray();
}
