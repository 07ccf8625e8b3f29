using System.Net;
using System.Text.Json.Nodes;
using FleetFunctions.Core.Manifests;

namespace FleetFunctions.Core.Clusters;

public sealed partial class ClusterClient
{
    /// <summary>
    /// How the cluster serves <paramref name="apiVersion"/>/<paramref name="kind"/>. Discovery is loaded per
    /// group-version on first use and reloaded once when a kind is missing (a CRD that was just created).
    /// </summary>
    /// <exception cref="UnknownKindException">The cluster does not serve that kind.</exception>
    public async Task<ResourceInfo> ResolveAsync(string apiVersion, string kind, ObjectReference? target = null, CancellationToken cancellationToken = default)
    {
        for (var attempt = 0; attempt < 2; attempt++)
        {
            var task = _discovery.GetOrAdd(apiVersion, gv => LoadGroupVersionAsync(gv, cancellationToken));
            IReadOnlyDictionary<string, ResourceInfo>? resources;
            try
            {
                resources = await task;
            }
            catch
            {
                _discovery.TryRemove(new KeyValuePair<string, Task<IReadOnlyDictionary<string, ResourceInfo>?>>(apiVersion, task));
                throw;
            }

            if (resources is not null && resources.TryGetValue(kind, out var info))
            {
                return info;
            }

            _discovery.TryRemove(new KeyValuePair<string, Task<IReadOnlyDictionary<string, ResourceInfo>?>>(apiVersion, task));
        }

        var subject = target is { } t ? t.On(Name) : $"{Name}/{kind}";
        throw new UnknownKindException(
            $"{subject}: the cluster does not serve {apiVersion} {kind}; install its CustomResourceDefinition first (in this fleet or in a fleet this one dependsOn).",
            Name, target);
    }

    /// <summary>Checks that the API server answers (<c>GET /version</c>).</summary>
    /// <exception cref="ClusterUnreachableException">It does not.</exception>
    public async Task ProbeAsync(CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(HttpMethod.Get, "/version", null, null, cancellationToken);
        await EnsureSuccessAsync(response, null, cancellationToken);
    }

    /// <summary>Forgets discovery results (after CRDs changed).</summary>
    public void InvalidateDiscovery() => _discovery.Clear();

    private async Task<IReadOnlyDictionary<string, ResourceInfo>?> LoadGroupVersionAsync(string apiVersion, CancellationToken cancellationToken)
    {
        var (group, version) = ObjectReference.SplitApiVersion(apiVersion);
        var path = group.Length == 0 ? $"/api/{version}" : $"/apis/{group}/{version}";
        using var response = await SendAsync(HttpMethod.Get, path, null, null, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        await EnsureSuccessAsync(response, null, cancellationToken);
        var list = await ReadNodeAsync(response, null, cancellationToken) as JsonObject;
        var result = new Dictionary<string, ResourceInfo>(StringComparer.Ordinal);
        foreach (var item in list?["resources"] as JsonArray ?? [])
        {
            if (item is not JsonObject resource || resource.GetString("name") is not { } plural || plural.Contains('/', StringComparison.Ordinal))
            {
                continue;
            }

            var kind = resource.GetString("kind") ?? string.Empty;
            var namespaced = resource["namespaced"] is JsonValue v && v.TryGetValue(out bool b) && b;
            result.TryAdd(kind, new ResourceInfo(group, version, kind, plural, namespaced));
        }

        return result;
    }
}
