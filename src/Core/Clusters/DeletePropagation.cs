namespace FleetFunctions.Core.Clusters;

/// <summary>What happens to the dependents of a deleted object (DeleteOptions <c>propagationPolicy</c>).</summary>
public enum DeletePropagation
{
    /// <summary>The object goes at once; the garbage collector deletes its dependents afterwards.</summary>
    Background,

    /// <summary>The object goes; its dependents stay, without owner (a new owner with a matching selector adopts them).</summary>
    Orphan,

    /// <summary>The object stays (marked) until the garbage collector has deleted its blocking dependents.</summary>
    Foreground,
}
