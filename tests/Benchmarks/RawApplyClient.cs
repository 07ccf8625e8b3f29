using System.Diagnostics;
using System.Net.Http.Headers;
using FleetFunctions.Core.Manifests;

namespace FleetFunctions.Benchmarks;

/// <summary>
/// The simulator's raw capacity for a manifest set: the server-side apply PATCHes the pipeline sends (same JSON
/// bodies, field manager and query), straight from HttpClient with no pipeline around them, with the same
/// concurrency per cluster (given per apply, up to the connection limit set at construction); cluster-scoped objects
/// first, as the pipeline's staged apply does. It runs in a child
/// process (<see cref="RawApplyProcess"/>) so that its connections and buffers never count as the controller's memory.
/// </summary>
internal sealed class RawApplyClient : IDisposable
{
    private static readonly MediaTypeHeaderValue s_applyPatch = new("application/apply-patch+yaml");
    private readonly HttpClient _http;
    private readonly (string Path, byte[] Body)[] _first;
    private readonly (string Path, byte[] Body)[] _rest;

    public RawApplyClient(IReadOnlyList<ManifestObject> objects, int maxConcurrency)
    {
        _http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = maxConcurrency, PooledConnectionLifetime = Timeout.InfiniteTimeSpan });
        var requests = objects.Select(o => (o.Namespace.Length == 0, Path: PathOf(o), Body: System.Text.Encoding.UTF8.GetBytes(o.Object.ToJsonString()))).ToList();
        _first = [.. requests.Where(r => r.Item1).Select(r => (r.Path, r.Body))];
        _rest = [.. requests.Where(r => !r.Item1).Select(r => (r.Path, r.Body))];
    }

    public int Count => _first.Length + _rest.Length;

    /// <summary>Applies every object to every server at once, <paramref name="concurrency"/> requests in flight per server; returns the elapsed time.</summary>
    public async Task<TimeSpan> ApplyAsync(IReadOnlyList<Uri> servers, int concurrency, CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        await Task.WhenAll(servers.Select(async server =>
        {
            foreach (var stage in new[] { _first, _rest })
            {
                await Parallel.ForEachAsync(
                    stage,
                    new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken },
                    async (request, ct) => await PatchAsync(server, request, ct));
            }
        }));
        return stopwatch.Elapsed;
    }

    public void Dispose() => _http.Dispose();

    private async Task PatchAsync(Uri server, (string Path, byte[] Body) request, CancellationToken cancellationToken)
    {
        using var content = new ByteArrayContent(request.Body);
        content.Headers.ContentType = s_applyPatch;
        using var message = new HttpRequestMessage(HttpMethod.Patch, new Uri(server, request.Path)) { Content = content };
        message.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        using var response = await _http.SendAsync(message, cancellationToken);
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"raw apply {request.Path} on {server}: {(int)response.StatusCode} {System.Text.Encoding.UTF8.GetString(body)}");
        }
    }

    /// <summary>The REST path of the kinds the benchmark applies.</summary>
    private static string PathOf(ManifestObject o)
    {
        var plural = o.Kind switch
        {
            "Namespace" => "namespaces",
            "Deployment" => "deployments",
            "Service" => "services",
            "ConfigMap" => "configmaps",
            _ => throw new InvalidOperationException($"{o.Reference}: the raw client knows no path for this kind"),
        };
        var prefix = o.ApiVersion.Contains('/', StringComparison.Ordinal) ? $"/apis/{o.ApiVersion}" : $"/api/{o.ApiVersion}";
        var scope = o.Namespace.Length > 0 ? $"/namespaces/{o.Namespace}" : string.Empty;
        return $"{prefix}{scope}/{plural}/{o.Name}?fieldManager=fleetfunctions&force=false";
    }
}

/// <summary>
/// <see cref="RawApplyClient"/> in a child process (this executable, <c>reconcile --raw-child DIR MAX-CONCURRENCY</c>):
/// one line <c>apply CONCURRENCY URL...</c> on its standard input applies the manifests of DIR to those servers and answers
/// <c>ok MILLISECONDS</c> (or <c>error TEXT</c>).
/// </summary>
internal sealed class RawApplyProcess : IAsyncDisposable
{
    public const string ChildFlag = "--raw-child";
    private readonly Process _process;

    private RawApplyProcess(Process process) => _process = process;

    public static async Task<RawApplyProcess> StartAsync(string manifestDirectory, int maxConcurrency, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in new[] { typeof(RawApplyProcess).Assembly.Location, "reconcile", ChildFlag, manifestDirectory, maxConcurrency.ToString(System.Globalization.CultureInfo.InvariantCulture) })
        {
            info.ArgumentList.Add(arg);
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("the raw apply child did not start.");
        while (await process.StandardOutput.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line == "ready")
            {
                return new RawApplyProcess(process);
            }
        }

        throw new InvalidOperationException("the raw apply child exited before it was ready.");
    }

    public async Task<TimeSpan> ApplyAsync(IEnumerable<Uri> servers, int concurrency, CancellationToken cancellationToken)
    {
        await _process.StandardInput.WriteLineAsync(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"apply {concurrency} {string.Join(' ', servers)}"));
        await _process.StandardInput.FlushAsync(cancellationToken);
        var answer = await _process.StandardOutput.ReadLineAsync(cancellationToken) ?? "error the raw apply child exited";
        return answer.StartsWith("ok ", StringComparison.Ordinal)
            ? TimeSpan.FromMilliseconds(double.Parse(answer[3..], System.Globalization.CultureInfo.InvariantCulture))
            : throw new InvalidOperationException($"raw apply: {answer}");
    }

    /// <summary>The child's loop.</summary>
    public static async Task<int> RunChildAsync(string manifestDirectory, int maxConcurrency, CancellationToken cancellationToken)
    {
        var objects = Directory.GetFiles(manifestDirectory, "*.yaml").Order(StringComparer.Ordinal)
            .SelectMany(f => ManifestParser.Parse(File.ReadAllText(f), f)).ToList();
        using var raw = new RawApplyClient(objects, maxConcurrency);
        Console.Out.WriteLine("ready");
        while (await Console.In.ReadLineAsync(cancellationToken) is { } line)
        {
            try
            {
                var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                var concurrency = int.Parse(words[1], System.Globalization.CultureInfo.InvariantCulture);
                var servers = words.Skip(2).Select(u => new Uri(u)).ToList();
                var elapsed = await raw.ApplyAsync(servers, concurrency, cancellationToken);
                Console.Out.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"ok {elapsed.TotalMilliseconds}"));
            }
            catch (InvalidOperationException e)
            {
                Console.Out.WriteLine($"error {e.Message.ReplaceLineEndings(" ")}");
            }
            catch (HttpRequestException e)
            {
                Console.Out.WriteLine($"error {e.Message.ReplaceLineEndings(" ")}");
            }
        }

        return 0;
    }

    public async ValueTask DisposeAsync()
    {
        _process.StandardInput.Close();
        if (!await WaitAsync(_process, TimeSpan.FromSeconds(10)))
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private static async Task<bool> WaitAsync(Process process, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
