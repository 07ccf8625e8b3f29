using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using FleetFunctions.Core.Manifests;

namespace FleetFunctions.Core.Clusters;

/// <summary>LIST of one resource, page by page.</summary>
public sealed partial class ClusterClient
{
    /// <summary>
    /// The objects of <paramref name="resource"/> in namespace <paramref name="ns"/> (every object when the resource
    /// is cluster-scoped), read in pages of <paramref name="pageSize"/> (<c>limit</c>/<c>continue</c>) so that a
    /// caller that consumes each page holds at most one page. Items carry <c>apiVersion</c> and <c>kind</c>
    /// (list items from kube-apiserver omit them). An item is a view of its page and valid only until the
    /// enumeration moves on: read it then, or <see cref="JsonNode.DeepClone"/> it to keep it.
    /// </summary>
    public async IAsyncEnumerable<JsonObject> ListAsync(ResourceInfo resource, string ns, int pageSize = 100, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(resource);
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1);
        var reference = new ObjectReference(resource.Group, resource.Kind, resource.Namespaced ? ns : string.Empty, "*");
        var path = CollectionPath(resource, ns);
        string? next = null;
        do
        {
            var query = string.Create(CultureInfo.InvariantCulture, $"?limit={pageSize}") + (next is null ? string.Empty : $"&continue={Uri.EscapeDataString(next)}");
            // The page stays a compact JsonDocument; items are lazy views of it, materialised only where read.
            using var response = await SendAsync(HttpMethod.Get, path + query, null, reference, cancellationToken);
            await EnsureSuccessAsync(response, reference, cancellationToken);
            using var page = await ReadDocumentAsync(response, reference, cancellationToken);
            next = page.RootElement.TryGetProperty("metadata", out var metadata) && metadata.TryGetProperty("continue", out var token)
                && token.ValueKind == JsonValueKind.String && token.GetString() is { Length: > 0 } continueToken ? continueToken : null;
            if (!page.RootElement.TryGetProperty("items", out var items) || items.ValueKind != JsonValueKind.Array)
            {
                continue;
            }

            foreach (var element in items.EnumerateArray())
            {
                if (element.ValueKind != JsonValueKind.Object || JsonObject.Create(element) is not { } item)
                {
                    continue;
                }

                item["apiVersion"] ??= resource.ApiVersion;
                item["kind"] ??= resource.Kind;
                yield return item;
            }
        }
        while (next is not null);
    }

    internal static string CollectionPath(ResourceInfo resource, string ns)
    {
        var prefix = resource.Group.Length == 0 ? $"/api/{resource.Version}" : $"/apis/{resource.Group}/{resource.Version}";
        var scope = resource.Namespaced ? $"/namespaces/{Uri.EscapeDataString(ns)}" : string.Empty;
        return $"{prefix}{scope}/{resource.Plural}";
    }
}
