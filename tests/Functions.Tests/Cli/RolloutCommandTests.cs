using System.CommandLine;
using System.Text.Json.Nodes;
using FleetFunctions.Core.Fleet;
using FleetFunctions.Core.Inventory;
using FleetFunctions.Core.Reconcile;
using FleetFunctions.Core.Secrets;
using FleetFunctions.Functions.Cli;
using FleetFunctions.Functions.Hosting;
using FleetFunctions.Orchestrations.Engine.Client;
using FleetFunctions.Orchestrations.Rollouts;
using FleetFunctions.Simulator;
using FleetFunctions.TestSupport;
using LibGit2Sharp;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Spectre.Console;
using Xunit;

namespace FleetFunctions.Functions.Tests.Cli;

public sealed class RolloutCommandTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>, IDisposable
{
    private const string ApiKey = "watch-key";
    private const string PauseOnFailure = "{strategy: Progressive, progressive: {waves: [{count: 1}], onFailure: Pause}}";
    private static readonly string s_testdata = Path.Combine(AppContext.BaseDirectory, "testdata", "rollouts");
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("rollout-watch-");

    public void Dispose() => _dir.Delete(recursive: true);

    [Fact]
    public async Task Watch_RolloutsOnTheRealApp_SucceededExitsZeroBrokenImageRolledBackExitsOne()
    {
        await using var setup = await OneClusterAsync("20s", "{strategy: AllAtOnce}");
        var (cluster, repo, fleet, app, first) = (setup.Cluster, setup.Repo, setup.Fleet, setup.App, setup.First);

        // The watch starts before the rollout exists, as after a webhook whose delivery is not processed yet.
        var firstUrl = new Uri(app.BaseAddress, $"api/rollouts/{RolloutInstanceId.For(fleet, first)}").ToString();
        var written = new StringWriter();
        var synchronized = TextWriter.Synchronized(written);
        var watch = RunAsync(synchronized, "rollout", "watch", firstUrl, "--api-key", ApiKey, "--interval", "200ms", "--timeout", "2m");
        for (var i = 0; i < 300 && !Written(synchronized, written).Contains("waiting for the rollout to start", StringComparison.Ordinal); i++)
        {
            await Task.Delay(100);
        }

        await StartRolloutAsync(app, fleet, first);
        var (succeeded, _, error) = await watch;
        var output = Written(synchronized, written);

        Assert.True(succeeded == 0, output + error);
        Assert.Contains("waiting for the rollout to start", output, StringComparison.Ordinal);
        Assert.Contains($"Succeeded: commit {first[..12]} is healthy on all 1 cluster(s)", output, StringComparison.Ordinal);
        Assert.Contains("1/1 clusters healthy", output, StringComparison.Ordinal);
        Assert.Contains($"rollout {fleet}-{first}: Succeeded", output, StringComparison.Ordinal);

        // The same rollout through the Durable Functions API (enums as numbers, customStatus) and by instance id.
        var (durable, durableOutput, _) = await RunAsync("rollout", "watch", new Uri(app.BaseAddress, $"runtime/webhooks/durabletask/instances/{fleet}-{first}").ToString(), "--api-key", ApiKey);
        var (byId, _, _) = await RunAsync("rollout", "watch", $"{fleet}-{first}", "--url", app.BaseAddress.ToString(), "--api-key", ApiKey);
        Assert.Equal(0, durable);
        Assert.Equal(0, byId);
        Assert.Contains("1/1 clusters healthy", durableOutput, StringComparison.Ordinal);

        var broken = Commit(repo, "web 2.0", "example/web:2.0-broken");
        var brokenUrl = await StartRolloutAsync(app, fleet, broken);
        var (rolledBack, brokenOutput, _) = await RunAsync("rollout", "watch", brokenUrl, "--api-key", ApiKey, "--interval", "200ms", "--timeout", "2m");

        Assert.True(rolledBack == 1, brokenOutput);
        Assert.Contains("RolledBack: wave 0 (all): 1 cluster(s) failed, more than maxFailures 0: c1: c1/Deployment/web/web: Failed", brokenOutput, StringComparison.Ordinal);
        Assert.Matches(@"c1\s+RolledBack", brokenOutput);
        Assert.Contains($"rollout {fleet}-{broken}: RolledBack", brokenOutput, StringComparison.Ordinal);
        Assert.Equal("example/web:1.0", ImageOn(cluster));
    }

