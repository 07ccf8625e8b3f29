namespace FleetFunctions.Core.Analysis;

/// <summary>How one measurement, one iteration or a whole analysis came out.</summary>
public enum MeasurementOutcome
{
    Passed,
    Failed,

    /// <summary>No verdict: the query failed or returned nothing (per the metric's noData policy). Never a pass.</summary>
    Inconclusive,
}

/// <summary>One metric measured once (for one cluster when the query is per cluster).</summary>
/// <param name="Cluster">The cluster the query was run for, or null for a fleet-wide query.</param>
/// <param name="Value">The worst sample's value, or null when there was none.</param>
/// <param name="Message">Human-readable reason, e.g. <c>0.42 is above max 0.05</c>.</param>
public sealed record MetricMeasurement(string Metric, string? Cluster, string Query, double? Value, MeasurementOutcome Outcome, string Message);

/// <summary>All metrics measured once. Failed if any measurement failed; Inconclusive if any was inconclusive and none failed.</summary>
public sealed record AnalysisIteration(int Index, DateTimeOffset At, MeasurementOutcome Outcome, IReadOnlyList<MetricMeasurement> Measurements);

/// <summary>Where an analysis stands after some iterations.</summary>
public enum AnalysisPhase
{
    /// <summary>More iterations are needed.</summary>
    Running,

    /// <summary>Every iteration is done within the failure and inconclusive limits: promote.</summary>
    Succeeded,

    /// <summary>Too many failed or inconclusive iterations: roll back (or pause).</summary>
    Failed,
}

/// <summary>The analysis verdict and why.</summary>
public sealed record AnalysisVerdict(AnalysisPhase Phase, int Passed, int Failed, int Inconclusive, string Reason);
