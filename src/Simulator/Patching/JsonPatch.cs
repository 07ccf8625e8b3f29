using System.Text.Json.Nodes;
using FleetFunctions.Simulator.Api;

namespace FleetFunctions.Simulator.Patching;

/// <summary>JSON patch (RFC 6902), the semantics of <c>application/json-patch+json</c>.</summary>
internal static class JsonPatch
{
    /// <summary>Applies the operations in order to <paramref name="target"/> (mutated); a failing operation throws 422-style errors.</summary>
    public static JsonNode? Apply(JsonNode? target, JsonArray operations)
    {
        var root = new JsonObject { ["doc"] = target };
        foreach (var node in operations)
        {
            if (node is not JsonObject op || op["op"]?.GetValue<string>() is not { } kind || op["path"]?.GetValue<string>() is not { } path)
            {
                throw ApiException.BadRequest("json patch: every operation needs \"op\" and \"path\"");
            }

            switch (kind)
            {
                case "add":
                    Add(root, path, op["value"]?.DeepClone());
                    break;
                case "remove":
                    Remove(root, path);
                    break;
                case "replace":
                    Remove(root, path);
                    Add(root, path, op["value"]?.DeepClone());
                    break;
                case "move":
                    var moved = Remove(root, From(op));
                    Add(root, path, moved);
                    break;
                case "copy":
                    Add(root, path, Resolve(root, From(op))?.DeepClone());
                    break;
                case "test":
                    if (!JsonNode.DeepEquals(Resolve(root, path), op["value"]))
                    {
                        throw new ApiException(422, "Invalid", $"json patch: test operation failed at {path}");
                    }

                    break;
                default:
                    throw ApiException.BadRequest($"json patch: unknown operation \"{kind}\"");
            }
        }

        var result = root["doc"];
        root.Remove("doc");
        return result;
    }

    private static string From(JsonObject op) =>
        op["from"]?.GetValue<string>() ?? throw ApiException.BadRequest("json patch: move and copy need \"from\"");

    private static (JsonNode Parent, string Token) Locate(JsonObject root, string path)
    {
        if (path.Length > 0 && path[0] != '/')
        {
            throw ApiException.BadRequest($"json patch: path \"{path}\" must start with '/'");
        }

        var tokens = path.Length == 0 ? [] : path[1..].Split('/').Select(t => t.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)).ToArray();
        JsonNode parent = root;
        var token = "doc";
        foreach (var next in tokens)
        {
            parent = Child(parent, token) ?? throw new ApiException(422, "Invalid", $"json patch: path \"{path}\" does not exist");
            token = next;
        }

        return (parent, token);
    }

    private static JsonNode? Child(JsonNode parent, string token) => parent switch
    {
        JsonObject o => o[token],
        JsonArray a when int.TryParse(token, out var i) && i >= 0 && i < a.Count => a[i],
        _ => null,
    };

    private static JsonNode? Resolve(JsonObject root, string path)
    {
        var (parent, token) = Locate(root, path);
        return Child(parent, token);
    }

    private static void Add(JsonObject root, string path, JsonNode? value)
    {
        var (parent, token) = Locate(root, path);
        switch (parent)
        {
            case JsonObject o:
                o.Remove(token);
                o[token] = value;
                break;
            case JsonArray a when token == "-":
                a.Add(value);
                break;
            case JsonArray a when int.TryParse(token, out var i) && i >= 0 && i <= a.Count:
                a.Insert(i, value);
                break;
            default:
                throw new ApiException(422, "Invalid", $"json patch: cannot add at \"{path}\"");
        }
    }

    private static JsonNode? Remove(JsonObject root, string path)
    {
        var (parent, token) = Locate(root, path);
        switch (parent)
        {
            case JsonObject o when o.ContainsKey(token):
                var value = o[token];
                o.Remove(token);
                return value;
            case JsonArray a when int.TryParse(token, out var i) && i >= 0 && i < a.Count:
                var item = a[i];
                a.RemoveAt(i);
                return item;
            default:
                throw new ApiException(422, "Invalid", $"json patch: path \"{path}\" does not exist");
        }
    }
}
