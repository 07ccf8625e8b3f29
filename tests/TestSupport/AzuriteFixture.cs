using Xunit;

namespace FleetFunctions.TestSupport;

/// <summary>
/// Azure Storage for tests. Uses the emulator named by <c>FLEETFUNCTIONS_TEST_STORAGE</c> (a connection
/// string; scripts/test.sh starts one Azurite for the whole run) when set; otherwise starts one in-memory
/// Azurite per test process on free loopback ports, shared by every test class and killed at process exit.
/// Test classes take it with <c>IClassFixture&lt;AzuriteFixture&gt;</c> (cheap: the server is shared) and
/// isolate themselves with <see cref="NewName"/>, so classes still run in parallel.
/// </summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    /// <summary>Environment variable holding a connection string to an already running emulator.</summary>
    public const string ConnectionStringVariable = "FLEETFUNCTIONS_TEST_STORAGE";

    private static readonly SemaphoreSlim s_gate = new(1, 1);
    private static string? s_connectionString;
    private static AzuriteServer? s_server;
    private static int s_counter;

    public string ConnectionString { get; private set; } = string.Empty;

    /// <summary>A unique, table- and queue-safe name: lower-case letters and digits, starting with a letter.</summary>
    public static string NewName(string prefix = "t")
    {
        var n = Interlocked.Increment(ref s_counter);
        return $"{prefix}{n}{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 20, 40)].ToLowerInvariant();
    }

    /// <summary>Returns the shared connection string, starting Azurite on first use.</summary>
    public static async Task<string> GetConnectionStringAsync()
    {
        if (s_connectionString is not null)
        {
            return s_connectionString;
        }

        await s_gate.WaitAsync();
        try
        {
            if (s_connectionString is not null)
            {
                return s_connectionString;
            }

            var existing = Environment.GetEnvironmentVariable(ConnectionStringVariable);
            if (!string.IsNullOrWhiteSpace(existing))
            {
                s_connectionString = existing;
                return existing;
            }

            s_server = await AzuriteServer.StartAsync();
            AppDomain.CurrentDomain.ProcessExit += (_, _) => s_server.Kill();
            s_connectionString = s_server.ConnectionString;
            return s_connectionString;
        }
        finally
        {
            s_gate.Release();
        }
    }

    public async Task InitializeAsync() => ConnectionString = await GetConnectionStringAsync();

    public Task DisposeAsync() => Task.CompletedTask;
}
