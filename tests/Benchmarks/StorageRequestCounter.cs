using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace FleetFunctions.Benchmarks;

/// <summary>
/// Counts HTTP requests to storage by service (from the endpoint port of a connection string) and method, through
/// the <c>System.Net.Http</c> meter. Requests to another host name (e.g. a status-polling client pointed at
/// <c>localhost</c> instead of <c>127.0.0.1</c>) are not counted, so the engine's own round trips can be isolated.
/// </summary>
internal sealed class StorageRequestCounter : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly Dictionary<int, string> _services;
    private readonly string _host;
    private readonly ConcurrentDictionary<(string Service, string Method), int> _counts = new();

    public StorageRequestCounter(string connectionString)
    {
        _services = [];
        _host = string.Empty;
        foreach (var part in connectionString.Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            var key = part[..eq];
            if (key.EndsWith("Endpoint", StringComparison.Ordinal) && Uri.TryCreate(part[(eq + 1)..], UriKind.Absolute, out var uri))
            {
                _services[uri.Port] = key[..^"Endpoint".Length].ToLowerInvariant();
                _host = uri.Host;
            }
        }

        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "System.Net.Http" && instrument.Name == "http.client.request.duration")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<double>(OnMeasurement);
        _listener.Start();
    }

    /// <summary>Counts so far, keyed by (service, HTTP method).</summary>
    public IReadOnlyDictionary<(string Service, string Method), int> Snapshot() => new Dictionary<(string, string), int>(_counts);

    /// <summary>One line per service and method with the count divided by <paramref name="per"/>.</summary>
    public static string Format(IReadOnlyDictionary<(string Service, string Method), int> before, IReadOnlyDictionary<(string Service, string Method), int> after, double per, string unit)
    {
        var sb = new StringBuilder();
        var total = 0;
        foreach (var (key, count) in after.OrderBy(k => k.Key.Service, StringComparer.Ordinal).ThenBy(k => k.Key.Method, StringComparer.Ordinal))
        {
            var delta = count - before.GetValueOrDefault(key);
            if (delta == 0)
            {
                continue;
            }

            total += delta;
            sb.Append(CultureInfo.InvariantCulture, $"    {key.Service,-6} {key.Method,-7} {Describe(key),-34} {delta,7}  {delta / per,7:F2} per {unit}\n");
        }

        sb.Append(CultureInfo.InvariantCulture, $"    {"all",-49} {total,7}  {total / per,7:F2} per {unit}");
        return sb.ToString();
    }

    public void Dispose() => _listener.Dispose();

    private static string Describe((string Service, string Method) key) => key switch
    {
        ("queue", "POST") => "(send message)",
        ("queue", "GET") => "(receive, up to 32 messages)",
        ("queue", "DELETE") => "(delete message)",
        ("queue", "PUT") => "(update visibility)",
        ("table", "POST") => "(entity-group transaction / insert)",
        ("table", "GET") => "(query / read)",
        ("table", "PUT" or "PATCH" or "MERGE") => "(update / upsert)",
        ("table", "DELETE") => "(delete entity)",
        ("blob", _) => "(payload blob)",
        _ => string.Empty,
    };

    private void OnMeasurement(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        string? method = null;
        string? host = null;
        var port = -1;
        foreach (var tag in tags)
        {
            switch (tag.Key)
            {
                case "http.request.method":
                    method = tag.Value as string;
                    break;
                case "server.address":
                    host = tag.Value as string;
                    break;
                case "server.port":
                    port = Convert.ToInt32(tag.Value, CultureInfo.InvariantCulture);
                    break;
                default:
                    break;
            }
        }

        if (method is null || host != _host || !_services.TryGetValue(port, out var service))
        {
            return;
        }

        _counts.AddOrUpdate((service, method), 1, (_, c) => c + 1);
    }
}
