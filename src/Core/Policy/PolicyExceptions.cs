namespace FleetFunctions.Core.Policy;

/// <summary>A policy file cannot be loaded; the message starts with <c>path:line</c>.</summary>
public sealed class PolicyLoadException : Exception
{
    public PolicyLoadException(string message)
        : base(message)
    {
    }

    public PolicyLoadException(string message, Exception inner)
        : base(message, inner)
    {
    }
}

/// <summary>A rule could not be evaluated (bad JMESPath, missing context value); the rule reports <c>error</c>.</summary>
public sealed class PolicyEvaluationException : Exception
{
    public PolicyEvaluationException(string message)
        : base(message)
    {
    }

    public PolicyEvaluationException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
