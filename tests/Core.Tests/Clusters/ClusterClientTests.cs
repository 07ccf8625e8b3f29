using System.Text.Json.Nodes;
using FleetFunctions.Core.Clusters;
using FleetFunctions.Core.Secrets;
using FleetFunctions.Core.Tests.Support;
using Xunit;

namespace FleetFunctions.Core.Tests.Clusters;

public sealed class ClusterClientTests(SimulatorFixture simulator) : IClassFixture<SimulatorFixture>
{
    [Fact]
    public async Task GetClientAsync_Kubeconfig_AppliesAndReadsThroughContext()
    {
        var cluster = await simulator.AddClusterAsync("kc");
        var kubeconfig = Path.Combine(Path.GetTempPath(), $"ff-kubeconfig-{Guid.NewGuid():N}.yaml");
        simulator.Simulator.WriteKubeconfig(kubeconfig);
        try
        {
            using var factory = new ClusterClientFactory(new KubeconfigCredentialsProvider(kubeconfig));
            var client = await factory.GetClientAsync(cluster.Name);
            var resource = await client.ResolveAsync("v1", "ConfigMap");
            var obj = JsonNode.Parse("""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"kc","namespace":"default"},"data":{"a":"b"}}""")!.AsObject();

            await client.ApplyAsync(resource, obj);
            var live = await client.GetAsync(resource, "default", "kc");

            Assert.Equal("b", live!["data"]!["a"]!.GetValue<string>());
            Assert.True(resource.Namespaced);
            Assert.Equal("configmaps", resource.Plural);
            Assert.Same(client, await factory.GetClientAsync(cluster.Name));
        }
        finally
        {
            File.Delete(kubeconfig);
        }
    }

    [Fact]
    public async Task ApplyAsync_DryRun_WritesNothing()
    {
        var cluster = await simulator.AddClusterAsync("dry");
        using var factory = new ClusterClientFactory(new StaticCredentialsProvider([ClusterConnection.FromToken(cluster.Name, cluster.Server, cluster.Token)]));
        var client = await factory.GetClientAsync(cluster.Name);
        var resource = await client.ResolveAsync("v1", "ConfigMap");
        cluster.ResetCounters();

        var result = await client.ApplyAsync(resource, JsonNode.Parse("""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"dry","namespace":"default"}}""")!.AsObject(), dryRun: true);

        Assert.Equal("dry", result["metadata"]!["name"]!.GetValue<string>());
        Assert.Equal(0, cluster.WriteCount);
        Assert.Equal(0, client.WriteCount);
        Assert.Equal(2, client.RequestCount);
        Assert.Null(await client.GetAsync(resource, "default", "dry"));
    }

