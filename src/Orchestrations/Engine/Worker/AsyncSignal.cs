namespace FleetFunctions.Orchestrations.Engine.Worker;

/// <summary>An auto-reset wake-up: <see cref="Set"/> ends the current or next <see cref="WaitAsync"/> early.</summary>
internal sealed class AsyncSignal : IDisposable
{
    private readonly SemaphoreSlim _semaphore = new(0, 1);

    public void Set()
    {
        try
        {
            if (_semaphore.CurrentCount == 0)
            {
                _semaphore.Release();
            }
        }
        catch (SemaphoreFullException)
        {
            // Already set.
        }
        catch (ObjectDisposedException)
        {
            // Worker stopped.
        }
    }

    /// <summary>Waits until set or until <paramref name="timeout"/> passes.</summary>
    public async Task WaitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            await _semaphore.WaitAsync(timeout, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    public void Dispose() => _semaphore.Dispose();
}
