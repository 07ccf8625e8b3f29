namespace FleetFunctions.Core.Manifests;

/// <summary>
/// Identifies one Kubernetes object: (group, kind, namespace, name). The version is not part of the
/// identity (the same object is served under several versions). <see cref="Namespace"/> is empty for
/// cluster-scoped objects.
/// </summary>
public readonly record struct ObjectReference(string Group, string Kind, string Namespace, string Name)
{
    /// <summary><c>Kind/namespace/name</c>, or <c>Kind/name</c> for cluster-scoped objects.</summary>
    public override string ToString() =>
        Namespace.Length == 0 ? $"{Kind}/{Name}" : $"{Kind}/{Namespace}/{Name}";

    /// <summary><c>cluster/Kind/namespace/name</c>: the prefix of every error about this object on a cluster.</summary>
    public string On(string cluster) => $"{cluster}/{this}";

    /// <summary>A stable key, unique per object: <c>group|Kind|namespace|name</c>.</summary>
    public string Key => $"{Group}|{Kind}|{Namespace}|{Name}";

    /// <summary>Parses <see cref="Key"/>.</summary>
    public static ObjectReference FromKey(string key)
    {
        var parts = key.Split('|');
        if (parts.Length != 4)
        {
            throw new FormatException($"'{key}' is not an object key (group|Kind|namespace|name).");
        }

        return new ObjectReference(parts[0], parts[1], parts[2], parts[3]);
    }

    /// <summary>Splits an apiVersion into group and version (<c>v1</c> → ("", "v1")).</summary>
    public static (string Group, string Version) SplitApiVersion(string apiVersion)
    {
        var slash = apiVersion.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? (string.Empty, apiVersion) : (apiVersion[..slash], apiVersion[(slash + 1)..]);
    }
}
