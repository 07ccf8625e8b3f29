namespace FleetFunctions.Core.Sources;

/// <summary>
/// Where configuration lives: a repository URL (HTTPS, SSH, <c>file://</c> or a local path) and a reference
/// (branch, tag or full commit SHA), with the credentials to fetch it: a token or user and password, a GitHub App,
/// or for SSH a private key and the server's known hosts.
/// </summary>
public sealed record GitSourceSpec(string Url, string Ref = "main", GitCredentials? Credentials = null)
{
    /// <summary>Fetch as this GitHub App installation (an installation token is obtained per fetch, cached for its life).</summary>
    public GitHubAppAuth? GitHubApp { get; init; }

    /// <summary>SSH: the server's host keys as <c>known_hosts</c> lines (required for an SSH URL).</summary>
    public string? SshKnownHosts { get; init; }

    /// <summary>SSH: the private key (OpenSSH or PEM, unencrypted); null to connect without one.</summary>
    public string? SshPrivateKey { get; init; }

    /// <summary>True for <c>ssh://</c> and scp-like <c>user@host:path</c> URLs.</summary>
    public bool IsSsh => SshTransport.IsSshUrl(Url);

    /// <summary>The URL without any user information, safe to print.</summary>
    public string DisplayUrl => GitRepositories.RedactUrl(Url);

    /// <summary>Never prints a secret: the URL without user information, the credentials and key redacted.</summary>
    public override string ToString() =>
        $"GitSourceSpec {{ Url = {DisplayUrl}, Ref = {Ref}, Credentials = {Credentials}, GitHubApp = {GitHubApp}, SshKnownHosts = {(SshKnownHosts is null ? "" : "(set)")}, SshPrivateKey = {(SshPrivateKey is null ? "" : "***")} }}";
}

/// <summary>A resolved reference: the commit a branch, tag or SHA pointed to when fetched.</summary>
public sealed record SourceRevision(string Url, string Ref, string Commit, string Message, DateTimeOffset CommittedAt);

/// <summary>A commit's whole tree written to disk (read-only by convention); shared by every reconcile of that commit.</summary>
public sealed record SourceTree(string Url, string Commit, string Directory)
{
    /// <summary>
    /// Symbolic links of the commit that were not written because they lead outside the tree: repository-relative
    /// path ('/' separators) to the link's target as committed. A render that reads one of them fails naming it.
    /// </summary>
    public IReadOnlyDictionary<string, string> RefusedLinks { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);
}

/// <summary>A Git source failed: unreachable repository, unknown reference, bad credentials. The message never holds a secret.</summary>
public sealed class SourceException : Exception
{
    public SourceException(string message)
        : base(message)
    {
    }

    public SourceException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public SourceException()
    {
    }
}
