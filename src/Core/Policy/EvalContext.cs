using System.Text.Json.Nodes;

namespace FleetFunctions.Core.Policy;

/// <summary>
/// The variables JMESPath queries see (<c>request.object</c>, <c>request.operation</c>, <c>images</c>, context
/// entries, <c>element</c>...). The resource is read in place, never copied. <c>images</c> is computed on first use.
/// Scoped additions are undone with <see cref="Checkpoint"/>/<see cref="Restore"/>. Not thread-safe: one per evaluation.
/// </summary>
internal sealed class EvalContext : IJmesScope
{
    private readonly JsonObject _resource;
    private readonly PolicyContext _policyContext;
    private readonly Dictionary<string, object?> _vars = new(StringComparer.Ordinal);
    private readonly List<(Dictionary<string, object?> Map, string Key, bool Had, object? Previous)> _undo = [];
    private bool _imagesLoaded;

    public EvalContext(JsonObject resource, PolicyContext policyContext)
    {
        _resource = resource;
        _policyContext = policyContext;
        Operation = policyContext.Operation.ToString().ToUpperInvariant();
        if (policyContext.Values.TryGetValue("request.operation", out var op) && JsonUtil.AsString(op) is { } text)
        {
            Operation = text.ToUpperInvariant();
        }

        OldResource = policyContext.OldResource ?? (Operation is "UPDATE" or "DELETE" ? resource : null);
        _vars["request"] = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["operation"] = Operation,
            ["object"] = IsDelete ? null : resource,
            ["oldObject"] = OldResource,
            ["namespace"] = JsonUtil.GetString(resource, "metadata", "namespace") ?? "",
            ["userInfo"] = new Dictionary<string, object?>(StringComparer.Ordinal) { ["username"] = policyContext.UserName ?? "", ["groups"] = new List<object?>() },
            ["roles"] = policyContext.Roles.Select(r => (object?)r).ToList(),
            ["clusterRoles"] = policyContext.ClusterRoles.Select(r => (object?)r).ToList(),
        };
        _vars["serviceAccountName"] = ServiceAccountPart(policyContext.UserName, 3);
        _vars["serviceAccountNamespace"] = ServiceAccountPart(policyContext.UserName, 2);
        foreach (var (name, value) in policyContext.Values)
        {
            SetPath(name, JmesValue.FromNode(value), record: false);
        }
    }

    public string Operation { get; }

    public bool IsDelete => Operation == "DELETE";

    public PolicyContext PolicyContext => _policyContext;

    public JsonObject Resource => _resource;

    /// <summary><c>request.oldObject</c>: the previous object of an UPDATE (the object itself unless given), the object of a DELETE.</summary>
    public JsonObject? OldResource { get; }

    /// <summary>The resource as CEL values, converted once per validation however many CEL rules read it.</summary>
    internal object? CelResource => _celResource ??= CelRule.ToCel(_resource);

    private object? _celResource;

    public bool TryLookup(string name, out object? value)
    {
        if (name == "images" && !_imagesLoaded && !_vars.ContainsKey("images"))
        {
            _imagesLoaded = true;
            _vars["images"] = ImageInfo.Extract(_resource);
        }

        return _vars.TryGetValue(name, out value);
    }

    public object? Snapshot()
    {
        TryLookup("images", out _);
        return _vars;
    }

    private static string ServiceAccountPart(string? user, int index)
    {
        const string prefix = "system:serviceaccount:";
        if (user is null || !user.StartsWith(prefix, StringComparison.Ordinal))
        {
            return "";
        }

        var parts = user.Split(':');
        return parts.Length > index ? parts[index] : "";
    }

    /// <summary>Position to return to with <see cref="Restore"/>.</summary>
    public int Checkpoint() => _undo.Count;

    /// <summary>Undoes every <see cref="Set"/> made after <paramref name="checkpoint"/>.</summary>
    public void Restore(int checkpoint)
    {
        for (var i = _undo.Count - 1; i >= checkpoint; i--)
        {
            var (map, key, had, previous) = _undo[i];
            if (had)
            {
                map[key] = previous;
            }
            else
            {
                map.Remove(key);
            }
        }

        _undo.RemoveRange(checkpoint, _undo.Count - checkpoint);
    }

    /// <summary>Adds a variable (dotted names create nested objects); the value is read, never copied.</summary>
    public void Set(string name, object? value) => SetPath(name, value, record: true);

    /// <summary>True when a variable (or a dotted prefix of one) was supplied by the caller's values.</summary>
    public bool HasSuppliedValue(string name) =>
        _policyContext.Values.Keys.Any(k => k == name || k.StartsWith(name + ".", StringComparison.Ordinal));

    private void SetPath(string name, object? value, bool record)
    {
        var parts = name.Split('.');
        var current = _vars;
        for (var i = 0; i < parts.Length - 1; i++)
        {
            var had = current.TryGetValue(parts[i], out var existing);
            if (existing is not Dictionary<string, object?> next)
            {
                next = new Dictionary<string, object?>(StringComparer.Ordinal);
                foreach (var (k, v) in JmesValue.Properties(existing))
                {
                    next[k] = v;
                }

                if (record)
                {
                    _undo.Add((current, parts[i], had, existing));
                }

                current[parts[i]] = next;
            }

            current = next;
        }

        var last = parts[^1];
        if (record)
        {
            _undo.Add((current, last, current.TryGetValue(last, out var previous), previous));
        }

        current[last] = value;
    }

    /// <summary>Evaluates a compiled query against the context.</summary>
    public object? Query(JmesQuery query) => query.Evaluate(this);

    /// <summary>Parses (cached) and evaluates <paramref name="expression"/>.</summary>
    public object? Query(string expression) => Jmes.Parse(expression).Evaluate(this);
}
