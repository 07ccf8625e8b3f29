using System.Collections.Concurrent;
using FleetFunctions.Core.Fleet;
using FleetFunctions.Core.Policy;
using FleetFunctions.Core.Sources;

namespace FleetFunctions.Orchestrations.Rollouts;

/// <summary>Gives a fleet's policy set: the Kyverno policies under a folder of the platform repository at a commit.</summary>
public interface IPolicySetSource
{
    /// <exception cref="PolicyLoadException">The folder holds invalid policies (the message names file:line).</exception>
    ValueTask<PolicySet> GetAsync(string platformCommit, string path, CancellationToken cancellationToken = default);
}

/// <summary>Policy sets read from the platform repository in Git, compiled once per (commit, folder).</summary>
public sealed class GitPolicySetSource(GitRepositories git, PlatformRepository platform) : IPolicySetSource
{
    private readonly ConcurrentDictionary<(string Commit, string Path), Lazy<Task<PolicySet>>> _cache = new();

    public async ValueTask<PolicySet> GetAsync(string platformCommit, string path, CancellationToken cancellationToken = default)
    {
        var lazy = _cache.GetOrAdd((platformCommit, path), key => new Lazy<Task<PolicySet>>(() => LoadAsync(key.Commit, key.Path)));
        try
        {
            return await lazy.Value.WaitAsync(cancellationToken);
        }
        catch (Exception) when (lazy.Value.IsFaulted)
        {
            _cache.TryRemove(KeyValuePair.Create((platformCommit, path), lazy));
            throw;
        }
    }

    private async Task<PolicySet> LoadAsync(string commit, string path)
    {
        var tree = await git.GetTreeAsync(await platform.SpecAsync(), commit);
        var folder = Path.GetFullPath(Path.Combine(tree.Directory, path));
        if (!folder.StartsWith(Path.GetFullPath(tree.Directory), StringComparison.Ordinal) || !Directory.Exists(folder))
        {
            throw new PolicyLoadException($"{path}: the policySet folder does not exist in the platform repository at {commit[..Math.Min(12, commit.Length)]}; fix spec.policySet");
        }

        return PolicySet.LoadPaths([folder]);
    }
}
