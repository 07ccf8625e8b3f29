using System.Collections.Frozen;
using System.Text.Json.Nodes;

namespace FleetFunctions.Simulator.Resources;

/// <summary>
/// The resources one cluster serves: the built-in table plus the versions of every established CRD.
/// Readers see an immutable snapshot; CRD writes (under the cluster lock) publish a new one.
/// </summary>
internal sealed class ResourceRegistry
{
    private Snapshot _current;
    private readonly Dictionary<string, IReadOnlyList<ResourceType>> _custom = new(StringComparer.Ordinal);

    public ResourceRegistry() => _current = Snapshot.Build(BuiltInResources.All);

    /// <summary>The current set of resources.</summary>
    public Snapshot Current => Volatile.Read(ref _current);

    /// <summary>Registers (or replaces) the served versions of a CRD. Call under the cluster lock.</summary>
    public void SetCustomResource(string crdName, IReadOnlyList<ResourceType> versions)
    {
        _custom[crdName] = versions;
        Publish();
    }

    /// <summary>Removes a CRD's resources. Call under the cluster lock.</summary>
    public void RemoveCustomResource(string crdName)
    {
        if (_custom.Remove(crdName))
        {
            Publish();
        }
    }

    /// <summary>Drops every custom resource (after a wipe). Call under the cluster lock.</summary>
    public void Reset()
    {
        _custom.Clear();
        Publish();
    }

    private void Publish() =>
        Volatile.Write(ref _current, Snapshot.Build(BuiltInResources.All.Concat(_custom.Values.SelectMany(v => v))));

    /// <summary>
    /// Reads the served versions out of a CRD object. Returns the error text when the CRD is not acceptable.
    /// </summary>
    public static (IReadOnlyList<ResourceType> Versions, string? Error) FromCrd(JsonObject crd)
    {
        var name = crd["metadata"]?["name"]?.GetValue<string>() ?? "";
        var spec = crd["spec"] as JsonObject;
        var group = spec?["group"]?.GetValue<string>();
        var names = spec?["names"] as JsonObject;
        var plural = names?["plural"]?.GetValue<string>();
        var kind = names?["kind"]?.GetValue<string>();
        var scope = spec?["scope"]?.GetValue<string>();
        if (string.IsNullOrEmpty(group) || string.IsNullOrEmpty(plural) || string.IsNullOrEmpty(kind))
        {
            return ([], "spec.group, spec.names.plural and spec.names.kind are required");
        }

        if (name != $"{plural}.{group}")
        {
            return ([], $"metadata.name: Invalid value: \"{name}\": must be spec.names.plural+\".\"+spec.group");
        }

        if (scope is not ("Namespaced" or "Cluster"))
        {
            return ([], $"spec.scope: Unsupported value: \"{scope}\": supported values: \"Cluster\", \"Namespaced\"");
        }

        var shortNames = (names!["shortNames"] as JsonArray)?.Select(n => n!.GetValue<string>()).ToArray();
        var categories = (names["categories"] as JsonArray)?.Select(n => n!.GetValue<string>()).ToArray();
        var versions = new List<ResourceType>();
        foreach (var version in spec!["versions"] as JsonArray ?? [])
        {
            if (version is not JsonObject v || v["name"]?.GetValue<string>() is not { Length: > 0 } versionName)
            {
                return ([], "spec.versions[].name is required");
            }

            if (v["served"]?.GetValue<bool>() == false)
            {
                continue;
            }

            var hasStatus = v["subresources"]?["status"] is not null;
            versions.Add(new ResourceType(group, versionName, kind, plural, scope == "Namespaced", hasStatus, shortNames, categories));
        }

        return versions.Count == 0 ? ([], "spec.versions must contain at least one served version") : (versions, null);
    }

    /// <summary>An immutable view: lookups by path (group, version, plural) and by (apiVersion, kind).</summary>
    internal sealed class Snapshot
    {
        private readonly FrozenDictionary<(string Group, string Version, string Plural), ResourceType> _byPlural;
        private readonly FrozenDictionary<(string ApiVersion, string Kind), ResourceType> _byKind;

        private Snapshot(IReadOnlyList<ResourceType> all)
        {
            All = all;
            _byPlural = all.DistinctBy(t => (t.Group, t.Version, t.Plural)).ToFrozenDictionary(t => (t.Group, t.Version, t.Plural));
            _byKind = all.DistinctBy(t => (t.ApiVersion, t.Kind)).ToFrozenDictionary(t => (t.ApiVersion, t.Kind));
            GroupVersions = all.GroupBy(t => t.Group)
                .Select(g => (Group: g.Key, Versions: (IReadOnlyList<string>)g.Select(t => t.Version).Distinct().ToList()))
                .ToList();
        }

        public IReadOnlyList<ResourceType> All { get; }

        /// <summary>Each group with its versions, in registration order (preferred version first).</summary>
        public IReadOnlyList<(string Group, IReadOnlyList<string> Versions)> GroupVersions { get; }

        public static Snapshot Build(IEnumerable<ResourceType> types) => new(types.ToList());

        public ResourceType? Find(string group, string version, string plural) =>
            _byPlural.GetValueOrDefault((group, version, plural));

        public ResourceType? FindKind(string apiVersion, string kind) => _byKind.GetValueOrDefault((apiVersion, kind));

        public bool HasGroupVersion(string group, string version) =>
            GroupVersions.Any(g => g.Group == group && g.Versions.Contains(version));
    }
}
