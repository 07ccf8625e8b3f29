using FleetFunctions.Core.Sources;
using FleetFunctions.TestSupport;
using Xunit;

namespace FleetFunctions.Core.Tests.Sources;

public sealed class GitRepositoriesTests : IDisposable
{
    private readonly GitTestRepo _repo = GitTestRepo.Create(RepoPaths.Examples, "examples");

    [Fact]
    public async Task ResolveAsync_Branch_ReturnsHeadCommit()
    {
        var head = _repo.Commit("second");
        var source = NewSource();

        var revision = await source.ResolveAsync(new GitSourceSpec(_repo.Url, "main"));

        Assert.Equal(head, revision.Commit);
        Assert.Equal("second", revision.Message);
    }

    [Fact]
    public async Task ResolveAsync_FileUrlAndTag_ResolvesTaggedCommit()
    {
        var tagged = _repo.Commit("release");
        _repo.Tag("v1.0.0");
        _repo.Commit("after release");
        var source = NewSource();

        var revision = await source.ResolveAsync(new GitSourceSpec(new Uri(_repo.WorkDir).AbsoluteUri, "v1.0.0"));

        Assert.Equal(tagged, revision.Commit);
    }

    [Fact]
    public async Task ResolveAsync_CommitSha_ResolvesThatCommit()
    {
        var first = _repo.Commit("one");
        _repo.Commit("two");
        var source = NewSource();

        var revision = await source.ResolveAsync(new GitSourceSpec(_repo.Url, first));

        Assert.Equal(first, revision.Commit);
    }

    [Fact]
    public async Task ResolveAsync_NewCommitPushed_FetchesIt()
    {
        var source = NewSource();
        var before = await source.ResolveAsync(new GitSourceSpec(_repo.Url));
        var after = _repo.Write("examples/new.yaml", "a: b\n").Commit("new file");

        var revision = await source.ResolveAsync(new GitSourceSpec(_repo.Url));

        Assert.NotEqual(before.Commit, revision.Commit);
        Assert.Equal(after, revision.Commit);
    }

    [Fact]
    public async Task ResolveAsync_LockFilesLeftByAKilledFetch_FetchesAnyway()
    {
        var source = NewSource();
        await source.ResolveAsync(new GitSourceSpec(_repo.Url));
        var after = _repo.Write("examples/new.yaml", "a: b\n").Commit("pushed while the controller was down");

        // A process killed in the middle of a fetch leaves its lock files behind in the cached bare repository.
        var cached = Directory.GetDirectories(Path.Combine(_repo.CacheDir, "repos")).Single();
        var locks = new[] { Path.Combine(cached, "refs", "remotes", "origin", "main.lock"), Path.Combine(cached, "config.lock") };
        foreach (var lockFile in locks)
        {
            File.WriteAllText(lockFile, string.Empty);
            File.SetLastWriteTimeUtc(lockFile, DateTime.UtcNow - TimeSpan.FromMinutes(1));
        }

        var revision = await NewSource().ResolveAsync(new GitSourceSpec(_repo.Url));

        Assert.Equal(after, revision.Commit);
        Assert.All(locks, l => Assert.False(File.Exists(l), l));
    }

    [Fact]
    public async Task ResolveAsync_CacheFolderLeftHalfInitialisedByAKilledProcess_InitialisesAgainAndFetches()
    {
        var head = _repo.Commit("before the crash");
        await NewSource().ResolveAsync(new GitSourceSpec(_repo.Url));
        var cached = Directory.GetDirectories(Path.Combine(_repo.CacheDir, "repos")).Single();

        // A process killed inside Init leaves a folder Git cannot open (no HEAD yet).
        Directory.Delete(cached, recursive: true);
        Directory.CreateDirectory(Path.Combine(cached, "objects"));

        var revision = await NewSource().ResolveAsync(new GitSourceSpec(_repo.Url));

        Assert.Equal(head, revision.Commit);
        Assert.True(LibGit2Sharp.Repository.IsValid(cached));
    }

