using System.CommandLine;
using FleetFunctions.Functions.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;

namespace FleetFunctions.Functions.Cli;

/// <summary>
/// <c>fleetfunctions serve</c>: runs the app. Behind the Azure Functions host (<c>FUNCTIONS_CUSTOMHANDLER_PORT</c> set)
/// it is a custom handler; otherwise it runs standalone with its own queue pollers and timers. Settings come from
/// environment variables (<c>FLEETFUNCTIONS_*</c>, <c>AzureWebJobsStorage</c>) and <c>--Key=value</c> arguments.
/// </summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var command = new Command("serve", "Run the app: as an Azure Functions custom handler when FUNCTIONS_CUSTOMHANDLER_PORT is set, standalone otherwise.");
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var configuration = new ConfigurationBuilder()
                .AddEnvironmentVariables()
                .AddCommandLine(parseResult.UnmatchedTokens.ToArray())
                .Build();
            AppOptions options;
            try
            {
                options = AppOptions.From(configuration);
            }
            catch (InvalidOperationException ex)
            {
                await parseResult.InvocationConfiguration.Error.WriteLineAsync(ex.Message);
                return 2;
            }

            // The arguments go to the host too: the timers read their schedules from its configuration.
            await using var app = AppHost.Build(options, args: parseResult.UnmatchedTokens.ToArray());
            await app.RunAsync(cancellationToken);
            return 0;
        });
        return command;
    }
}
