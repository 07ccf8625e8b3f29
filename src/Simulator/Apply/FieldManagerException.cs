namespace FleetFunctions.Simulator.Apply;

/// <summary>
/// The object cannot be merged: an associative-list item lacks a key field, or an applied configuration
/// has two items with the same key. The API server answers such requests with 400 Bad Request;
/// <see cref="Exception.Message"/> names the field path (for example <c>.spec.containers: duplicate entries
/// for key [name="app"]</c>).
/// </summary>
internal sealed class FieldManagerException : Exception
{
    public FieldManagerException()
    {
    }

    public FieldManagerException(string message)
        : base(message)
    {
    }

    public FieldManagerException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
