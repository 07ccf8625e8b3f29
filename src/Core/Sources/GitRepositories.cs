using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.RegularExpressions;
using FleetFunctions.Core.Storage;
using LibGit2Sharp;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FleetFunctions.Core.Sources;

/// <summary>
/// The Git repositories sources come from, through LibGit2Sharp. Each URL is fetched into its own bare repository under the cache
/// folder; a commit's tree is written to its own folder once and then shared, so concurrent reconciles
/// of different commits never touch a common working tree. Trees are a cache, bounded by
/// <see cref="GitCacheOptions.KeepTrees"/> and <see cref="GitCacheOptions.TreeGracePeriod"/>. The most recently used
/// bare repositories stay open between calls (<see cref="KeepOpen"/>). Thread-safe.
/// </summary>
public sealed partial class GitRepositories : IDisposable
{
    /// <summary>
    /// Bare repositories kept open between calls, most recently used first. Opening one (checking it, clearing stale
    /// locks, reading its config) costs about as much as an ancestry check itself, and every webhook delivery and
    /// rollout claim makes one.
    /// </summary>
    internal const int KeepOpen = 16;

    /// <summary>The app setting with extra CA certificates for HTTPS remotes, named in certificate errors.</summary>
    public const string CaSetting = "FLEETFUNCTIONS_GitCaCertificates";

    /// <summary>The app setting naming the platform repository's secret, named in authentication errors.</summary>
    public const string PlatformSecretSetting = "FLEETFUNCTIONS_PlatformRepositorySecret";

    /// <summary>The app setting with the platform repository's SSH host keys, named in errors.</summary>
    public const string PlatformKnownHostsSetting = "FLEETFUNCTIONS_PlatformRepositoryKnownHosts";

    /// <summary>Age after which a Git lock file in the cache is taken as left behind by a killed process.</summary>
    private static readonly TimeSpan s_staleLockAge = TimeSpan.FromSeconds(10);

    private readonly GitCacheOptions _options;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, CachedRepository> _repositories = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _lastFetch = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Task<SourceTree>>> _trees = new(StringComparer.Ordinal);
    private readonly Lazy<GitHubAppTokens> _gitHubTokens;
    private int _trimming;
    private int _disposed;

    public GitRepositories(GitCacheOptions? options = null, ILogger<GitRepositories>? logger = null)
    {
        _options = (options ?? new GitCacheOptions()).Validate();
        _logger = logger ?? NullLogger<GitRepositories>.Instance;
        _gitHubTokens = new Lazy<GitHubAppTokens>(() => new GitHubAppTokens(_options.TrustedCertificateAuthorities));
    }

    /// <summary>
    /// Resolves <see cref="GitSourceSpec.Ref"/> to a commit, fetching first unless the ref is a commit
    /// SHA already in the cache (or a branch fetched within <see cref="GitCacheOptions.MinimumFetchInterval"/>).
    /// </summary>
    /// <exception cref="SourceException">Unreachable repository, bad credentials or unknown reference.</exception>
    public async Task<SourceRevision> ResolveAsync(GitSourceSpec spec, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return await WithRepositoryAsync(spec, repo =>
        {
            var commit = IsSha(spec.Ref) ? repo.Lookup<Commit>(spec.Ref) : null;
            var fresh = _lastFetch.TryGetValue(spec.Url, out var at) && DateTimeOffset.UtcNow - at < _options.MinimumFetchInterval;
            if (commit is null && !fresh)
            {
                Fetch(repo, spec);
            }

            commit ??= Find(repo, spec.Ref)
                ?? throw new SourceException(
                    $"{spec.DisplayUrl}: no branch, tag or commit '{spec.Ref}'; check the ref in the GitSource (branches: {ListBranches(repo)}).");
            Log.Fetched(_logger, spec.DisplayUrl, spec.Ref, commit.Sha);
            return new SourceRevision(spec.Url, spec.Ref, commit.Sha, commit.MessageShort, commit.Committer.When);
        }, cancellationToken);
    }

