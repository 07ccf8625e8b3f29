using System.Text.Json;
using System.Text.Json.Serialization;

namespace FleetFunctions.Orchestrations.Engine.History;

/// <summary>
/// A message on a task hub queue: one history event addressed to an instance (and, for results, to one of
/// its executions). Work items carry a TaskScheduled event. <see cref="Id"/> is fixed when the message is
/// first written to an outbox, so a resend is recognisably the same message.
/// </summary>
internal sealed record TaskMessage
{
    public required string Id { get; init; }

    public required string InstanceId { get; init; }

    /// <summary>Execution the message belongs to; null for messages addressed to whatever execution is current (events, terminate).</summary>
    public string? ExecutionId { get; init; }

    public required HistoryEvent Event { get; init; }

    /// <summary>For timers: when the message may be processed (re-armed when the queue delay limit cut it short).</summary>
    public DateTime? VisibleAt { get; init; }

    /// <summary>
    /// Deliveries of earlier copies of this message that count toward poison: a message whose processing failed
    /// transiently (storage unavailable, a lost race) is replaced by a copy, so the queue's own dequeue count restarts.
    /// </summary>
    public int? FailedDeliveries { get; init; }

    /// <summary>Transient failures of this message so far (its copies included); the wait before the next copy grows with them.</summary>
    public int? TransientFailures { get; init; }

    public string ToJson() => JsonSerializer.Serialize(this, EngineJson.Options);

    public static TaskMessage FromJson(string json) =>
        JsonSerializer.Deserialize<TaskMessage>(json, EngineJson.Options)
        ?? throw new JsonException("task message is empty");
}

/// <summary>The engine's own storage format (independent of the user's data converter options).</summary>
internal static class EngineJson
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter() },
    };

    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Options);

    public static T Deserialize<T>(string json) =>
        JsonSerializer.Deserialize<T>(json, Options) ?? throw new JsonException($"empty {typeof(T).Name}");
}
