using Microsoft.Extensions.Logging;

namespace FleetFunctions.Orchestrations.Engine.Processing;

/// <summary>
/// One host's upkeep of the hub, a pass at a time: resends outbox rows orphaned by a crash between a checkpoint and its
/// sends (a page of the outbox index per pass, continuing where the previous pass stopped); at most every half
/// <see cref="DurableTaskHubOptions.RedriveStalledAfter"/>, redrives instances that made no progress for that long; at
/// most once an hour, purges finished instances past <see cref="DurableTaskHubOptions.FinishedInstanceRetention"/>.
/// The standalone worker runs it on its own timer, <see cref="DurableMessageHandler"/> when the host's timer calls it.
/// Not thread-safe: one pass at a time.
/// </summary>
/// <param name="stallCheckAtOnce">Whether the first pass looks for stalled instances (else the first look is half the stall time later).</param>
internal sealed class EngineUpkeep(DurableTaskHub hub, OrchestrationProcessor processor, ILogger logger, bool stallCheckAtOnce)
{
    private static readonly TimeSpan s_purgeInterval = TimeSpan.FromHours(1);

    private string? _continuation;
    private DateTime _lastStallCheck = stallCheckAtOnce ? DateTime.MinValue : DateTime.UtcNow;
    private DateTime _nextPurge = DateTime.MinValue;

    /// <summary>
    /// One pass. Its three parts do not depend on each other: one that fails (storage unavailable, an instance whose rows
    /// cannot be read or sent) is logged and the others still run; within the sweep and the redrive a failing instance
    /// is skipped, and the sweep moves on past it.
    /// </summary>
    public async Task<MaintenanceResult> RunAsync(int maxInstances, CancellationToken cancellationToken)
    {
        var (messages, rows) = (0, 0);
        try
        {
            (messages, rows, _continuation) = await processor.SweepOutboxesAsync(maxInstances, _continuation, cancellationToken);
            if (rows > 0)
            {
                Log.OutboxSwept(logger, messages, rows);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Log.OutboxSweepFailed(logger, ex.Message);
        }

        var redriven = 0;
        if (hub.Options.RedriveStalledAfter is { } stalledAfter && DateTime.UtcNow - _lastStallCheck >= stalledAfter / 2)
        {
            _lastStallCheck = DateTime.UtcNow;
            redriven = await RedriveStalledAsync(stalledAfter, cancellationToken);
        }

        var purged = 0;
        try
        {
            purged = await PurgeExpiredAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Log.UpkeepFailed(logger, "purging finished instances", ex);
        }

        return new MaintenanceResult(messages, rows, redriven, purged);
    }

    private async Task<int> RedriveStalledAsync(TimeSpan stalledAfter, CancellationToken cancellationToken)
    {
        IReadOnlyList<string> stalled;
        try
        {
            stalled = await hub.Store.FindStalledAsync(DateTime.UtcNow - stalledAfter, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Log.UpkeepFailed(logger, "looking for stalled instances", ex);
            return 0;
        }

        var redriven = 0;
        foreach (var instanceId in stalled)
        {
            try
            {
                var sent = await processor.RedriveAsync(instanceId, cancellationToken);
                Log.InstanceRedriven(logger, instanceId, sent, stalledAfter);
                redriven++;
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                Log.UpkeepFailed(logger, $"redriving orchestration '{instanceId}'", ex);
            }
        }

        return redriven;
    }

    /// <summary>Purges finished instances past the retention, at most once an hour (the first pass of a process looks at once).</summary>
    private async Task<int> PurgeExpiredAsync(CancellationToken cancellationToken)
    {
        var now = DateTime.UtcNow;
        if (hub.Options.FinishedInstanceRetention is not { } retention || now < _nextPurge)
        {
            return 0;
        }

        _nextPurge = now + s_purgeInterval;
        var purged = (await new Client.DurableClient(hub).PurgeFinishedBeforeAsync(now - retention, cancellationToken)).PurgedInstanceCount;
        if (purged > 0)
        {
            Log.FinishedInstancesPurged(logger, purged, retention);
        }

        return purged;
    }
}