    /// <summary>
    /// Writes the whole tree of <paramref name="commit"/> to disk once (later calls return the same folder, and count as
    /// a use that keeps it). Kustomize overlays may reference any folder (<c>../base</c>), so the whole tree is
    /// materialised. Read the folder right away: a tree unused for <see cref="GitCacheOptions.TreeGracePeriod"/>
    /// may be deleted (and is written again by the next call).
    /// </summary>
    public Task<SourceTree> GetTreeAsync(GitSourceSpec spec, string commit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (!IsSha(commit))
        {
            throw new ArgumentException($"'{commit}' is not a full commit SHA; resolve the ref first.", nameof(commit));
        }

        // Recorded before the lookup, so that a trim running meanwhile sees the tree as in use.
        CacheFolder.Touch(TreePath(commit), DateTimeOffset.UtcNow);
        var lazy = _trees.GetOrAdd(commit, _ => NewMaterialisation(spec, commit));
        return AwaitTreeAsync(spec, commit, lazy, cancellationToken);
    }

    /// <summary>
    /// Paths added, modified, deleted or renamed (old and new path) between two commits; null when
    /// <paramref name="fromCommit"/> is not in the repository even after fetching (a force-push rewrote the history
    /// it was on, and this clone never held it): the changes are then unknown.
    /// </summary>
    /// <exception cref="SourceException">The repository is unreachable or <paramref name="toCommit"/> is not in it.</exception>
    public async Task<IReadOnlyList<string>?> GetChangedPathsAsync(GitSourceSpec spec, string fromCommit, string toCommit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return await WithRepositoryAsync(spec, repo =>
        {
            var to = LookupOrFetch(repo, spec, toCommit);
            if (TryLookupOrFetch(repo, spec, fromCommit) is not { } from)
            {
                return null;
            }

            var changes = repo.Diff.Compare<TreeChanges>(from.Tree, to.Tree);
            var paths = new SortedSet<string>(StringComparer.Ordinal);
            foreach (var change in changes)
            {
                paths.Add(change.Path);
                if (change.OldPath != change.Path)
                {
                    paths.Add(change.OldPath);
                }
            }

            return (IReadOnlyList<string>?)[.. paths];
        }, cancellationToken);
    }

