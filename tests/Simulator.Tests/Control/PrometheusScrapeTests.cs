using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using FleetFunctions.TestSupport;
using k8s;
using k8s.Models;
using Xunit;

namespace FleetFunctions.Simulator.Tests.Control;

/// <summary>A real Prometheus scrapes a simulated cluster and answers the queries canary analysis runs.</summary>
public sealed class PrometheusScrapeTests
{
    private const string PrometheusPath = "/usr/bin/prometheus";

    [Fact]
    public async Task Prometheus_ScrapesCluster_ErrorRatioSeparatesBadImage()
    {
        await using var t = await TestCluster.StartAsync(new SimulatorOptions { WorkloadReadyDelay = TimeSpan.Zero, RequestsPerSecondPerReplica = 100 });
        foreach (var (name, image) in new[] { ("stable", "shop:1.0"), ("canary", "shop:1.1-bad") })
        {
            await t.Client.AppsV1.CreateNamespacedDeploymentAsync(new V1Deployment
            {
                Metadata = new V1ObjectMeta { Name = name },
                Spec = new V1DeploymentSpec
                {
                    Replicas = 2,
                    Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = name } },
                    Template = new V1PodTemplateSpec
                    {
                        Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { ["app"] = name } },
                        Spec = new V1PodSpec { Containers = [new V1Container { Name = "app", Image = image }] },
                    },
                },
            }, "default");
        }

        var port = FreePort.Next();
        var config = Path.Combine(t.Directory, "prometheus.yml");
        await File.WriteAllTextAsync(config, $"""
            global:
              scrape_interval: 1s
            scrape_configs:
              - job_name: fleet-sim
                static_configs:
                  - targets: ["{t.Cluster.Server.Authority}"]
            """);
        var info = ExternalProcess.CreateStartInfo(PrometheusPath, [
            $"--config.file={config}", $"--storage.tsdb.path={Path.Combine(t.Directory, "tsdb")}",
            $"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"]);
        using var prometheus = Process.Start(info)!;
        prometheus.BeginOutputReadLine();
        prometheus.BeginErrorReadLine();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
        try
        {
            const string errorRatio = "sum by (deployment) (rate(fleet_sim_http_requests_total{code=\"500\"}[5s])) / sum by (deployment) (rate(fleet_sim_http_requests_total[5s]))";
            JsonArray result = [];
            await TestCluster.WaitForAsync(
                () =>
                {
                    try
                    {
                        var response = http.GetFromJsonAsync<JsonObject>($"api/v1/query?query={Uri.EscapeDataString(errorRatio)}").GetAwaiter().GetResult();
                        result = response?["data"]?["result"] as JsonArray ?? [];
                        return result.Count == 2;
                    }
                    catch (HttpRequestException)
                    {
                        return false;
                    }
                },
                "Prometheus to compute the error ratio of both deployments",
                TimeSpan.FromSeconds(60));

            double Ratio(string deployment) => double.Parse(
                result.Single(r => r!["metric"]!["deployment"]!.ToString() == deployment)!["value"]![1]!.ToString(),
                System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal(0, Ratio("stable"));
            Assert.InRange(Ratio("canary"), 0.3, 0.7);
            var up = await http.GetFromJsonAsync<JsonObject>($"api/v1/query?query={Uri.EscapeDataString("fleet_sim_up")}");
            Assert.Equal("1", up!["data"]!["result"]![0]!["value"]![1]!.ToString());
        }
        finally
        {
            prometheus.Kill(entireProcessTree: true);
            await prometheus.WaitForExitAsync();
        }
    }
}
