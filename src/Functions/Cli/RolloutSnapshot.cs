using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using FleetFunctions.Orchestrations.Rollouts;

namespace FleetFunctions.Functions.Cli;

/// <summary>
/// One reading of a rollout's status, from either shape the app serves: the status API
/// (<c>GET /api/rollouts/{id}</c>: <c>runtimeStatus</c>, <c>status</c>, <c>output</c>) or the Durable Functions API
/// (<c>GET .../instances/{id}</c>: <c>runtimeStatus</c>, <c>customStatus</c>, <c>output</c>). Enums may arrive as
/// names or numbers; a status written before planning finished may lack waves and clusters.
/// </summary>
internal sealed record RolloutSnapshot(
    string InstanceId,
    string RuntimeStatus,
    RolloutStatus? Status,
    RolloutOutcome? Output,
    string? Failure,
    DateTimeOffset? CreatedTime,
    DateTimeOffset? LastUpdatedTime)
{
    /// <summary>The rollout strategy, when the status names it (a status written before planning finished does not).</summary>
    public string? Strategy { get; init; }

    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    /// <summary>The orchestration no longer runs (completed, failed or terminated).</summary>
    public bool IsFinished => RuntimeStatus is "Completed" or "Failed" or "Terminated" or "Canceled";

    /// <summary>The rollout's phase: its outcome once finished, else the phase of its custom status.</summary>
    public RolloutPhase? Phase => Output?.Phase ?? Status?.Phase;

    /// <summary>Why the rollout is where it is: the outcome's reason, the status message or the failure.</summary>
    public string Message => Output?.Reason ?? Failure ?? Status?.Message ?? string.Empty;

    public IReadOnlyList<WaveStatus> Waves => Status?.Waves ?? [];

    public IReadOnlyList<ClusterStatus> Clusters => Status?.Clusters ?? [];

    /// <summary>Parses a status payload; throws <see cref="JsonException"/> when it is not one.</summary>
    public static RolloutSnapshot Parse(string json)
    {
        var root = JsonNode.Parse(json) as JsonObject ?? throw new JsonException("the status payload is not a JSON object");
        var instanceId = root["instanceId"]?.GetValue<string>() ?? throw new JsonException("the status payload has no instanceId: is this a rollout status URL?");
        var runtimeStatus = root["runtimeStatus"]?.GetValue<string>() ?? throw new JsonException($"the status of {instanceId} has no runtimeStatus");
        var statusNode = root["status"] ?? root["customStatus"];
        var status = statusNode is JsonObject ? Normalize(statusNode.Deserialize<RolloutStatus>(s_json)) : null;
        var outputNode = root["output"];
        var output = outputNode is JsonObject o && o.ContainsKey("phase") ? outputNode.Deserialize<RolloutOutcome>(s_json) : null;
        var failure = root["failure"] is JsonObject f ? f["errorMessage"]?.ToString()
            : runtimeStatus == "Failed" && outputNode is JsonObject d && d.ContainsKey("errorMessage") ? d["errorMessage"]?.ToString()
            : null;
        return new RolloutSnapshot(instanceId, runtimeStatus, status, output, failure, Time(root["createdTime"]), Time(root["lastUpdatedTime"]))
        {
            Strategy = status is not null && statusNode!["strategy"] is not null ? status.Strategy.ToString() : null,
        };
    }

    /// <summary>How long the rollout ran (finished) or has been running (<paramref name="now"/>); null when the payload has no times.</summary>
    public TimeSpan? Age(DateTimeOffset now) =>
        CreatedTime is { } created && (IsFinished ? LastUpdatedTime : now) is { } end ? TimeSpan.FromTicks(Math.Max(0, (end - created).Ticks)) : null;

    private static DateTimeOffset? Time(JsonNode? node) =>
        node is JsonValue value && DateTimeOffset.TryParse(value.ToString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at : null;

    // A status published before the plan existed ({fleet, commit, phase, message}) has no lists.
    private static RolloutStatus? Normalize(RolloutStatus? status) => status is null ? null : status with
    {
        Fleet = status.Fleet ?? string.Empty,
        Commit = status.Commit ?? string.Empty,
        Waves = status.Waves ?? [],
        Clusters = status.Clusters ?? [],
        Analysis = status.Analysis ?? [],
        Message = status.Message ?? string.Empty,
    };
}