    /// <summary>
    /// True when <paramref name="ancestor"/> is a strict ancestor of <paramref name="descendant"/>: reachable from it
    /// by following parents, and not the same commit. Unrelated commits (a force-push rewrote history) are not.
    /// </summary>
    /// <exception cref="SourceException">The repository is unreachable or a commit is not in it.</exception>
    public async Task<bool> IsAncestorAsync(GitSourceSpec spec, string ancestor, string descendant, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (string.Equals(ancestor, descendant, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        return await WithRepositoryAsync(spec, repo =>
        {
            var newer = LookupOrFetch(repo, spec, descendant);

            // A clone that is not shallow holds every ancestor of every commit it holds, so a commit it lacks is no
            // ancestor of one it has: no fetch needed to say so (a newly pushed commit is then fetched by the first
            // reconcile that needs its files, not by the ancestry check of its webhook and of its rollout's claim).
            if (repo.Lookup<Commit>(ancestor) is not { } older)
            {
                if (!repo.Info.IsShallow)
                {
                    return false;
                }

                older = LookupOrFetch(repo, spec, ancestor);
            }

            return repo.ObjectDatabase.FindMergeBase(older, newer)?.Sha == older.Sha;
        }, cancellationToken);
    }

    /// <summary>True for <c>ssh://</c> and scp-like <c>user@host:path</c> URLs (fetched with the system <c>ssh</c>).</summary>
    public static bool IsSshUrl(string url) => SshTransport.IsSshUrl(url);

    /// <summary>Removes user information (credentials) from a URL so it can be printed.</summary>
    public static string RedactUrl(string url) => UserInfoPattern().Replace(url, "$1***@");

    /// <summary>Removes user information (credentials) from every URL in a text, such as a tool's error output.</summary>
    public static string RedactUrls(string text) => UserInfoInTextPattern().Replace(text, "$1***@");

    private async Task<SourceTree> AwaitTreeAsync(GitSourceSpec spec, string commit, Lazy<Task<SourceTree>> lazy, CancellationToken cancellationToken)
    {
        try
        {
            var tree = await lazy.Value.WaitAsync(cancellationToken);
            if (Directory.Exists(tree.Directory))
            {
                return tree;
            }

            // Removed from the disk cache between this call's lookup and now (or by hand): write it again.
            _trees.TryRemove(new KeyValuePair<string, Lazy<Task<SourceTree>>>(commit, lazy));
            return await _trees.GetOrAdd(commit, _ => NewMaterialisation(spec, commit)).Value.WaitAsync(cancellationToken);
        }
        catch when (lazy.Value.IsFaulted)
        {
            _trees.TryRemove(new KeyValuePair<string, Lazy<Task<SourceTree>>>(commit, lazy));
            throw;
        }
    }

    /// <summary>
    /// A write of the tree shared by every caller of the commit, so it runs without any caller's token: a caller that
    /// gives up stops waiting (<see cref="Task.WaitAsync(CancellationToken)"/>) and the others still get the tree.
    /// </summary>
    private Lazy<Task<SourceTree>> NewMaterialisation(GitSourceSpec spec, string commit) =>
        new(() => MaterialiseAsync(spec, commit, CancellationToken.None));

    private async Task<SourceTree> MaterialiseAsync(GitSourceSpec spec, string sha, CancellationToken cancellationToken)
    {
        var target = TreePath(sha);
        if (Directory.Exists(target))
        {
            if (TreeLinks.WasChecked(target))
            {
                return TreeLinks.Open(spec.Url, sha, target);
            }

            // Written before links were checked, so it may hold links leading out of it: written again.
            var doomed = target + ".removing-" + Guid.NewGuid().ToString("N")[..8];
            Directory.Move(target, doomed);
            Directory.Delete(doomed, recursive: true);
        }

        var tree = await WithRepositoryAsync(spec, repo =>
        {
            var commit = LookupOrFetch(repo, spec, sha);
            var staging = target + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
            Directory.CreateDirectory(staging);
            try
            {
                var links = new List<string>();
                WriteTree(commit.Tree, staging, links);
                TreeLinks.RemoveEscaping(staging, links);

                // Its use, on the clock every other use is recorded with: the write time the file system gave the
                // folder lags that clock by up to a scheduler tick, which made this tree look older than one used before.
                CacheFolder.Touch(staging, DateTimeOffset.UtcNow);
                try
                {
                    Directory.Move(staging, target);
                }
                catch (IOException) when (Directory.Exists(target))
                {
                    Directory.Delete(staging, recursive: true);
                }
            }
            catch
            {
                if (Directory.Exists(staging))
                {
                    Directory.Delete(staging, recursive: true);
                }

                throw;
            }

            return TreeLinks.Open(spec.Url, sha, target);
        }, cancellationToken);

        // Outside the repository's lock: deleting large trees must not hold up fetches.
        TrimTrees(keep: sha);
        return tree;
    }

    /// <summary>
    /// Deletes the trees beyond the <see cref="GitCacheOptions.KeepTrees"/> most recently used that have been unused
    /// for <see cref="GitCacheOptions.TreeGracePeriod"/> (each use is recorded in the tree folder's write time, so uses
    /// by other processes sharing the folder count too). A tree is first renamed away, so a concurrent lookup never sees half of it. One trim at a time.
    /// </summary>
    private void TrimTrees(string keep)
    {
        if (Interlocked.Exchange(ref _trimming, 1) == 1)
        {
            return;
        }

        try
        {
            var root = Path.Combine(_options.CacheDirectory, "trees");
            var now = DateTimeOffset.UtcNow;
            RemoveLeftovers(root, now);
            var trees = Directory.EnumerateDirectories(root)
                .Select(path => (Path: path, Sha: Path.GetFileName(path)))
                .Where(t => IsSha(t.Sha) && t.Sha != keep)
                .Select(t => (t.Path, t.Sha, Used: CacheFolder.LastUse(t.Path)))
                .OrderByDescending(t => t.Used)
                .Skip(_options.KeepTrees - 1)
                .Where(t => now - t.Used >= _options.TreeGracePeriod)
                .ToList();
            var removed = 0;
            foreach (var (path, sha, _) in trees)
            {
                _trees.TryRemove(sha, out _);
                var doomed = path + ".removing-" + Guid.NewGuid().ToString("N")[..8];
                try
                {
                    Directory.Move(path, doomed);
                    Directory.Delete(doomed, recursive: true);
                    removed++;
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    Log.TreeRemovalFailed(_logger, path, e.Message);
                }
            }

            if (removed > 0)
            {
                Log.TreesRemoved(_logger, removed, _options.TreeGracePeriod.TotalMinutes, _options.KeepTrees);
            }
        }
        finally
        {
            Volatile.Write(ref _trimming, 0);
        }
    }

    private string TreePath(string sha) => Path.Combine(_options.CacheDirectory, "trees", sha);

    /// <summary>Folders a killed process left: a tree being removed, or one being written long ago.</summary>
    private void RemoveLeftovers(string root, DateTimeOffset now)
    {
        foreach (var path in Directory.EnumerateDirectories(root))
        {
            var name = Path.GetFileName(path);
            var abandoned = name.Contains(".removing-", StringComparison.Ordinal)
                || (name.Contains(".tmp-", StringComparison.Ordinal) && now - CacheFolder.LastUse(path) >= _options.TreeGracePeriod + TimeSpan.FromMinutes(1));
            if (!abandoned)
            {
                continue;
            }

            try
            {
                Directory.Delete(path, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Log.TreeRemovalFailed(_logger, path, e.Message);
            }
        }
    }

    /// <summary>Writes <paramref name="tree"/> below <paramref name="directory"/>, adding the path of each symbolic link to <paramref name="links"/>.</summary>
    private static void WriteTree(Tree tree, string directory, List<string> links)
    {
        foreach (var entry in tree)
        {
            var path = Path.Combine(directory, entry.Name);
            switch (entry.TargetType)
            {
                case TreeEntryTargetType.Tree:
                    Directory.CreateDirectory(path);
                    WriteTree((Tree)entry.Target, path, links);
                    break;
                case TreeEntryTargetType.Blob when entry.Mode == Mode.SymbolicLink:
                    var link = ((Blob)entry.Target).GetContentText();
                    File.CreateSymbolicLink(path, link);
                    links.Add(path);
                    break;
                case TreeEntryTargetType.Blob:
                    using (var content = ((Blob)entry.Target).GetContentStream())
                    using (var file = File.Create(path))
                    {
                        content.CopyTo(file);
                    }

                    break;
                default:
                    // Submodules (GitLink) are not part of the configuration.
                    break;
            }
        }
    }

    private Commit LookupOrFetch(Repository repo, GitSourceSpec spec, string sha) =>
        TryLookupOrFetch(repo, spec, sha) ?? throw new SourceException($"{spec.DisplayUrl}: commit {sha} not found after fetching; it may have been force-pushed away.");

    /// <summary>The commit, fetched first when the clone lacks it; null when the repository does not have it either.</summary>
    private Commit? TryLookupOrFetch(Repository repo, GitSourceSpec spec, string sha)
    {
        var commit = repo.Lookup<Commit>(sha);
        if (commit is null)
        {
            Fetch(repo, spec);
            commit = repo.Lookup<Commit>(sha);
        }

        return commit;
    }

    private async Task<T> WithRepositoryAsync<T>(GitSourceSpec spec, Func<Repository, T> action, CancellationToken cancellationToken)
    {
        var path = RepositoryPath(spec.Url);
        var cached = _repositories.GetOrAdd(path, _ => new CachedRepository());
        await cached.Gate.WaitAsync(cancellationToken);
        try
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            var result = await Task.Run(() =>
            {
                if (cached.Open is not null && !Directory.Exists(path))
                {
                    // Removed from the cache by hand (or by a temp-folder cleaner) since the last call: start again.
                    cached.Close();
                }

                var repo = cached.Open ??= OpenRepository(path);
                try
                {
                    var remoteUrl = NormaliseUrl(spec.Url);
                    if (repo.Network.Remotes["origin"] is not { } remote)
                    {
                        repo.Network.Remotes.Add("origin", remoteUrl);
                    }
                    else if (remote.Url != remoteUrl)
                    {
                        repo.Network.Remotes.Update("origin", r => r.Url = remoteUrl);
                    }

                    return action(repo);
                }
                catch
                {
                    // Whatever went wrong (a missing commit, an unreachable remote, a folder removed by hand), the
                    // next call starts from the repository as it is on disk.
                    cached.Close();
                    throw;
                }
                finally
                {
                    if (cached.ReopenAfterUse || Volatile.Read(ref _disposed) != 0)
                    {
                        cached.Close();
                    }
                }
            }, cancellationToken);
            cached.LastUsed = Stopwatch.GetTimestamp();
            return result;
        }
        finally
        {
            cached.Gate.Release();
            CloseLeastRecentlyUsed();
        }
    }

    /// <summary>How many cached repositories are open between calls (at most <see cref="KeepOpen"/> once calls return).</summary>
    internal int OpenRepositories => _repositories.Values.Count(r => r.Open is not null);

    /// <summary>Opens the cached bare repository at <paramref name="path"/>, creating it (or starting it again) when needed.</summary>
    private static Repository OpenRepository(string path)
    {
        if (Directory.Exists(path) && !Repository.IsValid(path))
        {
            // Left half-initialised by a process killed inside Init (before inits were atomic): start again.
            Directory.Delete(path, recursive: true);
        }

        if (!Directory.Exists(path))
        {
            InitAtomically(path);
        }

        RemoveStaleLocks(path);
        return new Repository(path);
    }

    /// <summary>
    /// Closes open repositories beyond <see cref="KeepOpen"/>, least recently used first; one in use is skipped (it is
    /// closed by a later call if still beyond the bound).
    /// </summary>
    private void CloseLeastRecentlyUsed()
    {
        var open = OpenRepositories;
        if (open <= KeepOpen)
        {
            return;
        }

        foreach (var cached in _repositories.Values.Where(r => r.Open is not null).OrderBy(r => r.LastUsed).Take(open - KeepOpen).ToList())
        {
            cached.CloseIfIdle();
        }
    }

    /// <summary>
    /// Closes every open repository; one in use is closed by its call when it returns. Later calls throw
    /// <see cref="ObjectDisposedException"/>.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        foreach (var cached in _repositories.Values)
        {
            cached.CloseIfIdle();
        }
    }

    /// <summary>One cached bare repository: its gate (one call at a time) and, between calls, its open handle.</summary>
    private sealed class CachedRepository
    {
        public SemaphoreSlim Gate { get; } = new(1, 1);

        /// <summary>The open repository; read and written only by the gate's holder.</summary>
        public Repository? Open { get; set; }

        /// <summary>Set while in use when the files changed under the open handle (packs merged): close it after the call.</summary>
        public bool ReopenAfterUse { get; set; }

        public long LastUsed { get; set; }

        public void Close()
        {
            Open?.Dispose();
            Open = null;
            ReopenAfterUse = false;
        }

        /// <summary>Closes the repository unless a call holds it (that call closes it itself when it must).</summary>
        public void CloseIfIdle()
        {
            if (!Gate.Wait(0))
            {
                return;
            }

            try
            {
                Close();
            }
            finally
            {
                Gate.Release();
            }
        }
    }

    /// <summary>
    /// Creates the bare cache repository in a sibling folder and renames it into place, so a process killed meanwhile
    /// leaves either no repository or a whole one, never a folder Git cannot open.
    /// </summary>
    private static void InitAtomically(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var staging = path + ".init-" + Guid.NewGuid().ToString("N")[..8];
        Repository.Init(staging, isBare: true);
        Directory.Move(staging, path);
    }

    /// <summary>
    /// Deletes lock files a killed process left in the cached repository (a ref or the config being written when it
    /// died): Git never takes them again, so every later fetch would fail. This process holds the repository's gate,
    /// and Git keeps a lock for milliseconds, so one older than <see cref="s_staleLockAge"/> has no live owner.
    /// </summary>
    private static void RemoveStaleLocks(string path)
    {
        var cutoff = DateTime.UtcNow - s_staleLockAge;
        var candidates = Directory.EnumerateFiles(path, "*.lock", SearchOption.TopDirectoryOnly);
        if (Directory.Exists(Path.Combine(path, "refs")))
        {
            candidates = candidates.Concat(Directory.EnumerateFiles(Path.Combine(path, "refs"), "*.lock", SearchOption.AllDirectories));
        }

        foreach (var file in candidates.ToList())
        {
            if (File.GetLastWriteTimeUtc(file) < cutoff)
            {
                File.Delete(file);
            }
        }
    }

    private void Fetch(Repository repo, GitSourceSpec spec)
    {
        var options = new FetchOptions { Prune = true, TagFetchMode = TagFetchMode.All };
        var credentials = spec.GitHubApp is { } app
            ? new GitCredentials("x-access-token", _gitHubTokens.Value.TokenAsync(app, spec.DisplayUrl).GetAwaiter().GetResult())
            : spec.Credentials;
        if (credentials is not null)
        {
            options.CredentialsProvider = (_, _, _) => new UsernamePasswordCredentials { Username = credentials.Username, Password = credentials.Password };
        }

        if (_options.TrustedCertificateAuthorities.Count > 0)
        {
            options.CertificateCheck = (certificate, valid, host) => valid || IssuedByTrustedAuthority(certificate, host);
        }

        var ssh = spec.IsSsh ? Path.Combine(_options.CacheDirectory, "ssh", Path.GetFileName(RepositoryPath(spec.Url))) : null;
        if (ssh is not null)
        {
            SshTransport.Prepare(repo, spec, ssh);
        }

        var failure = TryFetch(repo, options);
        if (failure is not null && RemoveRefsGoneUpstream(repo, options.CredentialsProvider) is > 0 and var removed)
        {
            // libgit2 updates refs before it prunes, and stops at the first update that fails: a branch or tag
            // replaced upstream by one beneath its name (release → release/1.0) collides with the cached one on
            // every fetch. Once the refs gone upstream are removed, the fetch can create the new ones.
            Log.StaleRefsRemoved(_logger, spec.DisplayUrl, RedactUrls(failure.Message), removed);
            failure = TryFetch(repo, options);
        }

        if (failure is not null)
        {
            throw (ssh is null ? null : SshTransport.Explain(spec, ssh, failure)) ?? Describe(spec, failure);
        }

        _lastFetch[spec.Url] = DateTimeOffset.UtcNow;

        try
        {
            if (PackConsolidation.Consolidate(repo, _options.MaxPacks) is > 0 and var merged)
            {
                // The open handle lists the deleted packs: it is closed after this call and the next one reopens.
                _repositories[RepositoryPath(spec.Url)].ReopenAfterUse = true;
                Log.PacksConsolidated(_logger, spec.DisplayUrl, merged);
            }
        }
        catch (Exception e) when (e is LibGit2SharpException or IOException or InvalidDataException or UnauthorizedAccessException)
        {
            // The fetch succeeded; a repository with many packs is only slower. Tried again after the next fetch.
            Log.PackConsolidationFailed(_logger, spec.DisplayUrl, e.Message);
        }
    }

    private static LibGit2SharpException? TryFetch(Repository repo, FetchOptions options)
    {
        try
        {
            Commands.Fetch(repo, "origin", ["+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*"], options, logMessage: null);
            return null;
        }
        catch (LibGit2SharpException e)
        {
            return e;
        }
    }

    /// <summary>
    /// Deletes the remote-tracking branches and tags of the cache that the remote no longer has; their commits stay
    /// in the object database. Returns how many; 0 when the remote cannot be listed (the fetch's own error stands).
    /// </summary>
    private static int RemoveRefsGoneUpstream(Repository repo, LibGit2Sharp.Handlers.CredentialsHandler? credentials)
    {
        HashSet<string> upstream;
        try
        {
            var origin = repo.Network.Remotes["origin"];
            upstream = (credentials is null ? repo.Network.ListReferences(origin) : repo.Network.ListReferences(origin, credentials))
                .Select(r => r.CanonicalName)
                .Select(name => name.StartsWith("refs/heads/", StringComparison.Ordinal) ? "refs/remotes/origin/" + name["refs/heads/".Length..] : name)
                .ToHashSet(StringComparer.Ordinal);
        }
        catch (LibGit2SharpException)
        {
            return 0;
        }

        var stale = repo.Refs
            .Where(r => r.CanonicalName.StartsWith("refs/remotes/origin/", StringComparison.Ordinal) || r.CanonicalName.StartsWith("refs/tags/", StringComparison.Ordinal))
            .Where(r => !upstream.Contains(r.CanonicalName))
            .ToList();
        foreach (var reference in stale)
        {
            repo.Refs.Remove(reference);
        }

        return stale.Count;
    }

    /// <summary>
    /// Whether a server certificate the system does not trust chains to one of
    /// <see cref="GitCacheOptions.TrustedCertificateAuthorities"/> and names <paramref name="host"/>.
    /// </summary>
    private bool IssuedByTrustedAuthority(Certificate certificate, string host)
    {
        if (certificate is not CertificateX509 { Certificate: { } presented })
        {
            return false;
        }

        using var server = X509CertificateLoader.LoadCertificate(presented.GetRawCertData());
        return GitCacheOptions.ChainsTo(server, _options.TrustedCertificateAuthorities) && server.MatchesHostname(host);
    }

    private static SourceException Describe(GitSourceSpec spec, LibGit2SharpException e)
    {
        var message = RedactUrl(e.Message);
        if (spec.Credentials is { } credentials)
        {
            message = message.Replace(credentials.Password, "***", StringComparison.Ordinal);
        }

        if (e is NotFoundException || e is RepositoryNotFoundException || Contains(message, "does not appear to be a git repository", "could not find repository", "not found", "404"))
        {
            return new SourceException($"{spec.DisplayUrl}: repository not found ({message}); check the GitSource url.", e);
        }

        if (Contains(message, "401", "403", "authentication", "credentials", "too many redirects or authentication replays"))
        {
            if (spec.GitHubApp is { } app)
            {
                return new SourceException(
                    $"{spec.DisplayUrl}: the server rejected the installation token of GitHub App {app.AppId} (installation {app.InstallationId}) ({message}); check that the installation has access to this repository with Contents: read.", e);
            }

            return spec.Credentials is null
                ? new SourceException(
                    $"{spec.DisplayUrl}: the repository requires authentication and no credentials were given ({message}); reference a secret holding a token or user:password and check that the secret store holds it (spec.secretRef of the GitSource, {PlatformSecretSetting} for the platform repository).", e)
                : new SourceException(
                    $"{spec.DisplayUrl}: authentication failed, the server rejected the credentials ({message}); check the token or user:password in the secret referenced by the GitSource (or by {PlatformSecretSetting}).", e);
        }

        if (e is UserCancelledException || Contains(message, "certificate", "SSL", "TLS"))
        {
            return new SourceException(
                $"{spec.DisplayUrl}: the server's TLS certificate is not trusted ({message}); if the Git server uses a private certificate authority, add its CA certificate to {CaSetting} (PEM).", e);
        }

        return new SourceException($"{spec.DisplayUrl}: fetch failed ({message}); check that the repository is reachable from the controller.", e);
    }

    private static bool Contains(string text, params string[] needles) =>
        needles.Any(n => text.Contains(n, StringComparison.OrdinalIgnoreCase));

    private static Commit? Find(Repository repo, string reference)
    {
        foreach (var candidate in new[] { $"refs/remotes/origin/{reference}", $"refs/tags/{reference}", reference })
        {
            try
            {
                if (repo.Lookup(candidate) is { } obj)
                {
                    return obj.Peel<Commit>();
                }
            }
            catch (LibGit2SharpException)
            {
                // Not a valid revision expression: try the next form.
            }
        }

        return null;
    }

    private static string ListBranches(Repository repo)
    {
        var names = repo.Branches.Where(b => b.IsRemote).Select(b => b.FriendlyName.Replace("origin/", string.Empty, StringComparison.Ordinal)).Take(10).ToList();
        return names.Count == 0 ? "none" : string.Join(", ", names);
    }

    private string RepositoryPath(string url)
    {
        var key = RedactUrl(NormaliseUrl(url)).TrimEnd('/');
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..16];
        var name = SafeNamePattern().Replace(Path.GetFileNameWithoutExtension(key.TrimEnd('/')), "_");
        return Path.Combine(_options.CacheDirectory, "repos", $"{name}-{hash}.git");
    }

    private static string NormaliseUrl(string url) =>
        Path.IsPathRooted(url) && !url.Contains("://", StringComparison.Ordinal) ? Path.GetFullPath(url) : url;

    private static bool IsSha(string reference) => reference.Length == 40 && reference.All(Uri.IsHexDigit);

    [GeneratedRegex("^([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@]+@")]
    private static partial Regex UserInfoPattern();

    [GeneratedRegex(@"([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@")]
    private static partial Regex UserInfoInTextPattern();

    [GeneratedRegex("[^A-Za-z0-9_.-]")]
    private static partial Regex SafeNamePattern();
}
