using System.Diagnostics;
using FleetFunctions.TestSupport;
using Xunit;

namespace FleetFunctions.Orchestrations.Tests.Rollouts;

/// <summary>
/// <c>FLEETFUNCTIONS_ExitWithParent</c>: <c>fleetfunctions serve</c> stops when the process that started it is killed
/// (as a custom handler whose Functions host died must), and keeps running without it (standalone).
/// </summary>
public sealed class ExitWithParentTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Serve_ParentKilled_StopsOnlyWhenAskedTo(bool exitWithParent)
    {
        using var platformRepo = GitTestRepo.Create();
        var url = new Uri($"http://127.0.0.1:{FreePort.Next()}/");
        var environment = new Dictionary<string, string>
        {
            ["FLEETFUNCTIONS_Storage"] = azurite.ConnectionString,
            ["FLEETFUNCTIONS_PlatformRepository"] = platformRepo.Url,
            ["FLEETFUNCTIONS_TaskHub"] = AzuriteFixture.NewName("orphan"),
            ["FLEETFUNCTIONS_CacheDirectory"] = Path.Combine(platformRepo.CacheDir, "app"),
            ["FLEETFUNCTIONS_Urls"] = url.ToString().TrimEnd('/'),
            ["FLEETFUNCTIONS_ExitWithParent"] = exitWithParent ? "true" : "false",
        };

        // A shell starts the app in the background, prints its pid and waits: killing the shell orphans the app.
        var shell = Process.Start(ExternalProcess.CreateStartInfo("sh", ["-c", $"dotnet '{AppProcess.AssemblyPath}' serve >/dev/null 2>&1 & echo $!; wait"], environment))!;
        var appPid = int.Parse((await shell.StandardOutput.ReadLineAsync())!, System.Globalization.CultureInfo.InvariantCulture);
        try
        {
            await WaitUntilHealthyAsync(url);
            shell.Kill(entireProcessTree: false);
            await shell.WaitForExitAsync();

            var gone = await WaitForExitAsync(appPid, TimeSpan.FromSeconds(exitWithParent ? 20 : 4));

            Assert.Equal(exitWithParent, gone);
        }
        finally
        {
            if (Directory.Exists($"/proc/{appPid}"))
            {
                Process.GetProcessById(appPid).Kill();
            }

            shell.Dispose();
        }
    }

    private static async Task WaitUntilHealthyAsync(Uri url)
    {
        using var http = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var response = await http.GetAsync(new Uri("api/healthz", UriKind.Relative));
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"fleetfunctions serve did not answer on {url} within 90s");
    }

    /// <summary>Whether the process is gone (a zombie of an exited orphan is reaped by init) within <paramref name="timeout"/>.</summary>
    private static async Task<bool> WaitForExitAsync(int pid, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                if (File.ReadAllText($"/proc/{pid}/stat").Split(") ")[1].StartsWith('Z'))
                {
                    return true;
                }
            }
            catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException or IOException)
            {
                return true;
            }

            await Task.Delay(200);
        }

        return false;
    }
}
