using System.CommandLine;

namespace FleetFunctions.Functions.Cli;

/// <summary>Placeholder replaced below.</summary>
internal static class PolicyCheckCommand
{
    public static Command Create() => new("check", "Check manifests against policies.");
}
