using FleetFunctions.Orchestrations.Engine;
using FleetFunctions.Orchestrations.Engine.Worker;
using FleetFunctions.Orchestrations.TestWorker;

// usage: FleetFunctions.Orchestrations.TestWorker CONNECTION_STRING HUB_NAME [--duplicate]
// Runs a worker for the fault workload until stdin closes or the process is killed.
if (args.Length < 2)
{
    Console.Error.WriteLine("usage: FleetFunctions.Orchestrations.TestWorker CONNECTION_STRING HUB_NAME [--duplicate]");
    return 2;
}

var hub = new DurableTaskHub(FaultWorkload.Options(args[0], args[1], args.Contains("--duplicate")));
var worker = new DurableWorker(hub, FaultWorkload.Register(new DurableTaskRegistry()), new DurableWorkerOptions { OutboxSweepInterval = TimeSpan.FromSeconds(2) });
await worker.StartAsync();
Console.WriteLine("worker started");
await Console.In.ReadToEndAsync();
await worker.DisposeAsync();
return 0;
