using System.Text.Json.Nodes;
using DevLab.JmesPath.Expressions;
using Newtonsoft.Json.Linq;

namespace FleetFunctions.Core.Policy;

/// <summary>
/// The JSON context variables are resolved against (<c>request.object</c>, <c>request.operation</c>,
/// <c>images</c>, context entries, <c>element</c>...), built lazily on the first JMESPath query so that
/// pattern-only rules never pay for it. Scoped additions are undone with <see cref="Checkpoint"/>/<see cref="Restore"/>.
/// Not thread-safe: one per evaluation.
/// </summary>
internal sealed class EvalContext
{
    private readonly JsonObject _resource;
    private readonly PolicyContext _policyContext;
    private readonly List<(JObject Parent, string Key, JToken? Previous)> _undo = [];
    private readonly List<(string Name, JToken Value)> _pending = [];
    private readonly List<int> _pendingUndoStart = [];
    private JObject? _root;

    public EvalContext(JsonObject resource, PolicyContext policyContext)
    {
        _resource = resource;
        _policyContext = policyContext;
        Operation = policyContext.Operation.ToString().ToUpperInvariant();
        if (policyContext.Values.TryGetValue("request.operation", out var op) && JsonUtil.AsString(op) is { } text)
        {
            Operation = text.ToUpperInvariant();
        }
    }

    public string Operation { get; }

    public bool IsDelete => Operation == "DELETE";

    public PolicyContext PolicyContext => _policyContext;

    public JsonObject Resource => _resource;

    private JObject Root => _root ??= Build();

    private JObject Build()
    {
        var resourceToken = (JObject)JsonBridge.ToToken(_resource);
        var request = new JObject
        {
            ["operation"] = Operation,
            ["object"] = IsDelete ? JValue.CreateNull() : resourceToken,
            ["namespace"] = JsonUtil.GetString(_resource, "metadata", "namespace") ?? "",
            ["userInfo"] = new JObject { ["username"] = _policyContext.UserName ?? "", ["groups"] = new JArray() },
            ["roles"] = new JArray(_policyContext.Roles.ToArray()),
            ["clusterRoles"] = new JArray(_policyContext.ClusterRoles.ToArray()),
        };
        if (_policyContext.OldResource is not null)
        {
            request["oldObject"] = JsonBridge.ToToken(_policyContext.OldResource);
        }
        else if (Operation is "UPDATE" or "DELETE")
        {
            request["oldObject"] = resourceToken.DeepClone();
        }
        else
        {
            request["oldObject"] = JValue.CreateNull();
        }

        var root = new JObject
        {
            ["request"] = request,
            ["images"] = JsonBridge.ToToken(ImageInfo.Extract(_resource)),
            ["serviceAccountName"] = ServiceAccountPart(_policyContext.UserName, 3),
            ["serviceAccountNamespace"] = ServiceAccountPart(_policyContext.UserName, 2),
        };
        foreach (var (name, value) in _policyContext.Values)
        {
            SetPath(root, name, JsonBridge.ToToken(value), record: false);
        }

        foreach (var (name, value) in _pending)
        {
            _pendingUndoStart.Add(_undo.Count);
            SetPath(root, name, value, record: true);
        }

        _pendingUndoStart.Add(_undo.Count);

        _pending.Clear();
        return root;
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
    public int Checkpoint() => _root is null ? -1 - _pending.Count : _undo.Count;

    /// <summary>Undoes every <see cref="Set"/> made after <paramref name="checkpoint"/>.</summary>
    public void Restore(int checkpoint)
    {
        if (checkpoint < 0)
        {
            var keep = -1 - checkpoint;
            if (_root is null)
            {
                _pending.RemoveRange(keep, _pending.Count - keep);
                return;
            }

            checkpoint = _pendingUndoStart[Math.Min(keep, _pendingUndoStart.Count - 1)];
        }

        for (var i = _undo.Count - 1; i >= checkpoint; i--)
        {
            var (parent, key, previous) = _undo[i];
            if (previous is null)
            {
                parent.Remove(key);
            }
            else
            {
                parent[key] = previous;
            }
        }

        _undo.RemoveRange(checkpoint, _undo.Count - checkpoint);
    }

    /// <summary>Adds a variable (dotted names create nested objects).</summary>
    public void Set(string name, JToken value)
    {
        if (_root is null)
        {
            _pending.Add((name, value));
            return;
        }

        SetPath(_root, name, value, record: true);
    }

    public void Set(string name, JsonNode? value) => Set(name, JsonBridge.ToToken(value));

    /// <summary>True when a variable (or a dotted prefix of one) was supplied by the caller's values.</summary>
    public bool HasSuppliedValue(string name) =>
        _policyContext.Values.Keys.Any(k => k == name || k.StartsWith(name + ".", StringComparison.Ordinal));

    private void SetPath(JObject root, string name, JToken value, bool record)
    {
        var parts = name.Split('.');
        var current = root;
        for (var i = 0; i < parts.Length - 1; i++)
        {
            if (current[parts[i]] is not JObject next)
            {
                next = new JObject();
                if (record)
                {
                    _undo.Add((current, parts[i], current[parts[i]]));
                }

                current[parts[i]] = next;
            }

            current = next;
        }

        var last = parts[^1];
        if (record)
        {
            _undo.Add((current, last, current[last]));
        }

        current[last] = value.Parent is null ? value : value.DeepClone();
    }

    /// <summary>Evaluates a parsed JMESPath expression against the context.</summary>
    public JToken? Query(JmesPathExpression expression, string text) => Jmes.Evaluate(expression, Root, text);

    /// <summary>Parses and evaluates <paramref name="expression"/>.</summary>
    public JToken? Query(string expression) => Query(Jmes.Parse(expression), expression);
}
