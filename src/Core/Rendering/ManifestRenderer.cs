using System.Collections.Concurrent;
using System.Diagnostics;
using FleetFunctions.Core.Manifests;
using FleetFunctions.Core.Sources;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FleetFunctions.Core.Rendering;

/// <summary>
/// Renders a path of a materialised commit: a kustomization (kustomization.yaml, .yml or Kustomization)
/// through kustomize, otherwise every YAML file below the path. Each (commit, path) renders once; the
/// output is cached in memory and on disk. Helm charts are rejected. Thread-safe.
/// </summary>
public sealed class ManifestRenderer
{
    private static readonly string[] s_kustomizationFiles = ["kustomization.yaml", "kustomization.yml", "Kustomization"];
    private readonly RenderOptions _options;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, Lazy<Task<RenderResult>>> _inflight = new(StringComparer.Ordinal);

    public ManifestRenderer(RenderOptions? options = null, ILogger<ManifestRenderer>? logger = null)
    {
        _options = (options ?? new RenderOptions()).Validate();
        _logger = logger ?? NullLogger<ManifestRenderer>.Instance;
        Cache = new RenderCache(_options.CacheDirectory, _options.MemoryCacheEntries, _options.CacheRetention, _logger, _options.MemoryCacheBytes);
    }

    /// <summary>The cache this renderer fills; drift checks read from it.</summary>
    public RenderCache Cache { get; }

    /// <summary>The options this renderer was created with, validated.</summary>
    public RenderOptions Options => _options;

    /// <summary>Renders <paramref name="path"/> (relative to the repository root) of <paramref name="tree"/>.</summary>
    /// <exception cref="RenderException">kustomize failed, the path is missing, or it holds a Helm chart.</exception>
    /// <exception cref="ManifestException">Malformed YAML, objects without identity, duplicates.</exception>
    public async Task<RenderResult> RenderAsync(SourceTree tree, string path, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tree);
        var normal = RenderCache.NormalisePath(path);
        if (await Cache.TryGetAsync(tree.Commit, normal, cancellationToken) is { } cached)
        {
            return cached;
        }

        var key = $"{tree.Commit}:{normal}";

