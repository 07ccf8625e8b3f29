namespace FleetFunctions.Core.Webhooks;

/// <summary>What happened to a delivery.</summary>
public enum WebhookOutcome
{
    /// <summary>Recorded and queued: rollouts will be started for the fleets the commit touches.</summary>
    Accepted,

    /// <summary>Seen before (same delivery id) and not Failed or Ignored: nothing new is started.</summary>
    Duplicate,

    /// <summary>Authentic (or for an unknown repository) but starts nothing: ping, other event, unfollowed branch.</summary>
    Ignored,

    /// <summary>Malformed, unsigned or mis-signed: a 4xx answer, nothing recorded, nothing started.</summary>
    Rejected,
}

/// <summary>A rollout the delivery may start: every fleet that follows the pushed source and branch.</summary>
/// <param name="InstanceId">Rollout orchestration id (fleet + commit); fleets whose paths the commit does not touch are skipped when the delivery is processed.</param>
public sealed record CandidateRollout(string Fleet, string Commit, string InstanceId);

/// <summary>The answer to a delivery: an HTTP status, the outcome, a reason a person can act on, and the candidate rollouts.</summary>
public sealed record WebhookResult(int StatusCode, WebhookOutcome Outcome, string Message, string? DeliveryId, IReadOnlyList<CandidateRollout> Rollouts)
{
    public static WebhookResult Rejected(int statusCode, string message, string? deliveryId = null) =>
        new(statusCode, WebhookOutcome.Rejected, message, deliveryId, []);

    public static WebhookResult Ignored(string message, string? deliveryId) => new(200, WebhookOutcome.Ignored, message, deliveryId, []);
}