    [Fact]
    public async Task Approve_RolloutNotWaitingForADecision_RefusedWithItsPhase_AbortStillStopsIt()
    {
        await using var setup = await OneClusterAsync("5s", """
            {strategy: Canary, canary: {selector: {matchLabels: {env: test}}, analysis: {interval: 10m, iterations: 1, metrics: [{name: errors, query: "absent_metric_for_tests", max: 1}]}}}
            """);
        var (fleet, app, commit) = (setup.Fleet, setup.App, setup.First);
        var url = await StartRolloutAsync(app, fleet, commit);
        await WaitForPhaseAsync(app, url, RolloutPhase.Analyzing);

        var (approved, _, approveError) = await RunAsync("rollout", "approve", url, "--api-key", ApiKey, "--by", "eve");
        var (aborted, abortOutput, abortError) = await RunAsync("rollout", "abort", url, "--api-key", ApiKey, "--by", "eve");
        await RunAsync("rollout", "watch", url, "--api-key", ApiKey, "--interval", "200ms", "--timeout", "2m");

        Assert.Equal(1, approved);
        Assert.Contains("409 Conflict", approveError, StringComparison.Ordinal);
        Assert.Contains($"rollout {fleet}-{commit} is Analyzing, not waiting for a decision", approveError, StringComparison.Ordinal);
        Assert.True(aborted == 0, abortOutput + abortError);
        Assert.Contains("aborted by eve", await ReasonAsync(app, url), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ApproveAbortList_PausedRolloutsOnTheRealApp_DecisionsReachThemRefusalsSayWhyListShowsThem()
    {
        await using var setup = await OneClusterAsync("5s", PauseOnFailure);
        var (cluster, repo, fleet, app, good) = (setup.Cluster, setup.Repo, setup.Fleet, setup.App, setup.First);
        var url = app.BaseAddress.ToString();
        Assert.Equal(0, (await RunAsync("rollout", "watch", await StartRolloutAsync(app, fleet, good), "--api-key", ApiKey, "--interval", "200ms", "--timeout", "2m")).Exit);

        // A broken image fails its wave and the rollout pauses; abort (by instance id) rolls it back.
        var broken = Commit(repo, "web 2.0", "example/web:2.0-broken");
        var brokenUrl = await StartRolloutAsync(app, fleet, broken);
        await WaitForPhaseAsync(app, brokenUrl, RolloutPhase.Paused);
        var (aborted, abortOutput, abortError) = await RunAsync("rollout", "abort", $"{fleet}-{broken}", "--url", url, "--api-key", ApiKey, "--by", "alice", "--reason", "broken image");
        var (rolledBack, _, _) = await RunAsync("rollout", "watch", brokenUrl, "--api-key", ApiKey, "--interval", "200ms", "--timeout", "2m");

        Assert.True(aborted == 0, abortOutput + abortError);
        Assert.Contains($"abort sent to {fleet}-{broken} (by alice): the rollout rolls back", abortOutput, StringComparison.Ordinal);
        Assert.Equal(1, rolledBack);
        Assert.Contains("aborted by alice: broken image", await ReasonAsync(app, brokenUrl), StringComparison.Ordinal);
        Assert.Equal("example/web:1.0", ImageOn(cluster));

        // Approve (by status URL) lets the next paused rollout go on.
        var again = Commit(repo, "web 2.1", "example/web:2.1-broken");
        var againUrl = await StartRolloutAsync(app, fleet, again);
        await WaitForPhaseAsync(app, againUrl, RolloutPhase.Paused);
        using (var malformed = new HttpRequestMessage(HttpMethod.Post, againUrl + "/approve") { Content = new StringContent("{not json") })
        {
            malformed.Headers.Add("x-api-key", ApiKey);
            using var answer = await app.Client.SendAsync(malformed);
            Assert.Equal(System.Net.HttpStatusCode.BadRequest, answer.StatusCode);
            Assert.Contains("the body is not JSON", await answer.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.Equal(RolloutPhase.Paused.ToString(), (await StatusAsync(app, againUrl))["status"]?["phase"]?.ToString());
        // A status URL carrying the key as its query (as a function key is given): the decision goes before the query.
        var (approved, approveOutput, approveError) = await RunAsync("rollout", "approve", $"{againUrl}?code={ApiKey}", "--by", "bob");
        await RunAsync("rollout", "watch", againUrl, "--api-key", ApiKey, "--interval", "200ms", "--timeout", "2m");

        Assert.True(approved == 0, approveOutput + approveError);
        Assert.Contains("the rollout goes on", approveOutput, StringComparison.Ordinal);
        Assert.StartsWith($"commit {again[..12]} is healthy on 0 of 1 cluster(s); 1 failed and were accepted: c1 (wave 0, continued by an operator): ", await ReasonAsync(app, againUrl), StringComparison.Ordinal);

        // Refusals: a finished rollout, an unknown one (exit 1, the app's reason); a refused key (exit 2).
        var (finished, _, finishedError) = await RunAsync("rollout", "approve", brokenUrl, "--api-key", ApiKey);
        var (unknown, _, unknownError) = await RunAsync("rollout", "abort", $"{fleet}-0000000000000000000000000000000000000000", "--url", url, "--api-key", ApiKey);
        var (refused, _, refusedError) = await RunAsync("rollout", "approve", brokenUrl, "--api-key", "wrong");
        Assert.Equal(1, finished);
        Assert.Contains("409 Conflict", finishedError, StringComparison.Ordinal);
        Assert.Contains("is Completed: there is nothing to approve", finishedError, StringComparison.Ordinal);
        Assert.Equal(1, unknown);
        Assert.Contains("404", unknownError, StringComparison.Ordinal);
        Assert.Equal(2, refused);
        Assert.Contains("--api-key", refusedError, StringComparison.Ordinal);

        // list: the fleet's rollouts, newest first, with their phases.
        var (listed, listOutput, listError) = await RunAsync("rollout", "list", "--fleet", fleet, "--url", url, "--api-key", ApiKey);
        Assert.True(listed == 0, listError);
        var lines = listOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("ROLLOUT", lines[0], StringComparison.Ordinal);
        Assert.Equal([$"{fleet}-{again}", $"{fleet}-{broken}", $"{fleet}-{good}"], lines.Skip(1).Select(l => l.Split(' ')[0]));
        Assert.Matches(@"\sCompleted\s+RolledBack\s", lines[2]);
        Assert.Matches(@"\sCompleted\s+Succeeded\s", lines[3]);
        var (none, noneOutput, noneError) = await RunAsync("rollout", "list", "--fleet", fleet, "--status", "Running", "--url", url, "--api-key", ApiKey);
        Assert.Equal(0, none);
        Assert.Empty(noneOutput);
        Assert.StartsWith("no rollouts matching", noneError, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("approve web-1234 --url ftp://example.com", "is not an http(s) URL")]
    [InlineData("abort not/an-id", "neither an http(s) status URL nor a rollout instance id")]
    [InlineData("approve http://127.0.0.1:1/runtime/webhooks/durabletask/instances/web-1234", "decisions go to the status API")]
    public async Task Decision_InvalidArguments_ExitsTwoNamingTheArgument(string arguments, string expected)
    {
        var (exit, _, error) = await RunAsync(["rollout", .. arguments.Split(' ')]);

        Assert.Equal(2, exit);
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Watch_RefusedKeyOrUnknownRollout_ExitsTwoSayingWhy()
    {
        await using var app = await StartAppAsync(PlatformLoader.Load([]));

        var (refused, _, refusedError) = await RunAsync("rollout", "watch", "web-1234", "--url", app.BaseAddress.ToString(), "--api-key", "wrong");
        var (unknown, _, unknownError) = await RunAsync("rollout", "watch", "web-1234", "--url", app.BaseAddress.ToString(), "--api-key", ApiKey, "--interval", "100ms", "--start-timeout", "500ms");

        Assert.Equal(2, refused);
        Assert.Contains("401", refusedError, StringComparison.Ordinal);
        Assert.Contains("--api-key", refusedError, StringComparison.Ordinal);
        Assert.Equal(2, unknown);
        Assert.Contains("api/rollouts/web-1234: no such rollout after", unknownError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ListAndWatch_LoginPageAnswering200_ExitTwoSayingTheAnswerIsNotTheApps()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        await using var loginPage = builder.Build();
        loginPage.MapFallback(() => Results.Content("<html>\n<body>Sign in to continue</body>\n</html>", "text/html"));
        await loginPage.StartAsync();
        var url = loginPage.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

        var (listed, _, listError) = await RunAsync("rollout", "list", "--url", url);
        var (watched, _, watchError) = await RunAsync("rollout", "watch", "web-1234", "--url", url, "--timeout", "10s");

        Assert.Equal(2, listed);
        Assert.Contains("api/rollouts: the answer is not a list of rollouts (it starts: <html> <body>Sign in to continue</body> </html>)", listError, StringComparison.Ordinal);
        Assert.Equal(2, watched);
        Assert.Contains("api/rollouts/web-1234: the answer is not a rollout status", watchError, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not/a-url-nor-an-id", "neither an http(s) status URL nor a rollout instance id")]
    [InlineData("web-1234 --url ftp://example.com", "is not an http(s) URL")]
    [InlineData("web-1234 --interval 0s", "--interval '0s' is not a positive duration")]
    public async Task Watch_InvalidArguments_ExitsTwoNamingTheArgument(string arguments, string expected)
    {
        var (exit, _, error) = await RunAsync(["rollout", "watch", .. arguments.Split(' ')]);

        Assert.Equal(2, exit);
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_RecordedStatusApiAndDurableApiPayloads_ReadTheSameRollout()
    {
        var fromStatusApi = RolloutSnapshot.Parse(File.ReadAllText(Path.Combine(s_testdata, "rolledback.status-api.json")));
        var fromDurableApi = RolloutSnapshot.Parse(File.ReadAllText(Path.Combine(s_testdata, "rolledback.durable-api.json")));

        foreach (var snapshot in new[] { fromStatusApi, fromDurableApi })
        {
            Assert.True(snapshot.IsFinished);
            Assert.Equal(RolloutPhase.RolledBack, snapshot.Phase);
            Assert.Equal(RolloutStrategy.Canary, snapshot.Status!.Strategy);
            Assert.Equal(["asia-1", "eu-1", "us-1"], snapshot.Clusters.Where(c => c.State == ClusterRolloutState.RolledBack).Select(c => c.Name));
            Assert.Equal(3, snapshot.Clusters.Count(c => c.State == ClusterRolloutState.Pending));
            Assert.Equal(4, snapshot.Waves.Count);
            Assert.Equal(Core.Analysis.MeasurementOutcome.Failed, Assert.Single(snapshot.Status.Analysis).Outcome);
            Assert.StartsWith("canary analysis failed", snapshot.Message, StringComparison.Ordinal);
            Assert.Equal(7, (int)snapshot.Age(DateTimeOffset.UtcNow)!.Value.TotalSeconds);
        }

        Assert.Equal(fromStatusApi.Clusters, fromDurableApi.Clusters);
    }

    [Fact]
    public void Changes_FromAnalyzingToRolledBack_ClusterStatesThenAnalysisThenPhase()
    {
        var json = File.ReadAllText(Path.Combine(s_testdata, "rolledback.status-api.json"));
        var final = RolloutSnapshot.Parse(json);
        var root = JsonNode.Parse(json)!.AsObject();
        root["runtimeStatus"] = "Running";
        root.Remove("output");
        var status = root["status"]!.AsObject();
        status["phase"] = (int)RolloutPhase.Analyzing;
        status["message"] = "canary analysis: iteration 1 of 3 in 3s";
        status["analysis"] = new JsonArray();
        foreach (var c in status["clusters"]!.AsArray().Where(c => c!["wave"]!.GetValue<int>() == 0))
        {
            c!["state"] = (int)ClusterRolloutState.Healthy;
            c["message"] = "applied";
        }

        var analyzing = RolloutSnapshot.Parse(root.ToJsonString());

        var lines = RolloutView.Changes(analyzing, final).ToList();

        Assert.Equal(RolloutPhase.Analyzing, analyzing.Phase);
        Assert.False(analyzing.IsFinished);
        Assert.Equal(5, lines.Count);
        Assert.Matches(@"^  (asia-1|eu-1|us-1)\s+RolledBack\s+\+0 ~1 =6 -0  rolled back to ", lines[0]);
        Assert.StartsWith("  analysis #1 Failed: error-ratio asia-1 = 0.494 (Failed: 0.4937 is above max 0.05)", lines[3], StringComparison.Ordinal);
        Assert.StartsWith("RolledBack: canary analysis failed", lines[4], StringComparison.Ordinal);
        Assert.Empty(RolloutView.Changes(final, final));
    }

    [Fact]
    public void Changes_RolloutWaitingForADecision_SaysWhichCommandsDecide()
    {
        var json = File.ReadAllText(Path.Combine(s_testdata, "rolledback.status-api.json"));
        var final = RolloutSnapshot.Parse(json);
        var root = JsonNode.Parse(json)!.AsObject();
        root["runtimeStatus"] = "Running";
        root.Remove("output");
        root["status"]!["phase"] = (int)RolloutPhase.AwaitingApproval;
        root["status"]!["message"] = "canary is healthy; raise 'approve' to promote or 'abort' to roll back";
        var waiting = RolloutSnapshot.Parse(root.ToJsonString());

        var lines = RolloutView.Changes(null, waiting).ToList();

        var hint = $"decide: fleetfunctions rollout approve {waiting.InstanceId}   or   fleetfunctions rollout abort {waiting.InstanceId}";
        Assert.Equal("  " + hint, lines[^1]);
        Assert.StartsWith("AwaitingApproval: canary is healthy", lines[^2], StringComparison.Ordinal);
        Assert.Empty(RolloutView.Changes(waiting, waiting));
        Assert.Contains(hint, RenderToText(waiting), StringComparison.Ordinal);
        Assert.Null(RolloutView.DecisionHint(final));
        Assert.DoesNotContain("decide:", RenderToText(final), StringComparison.Ordinal);
    }

    [Fact]
    public void Render_RecordedRollback_ShowsHeaderProgressWavesClustersAndAnalysis()
    {
        var snapshot = RolloutSnapshot.Parse(File.ReadAllText(Path.Combine(s_testdata, "rolledback.durable-api.json")));

        var text = RenderToText(snapshot);

        Assert.Contains("podinfo @ 67aa5332a236  Canary  RolledBack  Completed, 0:09", text, StringComparison.Ordinal);
        Assert.Contains("0/6 clusters healthy, 3 rolled back", text, StringComparison.Ordinal);
        Assert.Matches(@"│\s+1 │ eu\s+│ eu-2\s+│ Pending", text);
        Assert.Matches(@"│ eu-1\s+│ 0\s+│ RolledBack │ \+0 ~1 =6 -0 │ rolled back to 1ceef9477c4e\s+│", text);
        Assert.Contains("error-ratio eu-1 = 0.5 (Failed: 0.5 is above max 0.05)", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_StatusOfAFailedPlan_ShowsPhaseAndReasonWithoutTables()
    {
        var snapshot = RolloutSnapshot.Parse("""
            {"name": "Rollout", "instanceId": "web-abc", "runtimeStatus": "Completed",
             "customStatus": {"fleet": "web", "commit": "abc", "phase": 10, "message": "the rollout could not be planned: ClusterFleet/web is not defined"},
             "output": {"phase": 10, "reason": "the rollout could not be planned: ClusterFleet/web is not defined"}}
            """);

        var text = RenderToText(snapshot);

        Assert.Equal(RolloutPhase.Failed, snapshot.Phase);
        Assert.Empty(snapshot.Clusters);
        Assert.Contains("web @ abc", text, StringComparison.Ordinal);
        Assert.Contains("0/0 clusters healthy", text, StringComparison.Ordinal);
        Assert.DoesNotContain("│ cluster ", text, StringComparison.Ordinal);
        Assert.DoesNotContain("AllAtOnce", text, StringComparison.Ordinal);
        Assert.Equal(["web @ abc", "Failed: the rollout could not be planned: ClusterFleet/web is not defined"], RolloutView.Changes(null, snapshot));
    }

    private static string RenderToText(RolloutSnapshot snapshot)
    {
        var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        console.Profile.Width = 200;
        console.Write(RolloutView.Render(snapshot, TimeSpan.FromSeconds(9)));
        return writer.ToString().Replace("\r\n", "\n", StringComparison.Ordinal);
    }

    private static Task<(int Exit, string Output, string Error)> RunAsync(params string[] args) => RunAsync(new StringWriter(), args);

    private static async Task<(int Exit, string Output, string Error)> RunAsync(TextWriter output, params string[] args)
    {
        var root = new RootCommand("test");
        root.Subcommands.Add(RolloutCommand.Create());
        var error = new StringWriter();
        var exit = await root.Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
        return (exit, output.ToString() ?? string.Empty, error.ToString());
    }

    /// <summary>What a command wrote so far to a synchronized writer (its methods lock the writer itself).</summary>
    private static string Written(TextWriter synchronized, StringWriter inner)
    {
        lock (synchronized)
        {
            return inner.ToString();
        }
    }

    /// <summary>One simulated cluster c1 (env: test) and a fleet of the app repository's <c>web</c> folder on it.</summary>
    /// <summary>A simulated cluster c1, an app repository whose first commit runs example/web:1.0, and the app with fleet web-… on them.</summary>
    private async Task<OneCluster> OneClusterAsync(string healthTimeout, string rollout)
    {
        var simulator = await FleetSimulator.StartAsync(new SimulatorOptions { WorkloadReadyDelay = TimeSpan.FromMilliseconds(200) });
        var cluster = await simulator.AddClusterAsync("c1");
        var repoPath = Path.Combine(_dir.FullName, "apps");
        var repo = NewAppRepository(repoPath);
        var first = Commit(repo, "web 1.0", "example/web:1.0");
        var fleet = AzuriteFixture.NewName("web");
        var app = await StartAppAsync(OneClusterPlatform(repoPath, cluster.Server, fleet, healthTimeout, rollout));
        return new OneCluster(simulator, cluster, repo, fleet, app, first);
    }

    private sealed record OneCluster(FleetSimulator Simulator, SimulatedCluster Cluster, Repository Repo, string Fleet, TestApp App, string First) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await App.DisposeAsync();
            Repo.Dispose();
            await Simulator.DisposeAsync();
        }
    }

    private static PlatformConfig OneClusterPlatform(string repoPath, Uri server, string fleet, string healthTimeout, string rollout) =>
        PlatformLoader.Load([("platform.yaml", $$"""
            apiVersion: fleetfunctions.io/v1alpha1
            kind: GitSource
            metadata: {name: apps}
            spec: {url: "{{repoPath}}"}
            ---
            apiVersion: fleetfunctions.io/v1alpha1
            kind: Cluster
            metadata:
              name: c1
              labels: {env: test}
            spec: {server: "{{server}}", region: eu}
            ---
            apiVersion: fleetfunctions.io/v1alpha1
            kind: ClusterFleet
            metadata: {name: {{fleet}}}
            spec:
              source: {gitSource: apps, path: web}
              clusterSelector:
                matchLabels: {env: test}
              healthTimeout: {{healthTimeout}}
              rollout: {{rollout}}
            """)]);

    private static Repository NewAppRepository(string path)
    {
        var repo = new Repository(Repository.Init(path));
        repo.Refs.UpdateTarget("HEAD", "refs/heads/main");
        return repo;
    }

    private static string ImageOn(SimulatedCluster cluster) =>
        cluster.GetObject("apps/v1", "Deployment", "web", "web")!["spec"]!["template"]!["spec"]!["containers"]![0]!["image"]!.GetValue<string>();

    private static string Commit(Repository repo, string message, string image)
    {
        var web = Path.Combine(repo.Info.WorkingDirectory, "web");
        Directory.CreateDirectory(web);
        File.WriteAllText(Path.Combine(web, "app.yaml"), $"""
            apiVersion: v1
            kind: Namespace
            metadata: {"{"}name: web{"}"}
            ---
            apiVersion: apps/v1
            kind: Deployment
            metadata: {"{"}name: web, namespace: web{"}"}
            spec:
              replicas: 1
              selector: {"{"}matchLabels: {"{"}app: web{"}"}{"}"}
              template:
                metadata: {"{"}labels: {"{"}app: web{"}"}{"}"}
                spec:
                  containers: [{"{"}name: web, image: "{image}"{"}"}]
            """);
        Commands.Stage(repo, "*");
        var author = new Signature("Watch Tester", "watch@example.com", DateTimeOffset.UtcNow);
        return repo.Commit(message, author, author).Sha;
    }

    private static async Task<JsonObject> StatusAsync(TestApp app, string statusUrl)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, statusUrl);
        request.Headers.Add("x-api-key", ApiKey);
        using var response = await app.Client.SendAsync(request);
        return response.IsSuccessStatusCode ? JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject() : [];
    }

    private static async Task WaitForPhaseAsync(TestApp app, string statusUrl, RolloutPhase phase)
    {
        for (var i = 0; i < 600; i++)
        {
            if ((await StatusAsync(app, statusUrl))["status"]?["phase"]?.ToString() == phase.ToString())
            {
                return;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"{statusUrl} did not reach {phase}: {(await StatusAsync(app, statusUrl)).ToJsonString()}");
    }

    private static async Task<string> ReasonAsync(TestApp app, string statusUrl) => (await StatusAsync(app, statusUrl))["output"]?["reason"]?.ToString() ?? string.Empty;

    /// <summary>Starts the fleet's rollout of <paramref name="commit"/> as delivery processing would; returns its status URL.</summary>
    private static async Task<string> StartRolloutAsync(TestApp app, string fleet, string commit)
    {
        var client = app.Services.GetRequiredService<DurableClient>();
        var id = RolloutInstanceId.For(fleet, commit);
        await RolloutOrchestrator.StartAsync(client, new RolloutRequest(fleet, commit), id);
        return new Uri(app.BaseAddress, $"api/rollouts/{id}").ToString();
    }

    private async Task<TestApp> StartAppAsync(PlatformConfig platform)
    {
        var storage = azurite.ConnectionString;
        var options = new AppOptions
        {
            StorageConnectionString = storage,
            PlatformRepository = "unused: the platform is given",
            TaskHub = AzuriteFixture.NewName("hub"),
            ApiKey = ApiKey,
            CacheDirectory = Path.Combine(_dir.FullName, "cache"),
        };
        return await TestApp.StartAsync(options, platform, services =>
        {
            services.AddSingleton<ISecretStore>(new InMemorySecretStore(new Dictionary<string, string>()));
            services.AddSingleton(new FleetStateStore(storage, AzuriteFixture.NewName("fleets")));
            services.AddSingleton(new InventoryStore(storage, new InventoryOptions { TableName = AzuriteFixture.NewName("inv") }));
            services.AddSingleton(new ReconcileHistoryStore(storage, AzuriteFixture.NewName("history")));
        });
    }
}
