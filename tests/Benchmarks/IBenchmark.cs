namespace FleetFunctions.Benchmarks;

/// <summary>
/// One benchmark, run as <c>dotnet run -c Release --project tests/Benchmarks -- NAME [options]</c>.
/// Implementations are discovered by reflection, so adding one means adding one file.
/// </summary>
internal interface IBenchmark
{
    /// <summary>Short name used on the command line, e.g. <c>simulator</c>.</summary>
    string Name { get; }

    /// <summary>One line saying what is measured and against which target.</summary>
    string Description { get; }

    /// <summary>Runs the benchmark, printing its report to standard output; returns the process exit code.</summary>
    Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken cancellationToken);
}
