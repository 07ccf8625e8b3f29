using Microsoft.Extensions.Logging;

// The assembly's one Log class (Engine/Log.cs); drift messages take event ids 4100-4199.
namespace FleetFunctions.Orchestrations.Engine;

internal static partial class Log
{
    [LoggerMessage(EventId = 4100, Level = LogLevel.Information, Message = "drift sweep skipped: another sweep holds the lease {Lease}")]
    public static partial void DriftSweepSkipped(ILogger logger, string lease);

    [LoggerMessage(EventId = 4101, Level = LogLevel.Information, Message = "drift sweep: {Pairs} pair(s) in {DurationMs} ms: {InSync} in sync, {Drifted} drifted, {Healed} healed, {Errors} error(s), {Skipped} skipped (rollout running)")]
    public static partial void DriftSweepDone(ILogger logger, int pairs, long durationMs, int inSync, int drifted, int healed, int errors, int skipped);

    [LoggerMessage(EventId = 4102, Level = LogLevel.Warning, Message = "drift {Cluster}/{Fleet}@{Commit} ({Trigger}): {Count} object(s) drifted: {Objects}")]
    public static partial void DriftDetected(ILogger logger, string cluster, string fleet, string commit, string trigger, int count, string objects);

    [LoggerMessage(EventId = 4103, Level = LogLevel.Information, Message = "drift {Cluster}/{Fleet}: healed {Count} object(s)")]
    public static partial void DriftHealed(ILogger logger, string cluster, string fleet, int count);

    [LoggerMessage(EventId = 4104, Level = LogLevel.Error, Message = "drift {Cluster}/{Fleet}: heal failed: {Error}")]
    public static partial void DriftHealFailed(ILogger logger, string cluster, string fleet, string error);

    [LoggerMessage(EventId = 4105, Level = LogLevel.Warning, Message = "drift check {Cluster}/{Fleet} failed: {Error}")]
    public static partial void DriftCheckFailed(ILogger logger, string cluster, string fleet, string error);

    [LoggerMessage(EventId = 4106, Level = LogLevel.Information, Message = "drift {Cluster}/{Fleet}: skipped, rollout {Instance} is running")]
    public static partial void DriftSkippedRollout(ILogger logger, string cluster, string fleet, string instance);

    [LoggerMessage(EventId = 4107, Level = LogLevel.Warning, Message = "drift sweep lost its lease {Lease}: {Error}; stopping")]
    public static partial void DriftLeaseLost(ILogger logger, string lease, string error);

    [LoggerMessage(EventId = 4110, Level = LogLevel.Information, Message = "drift watch {Cluster}: watching {Kind} ({Objects} managed object(s) on the cluster)")]
    public static partial void WatchStarted(ILogger logger, string cluster, string kind, int objects);

    [LoggerMessage(EventId = 4111, Level = LogLevel.Warning, Message = "drift watch {Cluster}/{Kind} interrupted: {Error}; reconnecting in {DelayMs} ms")]
    public static partial void WatchInterrupted(ILogger logger, string cluster, string kind, string error, long delayMs);

    [LoggerMessage(EventId = 4112, Level = LogLevel.Information, Message = "drift watch {Cluster}/{Kind}: resource version expired; watching afresh and checking the cluster's fleets")]
    public static partial void WatchExpired(ILogger logger, string cluster, string kind);

    [LoggerMessage(EventId = 4113, Level = LogLevel.Warning, Message = "drift watch: refreshing the watched clusters failed: {Error}; keeping the current watches")]
    public static partial void WatchRefreshFailed(ILogger logger, string error);

    [LoggerMessage(EventId = 4115, Level = LogLevel.Information, Message = "drift watch {Cluster}/{Kind}: the server ended the watch early; checking the cluster's fleets once it is back")]
    public static partial void WatchClosedEarly(ILogger logger, string cluster, string kind);

    [LoggerMessage(EventId = 4116, Level = LogLevel.Warning, Message = "ClusterFleet/{Fleet}: rollout {Instance} is {Status} but still held the fleet (it ended without recording its end, e.g. terminated); released, drift checks resume")]
    public static partial void StaleRolloutReleased(ILogger logger, string fleet, string instance, string status);

    [LoggerMessage(EventId = 4117, Level = LogLevel.Warning, Message = "drift {Cluster}/{Fleet}: not healed, another controller sets the same fields again after every heal: {Error}")]
    public static partial void DriftFought(ILogger logger, string cluster, string fleet, string error);

    [LoggerMessage(EventId = 4114, Level = LogLevel.Debug, Message = "drift watch {Cluster}: {Type} {Object} → checking fleet {Fleet}")]
    public static partial void WatchEvent(ILogger logger, string cluster, string type, string @object, string fleet);
}
