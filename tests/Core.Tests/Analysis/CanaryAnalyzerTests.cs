using FleetFunctions.Core.Analysis;
using FleetFunctions.Core.Fleet;
using FleetFunctions.TestSupport;
using Xunit;

namespace FleetFunctions.Core.Tests.Analysis;

/// <summary>Two "clusters" whose error ratio a test controls, scraped every 500 ms by the real Prometheus binary.
/// Queries read through last_over_time so that a scrape missed under CPU load (which writes a staleness marker) does not empty them.</summary>
public sealed class TwoClusterPrometheusFixture : IAsyncLifetime
{
    private readonly MetricsEndpoint _good = new();
    private readonly MetricsEndpoint _bad = new();

    public PrometheusServer Prometheus { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _good.Set("# TYPE app_error_ratio gauge\napp_error_ratio{deployment=\"web\"} 0.01\n");
        _bad.Set("# TYPE app_error_ratio gauge\napp_error_ratio{deployment=\"web\"} 0.4\n");
        Prometheus = await PrometheusServer.StartAsync(TimeSpan.FromMilliseconds(500),
        [
            new ScrapeTarget(_good.Address, new Dictionary<string, string> { ["cluster"] = "good" }),
            new ScrapeTarget(_bad.Address, new Dictionary<string, string> { ["cluster"] = "bad" }),
        ]);
        await Prometheus.WaitForValueAsync("app_error_ratio{cluster=\"good\"}", TimeSpan.FromSeconds(30));
        await Prometheus.WaitForValueAsync("app_error_ratio{cluster=\"bad\"}", TimeSpan.FromSeconds(30));
    }

    public async Task DisposeAsync()
    {
        await Prometheus.DisposeAsync();
        _good.Dispose();
        _bad.Dispose();
    }
}

/// <summary>Canary analysis against the real Prometheus binary.</summary>
public sealed class CanaryAnalyzerTests(TwoClusterPrometheusFixture fixture) : IClassFixture<TwoClusterPrometheusFixture>, IDisposable
{
    private readonly HttpClient _http = new();
    private readonly PrometheusServer _prometheus = fixture.Prometheus;

    public void Dispose() => _http.Dispose();

    [Fact]
    public async Task MeasureAsync_PerClusterQuery_FailsOnlyTheClusterOutOfRange()
    {
        var analyzer = Analyzer();
        var spec = Spec(new MetricSpec("error-ratio", "max(last_over_time(app_error_ratio{cluster=\"${cluster}\"}[1m]))", null, 0.05));

        var iteration = await analyzer.MeasureAsync(spec, "web", ["good", "bad"], 0, DateTimeOffset.UtcNow);

        Assert.Equal(MeasurementOutcome.Failed, iteration.Outcome);
        var good = Assert.Single(iteration.Measurements, m => m.Cluster == "good");
        Assert.Equal(MeasurementOutcome.Passed, good.Outcome);
        Assert.Equal(0.01, good.Value);
        Assert.Equal("max(last_over_time(app_error_ratio{cluster=\"good\"}[1m]))", good.Query);
        var bad = Assert.Single(iteration.Measurements, m => m.Cluster == "bad");
        Assert.Equal(MeasurementOutcome.Failed, bad.Outcome);
        Assert.Equal("0.4 is above max 0.05", bad.Message);
    }

    [Fact]
    public async Task MeasureAsync_FleetWideQueryOverAllCanaries_JudgesTheWorstSample()
    {
        var analyzer = Analyzer();
        var spec = Spec(new MetricSpec("error-ratio", "last_over_time(app_error_ratio{cluster=~\"${clusters}\"}[1m])", null, 0.5));

        var iteration = await analyzer.MeasureAsync(spec, "web", ["good", "bad"], 0, DateTimeOffset.UtcNow);

        var measurement = Assert.Single(iteration.Measurements);
        Assert.Null(measurement.Cluster);
        Assert.Equal(MeasurementOutcome.Passed, measurement.Outcome);
        Assert.Equal(0.4, measurement.Value);
    }

    [Fact]
    public async Task MeasureAsync_NoSamples_FollowsTheNoDataPolicy()
    {
        var analyzer = Analyzer();
        var metric = new MetricSpec("absent", "app_error_ratio{cluster=\"nowhere\"}", null, 1);

        var inconclusive = await analyzer.MeasureAsync(Spec(metric), "web", ["c"], 0, DateTimeOffset.UtcNow);
        var failed = await analyzer.MeasureAsync(Spec(metric) with { NoData = NoDataPolicy.Fail }, "web", ["c"], 0, DateTimeOffset.UtcNow);
        var passed = await analyzer.MeasureAsync(Spec(metric) with { NoData = NoDataPolicy.Pass }, "web", ["c"], 0, DateTimeOffset.UtcNow);

        Assert.Equal(MeasurementOutcome.Inconclusive, inconclusive.Outcome);
        Assert.Equal(MeasurementOutcome.Failed, failed.Outcome);
        Assert.Equal(MeasurementOutcome.Passed, passed.Outcome);
    }

