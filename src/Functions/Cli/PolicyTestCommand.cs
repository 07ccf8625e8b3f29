using System.CommandLine;
using FleetFunctions.Core.Policy.Testing;

namespace FleetFunctions.Functions.Cli;

/// <summary>
/// <c>fleetfunctions policy test DIR</c>: like <c>kyverno test</c>, finds every <c>kyverno-test.yaml</c> under DIR,
/// runs it and prints a table per test. Exit code 0 when every expectation holds, 1 otherwise.
/// </summary>
internal static class PolicyTestCommand
{
    public static Command Create()
    {
        var dir = new Argument<string>("dir") { Description = "Folder searched recursively for kyverno-test.yaml files (or one test file)." };
        var failOnly = new Option<bool>("--fail-only") { Description = "Print only the rows that failed." };
        var command = new Command("test", "Run Kyverno CLI test files (kyverno-test.yaml) against the engine; exit 1 on any mismatch.");
        command.Arguments.Add(dir);
        command.Options.Add(failOnly);
        command.SetAction(parseResult =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            var path = parseResult.GetValue(dir)!;
            IReadOnlyList<string> files;
            try
            {
                files = KyvernoTestCase.Discover(path);
            }
            catch (DirectoryNotFoundException ex)
            {
                error.WriteLine(ex.Message);
                return 2;
            }

            if (files.Count == 0)
            {
                error.WriteLine($"{path}: no kyverno-test.yaml found; point at a folder that holds Kyverno CLI tests.");
                return 2;
            }

            var failedCases = 0;
            var rows = 0;
            var failedRows = 0;
            foreach (var file in files)
            {
                var result = KyvernoTestRunner.Run(file);
                output.Write(KyvernoTestRunner.FormatTable(result, parseResult.GetValue(failOnly)));
                output.WriteLine();
                rows += result.Rows.Count;
                failedRows += result.Rows.Count(r => !r.Ok);
                if (!result.Passed)
                {
                    failedCases++;
                }
            }

            output.WriteLine($"{files.Count - failedCases}/{files.Count} test files passed, {rows - failedRows}/{rows} results as expected.");
            return failedCases == 0 ? 0 : 1;
        });
        return command;
    }
}
