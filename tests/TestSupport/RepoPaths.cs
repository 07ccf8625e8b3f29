namespace FleetFunctions.TestSupport;

/// <summary>Locates the repository checkout and the shared folder beside it.</summary>
public static class RepoPaths
{
    private static readonly Lazy<string> s_root = new(FindRoot);

    /// <summary>The folder holding FleetFunctions.sln.</summary>
    public static string Root => s_root.Value;

    /// <summary>The shared/ folder next to the checkout (design docs, conformance corpus).</summary>
    public static string Shared => Path.GetFullPath(Path.Combine(Root, "..", "shared"));

    /// <summary>The examples/ folder of the checkout.</summary>
    public static string Examples => Path.Combine(Root, "examples");

    /// <summary>The build configuration the tests run in: <c>Release</c> when their own folder says so, else <c>Debug</c>.</summary>
    public static string Configuration => AppContext.BaseDirectory.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug";

    /// <summary>
    /// The output of a project of this checkout built in the configuration the tests run in
    /// (<see cref="Configuration"/>): <paramref name="projectDirectory"/> relative to the root.
    /// </summary>
    public static string BuiltAssembly(string projectDirectory, string fileName) =>
        Path.Combine(Root, projectDirectory, "bin", Configuration, "net10.0", fileName);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "FleetFunctions.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException(
            $"FleetFunctions.sln not found above {AppContext.BaseDirectory}: run tests from a checkout of the repository.");
    }
}
