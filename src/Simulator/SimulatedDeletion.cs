namespace FleetFunctions.Simulator;

/// <summary>One client DELETE request: the object it named and its propagationPolicy (null when the client sent none).</summary>
public sealed record SimulatedDeletion(string ApiVersion, string Kind, string Namespace, string Name, string? PropagationPolicy);