    [Fact]
    public async Task MeasureAsync_BadQueryOrUnreachableServer_IsInconclusiveNeverAPass()
    {
        var badQuery = await Analyzer().MeasureAsync(Spec(new MetricSpec("m", "sum(rate(", null, 1)), "web", ["c"], 0, DateTimeOffset.UtcNow);
        var unreachable = await new CanaryAnalyzer(new PrometheusClient(_http, new PrometheusClientOptions(new Uri($"http://127.0.0.1:{FreePort.Next()}/"))))
            .MeasureAsync(Spec(new MetricSpec("m", "up", null, 1)), "web", ["c"], 0, DateTimeOffset.UtcNow);

        Assert.Equal(MeasurementOutcome.Inconclusive, badQuery.Outcome);
        Assert.Contains("BadQuery", badQuery.Measurements[0].Message, StringComparison.Ordinal);
        Assert.Equal(MeasurementOutcome.Inconclusive, unreachable.Outcome);
        Assert.Contains("cannot reach", unreachable.Measurements[0].Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MeasureAsync_QueryAnsweringNaN_InconclusiveWhateverNoDataSays()
    {
        // 0/0: an error ratio of a canary that served no requests.
        var metric = new MetricSpec("error-ratio", "vector(0) / vector(0)", null, 0.05);

        var iteration = await Analyzer().MeasureAsync(Spec(metric) with { NoData = NoDataPolicy.Pass }, "web", ["c"], 0, DateTimeOffset.UtcNow);

        var measurement = Assert.Single(iteration.Measurements);
        Assert.Equal(MeasurementOutcome.Inconclusive, measurement.Outcome);
        Assert.StartsWith("the query answered NaN", measurement.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MeasureAsync_UnreachableServerWithCredentialsInItsAddress_MessageMasksThem()
    {
        var analyzer = new CanaryAnalyzer(new PrometheusClient(_http, new PrometheusClientOptions(new Uri($"http://metrics:hunter2@127.0.0.1:{FreePort.Next()}/"))));

        var iteration = await analyzer.MeasureAsync(Spec(new MetricSpec("m", "up", null, 1)), "web", ["c"], 0, DateTimeOffset.UtcNow);

        var message = Assert.Single(iteration.Measurements).Message;
        Assert.Contains("cannot reach http://***@127.0.0.1:", message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[1, 2]")]
    [InlineData("""{"status":"success"}""")]
    [InlineData("""{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"twelve"]}]}}""")]
    public async Task MeasureAsync_JsonThatIsNotAPrometheusAnswer_InconclusiveNamingItWithTheOtherMetricsKept(string body)
    {
        using var server = new MetricsEndpoint();
        server.Set(body);
        var analyzer = new CanaryAnalyzer(new PrometheusClient(_http, new PrometheusClientOptions(new Uri($"http://{server.Address}/"))));
        var spec = Spec(new MetricSpec("a", "up", null, 1)) with { Metrics = [new MetricSpec("a", "up", null, 1), new MetricSpec("b", "up", 1, null)] };

        var iteration = await analyzer.MeasureAsync(spec, "web", ["c"], 0, DateTimeOffset.UtcNow);

        Assert.Equal(MeasurementOutcome.Inconclusive, iteration.Outcome);
        Assert.Equal(2, iteration.Measurements.Count);
        Assert.All(iteration.Measurements, m => Assert.Contains("query failed (ServerError): prometheus query 'up': HTTP 200 with JSON that is not a Prometheus query answer", m.Message, StringComparison.Ordinal));
    }

    [Fact]
    public async Task QueryAsync_RangeVector_IsRejectedWithAHint()
    {
        var client = new PrometheusClient(_http, new PrometheusClientOptions(_prometheus.Url));

        var ex = await Assert.ThrowsAsync<PrometheusQueryException>(() => client.QueryAsync("app_error_ratio[1m]"));

        Assert.Equal(PrometheusErrorKind.BadQuery, ex.Kind);
        Assert.Contains("instant vector or a scalar", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task QueryAsync_Scalar_ReturnsOneSample()
    {
        var client = new PrometheusClient(_http, new PrometheusClientOptions(_prometheus.Url));

        var samples = await client.QueryAsync("scalar(max(last_over_time(app_error_ratio[1m]))) * 2");

        Assert.Equal(0.8, Assert.Single(samples).Value, 6);
    }

    private CanaryAnalyzer Analyzer() => new(new PrometheusClient(_http, new PrometheusClientOptions(_prometheus.Url)));

    private static AnalysisSpec Spec(MetricSpec metric) =>
        new(TimeSpan.FromSeconds(1), 3, 0, 0, NoDataPolicy.Inconclusive, [metric]);
}
