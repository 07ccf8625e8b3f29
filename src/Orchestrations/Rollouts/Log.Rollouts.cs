using Microsoft.Extensions.Logging;

namespace FleetFunctions.Orchestrations.Engine;

/// <summary>Rollout log messages (event ids 4100-4199); the assembly's one Log class, split by folder.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 4100, Level = LogLevel.Warning, Message = "ClusterFleet/{Fleet}: commit {Commit} refused: it is an ancestor of {Newer}, which the fleet already has or is rolling out")]
    public static partial void OlderCommitRefused(ILogger logger, string fleet, string commit, string newer);

    [LoggerMessage(EventId = 4101, Level = LogLevel.Warning, Message = "ClusterFleet/{Fleet}: cannot tell whether commit {Commit} is older than {Other} ({Reason}); not refusing it")]
    public static partial void AncestryUnknown(ILogger logger, string fleet, string commit, string other, string reason);
}
