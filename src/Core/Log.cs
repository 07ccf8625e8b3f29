using Microsoft.Extensions.Logging;

namespace FleetFunctions.Core;

/// <summary>Source-generated log messages of the Core assembly; event ids are stable (1xxx pipeline).</summary>
internal static partial class Log
{
    [LoggerMessage(1001, LogLevel.Information, "Fetched {Url} ({Ref}) at {Commit}")]
    public static partial void Fetched(ILogger logger, string url, string @ref, string commit);

    [LoggerMessage(1002, LogLevel.Information, "Rendered {Path}@{Commit}: {Count} objects in {ElapsedMs} ms")]
    public static partial void Rendered(ILogger logger, string path, string commit, int count, long elapsedMs);

    [LoggerMessage(1003, LogLevel.Information, "Applied stage {Stage} on {Cluster}: {Count} objects")]
    public static partial void StageApplied(ILogger logger, string stage, string cluster, int count);

    [LoggerMessage(1004, LogLevel.Information, "Pruned {Object} on {Cluster}")]
    public static partial void Pruned(ILogger logger, string cluster, string @object);

    [LoggerMessage(1005, LogLevel.Warning, "Reconcile of {Fleet} on {Cluster} at {Commit} failed: {Error}")]
    public static partial void ReconcileFailed(ILogger logger, string fleet, string cluster, string commit, string error);

    [LoggerMessage(1006, LogLevel.Information, "Reconciled {Fleet} on {Cluster} at {Commit}: {Created} created, {Configured} configured, {Unchanged} unchanged, {Deleted} deleted in {ElapsedMs} ms")]
    public static partial void Reconciled(ILogger logger, string fleet, string cluster, string commit, int created, int configured, int unchanged, int deleted, long elapsedMs);

    [LoggerMessage(1007, LogLevel.Information, "Drift on {Cluster} for fleet {Fleet}: {Count} objects drifted")]
    public static partial void DriftFound(ILogger logger, string cluster, string fleet, int count);

    [LoggerMessage(1008, LogLevel.Debug, "Skipped pruning {Object} on {Cluster}: {Reason}")]
    public static partial void PruneSkipped(ILogger logger, string cluster, string @object, string reason);

    [LoggerMessage(1009, LogLevel.Warning, "Recreating {Object} on {Cluster}: immutable {Fields} changed")]
    public static partial void Recreating(ILogger logger, string cluster, string @object, string fields);

    [LoggerMessage(1010, LogLevel.Information, "Removed {Count} materialised Git trees unused for {GraceMinutes} min or more (keeping the {Kept} most recently used)")]
    public static partial void TreesRemoved(ILogger logger, int count, double graceMinutes, int kept);

    [LoggerMessage(1011, LogLevel.Warning, "Could not remove the materialised Git tree {Path}: {Error}")]
    public static partial void TreeRemovalFailed(ILogger logger, string path, string error);

    [LoggerMessage(1012, LogLevel.Information, "Removed the rendered output of {Count} commits unused for {RetentionDays} days")]
    public static partial void RenderCacheRemoved(ILogger logger, int count, double retentionDays);

    [LoggerMessage(1013, LogLevel.Warning, "Could not remove the rendered output in {Path}: {Error}")]
    public static partial void RenderCacheRemovalFailed(ILogger logger, string path, string error);

    [LoggerMessage(1014, LogLevel.Information, "Merged {Count} packs of the cached repository {Url} into one")]
    public static partial void PacksConsolidated(ILogger logger, string url, int count);

    [LoggerMessage(1015, LogLevel.Warning, "Could not merge the packs of the cached repository {Url}: {Error}")]
    public static partial void PackConsolidationFailed(ILogger logger, string url, string error);

    [LoggerMessage(1016, LogLevel.Information, "Fetching {Url} failed ({Error}); removed {Count} cached branches and tags gone upstream and fetching again")]
    public static partial void StaleRefsRemoved(ILogger logger, string url, string error, int count);

    [LoggerMessage(1017, LogLevel.Warning, "Pruned {Object} on {Cluster} is still there, its finalizers not released; kept in the inventory")]
    public static partial void PruneTerminating(ILogger logger, string cluster, string @object);
}