    [Fact]
    public async Task ResolveAsync_UnknownBranch_ThrowsNamingRefAndBranches()
    {
        var source = NewSource();

        var error = await Assert.ThrowsAsync<SourceException>(() => source.ResolveAsync(new GitSourceSpec(_repo.Url, "does-not-exist")));

        Assert.Contains("'does-not-exist'", error.Message, StringComparison.Ordinal);
        Assert.Contains("main", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResolveAsync_MissingRepository_ThrowsRepositoryNotFound()
    {
        var source = NewSource();
        var missing = Path.Combine(_repo.Root, "nothing-here");

        var error = await Assert.ThrowsAsync<SourceException>(() => source.ResolveAsync(new GitSourceSpec(missing)));

        Assert.Contains(missing, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResolveAsync_UnreachableHttpsWithCredentials_NeverPrintsSecret()
    {
        var source = NewSource();
        var port = FreePort.Next();
        var spec = new GitSourceSpec($"https://user:hunter2@127.0.0.1:{port}/org/repo.git", "main", GitCredentials.FromToken("s3cr3t-token"));

        var error = await Assert.ThrowsAsync<SourceException>(() => source.ResolveAsync(spec));

        Assert.DoesNotContain("s3cr3t-token", error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", error.Message, StringComparison.Ordinal);
        Assert.Contains($"127.0.0.1:{port}/org/repo.git", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cr3t-token", spec.Credentials!.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetTreeAsync_TwoCommitsConcurrently_EachTreeHasItsOwnContent()
    {
        var first = _repo.Write("examples/version.txt", "one").Commit("one");
        var second = _repo.Write("examples/version.txt", "two").Commit("two");
        var source = NewSource();
        var spec = new GitSourceSpec(_repo.Url);

        var trees = await Task.WhenAll(
            Enumerable.Range(0, 8).Select(i => source.GetTreeAsync(spec, i % 2 == 0 ? first : second)));

        Assert.Equal("one", File.ReadAllText(Path.Combine(trees[0].Directory, "examples", "version.txt")));
        Assert.Equal("two", File.ReadAllText(Path.Combine(trees[1].Directory, "examples", "version.txt")));
        Assert.True(File.Exists(Path.Combine(trees[0].Directory, "examples", "apps", "podinfo", "base", "deployment.yaml")));
        Assert.Equal(2, trees.Select(t => t.Directory).Distinct().Count());
    }

    [Fact]
    public async Task GetChangedPathsAsync_EditAndDelete_ListsBothPaths()
    {
        var from = _repo.Commit("base");
        var to = _repo.Replace("examples/apps/hello/app.yaml", "greeting: hello", "greeting: hi")
            .Write("examples/apps/hello/rbac/reader.yaml", null)
            .Commit("change");
        var source = NewSource();

        var changed = await source.GetChangedPathsAsync(new GitSourceSpec(_repo.Url), from, to);

        Assert.Equal(["examples/apps/hello/app.yaml", "examples/apps/hello/rbac/reader.yaml"], changed);
    }

    [Fact]
    public async Task GetChangedPathsAsync_OldCommitForcePushedAway_NullButThrowsWhileTheRepositoryIsUnreachable()
    {
        var pushed = _repo.Replace("examples/apps/hello/app.yaml", "greeting: hello", "greeting: hi").Commit("pushed");
        var rewritten = _repo.Amend("pushed, reworded");
        var spec = new GitSourceSpec(_repo.Url, "main");
        var source = NewSource();

        Assert.Null(await source.GetChangedPathsAsync(spec, pushed, rewritten));

        var away = _repo.WorkDir + "-away";
        Directory.Move(_repo.WorkDir, away);
        try
        {
            await Assert.ThrowsAsync<SourceException>(() => source.GetChangedPathsAsync(spec, pushed, rewritten));
        }
        finally
        {
            Directory.Move(away, _repo.WorkDir);
        }
    }

    [Fact]
    public async Task ResolveAsync_BranchAndTagReplacedByOnesBeneathTheirNames_FetchesAndResolvesOldAndNew()
    {
        _repo.Branch("release");
        var oldRelease = _repo.Write("examples/version.txt", "release").Commit("release");
        _repo.Tag("v1");
        var source = NewSource();
        Assert.Equal(oldRelease, (await source.ResolveAsync(new GitSourceSpec(_repo.Url, "release"))).Commit);

        // Upstream deletes branch release and tag v1 and pushes release/1.0 and v1/final: their names need folders
        // where the cache holds the old refs.
        _repo.Delete("main", "release", "v1");
        _repo.Branch("release/1.0");
        var newRelease = _repo.Write("examples/version.txt", "1.0").Commit("release 1.0");
        _repo.Tag("v1/final");

        Assert.Equal(newRelease, (await source.ResolveAsync(new GitSourceSpec(_repo.Url, "release/1.0"))).Commit);
        Assert.Equal(newRelease, (await source.ResolveAsync(new GitSourceSpec(_repo.Url, "v1/final"))).Commit);
        Assert.Equal(oldRelease, (await source.ResolveAsync(new GitSourceSpec(_repo.Url, oldRelease))).Commit);
        await Assert.ThrowsAsync<SourceException>(() => source.ResolveAsync(new GitSourceSpec(_repo.Url, "release")));
    }

    [Fact]
    public async Task GetTreeAsync_LinksLeavingTheTree_NotWrittenAndListedWhileLinksInsideStay()
    {
        var outside = Path.Combine(_repo.Root, "outside");
        Directory.CreateDirectory(outside);
        var commit = _repo.Symlink("apps/x/abs.yaml", "/etc/passwd")
            .Symlink("apps/x/up", "../../..")
            .Symlink("apps/root", "..")
            .Symlink("apps/x/through", "../root/..")
            .Symlink("apps/x/inside.yaml", "../../examples/apps/hello/app.yaml")
            .Symlink("apps/shared", "../examples")
            .Commit("links");
        var source = NewSource();

        var tree = await source.GetTreeAsync(new GitSourceSpec(_repo.Url), commit);

        Assert.Equal(
            new Dictionary<string, string> { ["apps/x/abs.yaml"] = "/etc/passwd", ["apps/x/through"] = "../root/..", ["apps/x/up"] = "../../.." },
            tree.RefusedLinks.OrderBy(l => l.Key, StringComparer.Ordinal).ToDictionary());
        Assert.False(Path.Exists(Path.Combine(tree.Directory, "apps", "x", "abs.yaml")));
        Assert.Null(new FileInfo(Path.Combine(tree.Directory, "apps", "x", "up")).LinkTarget);
        Assert.Contains("greeting", File.ReadAllText(Path.Combine(tree.Directory, "apps", "x", "inside.yaml")), StringComparison.Ordinal);
        Assert.True(Directory.Exists(Path.Combine(tree.Directory, "apps", "shared", "apps")));
        Assert.Equal(tree.RefusedLinks, (await NewSource().GetTreeAsync(new GitSourceSpec(_repo.Url), commit)).RefusedLinks);
    }

    [Fact]
    public async Task GetTreeAsync_TreeWrittenBeforeLinksWereChecked_WrittenAgainWithoutTheLink()
    {
        var commit = _repo.Symlink("apps/x/k.yaml", "/etc/passwd").Commit("link out");
        var stale = Path.Combine(_repo.CacheDir, "trees", commit);
        Directory.CreateDirectory(Path.Combine(stale, "apps", "x"));
        File.CreateSymbolicLink(Path.Combine(stale, "apps", "x", "k.yaml"), "/etc/passwd");

        var tree = await NewSource().GetTreeAsync(new GitSourceSpec(_repo.Url), commit);

        Assert.False(Path.Exists(Path.Combine(tree.Directory, "apps", "x", "k.yaml")));
        Assert.Equal("/etc/passwd", tree.RefusedLinks["apps/x/k.yaml"]);
        Assert.True(File.Exists(Path.Combine(tree.Directory, "examples", "apps", "hello", "app.yaml")));
    }

    public void Dispose() => _repo.Dispose();

    [Fact]
    public async Task IsAncestorAsync_OlderNewerSameAndDivergedCommits_TrueOnlyForAStrictAncestor()
    {
        var older = _repo.Commit("older");
        var newer = _repo.Commit("newer");
        _repo.Branch("side");
        var side = _repo.Commit("on a side branch");
        using (var git = new LibGit2Sharp.Repository(_repo.WorkDir))
        {
            LibGit2Sharp.Commands.Checkout(git, "main");
        }

        var diverged = _repo.Commit("main moves on without the side branch");
        var spec = new GitSourceSpec(_repo.Url, "main");
        var source = NewSource();

        Assert.True(await source.IsAncestorAsync(spec, older, newer));
        Assert.False(await source.IsAncestorAsync(spec, newer, older));
        Assert.False(await source.IsAncestorAsync(spec, newer, newer));
        Assert.True(await source.IsAncestorAsync(spec, newer, side));
        Assert.False(await source.IsAncestorAsync(spec, side, diverged));
        Assert.False(await source.IsAncestorAsync(spec, diverged, side));
    }

    [Fact]
    public async Task IsAncestorAsync_CommitTheCacheLacksAgainstOneItHolds_FalseWithoutFetching()
    {
        var held = _repo.Commit("held");
        var spec = new GitSourceSpec(_repo.Url, "main");
        var source = NewSource();
        Assert.Equal(held, (await source.ResolveAsync(spec)).Commit);
        var pushed = _repo.Commit("pushed after the cache fetched");

        // The origin is unreachable now: a fetch would fail, so the answer must come from the cache alone.
        var away = _repo.WorkDir + "-away";
        Directory.Move(_repo.WorkDir, away);
        try
        {
            Assert.False(await source.IsAncestorAsync(spec, pushed, held));
        }
        finally
        {
            Directory.Move(away, _repo.WorkDir);
        }

        // Once fetched, the real answer both ways.
        Assert.True(await source.IsAncestorAsync(spec, held, pushed));
        Assert.False(await source.IsAncestorAsync(spec, pushed, held));
    }

    [Fact]
    public async Task GetTreeAsync_MoreTreesThanKept_LeastRecentlyUsedRemovedFromDiskAndWrittenAgainWhenNeeded()
    {
        var commits = Enumerable.Range(1, 4).Select(i => _repo.Write("examples/counter.txt", $"{i}\n").Commit($"commit {i}")).ToList();
        var source = new GitRepositories(new GitCacheOptions { CacheDirectory = _repo.CacheDir, KeepTrees = 2, TreeGracePeriod = TimeSpan.Zero });
        var spec = new GitSourceSpec(_repo.Url);

        var first = await source.GetTreeAsync(spec, commits[0]);
        await source.GetTreeAsync(spec, commits[1]);
        await source.GetTreeAsync(spec, commits[0]); // used again: now more recent than commits[1]
        await source.GetTreeAsync(spec, commits[2]);
        var afterThird = TreesOnDisk().Order(StringComparer.Ordinal).ToList();
        await source.GetTreeAsync(spec, commits[3]);
        var afterFourth = TreesOnDisk().Order(StringComparer.Ordinal).ToList();
        var again = await source.GetTreeAsync(spec, commits[0]);

        Assert.Equal(new[] { commits[0], commits[2] }.Order(StringComparer.Ordinal), afterThird);
        Assert.Equal(new[] { commits[2], commits[3] }.Order(StringComparer.Ordinal), afterFourth);
        Assert.Equal(first.Directory, again.Directory);
        Assert.Equal("1\n", await File.ReadAllTextAsync(Path.Combine(again.Directory, "examples", "counter.txt")));
        Assert.Equal(2, TreesOnDisk().Count);
    }

    [Fact]
    public async Task GetTreeAsync_TreesUsedWithinTheGracePeriod_KeptBeyondTheLimit()
    {
        var commits = Enumerable.Range(1, 3).Select(i => _repo.Write("examples/counter.txt", $"{i}\n").Commit($"commit {i}")).ToList();
        var source = new GitRepositories(new GitCacheOptions { CacheDirectory = _repo.CacheDir, KeepTrees = 1, TreeGracePeriod = TimeSpan.FromHours(1) });

        foreach (var commit in commits)
        {
            await source.GetTreeAsync(new GitSourceSpec(_repo.Url), commit);
        }

        Assert.Equal(commits.Order(StringComparer.Ordinal), TreesOnDisk().Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task GetTreeAsync_AnotherProcessSharingTheCacheUsesATree_ItsUseKeepsTheTree()
    {
        var (used, unused, next) = (_repo.Commit("used"), _repo.Write("examples/b.txt", "b\n").Commit("unused"), _repo.Write("examples/c.txt", "c\n").Commit("next"));
        var spec = new GitSourceSpec(_repo.Url);
        GitCacheOptions options = new() { CacheDirectory = _repo.CacheDir, KeepTrees = 1, TreeGracePeriod = TimeSpan.FromMinutes(10) };
        var writer = new GitRepositories(options);
        var usedTree = await writer.GetTreeAsync(spec, used);
        var unusedTree = await writer.GetTreeAsync(spec, unused);
        Directory.SetLastWriteTimeUtc(usedTree.Directory, DateTime.UtcNow.AddHours(-2));
        Directory.SetLastWriteTimeUtc(unusedTree.Directory, DateTime.UtcNow.AddHours(-2));

        await new GitRepositories(options).GetTreeAsync(spec, used);   // another process reads one of them
        await new GitRepositories(options).GetTreeAsync(spec, next);   // a third writes a new tree and trims

        Assert.Equal(new[] { used, next }.Order(StringComparer.Ordinal), TreesOnDisk().Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task GetTreeAsync_FoldersAKilledProcessLeft_RemovedWhenTheNextTreeIsWritten()
    {
        var commit = _repo.Commit("one");
        var trees = Path.Combine(_repo.CacheDir, "trees");
        var removing = Directory.CreateDirectory(Path.Combine(trees, commit + ".removing-0badf00d")).FullName;
        File.WriteAllText(Path.Combine(removing, "left.yaml"), "a: b\n");
        var oldStaging = Directory.CreateDirectory(Path.Combine(trees, commit + ".tmp-0badf00d")).FullName;
        Directory.SetLastWriteTimeUtc(oldStaging, DateTime.UtcNow.AddHours(-2));
        var freshStaging = Directory.CreateDirectory(Path.Combine(trees, commit + ".tmp-beefcafe")).FullName;
        var source = new GitRepositories(new GitCacheOptions { CacheDirectory = _repo.CacheDir, TreeGracePeriod = TimeSpan.FromMinutes(10) });

        await source.GetTreeAsync(new GitSourceSpec(_repo.Url), commit);

        Assert.False(Directory.Exists(removing));
        Assert.False(Directory.Exists(oldStaging));
        Assert.True(Directory.Exists(freshStaging)); // another process may be writing it
        Assert.Equal([commit], TreesOnDisk());
    }

    [Fact]
    public async Task GetTreeAsync_TreeDeletedBehindTheCachesBack_WrittenAgain()
    {
        var commit = _repo.Commit("one");
        var source = NewSource();
        var tree = await source.GetTreeAsync(new GitSourceSpec(_repo.Url), commit);
        Directory.Delete(tree.Directory, recursive: true);

        var again = await source.GetTreeAsync(new GitSourceSpec(_repo.Url), commit);

        Assert.Equal(tree.Directory, again.Directory);
        Assert.NotEmpty(Directory.EnumerateFiles(again.Directory, "*.yaml", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task ResolveAsync_FetchAfterEachOfManyPushes_PacksMergedAndEveryCommitStillReadable()
    {
        var source = new GitRepositories(new GitCacheOptions { CacheDirectory = _repo.CacheDir, MaxPacks = 4 });
        var spec = new GitSourceSpec(_repo.Url);
        var commits = new List<string> { (await source.ResolveAsync(spec)).Commit };
        var packCounts = new List<int>();
        for (var i = 1; i <= 12; i++)
        {
            commits.Add(_repo.Write($"examples/pushes/push-{i}.yaml", $"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: push-{i}}}\n").Commit($"push {i}"));
            Assert.Equal(commits[^1], (await source.ResolveAsync(spec)).Commit);
            packCounts.Add(Directory.EnumerateFiles(PackDirectory(), "*.pack").Count());
        }

        Assert.True(packCounts.Max() <= 4, $"packs after each fetch: {string.Join(", ", packCounts)}");
        Assert.Contains(2, packCounts); // merged at least once: the largest pack and the merged one
        Assert.Equal(Directory.EnumerateFiles(PackDirectory(), "*.pack").Count(), Directory.EnumerateFiles(PackDirectory(), "*.idx").Count());
        foreach (var (commit, i) in commits.Select((c, i) => (c, i)).Skip(1))
        {
            var tree = await source.GetTreeAsync(spec, commit);
            Assert.Equal($"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: push-{i}}}\n", await File.ReadAllTextAsync(Path.Combine(tree.Directory, "examples", "pushes", $"push-{i}.yaml")));
        }

        Assert.Equal(["examples/pushes/push-12.yaml"], await source.GetChangedPathsAsync(spec, commits[11], commits[12]));
        Assert.True(await source.IsAncestorAsync(spec, commits[0], commits[12]));
        var fsck = await Core.Rendering.ProcessRunner.RunAsync("git", ["--git-dir", Path.GetDirectoryName(Path.GetDirectoryName(PackDirectory()))!, "fsck", "--full", "--strict"], TimeSpan.FromMinutes(1));
        Assert.True(fsck.ExitCode == 0, $"git fsck: {fsck.StandardError}{fsck.StandardOutput}");
    }

    [Fact]
    public async Task ResolveAsync_CachedRepositoryDeletedBetweenCalls_CreatedAgainAndFetched()
    {
        var source = NewSource();
        var spec = new GitSourceSpec(_repo.Url);
        var before = await source.ResolveAsync(spec);
        Directory.Delete(Path.Combine(_repo.CacheDir, "repos"), recursive: true);
        var pushed = _repo.Write("examples/after-delete.yaml", "a: b\n").Commit("after the cache was deleted");

        var revision = await source.ResolveAsync(spec);

        Assert.Equal(pushed, revision.Commit);
        Assert.True(await source.IsAncestorAsync(spec, before.Commit, pushed));
    }

    [Fact]
    public async Task IsAncestorAsync_MoreRepositoriesThanKeptOpen_EachAnswersAndAtMostTheBoundStayOpen()
    {
        var repos = Enumerable.Range(0, GitRepositories.KeepOpen + 3).Select(_ => GitTestRepo.Create()).ToList();
        try
        {
            var commits = repos.Select(r => (First: r.Write("one.txt", "1\n").Commit("first"), Second: r.Write("two.txt", "2\n").Commit("second"))).ToList();
            using var source = NewSource();
            foreach (var round in Enumerable.Range(0, 2))
            {
                for (var i = 0; i < repos.Count; i++)
                {
                    var spec = new GitSourceSpec(repos[i].Url);
                    Assert.Equal(commits[i].Second, (await source.ResolveAsync(spec)).Commit);
                    Assert.True(await source.IsAncestorAsync(spec, commits[i].First, commits[i].Second), $"round {round}, repository {i}");
                    Assert.False(await source.IsAncestorAsync(spec, commits[i].Second, commits[i].First), $"round {round}, repository {i}");
                    Assert.InRange(source.OpenRepositories, 1, GitRepositories.KeepOpen);
                }
            }

            Assert.Equal(GitRepositories.KeepOpen, source.OpenRepositories);
        }
        finally
        {
            repos.ForEach(r => r.Dispose());
        }
    }

    [Fact]
    public async Task Dispose_RepositoriesOpen_ClosesThemAndLaterCallsSaySo()
    {
        var source = NewSource();
        var spec = new GitSourceSpec(_repo.Url);
        await source.ResolveAsync(spec);
        Assert.Equal(1, source.OpenRepositories);

        source.Dispose();

        Assert.Equal(0, source.OpenRepositories);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => source.ResolveAsync(spec));
    }

    private string PackDirectory() => Path.Combine(Directory.EnumerateDirectories(Path.Combine(_repo.CacheDir, "repos")).Single(), "objects", "pack");

    private List<string> TreesOnDisk() =>
        [.. Directory.EnumerateDirectories(Path.Combine(_repo.CacheDir, "trees")).Select(Path.GetFileName).Where(n => n!.Length == 40).Select(n => n!)];

    private GitRepositories NewSource() => new(new GitCacheOptions { CacheDirectory = _repo.CacheDir });
}
