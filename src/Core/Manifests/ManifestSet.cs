namespace FleetFunctions.Core.Manifests;

/// <summary>
/// The validated desired state of one (commit, path): every object has apiVersion, kind and
/// metadata.name, and no (group, kind, namespace, name) appears twice. Immutable.
/// </summary>
public sealed class ManifestSet
{
    private readonly Dictionary<ObjectReference, ManifestObject> _byReference;

    private ManifestSet(IReadOnlyList<ManifestObject> objects, Dictionary<ObjectReference, ManifestObject> byReference)
    {
        Objects = objects;
        _byReference = byReference;
    }

    public IReadOnlyList<ManifestObject> Objects { get; }

    public int Count => Objects.Count;

    /// <summary>Validates <paramref name="objects"/>, collecting every problem before failing.</summary>
    /// <exception cref="ManifestException">Missing identity fields or duplicates; each error names the file(s).</exception>
    public static ManifestSet Create(IEnumerable<ManifestObject> objects)
    {
        var list = objects.ToList();
        var errors = new List<string>();
        var index = new Dictionary<ObjectReference, ManifestObject>();
        foreach (var obj in list)
        {
            var missing = new List<string>();
            if (obj.ApiVersion.Length == 0)
            {
                missing.Add("apiVersion");
            }

            if (obj.Kind.Length == 0)
            {
                missing.Add("kind");
            }

            if (obj.Name.Length == 0)
            {
                missing.Add("metadata.name");
            }

            if (missing.Count > 0)
            {
                errors.Add($"{obj.Location}: object {Describe(obj)} has no {string.Join(", ", missing)}; every Kubernetes object needs apiVersion, kind and metadata.name.");
                continue;
            }

            if (index.TryGetValue(obj.Reference, out var first))
            {
                errors.Add($"{obj.Location}: {obj.Reference} (group '{obj.Group}') is also defined in {first.Location}; remove one of the two definitions.");
                continue;
            }

            index[obj.Reference] = obj;
        }

        if (errors.Count > 0)
        {
            throw new ManifestException(errors);
        }

        return new ManifestSet(list, index);
    }

    /// <summary>The object with this identity, or null.</summary>
    public ManifestObject? Find(ObjectReference reference) => _byReference.GetValueOrDefault(reference);

    private static string Describe(ManifestObject obj) =>
        obj.Kind.Length > 0 || obj.Name.Length > 0 ? $"'{obj.Kind}/{obj.Name}'" : "(unnamed)";
}
