using System.Globalization;
using System.Text;
using FleetFunctions.Simulator.Api;
using FleetFunctions.Simulator.Workloads;
using Microsoft.AspNetCore.Http;

namespace FleetFunctions.Simulator.Metrics;

/// <summary>
/// Synthetic service metrics of one cluster in Prometheus text format: per Deployment, a request counter
/// growing at <see cref="SimulatorOptions.RequestsPerSecondPerReplica"/> per ready replica, failing at
/// <see cref="SimulatorOptions.BadImageErrorRatio"/> when an image matches the bad-image pattern.
/// </summary>
internal sealed class MetricsEndpoint(ClusterBackend backend, string cluster)
{
    private readonly Lock _sync = new();
    private readonly Dictionary<string, Counter> _counters = new(StringComparer.Ordinal);

    public async Task WriteAsync(HttpContext context)
    {
        var text = Render(backend.Now);
        context.Response.StatusCode = 200;
        context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
        await context.Response.WriteAsync(text, context.RequestAborted);
    }

    internal string Render(DateTimeOffset now)
    {
        var deployments = Deployments();
        var text = new StringBuilder();
        text.Append("# HELP fleet_sim_up 1 while the simulated cluster serves its API.\n# TYPE fleet_sim_up gauge\n");
        text.Append(CultureInfo.InvariantCulture, $"fleet_sim_up{{cluster=\"{Escape(cluster)}\"}} 1\n");
        text.Append("# HELP fleet_sim_deployment_ready_replicas Ready replicas of each Deployment.\n# TYPE fleet_sim_deployment_ready_replicas gauge\n");
        foreach (var d in deployments)
        {
            text.Append(CultureInfo.InvariantCulture, $"fleet_sim_deployment_ready_replicas{{{Labels(d)}}} {d.Ready}\n");
        }

        text.Append("# HELP fleet_sim_http_requests_total Synthetic requests served by each Deployment, by status code.\n# TYPE fleet_sim_http_requests_total counter\n");
        lock (_sync)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var d in deployments)
            {
                var key = $"{d.Namespace}/{d.Name}";
                seen.Add(key);
                if (!_counters.TryGetValue(key, out var counter))
                {
                    counter = new Counter { Last = now };
                    _counters[key] = counter;
                }

                var seconds = Math.Max(0, (now - counter.Last).TotalSeconds);
                var requests = seconds * d.Ready * backend.Options.RequestsPerSecondPerReplica;
                var errorRatio = d.Bad ? backend.Options.BadImageErrorRatio : 0;
                counter.Ok += requests * (1 - errorRatio);
                counter.Errors += requests * errorRatio;
                counter.Last = now;
                text.Append(CultureInfo.InvariantCulture, $"fleet_sim_http_requests_total{{{Labels(d)},code=\"200\"}} {Math.Floor(counter.Ok)}\n");
                text.Append(CultureInfo.InvariantCulture, $"fleet_sim_http_requests_total{{{Labels(d)},code=\"500\"}} {Math.Floor(counter.Errors)}\n");
            }

            foreach (var gone in _counters.Keys.Where(k => !seen.Contains(k)).ToList())
            {
                _counters.Remove(gone);
            }
        }

        return text.ToString();
    }

    private string Labels(DeploymentSample d) =>
        $"cluster=\"{Escape(cluster)}\",namespace=\"{Escape(d.Namespace)}\",deployment=\"{Escape(d.Name)}\"";

    private List<DeploymentSample> Deployments()
    {
        var type = Resources.BuiltInResources.All.Single(t => t.Kind == "Deployment");
        List<Store.StoredObject> stored;
        lock (backend.Store.Sync)
        {
            stored = backend.Store.List(type.StorageKey, null);
        }

        return stored.Select(s =>
        {
            var obj = s.ToJsonObject();
            var ready = obj["status"]?["readyReplicas"]?.GetValue<long>() ?? 0;
            var bad = WorkloadImages.Images(obj).Any(backend.Options.BadImagePattern.IsMatch);
            return new DeploymentSample(s.Namespace, s.Name, ready, bad);
        }).ToList();
    }

    private static string Escape(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    private sealed record DeploymentSample(string Namespace, string Name, long Ready, bool Bad);

    private sealed class Counter
    {
        public double Ok { get; set; }

        public double Errors { get; set; }

        public DateTimeOffset Last { get; set; }
    }
}
