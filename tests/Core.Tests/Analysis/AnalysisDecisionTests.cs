using FleetFunctions.Core.Analysis;
using FleetFunctions.Core.Fleet;
using Xunit;

namespace FleetFunctions.Core.Tests.Analysis;

public sealed class AnalysisDecisionTests
{
    private static readonly AnalysisSpec s_spec = new(TimeSpan.FromSeconds(1), 3, FailureLimit: 1, InconclusiveLimit: 0, NoDataPolicy.Inconclusive, []);

    [Fact]
    public void Decide_AllIterationsPassed_Succeeds()
    {
        var verdict = CanaryAnalyzer.Decide(s_spec, [Iteration(MeasurementOutcome.Passed), Iteration(MeasurementOutcome.Passed), Iteration(MeasurementOutcome.Passed)]);

        Assert.Equal(AnalysisPhase.Succeeded, verdict.Phase);
        Assert.Equal(3, verdict.Passed);
    }

    [Fact]
    public void Decide_FewerIterationsThanRequired_KeepsRunning() =>
        Assert.Equal(AnalysisPhase.Running, CanaryAnalyzer.Decide(s_spec, [Iteration(MeasurementOutcome.Passed)]).Phase);

    [Fact]
    public void Decide_FailuresWithinLimit_KeepsRunningThenFailsPastIt()
    {
        var one = CanaryAnalyzer.Decide(s_spec, [Iteration(MeasurementOutcome.Failed)]);
        var two = CanaryAnalyzer.Decide(s_spec, [Iteration(MeasurementOutcome.Failed), Iteration(MeasurementOutcome.Failed)]);

        Assert.Equal(AnalysisPhase.Running, one.Phase);
        Assert.Equal(AnalysisPhase.Failed, two.Phase);
        Assert.Contains("more than failureLimit 1", two.Reason, StringComparison.Ordinal);
        Assert.Contains("error-ratio on c1: 0.4 is above max 0.05", two.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Decide_InconclusivePastLimit_FailsRatherThanPasses()
    {
        var verdict = CanaryAnalyzer.Decide(s_spec, [Iteration(MeasurementOutcome.Inconclusive)]);

        Assert.Equal(AnalysisPhase.Failed, verdict.Phase);
        Assert.Contains("inconclusiveLimit", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Decide_LimitsToleratingEveryIteration_NonePassed_FailsOnePassed_Succeeds()
    {
        var generous = s_spec with { Iterations = 2, FailureLimit = 2, InconclusiveLimit = 2 };

        var none = CanaryAnalyzer.Decide(generous, [Iteration(MeasurementOutcome.Failed), Iteration(MeasurementOutcome.Inconclusive)]);
        var one = CanaryAnalyzer.Decide(generous, [Iteration(MeasurementOutcome.Failed), Iteration(MeasurementOutcome.Passed)]);

        Assert.Equal(AnalysisPhase.Failed, none.Phase);
        Assert.StartsWith("none of 2 iterations passed (1 failed, 1 inconclusive, within the limits)", none.Reason, StringComparison.Ordinal);
        Assert.Equal(AnalysisPhase.Succeeded, one.Phase);
    }

    private static AnalysisIteration Iteration(MeasurementOutcome outcome) =>
        new(0, DateTimeOffset.UnixEpoch, outcome,
            [new MetricMeasurement("error-ratio", "c1", "q", 0.4, outcome, outcome == MeasurementOutcome.Failed ? "0.4 is above max 0.05" : "x")]);
}
