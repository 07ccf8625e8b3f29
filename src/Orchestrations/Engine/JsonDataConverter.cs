using System.Text.Json;
using System.Text.Json.Serialization;

namespace FleetFunctions.Orchestrations.Engine;

/// <summary>Serializes inputs, outputs, event data and custom status with System.Text.Json.</summary>
public sealed class JsonDataConverter(JsonSerializerOptions? options = null)
{
    /// <summary>Web defaults (camelCase, case-insensitive reads), enums written as their names (numbers still read).</summary>
    public static JsonDataConverter Default { get; } = new();

    public JsonSerializerOptions Options { get; } = options ?? new JsonSerializerOptions(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    /// <summary>JSON text of <paramref name="value"/>, or null for null.</summary>
    public string? Serialize(object? value) => value is null ? null : JsonSerializer.Serialize(value, value.GetType(), Options);

    /// <summary>Reads JSON text into <typeparamref name="T"/>; null or empty text gives default.</summary>
    public T? Deserialize<T>(string? json) => string.IsNullOrEmpty(json) ? default : JsonSerializer.Deserialize<T>(json, Options);

    /// <summary>Reads JSON text into <paramref name="type"/>.</summary>
    public object? Deserialize(string? json, Type type) => string.IsNullOrEmpty(json) ? null : JsonSerializer.Deserialize(json, type, Options);
}
