using System.Globalization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FleetFunctions.Functions.Hosting;

/// <summary>
/// Stops the app when the process that started it has exited (<see cref="AppOptions.ExitWithParent"/>): behind the
/// Functions host, a custom handler whose host was killed would otherwise keep running its timers and pollers
/// beside the host's next instance. Linux only: the parent is read from <c>/proc/self/stat</c>, and an orphan is
/// re-parented, so a changed parent means the first one is gone.
/// </summary>
internal sealed partial class ParentWatch(IHostApplicationLifetime lifetime, ILogger<ParentWatch> logger, TimeProvider? time = null) : BackgroundService
{
    /// <summary>How often the parent is looked at.</summary>
    internal static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (ParentId() is not { } parent)
        {
            LogUnsupported(logger);
            return;
        }

        using var timer = new PeriodicTimer(Interval, time ?? TimeProvider.System);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            if (ParentId() is { } now && now != parent)
            {
                LogParentGone(logger, parent);
                lifetime.StopApplication();
                return;
            }
        }
    }

    /// <summary>This process's parent, from <c>/proc/self/stat</c> (the field after the command's closing parenthesis and state); null off Linux.</summary>
    internal static int? ParentId()
    {
        if (!OperatingSystem.IsLinux() || !File.Exists("/proc/self/stat"))
        {
            return null;
        }

        var stat = File.ReadAllText("/proc/self/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return int.Parse(fields[1], CultureInfo.InvariantCulture);
    }

    [LoggerMessage(EventId = 2201, Level = LogLevel.Warning, Message = "the process that started this app (pid {Parent}) has exited: stopping (FLEETFUNCTIONS_ExitWithParent)")]
    private static partial void LogParentGone(ILogger logger, int parent);

    [LoggerMessage(EventId = 2202, Level = LogLevel.Warning, Message = "FLEETFUNCTIONS_ExitWithParent is set, but the parent process can only be watched on Linux; ignored")]
    private static partial void LogUnsupported(ILogger logger);
}
