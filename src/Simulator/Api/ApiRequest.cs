namespace FleetFunctions.Simulator.Api;

/// <summary>
/// A resource path parsed: <c>/api/v1[/watch][/namespaces/{ns}]/{plural}[/{name}[/{subresource}]]</c> or the
/// same under <c>/apis/{group}/{version}</c>.
/// </summary>
internal sealed record ApiRequest(string Group, string Version, string? Namespace, string Plural, string? Name, string? Subresource, bool WatchPath)
{
    /// <summary>Parses the path segments after the group/version prefix; null when they name no resource.</summary>
    public static ApiRequest? Parse(string group, string version, ReadOnlySpan<string> rest)
    {
        var watch = false;
        if (rest.Length > 0 && rest[0] == "watch")
        {
            watch = true;
            rest = rest[1..];
        }

        string? ns = null;
        if (rest.Length >= 3 && rest[0] == "namespaces" && rest[2] is not ("status" or "finalize"))
        {
            ns = rest[1];
            rest = rest[2..];
        }

        return rest.Length switch
        {
            1 => new ApiRequest(group, version, ns, rest[0], null, null, watch),
            2 => new ApiRequest(group, version, ns, rest[0], rest[1], null, watch),
            3 => new ApiRequest(group, version, ns, rest[0], rest[1], rest[2], watch),
            _ => null,
        };
    }
}
