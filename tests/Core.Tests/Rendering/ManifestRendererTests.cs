using FleetFunctions.Core.Manifests;
using FleetFunctions.Core.Rendering;
using FleetFunctions.Core.Sources;
using FleetFunctions.TestSupport;
using Xunit;

namespace FleetFunctions.Core.Tests.Rendering;

public sealed class ManifestRendererTests : IDisposable
{
    private readonly GitTestRepo _repo = GitTestRepo.Create(RepoPaths.Examples, "examples");

    [Fact]
    public async Task RenderAsync_KustomizeOverlay_AppliesPatchAndBase()
    {
        var (tree, renderer) = await PrepareAsync();

        var result = await renderer.RenderAsync(tree, "examples/apps/podinfo/overlays/eu");

        Assert.Equal(RenderEngine.Kustomize, result.Engine);
        var deployment = result.Manifests.Find(new ObjectReference("apps", "Deployment", "podinfo", "podinfo"));
        Assert.NotNull(deployment);
        Assert.Equal(3, deployment.Object.Int64At("spec.replicas"));
        Assert.Equal("eu", ((System.Text.Json.Nodes.JsonObject)deployment.Object["metadata"]!["labels"]!).GetString("fleetfunctions.io/region"));
        Assert.NotNull(result.Manifests.Find(new ObjectReference("example.fleetfunctions.io", "Widget", "podinfo", "podinfo-widget")));
        Assert.NotNull(result.Manifests.Find(new ObjectReference("", "ConfigMap", "podinfo", "podinfo-region")));
        Assert.Equal("examples/apps/podinfo/overlays/eu", deployment.Source);
    }

    [Fact]
    public async Task RenderAsync_PlainDirectory_ReadsFilesRecursively()
    {
        var (tree, renderer) = await PrepareAsync();

        var result = await renderer.RenderAsync(tree, "examples/apps/hello");

        Assert.Equal(RenderEngine.Plain, result.Engine);
        Assert.Equal(6, result.Manifests.Count);
        var role = result.Manifests.Find(new ObjectReference("rbac.authorization.k8s.io", "ClusterRole", "", "hello-reader"));
        Assert.Equal("examples/apps/hello/rbac/reader.yaml:1", role!.Location);
    }

    [Fact]
    public async Task RenderAsync_SecondCall_ComesFromCacheAndSurvivesNewRenderer()
    {
        var (tree, renderer) = await PrepareAsync();
        var first = await renderer.RenderAsync(tree, "examples/apps/podinfo/overlays/us");

        var second = await renderer.RenderAsync(tree, "./examples/apps/podinfo/overlays/us/");
        var fresh = new ManifestRenderer(new RenderOptions { CacheDirectory = Path.Combine(_repo.CacheDir, "rendered") });
        var fromDisk = await fresh.Cache.TryGetAsync(tree.Commit, "examples/apps/podinfo/overlays/us");

        Assert.False(first.FromCache);
        Assert.True(second.FromCache);
        Assert.NotNull(fromDisk);
        Assert.Equal(first.Manifests.Objects.Select(o => o.Checksum), fromDisk.Manifests.Objects.Select(o => o.Checksum));
        Assert.Null(await fresh.Cache.TryGetAsync(tree.Commit, "examples/apps/podinfo/overlays/asia"));
    }

