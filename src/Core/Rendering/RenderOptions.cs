namespace FleetFunctions.Core.Rendering;

/// <summary>Options of <see cref="ManifestRenderer"/>.</summary>
public sealed record RenderOptions
{
    /// <summary>Environment variable naming the kubectl binary used for <c>kubectl kustomize</c>.</summary>
    public const string KubectlVariable = "FLEETFUNCTIONS_KUBECTL";

    /// <summary>Where scripts/publish.sh puts kubectl, relative to the app's folder.</summary>
    public const string PublishedKubectl = "tools/kubectl";

    /// <summary>
    /// The program that builds kustomizations: a <c>kubectl</c> binary (run as <c>kubectl kustomize DIR</c>)
    /// or a <c>kustomize</c> binary (run as <c>kustomize build DIR</c>); chosen by its file name.
    /// Default: <c>$FLEETFUNCTIONS_KUBECTL</c>, else the kubectl published with the app (<see cref="PublishedKubectl"/>), else the machine's kubectl 1.32, else <c>kustomize</c> on PATH, else <c>kubectl</c>.
    /// </summary>
    public string KustomizeCommand { get; init; } = DefaultKustomizeCommand();

    /// <summary>Folder for rendered output, keyed by commit and path (survives restarts; drift checks read it).</summary>
    public string CacheDirectory { get; init; } = Path.Combine(Path.GetTempPath(), "fleetfunctions", "rendered");

    /// <summary>
    /// How long the rendered output of a commit stays on disk after its last use (a render, a reconcile or drift check
    /// reading it). Drift checks of a fleet's current commit keep it in use; a commit nothing has read for this long is
    /// deleted and, if ever needed again, rendered again from Git.
    /// </summary>
    public TimeSpan CacheRetention { get; init; } = TimeSpan.FromDays(7);

    /// <summary>Default of <see cref="MemoryCacheBytes"/>: 64 MiB.</summary>
    public const long DefaultMemoryCacheBytes = 64L * 1024 * 1024;

    /// <summary>Rendered (commit, path) results kept in memory; older ones are read back from disk.</summary>
    public int MemoryCacheEntries { get; init; } = 64;

    /// <summary>
    /// Estimated bytes of rendered results kept in memory (a parsed object holds about 12 times its cached JSON; 200
    /// typical objects about 0.7 MiB), so a few large apps cannot fill the memory that many small ones fit in. The most recent
    /// result stays whatever its size.
    /// </summary>
    public long MemoryCacheBytes { get; init; } = DefaultMemoryCacheBytes;

    /// <summary>How long one kustomize build may run.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Throws when the options are unusable.</summary>
    public RenderOptions Validate()
    {
        if (string.IsNullOrWhiteSpace(KustomizeCommand))
        {
            throw new ArgumentException("RenderOptions.KustomizeCommand must name a kubectl or kustomize binary.");
        }

        if (string.IsNullOrWhiteSpace(CacheDirectory))
        {
            throw new ArgumentException("RenderOptions.CacheDirectory must name a folder.");
        }

        if (CacheRetention <= TimeSpan.Zero)
        {
            throw new ArgumentException("RenderOptions.CacheRetention must be positive.");
        }

        if (MemoryCacheEntries < 1)
        {
            throw new ArgumentException("RenderOptions.MemoryCacheEntries must be at least 1.");
        }

        if (MemoryCacheBytes < 1)
        {
            throw new ArgumentException("RenderOptions.MemoryCacheBytes must be positive.");
        }

        if (Timeout <= TimeSpan.Zero)
        {
            throw new ArgumentException("RenderOptions.Timeout must be positive.");
        }

        return this;
    }

    /// <summary>The default kustomize command on this machine (see <see cref="KustomizeCommand"/>).</summary>
    public static string DefaultKustomizeCommand()
    {
        if (Environment.GetEnvironmentVariable(KubectlVariable) is { Length: > 0 } configured)
        {
            return configured;
        }

        // scripts/publish.sh ships kubectl beside the app: a Functions host has none of its own.
        var published = Path.Combine(AppContext.BaseDirectory, PublishedKubectl);
        if (File.Exists(published))
        {
            return published;
        }

        const string machineKubectl = "/usr/lib/google-cloud-sdk/bin/kubectl.1.32";
        if (File.Exists(machineKubectl))
        {
            return machineKubectl;
        }

        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        foreach (var dir in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            if (File.Exists(Path.Combine(dir, "kustomize")))
            {
                return Path.Combine(dir, "kustomize");
            }
        }

        return "kubectl";
    }
}
