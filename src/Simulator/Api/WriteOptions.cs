namespace FleetFunctions.Simulator.Api;

/// <summary>Per-request write settings: the field manager, <c>dryRun=All</c> and <c>force</c> (apply only).</summary>
internal sealed record WriteOptions(string Manager, bool DryRun = false, bool Force = false);

/// <summary>What a write did: the resulting object, and whether it was created and whether anything changed.</summary>
internal sealed record WriteResult(Store.StoredObject Object, bool Created, bool Changed);
