namespace FleetFunctions.Core.Manifests;

/// <summary>
/// Rendered manifests are unusable: malformed YAML, an object without apiVersion, kind or name, or a
/// duplicate object. <see cref="Errors"/> lists every problem, each starting with <c>path:line</c>.
/// Terminal: the commit must be fixed in Git.
/// </summary>
public sealed class ManifestException : Exception
{
    public ManifestException(IReadOnlyList<string> errors)
        : base(string.Join(Environment.NewLine, errors))
    {
        Errors = errors;
    }

    public ManifestException(string error)
        : this([error])
    {
    }

    public ManifestException()
        : this("invalid manifests")
    {
    }

    public ManifestException(string message, Exception innerException)
        : base(message, innerException)
    {
        Errors = [message];
    }

    public IReadOnlyList<string> Errors { get; }
}
