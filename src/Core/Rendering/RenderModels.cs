using FleetFunctions.Core.Manifests;

namespace FleetFunctions.Core.Rendering;

/// <summary>How a path was rendered.</summary>
public enum RenderEngine
{
    /// <summary>Plain YAML files, read recursively.</summary>
    Plain,

    /// <summary>A kustomization built with kustomize.</summary>
    Kustomize,
}

/// <summary>The desired objects of one (commit, path).</summary>
public sealed record RenderResult(string Commit, string Path, RenderEngine Engine, ManifestSet Manifests, bool FromCache);

/// <summary>
/// A path could not be rendered (kustomize failed, Helm chart, missing folder). Terminal for the commit:
/// nothing is applied anywhere.
/// </summary>
public sealed class RenderException : Exception
{
    public RenderException(string message)
        : base(message)
    {
    }

    public RenderException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public RenderException()
    {
    }
}