    [Fact]
    public async Task Cache_CommitUnusedForTheRetention_RemovedWhenTheNextRenderIsStoredAndRenderedAgainWhenNeeded()
    {
        var (tree, renderer) = await PrepareAsync();
        var old = _repo.Write("examples/apps/hello/extra.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra}\n").Commit("extra");
        var source = new GitRepositories(new GitCacheOptions { CacheDirectory = Path.Combine(_repo.CacheDir, "git") });
        var oldTree = await source.GetTreeAsync(new GitSourceSpec(_repo.Url), old);
        await renderer.RenderAsync(oldTree, "examples/apps/hello");
        var rendered = Path.Combine(_repo.CacheDir, "rendered");
        Directory.SetLastWriteTimeUtc(Path.Combine(rendered, old), DateTime.UtcNow.AddDays(-8));
        var recent = Path.Combine(rendered, "0123456789abcdef0123456789abcdef01234567");
        Directory.CreateDirectory(recent);
        Directory.SetLastWriteTimeUtc(recent, DateTime.UtcNow.AddDays(-6));

        // A new process (nothing in memory) stores a render: the commit unused for 8 days goes, the one used 6 days ago stays.
        var restarted = new ManifestRenderer(new RenderOptions { CacheDirectory = rendered });
        await restarted.RenderAsync(tree, "examples/apps/hello");

        Assert.False(Directory.Exists(Path.Combine(rendered, old)));
        Assert.True(Directory.Exists(recent));
        Assert.Null(await restarted.Cache.TryGetAsync(old, "examples/apps/hello"));
        var again = await restarted.RenderAsync(oldTree, "examples/apps/hello");
        Assert.False(again.FromCache);
        Assert.Equal(7, again.Manifests.Count);
    }

    [Fact]
    public async Task Cache_ReadOfAnOldCommit_KeepsItOnDisk()
    {
        var (tree, renderer) = await PrepareAsync();
        await renderer.RenderAsync(tree, "examples/apps/hello");
        var rendered = Path.Combine(_repo.CacheDir, "rendered");
        Directory.SetLastWriteTimeUtc(Path.Combine(rendered, tree.Commit), DateTime.UtcNow.AddDays(-8));
        var other = _repo.Write("examples/apps/hello/extra.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra}\n").Commit("extra");
        var otherTree = await new GitRepositories(new GitCacheOptions { CacheDirectory = Path.Combine(_repo.CacheDir, "git") }).GetTreeAsync(new GitSourceSpec(_repo.Url), other);

        // A drift check in a new process reads the old commit's render, then a render of another commit is stored.
        var restarted = new ManifestRenderer(new RenderOptions { CacheDirectory = rendered });
        var read = await restarted.Cache.TryGetAsync(tree.Commit, "examples/apps/hello");
        await restarted.RenderAsync(otherTree, "examples/apps/hello");

        Assert.NotNull(read);
        Assert.NotNull(await new RenderCache(rendered).TryGetAsync(tree.Commit, "examples/apps/hello"));
    }

