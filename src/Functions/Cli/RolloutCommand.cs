using System.CommandLine;

namespace FleetFunctions.Functions.Cli;

/// <summary><c>fleetfunctions rollout</c>: verbs that talk to a running app about its rollouts (<c>watch</c>, <c>list</c>, <c>approve</c>, <c>abort</c>).</summary>
internal static class RolloutCommand
{
    public static Command Create()
    {
        var command = new Command("rollout", "Follow, list and decide rollouts of a running app (standalone or deployed) through its status API.");
        command.Subcommands.Add(RolloutWatchCommand.Create());
        command.Subcommands.Add(RolloutListCommand.Create());
        command.Subcommands.Add(RolloutDecisionCommand.Create("approve"));
        command.Subcommands.Add(RolloutDecisionCommand.Create("abort"));
        return command;
    }
}
