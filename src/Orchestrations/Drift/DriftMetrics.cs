using System.Diagnostics.Metrics;

namespace FleetFunctions.Orchestrations.Drift;

/// <summary>Drift metrics (meter <c>FleetFunctions.Drift</c>), exported through OpenTelemetry by the host.</summary>
public static class DriftMetrics
{
    /// <summary>The meter name to subscribe to.</summary>
    public const string MeterName = "FleetFunctions.Drift";

    private static readonly Meter s_meter = new(MeterName);

    /// <summary>Drifted objects found by the latest check of a (cluster, fleet), tagged <c>cluster</c> and <c>fleet</c> (0 when in sync).</summary>
    internal static readonly Gauge<long> DriftObjects = s_meter.CreateGauge<long>("fleet_drift_objects", description: "Drifted objects found by the latest drift check.");

    /// <summary>Objects healed by re-applying Git, tagged <c>cluster</c> and <c>fleet</c>.</summary>
    internal static readonly Counter<long> HealedObjects = s_meter.CreateCounter<long>("fleet_drift_healed_objects_total", description: "Drifted objects healed.");

    /// <summary>Drift checks by outcome, tagged <c>cluster</c>, <c>fleet</c>, <c>outcome</c> and <c>trigger</c> (sweep, watch).</summary>
    internal static readonly Counter<long> Checks = s_meter.CreateCounter<long>("fleet_drift_checks_total", description: "Drift checks by outcome.");

    /// <summary>Duration of one sweep over every (cluster, fleet) pair, in seconds.</summary>
    internal static readonly Histogram<double> SweepDuration = s_meter.CreateHistogram<double>("fleet_drift_sweep_duration_seconds", unit: "s", description: "Duration of one drift sweep.");
}
