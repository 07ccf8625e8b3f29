using System.CommandLine;

namespace FleetFunctions.Functions.Cli;

/// <summary><c>fleetfunctions rollout</c>: verbs that talk to a running app about its rollouts (<c>watch</c>).</summary>
internal static class RolloutCommand
{
    public static Command Create()
    {
        var command = new Command("rollout", "Follow rollouts of a running app (standalone or deployed) through its status API.");
        command.Subcommands.Add(RolloutWatchCommand.Create());
        return command;
    }
}
