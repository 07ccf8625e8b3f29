using System.Diagnostics;
using System.Net.Sockets;

namespace FleetFunctions.TestSupport;

/// <summary>
/// OpenSSH's <c>sshd</c> (Debian <c>openssh-server</c>) on a free loopback port, with its own host key and one
/// authorised client key, serving Git over SSH as the current user (<c>git-upload-pack</c> of any path): what a Git
/// server with deploy keys looks like to the controller. <c>scripts/setup.sh</c> installs it.
/// </summary>
public sealed class SshGitServer : ChildProcess, IDisposable
{
    private SshGitServer(Process process, string folder, int port, string knownHosts, string clientKey)
        : base(process)
    {
        Folder = folder;
        Port = port;
        KnownHosts = knownHosts;
        ClientKey = clientKey;
    }

    public string Folder { get; }

    public int Port { get; }

    /// <summary>The server's host key as a known_hosts line (<c>[127.0.0.1]:PORT ssh-ed25519 AAAA…</c>).</summary>
    public string KnownHosts { get; }

    /// <summary>The authorised client's private key (OpenSSH format).</summary>
    public string ClientKey { get; }

    /// <summary>Stops sshd and deletes its keys and configuration.</summary>
    public new void Dispose()
    {
        base.Dispose();
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: temp folders are cleaned by the OS.
        }
    }

    /// <summary>The SSH URL of the repository at <paramref name="path"/> on this machine.</summary>
    public string UrlOf(string path) => $"ssh://{Environment.UserName}@127.0.0.1:{Port}{Path.GetFullPath(path)}";

    /// <summary>A new key pair the server does not accept: (private key, known hosts line of a host key it does not have).</summary>
    public static async Task<(string PrivateKey, string ForeignHostLine)> StrangerAsync(int port)
    {
        var folder = Directory.CreateTempSubdirectory("ff-ssh-stranger-").FullName;
        try
        {
            await KeygenAsync(Path.Combine(folder, "key"));
            return (await File.ReadAllTextAsync(Path.Combine(folder, "key")), HostLine(port, await File.ReadAllTextAsync(Path.Combine(folder, "key.pub"))));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    public static async Task<SshGitServer> StartAsync()
    {
        const string Sshd = "/usr/sbin/sshd";
        if (!File.Exists(Sshd))
        {
            throw new InvalidOperationException($"{Sshd} not found: install openssh-server (scripts/setup.sh does)");
        }

        // sshd refuses to start without its privilege separation folder; the package's service would create it.
        Directory.CreateDirectory("/run/sshd");
        var folder = Directory.CreateTempSubdirectory("ff-sshd-").FullName;
        await KeygenAsync(Path.Combine(folder, "host_key"));
        await KeygenAsync(Path.Combine(folder, "client_key"));
        File.Copy(Path.Combine(folder, "client_key.pub"), Path.Combine(folder, "authorized_keys"));
        var port = FreePort.Next();
        await File.WriteAllTextAsync(Path.Combine(folder, "sshd_config"), $"""
            Port {port}
            ListenAddress 127.0.0.1
            HostKey {folder}/host_key
            AuthorizedKeysFile {folder}/authorized_keys
            PidFile {folder}/sshd.pid
            UsePAM no
            StrictModes no
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            PermitRootLogin prohibit-password
            LogLevel ERROR

            """);
        var start = ExternalProcess.CreateStartInfo(Sshd, ["-D", "-e", "-f", Path.Combine(folder, "sshd_config")], null);
        var process = Process.Start(start) ?? throw new InvalidOperationException("sshd did not start");
        var errors = new System.Text.StringBuilder();
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (errors) { errors.AppendLine(e.Data); } } };
        process.OutputDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        var server = new SshGitServer(process, folder, port, HostLine(port, await File.ReadAllTextAsync(Path.Combine(folder, "host_key.pub"))),
            await File.ReadAllTextAsync(Path.Combine(folder, "client_key")));
        try
        {
            await WaitForPortAsync(process, port, () => { lock (errors) { return errors.ToString(); } });
            return server;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    private static string HostLine(int port, string publicKey)
    {
        var fields = publicKey.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return $"[127.0.0.1]:{port} {fields[0]} {fields[1]}";
    }

    private static async Task KeygenAsync(string path)
    {
        var result = await ExternalProcess.RunAsync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "fleetfunctions-test", "-f", path], timeout: TimeSpan.FromSeconds(30));
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"ssh-keygen failed: {result.StandardError}");
        }
    }

    private static async Task WaitForPortAsync(Process process, int port, Func<string> errors)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"sshd exited with {process.ExitCode}: {errors()}");
            }

            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }

        throw new TimeoutException($"sshd did not listen on 127.0.0.1:{port} within 20s");
    }
}
