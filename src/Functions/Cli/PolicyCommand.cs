using System.CommandLine;

namespace FleetFunctions.Functions.Cli;

/// <summary><c>fleetfunctions policy</c>: the Kyverno-compatible policy engine's verbs (<c>test</c>, <c>check</c>).</summary>
internal static class PolicyCommand
{
    public static Command Create()
    {
        var command = new Command("policy", "Kyverno-compatible policy checks: run kyverno-test.yaml suites, check manifests in CI.");
        command.Subcommands.Add(PolicyTestCommand.Create());
        command.Subcommands.Add(PolicyCheckCommand.Create());
        return command;
    }
}
