using System.Globalization;
using System.Text.RegularExpressions;
using k8s;
using k8s.Models;
using Xunit;

namespace FleetFunctions.Simulator.Tests.Control;

/// <summary>Synthetic service metrics: traffic grows with ready replicas, bad images fail about half the requests.</summary>
public sealed class MetricsEndpointTests
{
    private static V1Deployment Deployment(string name, string image) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default" },
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
    };

    private static double Sample(string metrics, string deployment, string code)
    {
        var match = Regex.Match(metrics, $"fleet_sim_http_requests_total\\{{cluster=\"test\",namespace=\"default\",deployment=\"{deployment}\",code=\"{code}\"\\}} ([0-9.e+]+)");
        return match.Success ? double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : -1;
    }

    [Fact]
    public async Task Metrics_HealthyAndBadDeployments_CountRequestsAndErrors()
    {
        await using var t = await TestCluster.StartAsync(new SimulatorOptions { WorkloadReadyDelay = TimeSpan.Zero, RequestsPerSecondPerReplica = 1000 });
        await t.Client.AppsV1.CreateNamespacedDeploymentAsync(Deployment("good", "shop:1.0"), "default");
        await t.Client.AppsV1.CreateNamespacedDeploymentAsync(Deployment("canary", "shop:1.1-bad"), "default");
        await TestCluster.WaitForAsync(
            () => t.Cluster.ListObjects(kind: "Deployment").All(d => d["status"]?["readyReplicas"]?.GetValue<long>() == 2),
            "both deployments to become ready");
        using var http = new HttpClient();

        var first = await http.GetStringAsync(t.Cluster.MetricsUrl);
        string later = first;
        await TestCluster.WaitForAsync(
            () =>
            {
                later = http.GetStringAsync(t.Cluster.MetricsUrl).GetAwaiter().GetResult();
                return Sample(later, "good", "200") > 100 && Sample(later, "canary", "500") > 100;
            },
            "the synthetic counters to grow");

        Assert.Contains("fleet_sim_up{cluster=\"test\"} 1", later, StringComparison.Ordinal);
        Assert.Contains("# TYPE fleet_sim_http_requests_total counter", later, StringComparison.Ordinal);
        Assert.Equal(0, Sample(later, "good", "500"));
        var canaryErrors = Sample(later, "canary", "500") / (Sample(later, "canary", "500") + Sample(later, "canary", "200"));
        Assert.InRange(canaryErrors, 0.4, 0.6);
        Assert.True(Sample(later, "good", "200") >= Sample(first, "good", "200"));
    }
}
