using System.CommandLine;
using System.Reflection;

namespace FleetFunctions.Functions.Cli;

/// <summary><c>fleetfunctions version</c>: prints the informational version of the executable.</summary>
internal static class VersionCommand
{
    public static Command Create()
    {
        var command = new Command("version", "Print the version of this executable.");
        command.SetAction(parseResult =>
        {
            var version = typeof(VersionCommand).Assembly
                .GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
            parseResult.InvocationConfiguration.Output.WriteLine(version);
            return 0;
        });
        return command;
    }
}