        // The render is shared by every caller of the key, so it runs without the first caller's token: a caller that
        // gives up stops waiting, the others still get the result (kustomize is bounded by RenderOptions.Timeout).
        var lazy = _inflight.GetOrAdd(key, _ => new Lazy<Task<RenderResult>>(() => RenderAndStoreAsync(tree, normal, CancellationToken.None)));
        try
        {
            return await lazy.Value.WaitAsync(cancellationToken);
        }
        finally
        {
            if (lazy.Value.IsCompleted)
            {
                _inflight.TryRemove(new KeyValuePair<string, Lazy<Task<RenderResult>>>(key, lazy));
            }
        }
    }

    private async Task<RenderResult> RenderAndStoreAsync(SourceTree tree, string path, CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        var directory = Path.GetFullPath(Path.Combine(tree.Directory, path));
        var root = Path.GetFullPath(tree.Directory);
        if (!TreePaths.IsWithin(root, directory))
        {
            throw new RenderException($"{path}: the path leaves the repository; use a path inside it.");
        }

        CheckRefusedLinks(tree, path);

        if (!Directory.Exists(directory))
        {
            throw new RenderException($"{Display(path)}: no such folder at commit {tree.Commit[..12]}; check the fleet's path.");
        }

        if (File.Exists(Path.Combine(directory, "Chart.yaml")))
        {
            throw new RenderException($"{Display(path)}/Chart.yaml: Helm is not supported (no helm binary is available); render the chart to plain YAML or a kustomization and commit that.");
        }

        var kustomization = s_kustomizationFiles.Select(f => Path.Combine(directory, f)).FirstOrDefault(File.Exists);
        var (engine, objects) = kustomization is null
            ? (RenderEngine.Plain, await ReadPlainAsync(root, directory, cancellationToken))
            : (RenderEngine.Kustomize, await BuildKustomizationAsync(root, kustomization, Display(path), cancellationToken));

        foreach (var obj in objects)
        {
            if (obj.Kind == "HelmRelease" || obj.Kind == "HelmChart")
            {
                throw new RenderException($"{obj.Location}: {obj.Kind}/{obj.Name}: Helm is not supported; render the chart to plain YAML or a kustomization and commit that.");
            }
        }

        var result = new RenderResult(tree.Commit, path, engine, ManifestSet.Create(objects), FromCache: false);
        await Cache.StoreAsync(result, cancellationToken);
        Log.Rendered(_logger, Display(path), tree.Commit, result.Manifests.Count, stopwatch.ElapsedMilliseconds);
        return result;
    }

    private static async Task<List<ManifestObject>> ReadPlainAsync(string root, string directory, CancellationToken cancellationToken)
    {
        var files = Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".yml", StringComparison.OrdinalIgnoreCase))
            .Where(f => !Path.GetRelativePath(directory, f).Split(Path.DirectorySeparatorChar).Any(part => part.StartsWith('.')))
            .Order(StringComparer.Ordinal)
            .ToList();
        var objects = new List<ManifestObject>();
        var errors = new List<string>();
        foreach (var file in files)
        {
            var relative = Path.GetRelativePath(root, file).Replace('\\', '/');
            try
            {
                objects.AddRange(ManifestParser.Parse(await File.ReadAllTextAsync(file, cancellationToken), relative));
            }
            catch (ManifestException e)
            {
                errors.AddRange(e.Errors);
            }
        }

        if (errors.Count > 0)
        {
            throw new ManifestException(errors);
        }

        return objects;
    }

    /// <summary>
    /// Fails when <paramref name="path"/>, or a file or folder its render reads, is (or lies beyond) a symbolic link
    /// that was not written because it leads outside the repository.
    /// </summary>
    private static void CheckRefusedLinks(SourceTree tree, string path)
    {
        if (tree.RefusedLinks.Count == 0)
        {
            return;
        }

        var inputs = KustomizeInputs.Collect(tree.Directory, path);
        var reached = tree.RefusedLinks
            .Where(link => KustomizeInputs.Touches(inputs, link.Key) || inputs.Any(input => input.StartsWith(link.Key + "/", StringComparison.Ordinal)))
            .OrderBy(link => link.Key, StringComparer.Ordinal)
            .Select(link => $"{link.Key}: a symbolic link to '{link.Value}', outside the repository, which {Display(path)} reads; links must stay inside the repository: commit the file itself or a relative link to it.")
            .ToList();
        if (reached.Count > 0)
        {
            throw new RenderException(string.Join(Environment.NewLine, reached));
        }
    }

    private async Task<List<ManifestObject>> BuildKustomizationAsync(string root, string kustomizationFile, string displayPath, CancellationToken cancellationToken)
    {
        var text = await File.ReadAllTextAsync(kustomizationFile, cancellationToken);
        if (text.Contains("helmCharts:", StringComparison.Ordinal) || text.Contains("helmChartInflationGenerator", StringComparison.Ordinal))
        {
            throw new RenderException($"{displayPath}/{Path.GetFileName(kustomizationFile)}: Helm is not supported (helmCharts needs a helm binary); render the chart to YAML and commit it.");
        }

        var directory = Path.GetDirectoryName(kustomizationFile)!;
        var escapes = KustomizeInputs.FindEscapes(root, Path.GetRelativePath(root, directory));
        if (escapes.Count > 0)
        {
            throw new RenderException(string.Join(Environment.NewLine, escapes));
        }

        var command = _options.KustomizeCommand;
        var isKubectl = Path.GetFileName(command).StartsWith("kubectl", StringComparison.Ordinal);
        string[] arguments = isKubectl ? ["kustomize", directory] : ["build", directory];
        var (exitCode, stdout, stderr) = await ProcessRunner.RunAsync(command, arguments, _options.Timeout, cancellationToken);
        if (exitCode != 0)
        {
            var reason = GitRepositories.RedactUrls(stderr.Trim().Replace(directory, displayPath, StringComparison.Ordinal));
            throw new RenderException($"{displayPath}: kustomize build failed: {reason}; fix the kustomization and push a new commit.");
        }

        return [.. ManifestParser.Parse(stdout, displayPath)];
    }

    private static string Display(string path) => path.Length == 0 ? "." : path;
}
