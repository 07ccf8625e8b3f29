using System.Text;
using System.Text.Json.Nodes;

namespace FleetFunctions.Simulator.Serialization;

/// <summary>
/// Decodes the Kubernetes protobuf request bodies kubectl's typed commands send (<c>kubectl create namespace</c>,
/// <c>create configmap</c>, <c>create secret generic</c>, <c>create serviceaccount</c>): the <c>k8s\0</c> envelope
/// (runtime.Unknown) around a core/v1 Namespace, ConfigMap, Secret or ServiceAccount. Other kinds are not
/// decoded; the caller answers 415 and the client can send JSON instead.
/// </summary>
internal static class ProtobufBody
{
    private static readonly byte[] s_magic = "k8s\0"u8.ToArray();

    /// <summary>The object as JSON, or null when the body is not one of the supported kinds.</summary>
    public static JsonObject? TryDecode(ReadOnlySpan<byte> body)
    {
        if (!body.StartsWith(s_magic))
        {
            return null;
        }

        string? apiVersion = null;
        string? kind = null;
        ReadOnlySpan<byte> raw = default;
        var envelope = new Reader(body[s_magic.Length..]);
        while (envelope.Next(out var field, out var value))
        {
            if (field == 1)
            {
                var typeMeta = new Reader(value.Bytes);
                while (typeMeta.Next(out var f, out var v))
                {
                    if (f == 1)
                    {
                        apiVersion = v.Text;
                    }
                    else if (f == 2)
                    {
                        kind = v.Text;
                    }
                }
            }
            else if (field == 2)
            {
                raw = value.Bytes;
            }
        }

        if (apiVersion != "v1" || kind is not ("Namespace" or "ConfigMap" or "Secret" or "ServiceAccount"))
        {
            return null;
        }

        var obj = new JsonObject { ["apiVersion"] = apiVersion, ["kind"] = kind };
        var reader = new Reader(raw);
        while (reader.Next(out var field, out var value))
        {
            switch (kind, field)
            {
                case (_, 1):
                    obj["metadata"] = ObjectMeta(value.Bytes);
                    break;
                case ("Namespace", 2):
                    var finalizers = Repeated(value.Bytes, 1);
                    if (finalizers.Count > 0)
                    {
                        obj["spec"] = new JsonObject { ["finalizers"] = finalizers };
                    }

                    break;
                case ("ConfigMap", 2) or ("Secret", 4):
                    AddMapEntry(obj, kind == "Secret" ? "stringData" : "data", value.Bytes, base64: false);
                    break;
                case ("ConfigMap", 3) or ("Secret", 2):
                    AddMapEntry(obj, kind == "Secret" ? "data" : "binaryData", value.Bytes, base64: true);
                    break;
                case ("ConfigMap", 4) or ("Secret", 5):
                    obj["immutable"] = value.Number != 0;
                    break;
                case ("Secret", 3) when value.Text.Length > 0:
                    obj["type"] = value.Text;
                    break;
                case ("ServiceAccount", 3):
                    var pullSecrets = obj["imagePullSecrets"] as JsonArray ?? [];
                    pullSecrets.Add(new JsonObject { ["name"] = Field(value.Bytes, 1) });
                    obj["imagePullSecrets"] = pullSecrets;
                    break;
                case ("ServiceAccount", 4):
                    obj["automountServiceAccountToken"] = value.Number != 0;
                    break;
            }
        }

        return obj;
    }

    private static JsonObject ObjectMeta(ReadOnlySpan<byte> bytes)
    {
        var meta = new JsonObject();
        var reader = new Reader(bytes);
        while (reader.Next(out var field, out var value))
        {
            switch (field)
            {
                case 1 or 2 or 3 when value.Text.Length > 0:
                    meta[field == 1 ? "name" : field == 2 ? "generateName" : "namespace"] = value.Text;
                    break;
                case 11 or 12:
                    AddMapEntry(meta, field == 11 ? "labels" : "annotations", value.Bytes, base64: false);
                    break;
                case 14:
                    var finalizers = meta["finalizers"] as JsonArray ?? [];
                    finalizers.Add(value.Text);
                    meta["finalizers"] = finalizers;
                    break;
            }
        }

        return meta;
    }

    private static void AddMapEntry(JsonObject parent, string property, ReadOnlySpan<byte> entry, bool base64)
    {
        string key = "";
        JsonNode? mapped = "";
        var reader = new Reader(entry);
        while (reader.Next(out var field, out var value))
        {
            if (field == 1)
            {
                key = value.Text;
            }
            else if (field == 2)
            {
                mapped = base64 ? Convert.ToBase64String(value.Bytes) : value.Text;
            }
        }

        var map = parent[property] as JsonObject ?? [];
        map[key] = mapped;
        parent[property] = map;
    }

    private static JsonArray Repeated(ReadOnlySpan<byte> message, int field)
    {
        var result = new JsonArray();
        var reader = new Reader(message);
        while (reader.Next(out var f, out var v))
        {
            if (f == field)
            {
                result.Add(v.Text);
            }
        }

        return result;
    }

    private static string Field(ReadOnlySpan<byte> message, int field)
    {
        var reader = new Reader(message);
        while (reader.Next(out var f, out var v))
        {
            if (f == field)
            {
                return v.Text;
            }
        }

        return "";
    }

    /// <summary>One field value: a varint or a length-delimited byte run.</summary>
    private readonly ref struct Value(ulong number, ReadOnlySpan<byte> bytes)
    {
        public ulong Number { get; } = number;

        public ReadOnlySpan<byte> Bytes { get; } = bytes;

        public string Text => Encoding.UTF8.GetString(Bytes);
    }

    /// <summary>Protobuf wire-format reader (varint, 64-bit, length-delimited, 32-bit).</summary>
    private ref struct Reader(ReadOnlySpan<byte> data)
    {
        private ReadOnlySpan<byte> _data = data;

        public bool Next(out int field, out Value value)
        {
            value = default;
            field = 0;
            if (_data.IsEmpty)
            {
                return false;
            }

            var tag = Varint();
            field = (int)(tag >> 3);
            switch (tag & 7)
            {
                case 0:
                    value = new Value(Varint(), default);
                    return true;
                case 1:
                    value = new Value(0, Take(8));
                    return true;
                case 2:
                    value = new Value(0, Take(checked((int)Varint())));
                    return true;
                case 5:
                    value = new Value(0, Take(4));
                    return true;
                default:
                    throw new FormatException($"protobuf body: unsupported wire type {tag & 7} for field {field}");
            }
        }

        private ReadOnlySpan<byte> Take(int length)
        {
            if (length > _data.Length)
            {
                throw new FormatException("protobuf body: truncated field");
            }

            var taken = _data[..length];
            _data = _data[length..];
            return taken;
        }

        private ulong Varint()
        {
            ulong result = 0;
            for (var shift = 0; shift < 64; shift += 7)
            {
                if (_data.IsEmpty)
                {
                    throw new FormatException("protobuf body: truncated varint");
                }

                var b = _data[0];
                _data = _data[1..];
                result |= (ulong)(b & 0x7F) << shift;
                if ((b & 0x80) == 0)
                {
                    return result;
                }
            }

            throw new FormatException("protobuf body: varint too long");
        }
    }
}
