using System.Diagnostics.Metrics;

namespace FleetFunctions.Core;

/// <summary>Metrics of the reconciliation pipeline (meter <c>FleetFunctions.Core</c>), exported through OpenTelemetry by the host.</summary>
public static class PipelineMetrics
{
    /// <summary>The meter name to subscribe to.</summary>
    public const string MeterName = "FleetFunctions.Core";

    private static readonly Meter s_meter = new(MeterName);

    /// <summary>Objects processed by apply and prune, tagged <c>cluster</c> and <c>action</c> (created, configured, unchanged, deleted, skipped, failed).</summary>
    internal static readonly Counter<long> ApplyObjects = s_meter.CreateCounter<long>("fleet_apply_objects_total", description: "Objects processed by apply and prune, by action.");

    /// <summary>Reconciles, tagged <c>cluster</c>, <c>fleet</c> and <c>phase</c> (Done on success, else the failed phase).</summary>
    internal static readonly Counter<long> Reconciles = s_meter.CreateCounter<long>("fleet_reconcile_total", description: "Reconciles by outcome phase.");

    /// <summary>Reconcile duration in seconds, tagged <c>cluster</c> and <c>fleet</c>.</summary>
    internal static readonly Histogram<double> ReconcileDuration = s_meter.CreateHistogram<double>("fleet_reconcile_duration_seconds", unit: "s", description: "Duration of one reconcile.");
}
