namespace FleetFunctions.Core.Apply;

/// <summary>Options of one apply (per fleet).</summary>
public sealed record ApplyOptions
{
    /// <summary>Take ownership of fields other managers own (server-side apply force).</summary>
    public bool Force { get; init; }

    /// <summary>Delete and recreate an object whose immutable field changed (e.g. a Deployment selector).</summary>
    public bool Recreate { get; init; }

    /// <summary>Objects applied in parallel within a stage.</summary>
    public int Concurrency { get; init; } = 8;

    /// <summary>How long to wait for CRDs to become Established before applying their custom resources.</summary>
    public TimeSpan CrdEstablishedTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long to wait for an object being recreated, or deleted on the cluster while Git still has it, to disappear.</summary>
    public TimeSpan RecreateTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>The staged order (<see cref="ApplyStages.Default"/>).</summary>
    public IReadOnlyList<ApplyStage> Stages { get; init; } = ApplyStages.Default;

    public ApplyOptions Validate()
    {
        if (Concurrency < 1)
        {
            throw new ArgumentException("ApplyOptions.Concurrency must be at least 1.");
        }

        if (CrdEstablishedTimeout <= TimeSpan.Zero || RecreateTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException("ApplyOptions timeouts must be positive.");
        }

        if (Stages.Count == 0 || Stages[^1].Kinds.Count != 0)
        {
            throw new ArgumentException("ApplyOptions.Stages must end with a catch-all stage (no kinds).");
        }

        return this;
    }
}
