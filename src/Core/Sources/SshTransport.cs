using System.Text;
using System.Text.RegularExpressions;
using LibGit2Sharp;

namespace FleetFunctions.Core.Sources;

/// <summary>
/// Git over SSH with a key and known hosts per source. libgit2 runs the system <c>ssh</c> (the command in the
/// repository's <c>core.sshCommand</c>, without a shell), so each cached repository gets its own folder with the
/// source's private key, its known hosts and a small wrapper that runs <c>ssh</c> with exactly those (no user ssh
/// config, no agent, strict host key checking, batch mode) and keeps ssh's error output for the error message.
/// </summary>
internal static partial class SshTransport
{
    private const string PlatformKnownHostsSetting = GitRepositories.PlatformKnownHostsSetting;

    private const string ErrorLog = "ssh-errors.log";

    /// <summary><c>ssh://…</c> or scp-like <c>user@host:path</c>.</summary>
    public static bool IsSshUrl(string url) =>
        url.StartsWith("ssh://", StringComparison.OrdinalIgnoreCase) || url.StartsWith("git+ssh://", StringComparison.OrdinalIgnoreCase) || ScpLike().IsMatch(url);

    /// <summary>
    /// Writes the key, the known hosts and the wrapper for <paramref name="spec"/> into <paramref name="folder"/>
    /// (files rewritten only when they change) and points the repository's <c>core.sshCommand</c> at the wrapper.
    /// </summary>
    /// <exception cref="SourceException">No known hosts were given: the server could not be authenticated.</exception>
    public static void Prepare(Repository repo, GitSourceSpec spec, string folder)
    {
        if (string.IsNullOrWhiteSpace(spec.SshKnownHosts))
        {
            throw new SourceException(
                $"{spec.DisplayUrl}: an SSH URL needs the server's host keys, so that no other server can pose as it: set spec.knownHosts of the GitSource " +
                $"(or {PlatformKnownHostsSetting} for the platform repository) to known_hosts lines, e.g. the output of 'ssh-keyscan -p PORT HOST' once you have checked its fingerprints.");
        }

        Directory.CreateDirectory(folder);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        var knownHosts = Path.Combine(folder, "known_hosts");
        WriteIfChanged(knownHosts, Normalise(spec.SshKnownHosts), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var identity = Path.Combine(folder, "identity");
        if (spec.SshPrivateKey is { } key)
        {
            WriteIfChanged(identity, Normalise(key), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        else if (File.Exists(identity))
        {
            File.Delete(identity);
        }

        var wrapper = Path.Combine(folder, "ssh");
        var arguments = new StringBuilder("exec ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=yes -o ConnectTimeout=30");
        arguments.Append(" -o UserKnownHostsFile=").Append(Quote(knownHosts)).Append(" -o GlobalKnownHostsFile=/dev/null");
        if (spec.SshPrivateKey is not null)
        {
            arguments.Append(" -o IdentitiesOnly=yes -o IdentityAgent=none -i ").Append(Quote(identity));
        }

        arguments.Append(" \"$@\" 2>>").Append(Quote(Path.Combine(folder, ErrorLog)));
        WriteIfChanged(wrapper, $"#!/bin/sh\n{arguments}\n", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        if (repo.Config.Get<string>("core.sshCommand")?.Value != wrapper)
        {
            repo.Config.Set("core.sshCommand", wrapper);
        }

        File.WriteAllText(Path.Combine(folder, ErrorLog), string.Empty);
    }

    /// <summary>What ssh said on the last fetch through <paramref name="folder"/>, turned into an error that says what to do; null when it said nothing useful.</summary>
    public static SourceException? Explain(GitSourceSpec spec, string folder, Exception inner)
    {
        var log = Path.Combine(folder, ErrorLog);
        var said = File.Exists(log) ? string.Join(" ", File.ReadAllLines(log).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith("Warning: Permanently added", StringComparison.Ordinal))) : string.Empty;
        if (said.Length == 0)
        {
            // The wrapper itself did not run: a cache folder mounted noexec, or no ssh client on the machine.
            return inner.Message.Contains("cannot run", StringComparison.Ordinal)
                ? new SourceException($"{spec.DisplayUrl}: ssh could not be started ({inner.Message}); install the OpenSSH client, and keep the Git cache folder (FLEETFUNCTIONS_CacheDirectory) on a file system that allows running programs.", inner)
                : null;
        }

        if (said.Contains("Host key verification failed", StringComparison.Ordinal) || said.Contains("REMOTE HOST IDENTIFICATION HAS CHANGED", StringComparison.Ordinal))
        {
            return new SourceException(
                $"{spec.DisplayUrl}: the server's host key is not among the known hosts given for this source ({said}); check the server's fingerprint and put its key in spec.knownHosts of the GitSource (or {PlatformKnownHostsSetting}).", inner);
        }

        if (said.Contains("Permission denied", StringComparison.Ordinal))
        {
            return new SourceException(spec.SshPrivateKey is null
                ? $"{spec.DisplayUrl}: the server wants a key and none was given ({said}); put an SSH private key in the secret named by spec.secretRef of the GitSource (or {GitRepositories.PlatformSecretSetting})."
                : $"{spec.DisplayUrl}: the server refused the SSH key ({said}); add its public key as a deploy key with read access, or check the key in the secret named by spec.secretRef of the GitSource (or {GitRepositories.PlatformSecretSetting}).", inner);
        }

        if (said.Contains("invalid format", StringComparison.Ordinal) || said.Contains("Load key", StringComparison.Ordinal))
        {
            return new SourceException(
                $"{spec.DisplayUrl}: ssh could not read the private key in the source's secret ({said}); the secret must hold an unencrypted OpenSSH or PEM private key (ssh-keygen -t ed25519 -N '').", inner);
        }

        if (said.Contains("does not appear to be a git repository", StringComparison.OrdinalIgnoreCase) || said.Contains("not found", StringComparison.OrdinalIgnoreCase))
        {
            return new SourceException($"{spec.DisplayUrl}: repository not found ({said}); check the GitSource url.", inner);
        }

        return new SourceException($"{spec.DisplayUrl}: fetch over SSH failed ({said}); check that the server is reachable from the controller.", inner);
    }

    private static string Normalise(string text)
    {
        var unix = text.Replace("\r\n", "\n", StringComparison.Ordinal).Trim();
        return unix + "\n";
    }

    private static void WriteIfChanged(string path, string content, UnixFileMode mode)
    {
        if (File.Exists(path) && File.ReadAllText(path) == content)
        {
            return;
        }

        var staging = path + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
        using (var stream = OperatingSystem.IsWindows()
            ? new FileStream(staging, FileMode.CreateNew)
            : new FileStream(staging, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = mode }))
        {
            stream.Write(Encoding.UTF8.GetBytes(content));
        }

        File.Move(staging, path, overwrite: true);
    }

    /// <summary>A single-quoted shell word.</summary>
    private static string Quote(string text) => "'" + text.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    [GeneratedRegex(@"^[A-Za-z0-9._~-]+@[A-Za-z0-9.\[\]:-]+:(?!//)")]
    private static partial Regex ScpLike();
}
