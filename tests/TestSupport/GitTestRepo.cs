using LibGit2Sharp;

namespace FleetFunctions.TestSupport;

/// <summary>A throw-away Git repository on local disk, seeded from a folder, with helpers to commit changes.</summary>
public sealed class GitTestRepo : IDisposable
{
    private static readonly Signature s_author = new("Fleet Tester", "tester@example.com", DateTimeOffset.UnixEpoch);

    private GitTestRepo(string root)
    {
        Root = root;
        WorkDir = Path.Combine(root, "work");
        CacheDir = Path.Combine(root, "cache");
    }

    /// <summary>Folder of the repository's working tree (also its URL as a local path).</summary>
    public string WorkDir { get; }

    /// <summary>A per-test cache folder for GitRepositories and the renderer.</summary>
    public string CacheDir { get; }

    public string Root { get; }

    public string Url => WorkDir;

    /// <summary>Creates a repository whose first commit holds a copy of <paramref name="seed"/> under <paramref name="prefix"/>.</summary>
    public static GitTestRepo Create(string? seed = null, string prefix = "")
    {
        var repo = new GitTestRepo(Path.Combine(Path.GetTempPath(), "ff-tests", Guid.NewGuid().ToString("N")[..12]));
        Directory.CreateDirectory(repo.WorkDir);
        Repository.Init(repo.WorkDir);
        using (var git = new Repository(repo.WorkDir))
        {
            git.Refs.UpdateTarget("HEAD", "refs/heads/main");
        }

        if (seed is not null)
        {
            CopyDirectory(seed, Path.Combine(repo.WorkDir, prefix));
        }
        else
        {
            File.WriteAllText(Path.Combine(repo.WorkDir, "README.md"), "test\n");
        }

        repo.Commit("initial");
        return repo;
    }

    /// <summary>Writes (or, with null content, deletes) a file relative to the root.</summary>
    public GitTestRepo Write(string relativePath, string? content)
    {
        var path = Path.Combine(WorkDir, relativePath);
        if (content is null)
        {
            File.Delete(path);
        }
        else
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, content);
        }

        return this;
    }

    /// <summary>Creates a symbolic link at <paramref name="relativePath"/> (relative to the root) with <paramref name="target"/> as written.</summary>
    public GitTestRepo Symlink(string relativePath, string target)
    {
        var path = Path.Combine(WorkDir, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.CreateSymbolicLink(path, target);
        return this;
    }

    /// <summary>Replaces text in a file.</summary>
    public GitTestRepo Replace(string relativePath, string oldText, string newText)
    {
        var path = Path.Combine(WorkDir, relativePath);
        var text = File.ReadAllText(path);
        if (!text.Contains(oldText, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"{relativePath} does not contain '{oldText}'.");
        }

        File.WriteAllText(path, text.Replace(oldText, newText, StringComparison.Ordinal));
        return this;
    }

    /// <summary>Stages everything and commits on the current branch; returns the SHA.</summary>
    public string Commit(string message)
    {
        using var git = new Repository(WorkDir);
        Commands.Stage(git, "*");
        var when = s_author.When.AddMinutes(git.Commits.Count());
        var signature = new Signature(s_author.Name, s_author.Email, when);
        return git.Commit(message, signature, signature, new CommitOptions { AllowEmptyCommit = true }).Sha;
    }

    /// <summary>
    /// Stages everything and rewrites the last commit in its place (<c>git commit --amend</c>, as before a
    /// <c>git push -f</c>): the old commit is no longer on any branch. Returns the new SHA.
    /// </summary>
    public string Amend(string message)
    {
        using var git = new Repository(WorkDir);
        Commands.Stage(git, "*");
        var when = s_author.When.AddMinutes(git.Commits.Count()).AddSeconds(1);
        var signature = new Signature(s_author.Name, s_author.Email, when);
        return git.Commit(message, signature, signature, new CommitOptions { AllowEmptyCommit = true, AmendPreviousCommit = true }).Sha;
    }

    /// <summary>Creates a lightweight tag at HEAD.</summary>
    public void Tag(string name)
    {
        using var git = new Repository(WorkDir);
        git.ApplyTag(name);
    }

    /// <summary>Creates and checks out a branch at HEAD.</summary>
    public void Branch(string name)
    {
        using var git = new Repository(WorkDir);
        var branch = git.CreateBranch(name);
        Commands.Checkout(git, branch);
    }

    /// <summary>Checks out <paramref name="branch"/> and deletes <paramref name="deleted"/> (a branch) and <paramref name="deletedTag"/>, as a push deleting them upstream.</summary>
    public void Delete(string branch, string deleted, string deletedTag)
    {
        using var git = new Repository(WorkDir);
        Commands.Checkout(git, branch);
        git.Branches.Remove(deleted);
        git.Tags.Remove(deletedTag);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: temp folders are cleaned by the OS.
        }
        catch (UnauthorizedAccessException)
        {
            // Best effort.
        }
    }

    private static void CopyDirectory(string source, string target)
    {
        Directory.CreateDirectory(target);
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var destination = Path.Combine(target, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(file, destination);
        }
    }
}
