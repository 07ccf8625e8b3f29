using System.Runtime.InteropServices;
using FleetFunctions.Simulator;

SimulatorCommandLine commandLine;
try
{
    if (args is ["-h" or "--help"])
    {
        Console.WriteLine(SimulatorCommandLine.Usage);
        return 0;
    }

    commandLine = SimulatorCommandLine.Parse(args);
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine($"fleet-simulator: {ex.Message}\n{SimulatorCommandLine.Usage}");
    return 2;
}

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
{
    context.Cancel = true;
    stop.Cancel();
});

await using var simulator = await FleetSimulator.StartAsync(commandLine.Options, stop.Token);
for (var i = 1; i <= commandLine.Clusters; i++)
{
    var cluster = await simulator.AddClusterAsync($"{commandLine.NamePrefix}{i}", stop.Token);
    Console.WriteLine($"cluster {cluster.Name} {cluster.Server.ToString().TrimEnd('/')}");
}

if (commandLine.Kubeconfig is not null)
{
    simulator.WriteKubeconfig(commandLine.Kubeconfig);
    Console.WriteLine($"kubeconfig {Path.GetFullPath(commandLine.Kubeconfig)}");
}

Console.WriteLine($"admin {simulator.AdminUrl.ToString().TrimEnd('/')}");
try
{
    await Task.Delay(Timeout.Infinite, stop.Token);
}
catch (OperationCanceledException)
{
    Console.WriteLine("stopping");
}

return 0;
