using FleetFunctions.Functions.Cli;

return await CommandLineApp.RunAsync(args);