    [Fact]
    public async Task RenderAsync_MalformedYaml_ThrowsWithFileAndLine()
    {
        CopyTestData("malformed");
        var (tree, renderer) = await PrepareAsync();

        var error = await Assert.ThrowsAsync<ManifestException>(() => renderer.RenderAsync(tree, "testdata/malformed"));

        Assert.StartsWith("testdata/malformed/bad.yaml:", error.Errors[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task RenderAsync_DuplicateAcrossFiles_NamesBothFiles()
    {
        CopyTestData("duplicates");
        var (tree, renderer) = await PrepareAsync();

        var error = await Assert.ThrowsAsync<ManifestException>(() => renderer.RenderAsync(tree, "testdata/duplicates"));

        Assert.Contains("testdata/duplicates/a.yaml:1", error.Message, StringComparison.Ordinal);
        Assert.Contains("testdata/duplicates/b.yaml:7", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RenderAsync_ObjectWithoutName_Rejected()
    {
        CopyTestData("missing-name");
        var (tree, renderer) = await PrepareAsync();

        var error = await Assert.ThrowsAsync<ManifestException>(() => renderer.RenderAsync(tree, "testdata/missing-name"));

        Assert.Contains("metadata.name", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RenderAsync_HelmChart_ThrowsNotSupported()
    {
        CopyTestData("helm-chart");
        var (tree, renderer) = await PrepareAsync();

        var error = await Assert.ThrowsAsync<RenderException>(() => renderer.RenderAsync(tree, "testdata/helm-chart"));

        Assert.Contains("Helm is not supported", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RenderAsync_BrokenKustomization_ThrowsNamingDirectory()
    {
        _repo.Write("broken/kustomization.yaml", "resources:\n  - missing.yaml\n").Commit("broken");
        var (tree, renderer) = await PrepareAsync();

        var error = await Assert.ThrowsAsync<RenderException>(() => renderer.RenderAsync(tree, "broken"));

        Assert.StartsWith("broken: kustomize build failed", error.Message, StringComparison.Ordinal);
        Assert.Contains("missing.yaml", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RenderAsync_KustomizationWhoseAliasIsItsOwnKey_FailsInsteadOfCrashingTheProcess()
    {
        _repo.Write("looping/kustomization.yaml", "resources:\n  - app.yaml\n? &x [*x]\n: value\n").Write("looping/app.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n").Commit("looping");
        var (tree, renderer) = await PrepareAsync();

        var error = await Assert.ThrowsAsync<RenderException>(() => renderer.RenderAsync(tree, "looping"));

        Assert.StartsWith("looping: kustomize build failed", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RenderAsync_MissingPath_ThrowsNamingPath()
    {
        var (tree, renderer) = await PrepareAsync();

        var error = await Assert.ThrowsAsync<RenderException>(() => renderer.RenderAsync(tree, "no/such/dir"));

        Assert.StartsWith("no/such/dir: no such folder", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RenderAsync_FileLinkingOutsideTheRepository_RefusedNamingTheLinkAndItsTarget()
    {
        var secret = WriteOutside("secret.yaml", "apiVersion: v1\nkind: Secret\nmetadata: {name: host-secret, namespace: default}\n");
        _repo.Write("apps/x/app.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: default}\n")
            .Symlink("apps/x/k.yaml", secret)
            .Commit("link out");
        var (tree, renderer) = await PrepareAsync();

        var error = await Assert.ThrowsAsync<RenderException>(() => renderer.RenderAsync(tree, "apps/x"));

        Assert.StartsWith($"apps/x/k.yaml: a symbolic link to '{secret}', outside the repository", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RenderAsync_FleetPathLinkingOutsideTheRepository_RefusedNamingTheLink()
    {
        WriteOutside("secret.yaml", "apiVersion: v1\nkind: Secret\nmetadata: {name: host-secret, namespace: default}\n");
        _repo.Symlink("apps/link", Path.Combine(_repo.Root, "outside")).Commit("link out");
        var (tree, renderer) = await PrepareAsync();

        var error = await Assert.ThrowsAsync<RenderException>(() => renderer.RenderAsync(tree, "apps/link"));

        Assert.StartsWith("apps/link: a symbolic link to", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RenderAsync_KustomizationReadingALinkOutsideTheRepository_RefusedBeforeKustomizeRuns()
    {
        var secret = WriteOutside("secret.yaml", "apiVersion: v1\nkind: Secret\nmetadata: {name: host-secret, namespace: default}\n");
        _repo.Write("apps/k/kustomization.yaml", "resources:\n  - secret.yaml\n")
            .Symlink("apps/k/secret.yaml", "../../../../../../../../../../../../.." + secret)
            .Commit("kustomize link out");
        var (tree, renderer) = await PrepareAsync();

        var error = await Assert.ThrowsAsync<RenderException>(() => renderer.RenderAsync(tree, "apps/k"));

        Assert.StartsWith("apps/k/secret.yaml: a symbolic link to '../", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RenderAsync_LinksInsideTheRepository_StillRendered()
    {
        _repo.Symlink("apps/plain/hello.yaml", "../../examples/apps/hello/app.yaml")
            .Symlink("apps/overlay", "../examples/apps/podinfo/overlays/eu")
            .Commit("links inside");
        var (tree, renderer) = await PrepareAsync();

        var plain = await renderer.RenderAsync(tree, "apps/plain");
        var overlay = await renderer.RenderAsync(tree, "apps/overlay");

        Assert.NotEmpty(plain.Manifests.Objects);
        Assert.NotNull(overlay.Manifests.Find(new ObjectReference("apps", "Deployment", "podinfo", "podinfo")));
    }

    [Theory]
    [InlineData("resources", "github.com/org/repo//deploy?ref=main", "is remote")]
    [InlineData("resources", "https://127.0.0.1:9/org/repo.git//deploy", "is remote")]
    [InlineData("bases", "git@127.0.0.1:org/repo.git", "is remote")]
    [InlineData("components", "OUTSIDE", "is an absolute path")]
    [InlineData("resources", "../../../../../../../../../../../../..OUTSIDE", "leaves the repository")]
    public async Task RenderAsync_KustomizationEntryBeyondTheRepository_RefusedNamingFileAndEntry(string field, string entry, string reason)
    {
        WriteOutside("kustomization.yaml", "resources:\n  - cm.yaml\n");
        WriteOutside("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: outside, namespace: default}\n");
        entry = entry.Replace("OUTSIDE", Path.Combine(_repo.Root, "outside"), StringComparison.Ordinal);
        _repo.Write("apps/base/kustomization.yaml", $"{field}:\n  - {entry}\n")
            .Write("apps/overlay/kustomization.yaml", "resources:\n  - ../base\n")
            .Commit("beyond");
        var (tree, renderer) = await PrepareAsync();

        var error = await Assert.ThrowsAsync<RenderException>(() => renderer.RenderAsync(tree, "apps/overlay"));

        Assert.StartsWith($"apps/base/kustomization.yaml: '{entry}' {reason}", error.Message, StringComparison.Ordinal);
        Assert.Contains("vendor it", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RenderAsync_RemoteBaseWithCredentials_NeverPrintsThem()
    {
        _repo.Write("apps/base/kustomization.yaml", "resources:\n  - https://user:s3cret@127.0.0.1:9/org/repo.git\n").Commit("remote");
        var (tree, renderer) = await PrepareAsync();

        var error = await Assert.ThrowsAsync<RenderException>(() => renderer.RenderAsync(tree, "apps/base"));

        Assert.DoesNotContain("s3cret", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task RenderAsync_FirstCallerCancelled_OtherCallerGetsTheRender()
    {
        var slow = Path.Combine(_repo.Root, "kubectl-slow");
        File.WriteAllText(slow, "#!/bin/sh\nsleep 2\nexec kubectl \"$@\"\n");
        File.SetUnixFileMode(slow, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var (tree, _) = await PrepareAsync();
        var renderer = new ManifestRenderer(new RenderOptions { CacheDirectory = Path.Combine(_repo.CacheDir, "rendered"), KustomizeCommand = slow });
        using var cancelled = new CancellationTokenSource();

        var first = renderer.RenderAsync(tree, "examples/apps/podinfo/overlays/eu", cancelled.Token);
        var second = renderer.RenderAsync(tree, "examples/apps/podinfo/overlays/eu");
        await Task.Delay(500);
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);
        Assert.NotEmpty((await second).Manifests.Objects);
    }

    public void Dispose() => _repo.Dispose();

    private string WriteOutside(string name, string content)
    {
        var path = Path.Combine(_repo.Root, "outside", name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return path;
    }

    private void CopyTestData(string name)
    {
        foreach (var file in Directory.EnumerateFiles(Path.Combine(AppContext.BaseDirectory, "testdata", name)))
        {
            _repo.Write($"testdata/{name}/{Path.GetFileName(file)}", File.ReadAllText(file));
        }

        _repo.Commit($"add {name}");
    }

    private async Task<(SourceTree Tree, ManifestRenderer Renderer)> PrepareAsync()
    {
        var source = new GitRepositories(new GitCacheOptions { CacheDirectory = Path.Combine(_repo.CacheDir, "git") });
        var revision = await source.ResolveAsync(new GitSourceSpec(_repo.Url));
        var tree = await source.GetTreeAsync(new GitSourceSpec(_repo.Url), revision.Commit);
        return (tree, new ManifestRenderer(new RenderOptions { CacheDirectory = Path.Combine(_repo.CacheDir, "rendered") }));
    }
}
