namespace FleetFunctions.Core.Fleet;

/// <summary>One problem in a platform resource: where it is and what to do about it.</summary>
/// <param name="File">Path of the file inside the platform repository.</param>
/// <param name="Line">1-based line of the offending node (0 when unknown).</param>
/// <param name="Field">Dotted path of the field, e.g. <c>spec.rollout.canary.analysis.interval</c>.</param>
/// <param name="Message">What is wrong and how to fix it.</param>
public sealed record ResourceError(string File, int Line, string Field, string Message)
{
    public override string ToString() =>
        Field.Length == 0 ? $"{File}:{Line}: {Message}" : $"{File}:{Line}: {Field}: {Message}";
}

/// <summary>The platform repository holds invalid resources; <see cref="Errors"/> lists every one found.</summary>
public sealed class ResourceValidationException : Exception
{
    public ResourceValidationException(IReadOnlyList<ResourceError> errors)
        : base(Format(errors))
    {
        Errors = errors;
    }

    public IReadOnlyList<ResourceError> Errors { get; }

    private static string Format(IReadOnlyList<ResourceError> errors) =>
        errors.Count == 1
            ? $"invalid platform resource: {errors[0]}"
            : $"{errors.Count} invalid platform resources:{Environment.NewLine}  " + string.Join(Environment.NewLine + "  ", errors);
}