    [Fact]
    public async Task ResolveAsync_ClusterDown_ThrowsUnreachableNamingClusterAndServer()
    {
        var cluster = await simulator.AddClusterAsync("down");
        using var factory = new ClusterClientFactory(new StaticCredentialsProvider([ClusterConnection.FromToken(cluster.Name, cluster.Server, cluster.Token)]));
        var client = await factory.GetClientAsync(cluster.Name);
        await cluster.SetFaultAsync(FleetFunctions.Simulator.ClusterFault.Down);

        var error = await Assert.ThrowsAsync<ClusterUnreachableException>(() => client.ResolveAsync("v1", "ConfigMap"));

        Assert.StartsWith(cluster.Name, error.Message, StringComparison.Ordinal);
        Assert.Contains(cluster.Server.Authority, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(cluster.Token, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ProbeAsync_TokenFromAnEnvironmentSecretEndingInANewline_Answers()
    {
        var cluster = await simulator.AddClusterAsync("nl");
        var variable = EnvironmentSecretStore.VariableFor($"{cluster.Name}-token");
        Environment.SetEnvironmentVariable(variable, cluster.Token + "\n");
        try
        {
            var token = await new EnvironmentSecretStore().GetAsync($"{cluster.Name}-token");
            using var factory = new ClusterClientFactory(new StaticCredentialsProvider([ClusterConnection.FromToken(cluster.Name, cluster.Server, token!)]));

            await (await factory.GetClientAsync(cluster.Name)).ProbeAsync();
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    [Fact]
    public async Task ProbeAsync_TokenWithALineBreakInside_UnreachableNamingTheClusterAndItsCredentials()
    {
        var cluster = await simulator.AddClusterAsync("badtoken");
        using var factory = new ClusterClientFactory(new StaticCredentialsProvider([ClusterConnection.FromToken(cluster.Name, cluster.Server, "first\nsecond")]));
        var client = await factory.GetClientAsync(cluster.Name);

        var error = await Assert.ThrowsAsync<ClusterUnreachableException>(() => client.ProbeAsync());

        Assert.StartsWith($"{cluster.Name}: cannot authenticate to the API server at {client.Server}", error.Message, StringComparison.Ordinal);
        Assert.Contains("credentialsRef", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("second", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetClientAsync_KubeconfigFileMissing_UnreachableNamingTheFileAndWhatToFix()
    {
        var path = Path.Combine(Path.GetTempPath(), $"ff-missing-{Guid.NewGuid():N}.yaml");
        using var factory = new ClusterClientFactory(new StaticCredentialsProvider([ClusterConnection.FromKubeconfig("kc-missing", path, "prod")]));

        var error = await Assert.ThrowsAsync<ClusterUnreachableException>(() => factory.GetClientAsync("kc-missing").AsTask());

        Assert.StartsWith($"kc-missing: cannot build a client from kubeconfig {path} (context prod)", error.Message, StringComparison.Ordinal);
        Assert.Contains("spec.kubeconfig", error.Message, StringComparison.Ordinal);
        Assert.Equal("kc-missing", error.Cluster);
    }

    [Theory]
    [InlineData("unknown-context")]
    [InlineData("failing-exec-plugin")]
    public async Task GetClientAsync_KubeconfigThatCannotBeUsed_UnreachableNamingTheFile(string problem)
    {
        var cluster = await simulator.AddClusterAsync("kc-bad");
        var path = Path.Combine(Path.GetTempPath(), $"ff-kubeconfig-{Guid.NewGuid():N}.yaml");
        var user = problem == "failing-exec-plugin"
            ? "exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: /bin/false, interactiveMode: Never}"
            : $"token: {cluster.Token}";
        File.WriteAllText(path, Kubeconfig("ctx", cluster.Server, user));
        try
        {
            using var factory = new ClusterClientFactory(new StaticCredentialsProvider([ClusterConnection.FromKubeconfig(cluster.Name, path, problem == "unknown-context" ? "other" : "ctx")]));

            var error = await Assert.ThrowsAsync<ClusterUnreachableException>(async () => await (await factory.GetClientAsync(cluster.Name)).ProbeAsync());

            Assert.StartsWith(cluster.Name + ":", error.Message, StringComparison.Ordinal);
            Assert.Contains($"kubeconfig {path}", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task GetClientAsync_KubeconfigRewritten_NewClientFromTheNewFile_TheReplacedOneDisposedAfterItsLifetime()
    {
        var first = await simulator.AddClusterAsync("kc-first");
        var second = await simulator.AddClusterAsync("kc-second");
        var path = Path.Combine(Path.GetTempPath(), $"ff-kubeconfig-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, Kubeconfig("prod", first.Server, $"token: {first.Token}"));
        var time = new ManualTime();
        try
        {
            using var factory = new ClusterClientFactory(
                new StaticCredentialsProvider([ClusterConnection.FromKubeconfig("prod", path, "prod")]),
                new ClusterClientOptions { ReplacedClientLifetime = TimeSpan.FromMinutes(10) },
                time);
            var before = await factory.GetClientAsync("prod");
            Assert.Same(before, await factory.GetClientAsync("prod"));

            // As a credentials rotation rewrites the file in place (here: the context now points at another server).
            File.WriteAllText(path, Kubeconfig("prod", second.Server, $"token: {second.Token}-rotated"));
            var after = await factory.GetClientAsync("prod");
            await before.ProbeAsync();
            time.Now += TimeSpan.FromMinutes(11);
            Assert.Same(after, await factory.GetClientAsync("prod"));

            Assert.NotSame(before, after);
            Assert.Equal(second.Server.Authority, after.Server.Authority);
            await after.ProbeAsync();
            await Assert.ThrowsAsync<ObjectDisposedException>(() => before.ProbeAsync());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void ToString_TokenConnection_RedactsToken()
    {
        var connection = ClusterConnection.FromToken("prod", new Uri("https://k8s.example:6443"), "very-secret");

        Assert.DoesNotContain("very-secret", connection.ToString(), StringComparison.Ordinal);
    }

    private static string Kubeconfig(string context, Uri server, string user) => $$"""
        apiVersion: v1
        kind: Config
        current-context: {{context}}
        clusters:
        - name: c
          cluster: {server: "{{server.ToString().TrimEnd('/')}}"}
        users:
        - name: u
          user: {{{user}}}
        contexts:
        - name: {{context}}
          context: {cluster: c, user: u}
        """;
}
