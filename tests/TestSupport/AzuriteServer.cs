using System.Diagnostics;
using System.Net.Sockets;

namespace FleetFunctions.TestSupport;

/// <summary>
/// An Azurite (Azure Storage emulator) process on loopback free ports. In memory by default; with a
/// data directory it survives <see cref="RestartAsync"/>, which fault tests use to restart storage mid-run.
/// </summary>
public sealed class AzuriteServer : IAsyncDisposable
{
    /// <summary>Azurite's well-known development account key (public, documented by Microsoft).</summary>
    public const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private readonly string? _dataDirectory;
    private Process? _process;

    private AzuriteServer(int blobPort, int queuePort, int tablePort, string? dataDirectory)
    {
        BlobPort = blobPort;
        QueuePort = queuePort;
        TablePort = tablePort;
        _dataDirectory = dataDirectory;
    }

    public int BlobPort { get; }

    public int QueuePort { get; }

    public int TablePort { get; }

    /// <summary>Connection string for all three services.</summary>
    public string ConnectionString => BuildConnectionString(BlobPort, QueuePort, TablePort);

    /// <summary>Builds an Azurite connection string for the given loopback ports.</summary>
    public static string BuildConnectionString(int blobPort, int queuePort, int tablePort) =>
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;" +
        $"AccountKey={AccountKey};" +
        $"BlobEndpoint=http://127.0.0.1:{blobPort}/devstoreaccount1;" +
        $"QueueEndpoint=http://127.0.0.1:{queuePort}/devstoreaccount1;" +
        $"TableEndpoint=http://127.0.0.1:{tablePort}/devstoreaccount1;";

    /// <summary>Path of the Azurite launcher installed by <c>npm ci</c> at the repository root.</summary>
    public static string Executable
    {
        get
        {
            var path = Path.Combine(RepoPaths.Root, "node_modules", ".bin", "azurite");
            if (!File.Exists(path))
            {
                throw new InvalidOperationException(
                    $"{path} not found: run 'scripts/setup.sh' (or 'npm ci' at the repository root) to install Azurite.");
            }

            return path;
        }
    }

    /// <summary>Starts Azurite on free loopback ports; persists to <paramref name="dataDirectory"/> when given.</summary>
    public static async Task<AzuriteServer> StartAsync(string? dataDirectory = null, CancellationToken cancellationToken = default)
    {
        var server = new AzuriteServer(FreePort.Next(), FreePort.Next(), FreePort.Next(), dataDirectory);
        await server.StartProcessAsync(cancellationToken);
        return server;
    }

    /// <summary>Kills the process (SIGKILL) without a clean shutdown.</summary>
    public void Kill()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process?.Dispose();
        _process = null;
    }

    /// <summary>Kills and starts Azurite again on the same ports (data kept only when persisted to disk).</summary>
    public async Task RestartAsync(CancellationToken cancellationToken = default)
    {
        Kill();
        await StartProcessAsync(cancellationToken);
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        return ValueTask.CompletedTask;
    }

    private async Task StartProcessAsync(CancellationToken cancellationToken)
    {
        var args = new List<string>
        {
            "--blobHost", "127.0.0.1", "--blobPort", BlobPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--queueHost", "127.0.0.1", "--queuePort", QueuePort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--tableHost", "127.0.0.1", "--tablePort", TablePort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--skipApiVersionCheck", "--loose", "--silent", "--disableTelemetry",
        };
        if (_dataDirectory is null)
        {
            args.Add("--inMemoryPersistence");
        }
        else
        {
            Directory.CreateDirectory(_dataDirectory);
            args.Add("--location");
            args.Add(_dataDirectory);
        }

        var info = ExternalProcess.CreateStartInfo(Executable, args);
        _process = Process.Start(info) ?? throw new InvalidOperationException("Azurite did not start.");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        foreach (var port in new[] { BlobPort, QueuePort, TablePort })
        {
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (_process.HasExited)
                {
                    throw new InvalidOperationException($"Azurite exited with code {_process.ExitCode} while starting (ports {BlobPort}/{QueuePort}/{TablePort}).");
                }

                try
                {
                    using var client = new TcpClient();
                    await client.ConnectAsync("127.0.0.1", port, cancellationToken);
                    break;
                }
                catch (SocketException) when (DateTime.UtcNow < deadline)
                {
                    await Task.Delay(100, cancellationToken);
                }
            }
        }
    }
}
