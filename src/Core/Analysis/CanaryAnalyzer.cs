using System.Globalization;
using System.Text.RegularExpressions;
using FleetFunctions.Core.Fleet;

namespace FleetFunctions.Core.Analysis;

/// <summary>
/// Measures a canary's metrics against their thresholds through Prometheus. One call is one iteration;
/// the rollout orchestration calls it on durable timers and asks <see cref="Decide"/> what to do next.
/// </summary>
public sealed class CanaryAnalyzer
{
    private readonly PrometheusClient _prometheus;

    public CanaryAnalyzer(PrometheusClient prometheus) => _prometheus = prometheus;

    /// <summary>Runs every metric once, per cluster when its query uses <c>${cluster}</c>.</summary>
    public async Task<AnalysisIteration> MeasureAsync(
        AnalysisSpec spec, string fleet, IReadOnlyList<string> clusters, int index, DateTimeOffset at, CancellationToken cancellationToken = default)
    {
        var measurements = new List<MetricMeasurement>();
        foreach (var metric in spec.Metrics)
        {
            var perCluster = metric.Query.Contains("${cluster}", StringComparison.Ordinal);
            foreach (var cluster in perCluster ? clusters.Select(c => (string?)c) : [null])
            {
                var query = Expand(metric.Query, fleet, clusters, cluster);
                measurements.Add(await MeasureOneAsync(metric, spec.NoData, cluster, query, at, cancellationToken));
            }
        }

        var outcome = measurements.Any(m => m.Outcome == MeasurementOutcome.Failed) ? MeasurementOutcome.Failed
            : measurements.Any(m => m.Outcome == MeasurementOutcome.Inconclusive) ? MeasurementOutcome.Inconclusive
            : MeasurementOutcome.Passed;
        return new AnalysisIteration(index, at, outcome, measurements);
    }

    /// <summary>Decides from the iterations so far whether the analysis is done, and how.</summary>
    public static AnalysisVerdict Decide(AnalysisSpec spec, IReadOnlyList<AnalysisIteration> iterations)
    {
        var failed = iterations.Count(i => i.Outcome == MeasurementOutcome.Failed);
        var inconclusive = iterations.Count(i => i.Outcome == MeasurementOutcome.Inconclusive);
        var passed = iterations.Count - failed - inconclusive;
        if (failed > spec.FailureLimit)
        {
            var last = iterations.Last(i => i.Outcome == MeasurementOutcome.Failed);
            return new AnalysisVerdict(AnalysisPhase.Failed, passed, failed, inconclusive,
                $"{failed} failed iteration(s), more than failureLimit {spec.FailureLimit}; last: {Summary(last)}");
        }

        if (inconclusive > spec.InconclusiveLimit)
        {
            var last = iterations.Last(i => i.Outcome == MeasurementOutcome.Inconclusive);
            return new AnalysisVerdict(AnalysisPhase.Failed, passed, failed, inconclusive,
                $"{inconclusive} inconclusive iteration(s), more than inconclusiveLimit {spec.InconclusiveLimit}; last: {Summary(last)}");
        }

        if (iterations.Count < spec.Iterations)
        {
            return new AnalysisVerdict(AnalysisPhase.Running, passed, failed, inconclusive, $"{iterations.Count} of {spec.Iterations} iterations done");
        }

        // Limits that tolerate every iteration (failureLimit or inconclusiveLimit >= iterations) still need one pass: a
        // canary nothing spoke for is not promoted.
        return passed == 0
            ? new AnalysisVerdict(AnalysisPhase.Failed, passed, failed, inconclusive,
                $"none of {iterations.Count} iterations passed ({failed} failed, {inconclusive} inconclusive, within the limits); a canary is promoted only on evidence")
            : new AnalysisVerdict(AnalysisPhase.Succeeded, passed, failed, inconclusive, $"{passed} of {iterations.Count} iterations passed");
    }

    private static string Summary(AnalysisIteration iteration) =>
        string.Join("; ", iteration.Measurements.Where(m => m.Outcome != MeasurementOutcome.Passed)
            .Select(m => m.Cluster is null ? $"{m.Metric}: {m.Message}" : $"{m.Metric} on {m.Cluster}: {m.Message}"));

    private async Task<MetricMeasurement> MeasureOneAsync(
        MetricSpec metric, NoDataPolicy noData, string? cluster, string query, DateTimeOffset at, CancellationToken cancellationToken)
    {
        IReadOnlyList<PrometheusSample> samples;
        try
        {
            samples = await _prometheus.QueryAsync(query, at, cancellationToken);
        }
        catch (PrometheusQueryException ex)
        {
            return new MetricMeasurement(metric.Name, cluster, query, null, MeasurementOutcome.Inconclusive, $"query failed ({ex.Kind}): {ex.Message}");
        }

        var values = samples.Select(s => s.Value).Where(v => !double.IsNaN(v)).ToList();
        if (values.Count == 0 && samples.Count > 0)
        {
            // NaN is an answer without a value (a ratio of 0/0: the canary served no requests), not absent data: no evidence
            // either way, whatever noData says.
            return new MetricMeasurement(metric.Name, cluster, query, null, MeasurementOutcome.Inconclusive, "the query answered NaN (0/0: no traffic?); not evidence either way");
        }

        if (values.Count == 0)
        {
            var outcome = noData switch
            {
                NoDataPolicy.Pass => MeasurementOutcome.Passed,
                NoDataPolicy.Fail => MeasurementOutcome.Failed,
                _ => MeasurementOutcome.Inconclusive,
            };
            return new MetricMeasurement(metric.Name, cluster, query, null, outcome, $"no data (noData: {noData})");
        }

        // Every sample must be in range: judge by the one furthest out of it.
        var value = values.MaxBy(v => Distance(metric, v));
        if (metric.Max is { } max && value > max)
        {
            return new MetricMeasurement(metric.Name, cluster, query, value, MeasurementOutcome.Failed, $"{Format(value)} is above max {Format(max)}");
        }

        if (metric.Min is { } min && value < min)
        {
            return new MetricMeasurement(metric.Name, cluster, query, value, MeasurementOutcome.Failed, $"{Format(value)} is below min {Format(min)}");
        }

        return new MetricMeasurement(metric.Name, cluster, query, value, MeasurementOutcome.Passed, $"{Format(value)} is within {Range(metric)}");
    }

    private static double Distance(MetricSpec metric, double value) =>
        Math.Max(metric.Max is { } max ? value - max : double.NegativeInfinity, metric.Min is { } min ? min - value : double.NegativeInfinity);

    private static string Expand(string query, string fleet, IReadOnlyList<string> clusters, string? cluster)
    {
        var result = query
            .Replace("${fleet}", fleet, StringComparison.Ordinal)
            .Replace("${clusters}", string.Join("|", clusters.Select(Regex.Escape)), StringComparison.Ordinal);
        return cluster is null ? result : result.Replace("${cluster}", cluster, StringComparison.Ordinal);
    }

    private static string Range(MetricSpec metric) =>
        (metric.Min, metric.Max) switch
        {
            ({ } min, { } max) => $"[{Format(min)}, {Format(max)}]",
            ({ } min, null) => $">= {Format(min)}",
            (null, { } max) => $"<= {Format(max)}",
            _ => "any value",
        };

    private static string Format(double value) => value.ToString("0.####", CultureInfo.InvariantCulture);
}
