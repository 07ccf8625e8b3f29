using System.Net;
using System.Text.RegularExpressions;

namespace FleetFunctions.Simulator;

/// <summary>How the simulated clusters behave. Every property has a working default.</summary>
public sealed record SimulatorOptions
{
    private readonly TimeSpan _workloadReadyDelay = TimeSpan.FromSeconds(1);

    /// <summary>How long after a workload write its status reports the rollout done (0 = at once).</summary>
    public TimeSpan WorkloadReadyDelay
    {
        get => _workloadReadyDelay;
        init => _workloadReadyDelay = value >= TimeSpan.Zero
            ? value
            : throw new ArgumentOutOfRangeException(nameof(WorkloadReadyDelay), value, "WorkloadReadyDelay must not be negative.");
    }

    /// <summary>Images matching this pattern never become available (CrashLoopBackOff, ProgressDeadlineExceeded).</summary>
    public Regex BrokenImagePattern { get; init; } = new("-broken$", RegexOptions.CultureInvariant);

    /// <summary>Images matching this pattern run, but their synthetic service metrics show a high error ratio.</summary>
    public Regex BadImagePattern { get; init; } = new("-bad$", RegexOptions.CultureInvariant);

    private readonly double _badImageErrorRatio = 0.5;
    private readonly double _requestsPerSecondPerReplica = 10;

    /// <summary>Share of synthetic requests that fail for a bad image (0..1).</summary>
    public double BadImageErrorRatio
    {
        get => _badImageErrorRatio;
        init => _badImageErrorRatio = value is >= 0 and <= 1
            ? value
            : throw new ArgumentOutOfRangeException(nameof(BadImageErrorRatio), value, "BadImageErrorRatio must be between 0 and 1.");
    }

    /// <summary>Synthetic request rate per ready replica, in requests per second.</summary>
    public double RequestsPerSecondPerReplica
    {
        get => _requestsPerSecondPerReplica;
        init => _requestsPerSecondPerReplica = value >= 0 && double.IsFinite(value)
            ? value
            : throw new ArgumentOutOfRangeException(nameof(RequestsPerSecondPerReplica), value, "RequestsPerSecondPerReplica must be a non-negative number.");
    }

    /// <summary>Address every listener binds to; loopback by default.</summary>
    public IPAddress BindAddress { get; init; } = IPAddress.Loopback;

    /// <summary>Port of the admin HTTP endpoint; 0 picks a free one.</summary>
    public int AdminPort { get; init; }
}
