using System.CommandLine;

namespace FleetFunctions.Functions.Cli;

/// <summary>
/// The executable's verbs. Each verb lives in its own file and contributes a <see cref="Command"/>;
/// the host (custom handler or standalone) is one of them.
/// </summary>
internal static class CommandLineApp
{
    public static async Task<int> RunAsync(string[] args)
    {
        var root = new RootCommand("FleetFunctions: a GitOps controller for fleets of Kubernetes clusters.");
        root.Subcommands.Add(VersionCommand.Create());
        root.Subcommands.Add(ServeCommand.Create());
        root.Subcommands.Add(PolicyCommand.Create());
        root.Subcommands.Add(RolloutCommand.Create());
        root.Subcommands.Add(SealingKeyCommand.Create());
        root.Subcommands.Add(SealCommand.Create());
        return await root.Parse(args).InvokeAsync();
    }
}
