namespace FleetFunctions.Simulator.Apply;

/// <summary>
/// The applied configuration cannot be turned into a field set: an associative-list item lacks a key
/// field, or two items have the same key. <see cref="Exception.Message"/> is worded as
/// structured-merge-diff words it, e.g. <c>.spec.template.spec.containers: duplicate entries for key
/// [name="app"]</c> (several problems: <c>errors:</c> then one indented line each). kube-apiserver answers
/// such an apply with 500 InternalError and the message
/// <c>failed to create typed patch object (namespace/name; apps/v1, Kind=Deployment): </c> + this message.
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
