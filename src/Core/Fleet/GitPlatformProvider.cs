using System.Collections.Concurrent;
using FleetFunctions.Core.Sources;

namespace FleetFunctions.Core.Fleet;

/// <summary>
/// The platform configuration read from the platform repository: <see cref="RefreshAsync"/> fetches the followed
/// branch and loads the resources under <c>path</c>; <see cref="GetCurrentAsync"/> returns the last loaded
/// snapshot (refreshing first only when nothing is loaded yet), so the webhook path never waits on Git.
/// Snapshots per commit are cached. A commit whose resources are invalid is reported and never replaces a
/// valid snapshot in force.
/// </summary>
public sealed class GitPlatformProvider : IPlatformProvider
{
    private readonly GitRepositories _git;
    private readonly PlatformRepository _repository;
    private readonly string _path;
    private readonly ConcurrentDictionary<string, Lazy<Task<PlatformSnapshot>>> _byCommit = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _refresh = new(1, 1);
    private volatile PlatformSnapshot? _current;

    /// <param name="path">Folder of the repository holding the platform resources ("." for the root).</param>
    public GitPlatformProvider(GitRepositories git, PlatformRepository repository, string path = ".")
    {
        _git = git;
        _repository = repository;
        _path = path;
    }

    public async ValueTask<PlatformSnapshot> GetCurrentAsync(CancellationToken cancellationToken = default) =>
        _current ?? await RefreshAsync(cancellationToken);

    public async ValueTask<PlatformSnapshot> GetAtCommitAsync(string commit, CancellationToken cancellationToken = default)
    {
        var lazy = _byCommit.GetOrAdd(commit, c => new Lazy<Task<PlatformSnapshot>>(() => LoadAsync(c, CancellationToken.None)));
        try
        {
            return await lazy.Value.WaitAsync(cancellationToken);
        }
        catch (Exception) when (lazy.Value.IsFaulted)
        {
            // Do not cache failures (an unreachable repository may come back).
            _byCommit.TryRemove(KeyValuePair.Create(commit, lazy));
            throw;
        }
    }

    /// <summary>Fetches the followed branch and makes its head the configuration in force.</summary>
    /// <exception cref="ResourceValidationException">The head's resources are invalid; the previous snapshot stays in force.</exception>
    public async Task<PlatformSnapshot> RefreshAsync(CancellationToken cancellationToken = default)
    {
        await _refresh.WaitAsync(cancellationToken);
        try
        {
            var revision = await _git.ResolveAsync(await _repository.SpecAsync(cancellationToken), cancellationToken);
            var snapshot = await GetAtCommitAsync(revision.Commit, cancellationToken);
            _current = snapshot;
            return snapshot;
        }
        finally
        {
            _refresh.Release();
        }
    }

    private async Task<PlatformSnapshot> LoadAsync(string commit, CancellationToken cancellationToken)
    {
        var tree = await _git.GetTreeAsync(await _repository.SpecAsync(cancellationToken), commit, cancellationToken);
        var directory = Path.GetFullPath(Path.Combine(tree.Directory, _path));
        if (!directory.StartsWith(Path.GetFullPath(tree.Directory), StringComparison.Ordinal) || !Directory.Exists(directory))
        {
            throw new SourceException($"{_repository.DisplayUrl}@{commit[..Math.Min(12, commit.Length)]}: the platform folder '{_path}' does not exist; check FLEETFUNCTIONS_PlatformPath");
        }

        return new PlatformSnapshot(PlatformLoader.LoadDirectory(directory), commit);
    }
}
