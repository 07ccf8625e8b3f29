using System.Text.Json;
using System.Text.Json.Nodes;
using Newtonsoft.Json.Linq;

namespace FleetFunctions.Core.Policy;

/// <summary>Converts between System.Text.Json nodes (the engine's model) and Json.NET tokens (JmesPath.Net's model).</summary>
internal static class JsonBridge
{
    public static JToken ToToken(JsonNode? node)
    {
        switch (node)
        {
            case null:
                return JValue.CreateNull();
            case JsonObject obj:
                var jo = new JObject();
                foreach (var (key, value) in obj)
                {
                    jo.Add(key, ToToken(value));
                }

                return jo;
            case JsonArray array:
                var ja = new JArray();
                foreach (var item in array)
                {
                    ja.Add(ToToken(item));
                }

                return ja;
            default:
                return JsonUtil.Kind(node) switch
                {
                    GoKind.String => new JValue(JsonUtil.AsString(node)),
                    GoKind.Int => new JValue(JsonUtil.GetLong(node)),
                    GoKind.Float => new JValue(JsonUtil.GetDouble(node)),
                    GoKind.Bool => new JValue(JsonUtil.TryGetBool(node, out var b) && b),
                    _ => JValue.CreateNull(),
                };
        }
    }

    public static JsonNode? ToNode(JToken? token)
    {
        switch (token)
        {
            case null:
                return null;
            case JObject obj:
                var o = new JsonObject();
                foreach (var property in obj.Properties())
                {
                    o[property.Name] = ToNode(property.Value);
                }

                return o;
            case JArray array:
                var a = new JsonArray();
                foreach (var item in array)
                {
                    a.Add(ToNode(item));
                }

                return a;
            case JValue value:
                return value.Type switch
                {
                    JTokenType.Null or JTokenType.Undefined => null,
                    JTokenType.Integer => value.Value is System.Numerics.BigInteger big ? JsonValue.Create((double)big) : JsonValue.Create(Convert.ToInt64(value.Value, System.Globalization.CultureInfo.InvariantCulture)),
                    JTokenType.Float => JsonValue.Create(Convert.ToDouble(value.Value, System.Globalization.CultureInfo.InvariantCulture)),
                    JTokenType.Boolean => JsonValue.Create((bool)value.Value!),
                    JTokenType.String => JsonValue.Create((string)value.Value!),
                    JTokenType.Date => JsonValue.Create(((DateTime)value.Value!).ToString("yyyy-MM-ddTHH:mm:ssK", System.Globalization.CultureInfo.InvariantCulture)),
                    _ => JsonValue.Create(value.ToString(Newtonsoft.Json.Formatting.None)),
                };
            default:
                return JsonNode.Parse(token.ToString(Newtonsoft.Json.Formatting.None));
        }
    }

    /// <summary>True for JSON null or a missing token.</summary>
    public static bool IsNull(JToken? token) => token is null || token.Type is JTokenType.Null or JTokenType.Undefined;

    public static JsonValueKind KindOf(JToken? token) => token?.Type switch
    {
        JTokenType.Object => JsonValueKind.Object,
        JTokenType.Array => JsonValueKind.Array,
        JTokenType.String => JsonValueKind.String,
        JTokenType.Integer or JTokenType.Float => JsonValueKind.Number,
        JTokenType.Boolean => ((bool)((JValue)token).Value!) ? JsonValueKind.True : JsonValueKind.False,
        _ => JsonValueKind.Null,
    };
}
