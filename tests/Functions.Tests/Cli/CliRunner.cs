using System.CommandLine;

namespace FleetFunctions.Functions.Tests.Cli;

/// <summary>Runs verbs of the executable in process, with their standard output and error captured.</summary>
internal static class CliRunner
{
    public static async Task<(int Exit, string Output, string Error)> RunAsync(Command verb, params string[] args)
    {
        var root = new RootCommand("test");
        root.Subcommands.Add(verb);
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = await root.Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
        return (exit, output.ToString(), error.ToString());
    }
}
