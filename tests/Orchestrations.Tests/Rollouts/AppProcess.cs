using System.Diagnostics;
using System.Text;
using FleetFunctions.TestSupport;

namespace FleetFunctions.Orchestrations.Tests.Rollouts;

/// <summary>
/// The real app, <c>fleetfunctions serve</c> (src/Functions, built next to the tests), standalone in its own
/// process: its engine worker runs the rollout orchestrations and activities. Killable with SIGKILL.
/// </summary>
internal sealed class AppProcess : ChildProcess
{
    private readonly StringBuilder _output;

    private AppProcess(Process process, StringBuilder output, Uri baseUrl)
        : base(process)
    {
        _output = output;
        BaseUrl = baseUrl;
    }

    public Uri BaseUrl { get; }

    /// <summary>What the app printed so far (for failure messages).</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static string AssemblyPath =>
        RepoPaths.BuiltAssembly(Path.Combine("src", "Functions"), "fleetfunctions.dll") is var path && File.Exists(path)
            ? path
            : throw new InvalidOperationException($"{path} not found: build src/Functions first (same configuration as the tests).");

    /// <summary>Starts <c>fleetfunctions serve</c> with <paramref name="settings"/> (names without the <c>FLEETFUNCTIONS_</c> prefix) and waits until it answers.</summary>
    public static async Task<AppProcess> StartAsync(IReadOnlyDictionary<string, string> settings)
    {
        var url = new Uri($"http://127.0.0.1:{FreePort.Next()}/");
        var environment = settings.ToDictionary(s => "FLEETFUNCTIONS_" + s.Key, s => s.Value);
        environment["FLEETFUNCTIONS_Urls"] = url.ToString().TrimEnd('/');

        // A test host that is killed (a timed-out CI job) takes the app with it instead of leaving it running.
        environment.TryAdd("FLEETFUNCTIONS_ExitWithParent", "true");
        var info = ExternalProcess.CreateStartInfo("dotnet", [AssemblyPath, "serve"], environment);
        var output = new StringBuilder();
        var process = Process.Start(info) ?? throw new InvalidOperationException("fleetfunctions serve did not start");
        DataReceivedEventHandler append = (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (output)
                {
                    output.AppendLine(e.Data);
                }
            }
        };
        process.OutputDataReceived += append;
        process.ErrorDataReceived += append;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var app = new AppProcess(process, output, url);
        using var http = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (DateTime.UtcNow < deadline && !process.HasExited)
        {
            try
            {
                using var response = await http.GetAsync(new Uri("api/healthz", UriKind.Relative));
                if (response.IsSuccessStatusCode)
                {
                    return app;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException)
            {
                // Busy starting.
            }

            await Task.Delay(200);
        }

        app.Dispose();
        throw new InvalidOperationException($"fleetfunctions serve did not answer on {url}api/healthz (exited: {process.HasExited}); output:\n{app.Output}");
    }
}
