using System.Globalization;
using System.Net;
using System.Text.Json;

namespace FleetFunctions.Core.Analysis;

/// <summary>Options for <see cref="PrometheusClient"/>.</summary>
/// <param name="BaseAddress">Prometheus server, e.g. <c>http://127.0.0.1:9090/</c>.</param>
/// <param name="Timeout">Per-query timeout, sent to Prometheus as well (default 10 s).</param>
public sealed record PrometheusClientOptions(Uri BaseAddress, TimeSpan? Timeout = null)
{
    public TimeSpan EffectiveTimeout => Timeout ?? TimeSpan.FromSeconds(10);
}

/// <summary>One sample of an instant query: its labels and value (NaN and ±Inf are kept as such).</summary>
public sealed record PrometheusSample(IReadOnlyDictionary<string, string> Labels, double Value);

/// <summary>Why a query produced no answer.</summary>
public enum PrometheusErrorKind
{
    /// <summary>Prometheus could not be reached (connection refused, DNS, TLS).</summary>
    Unreachable,

    /// <summary>No answer within the timeout.</summary>
    Timeout,

    /// <summary>Prometheus rejected the query (bad PromQL): fix the metric's query.</summary>
    BadQuery,

    /// <summary>Prometheus answered with a server error or an unreadable body.</summary>
    ServerError,
}

/// <summary>An instant query failed; <see cref="Kind"/> says whether retrying can help.</summary>
public sealed class PrometheusQueryException(string query, PrometheusErrorKind kind, string message, Exception? inner = null)
    : Exception($"prometheus query '{query}': {message}", inner)
{
    public string Query { get; } = query;

    public PrometheusErrorKind Kind { get; } = kind;
}

/// <summary>
/// Client for Prometheus' HTTP API instant queries (<c>GET /api/v1/query</c>). Thread-safe. Vector and
/// scalar results are returned as samples; matrix and string results are rejected with a clear error
/// (analysis metrics must be instant vectors or scalars).
/// </summary>
public sealed class PrometheusClient
{
    private readonly HttpClient _http;
    private readonly PrometheusClientOptions _options;

    public PrometheusClient(HttpClient http, PrometheusClientOptions options)
    {
        _http = http;
        _options = options;
    }

    public Uri BaseAddress => _options.BaseAddress;

    /// <summary>The address for messages: credentials written into it (<c>user:password@</c>) are masked.</summary>
    private static string Printable(Uri address) =>
        address.UserInfo.Length == 0 ? address.ToString() : new UriBuilder(address) { UserName = "***", Password = string.Empty }.Uri.ToString();

    /// <summary>Runs <paramref name="query"/> at <paramref name="time"/> (now when null).</summary>
    public async Task<IReadOnlyList<PrometheusSample>> QueryAsync(string query, DateTimeOffset? time = null, CancellationToken cancellationToken = default)
    {
        var timeout = _options.EffectiveTimeout;
        var uri = new Uri(_options.BaseAddress, "api/v1/query?query=" + Uri.EscapeDataString(query)
            + "&timeout=" + Math.Max(1, (int)timeout.TotalSeconds).ToString(CultureInfo.InvariantCulture) + "s"
            + (time is { } t ? "&time=" + (t.ToUnixTimeMilliseconds() / 1000.0).ToString("0.###", CultureInfo.InvariantCulture) : string.Empty));

        using var timeoutCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutCts.CancelAfter(timeout);
        HttpResponseMessage response;
        string body;
        try
        {
            response = await _http.GetAsync(uri, timeoutCts.Token);
            body = await response.Content.ReadAsStringAsync(timeoutCts.Token);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new PrometheusQueryException(query, PrometheusErrorKind.Timeout, $"no answer from {Printable(_options.BaseAddress)} within {timeout.TotalSeconds:0.#}s", ex);
        }
        catch (HttpRequestException ex)
        {
            throw new PrometheusQueryException(query, PrometheusErrorKind.Unreachable, $"cannot reach {Printable(_options.BaseAddress)}: {ex.Message}; check the Prometheus address and that it is running", ex);
        }

        using (response)
        {
            return Parse(query, response.StatusCode, body);
        }
    }

    private static IReadOnlyList<PrometheusSample> Parse(string query, HttpStatusCode status, string body)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException ex)
        {
            throw new PrometheusQueryException(query, PrometheusErrorKind.ServerError, $"HTTP {(int)status} with a body that is not Prometheus JSON: {Truncate(body)}", ex);
        }

        using (document)
        {
            try
            {
                return Read(query, status, body, document.RootElement);
            }
            catch (Exception ex) when (ex is InvalidOperationException or KeyNotFoundException or FormatException or IndexOutOfRangeException or ArgumentNullException)
            {
                // JSON, but not the shape of a Prometheus answer (a proxy's page, another API): a server error like any other.
                throw new PrometheusQueryException(query, PrometheusErrorKind.ServerError, $"HTTP {(int)status} with JSON that is not a Prometheus query answer ({ex.Message}): {Truncate(body)}", ex);
            }
        }
    }

    private static IReadOnlyList<PrometheusSample> Read(string query, HttpStatusCode status, string body, JsonElement root)
    {
        if (!root.TryGetProperty("status", out var statusElement) || statusElement.GetString() != "success")
        {
            var errorType = root.TryGetProperty("errorType", out var et) ? et.GetString() : null;
            var error = root.TryGetProperty("error", out var e) ? e.GetString() : Truncate(body);
            var kind = errorType is "bad_data" ? PrometheusErrorKind.BadQuery
                : errorType is "timeout" or "canceled" ? PrometheusErrorKind.Timeout
                : PrometheusErrorKind.ServerError;
            throw new PrometheusQueryException(query, kind, $"HTTP {(int)status} {errorType}: {error}");
        }

        var data = root.GetProperty("data");
        var resultType = data.GetProperty("resultType").GetString();
        var result = data.GetProperty("result");
        return resultType switch
        {
            "vector" => result.EnumerateArray().Select(s => new PrometheusSample(Labels(s.GetProperty("metric")), Value(s.GetProperty("value")))).ToList(),
            "scalar" => [new PrometheusSample(new Dictionary<string, string>(), Value(result))],
            _ => throw new PrometheusQueryException(query, PrometheusErrorKind.BadQuery, $"returned a {resultType}; analysis needs an instant vector or a scalar (drop range selectors like [5m] outside rate())"),
        };
    }

    private static Dictionary<string, string> Labels(JsonElement metric) =>
        metric.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? string.Empty, StringComparer.Ordinal);

    private static double Value(JsonElement pair)
    {
        var text = pair[1].GetString();
        return text switch
        {
            "NaN" => double.NaN,
            "+Inf" => double.PositiveInfinity,
            "-Inf" => double.NegativeInfinity,
            _ => double.Parse(text!, NumberStyles.Float, CultureInfo.InvariantCulture),
        };
    }

    private static string Truncate(string text) => text.Length <= 200 ? text : text[..200] + "…";
}
