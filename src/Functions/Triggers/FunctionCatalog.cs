namespace FleetFunctions.Functions.Triggers;

/// <summary>How a function is triggered.</summary>
public enum TriggerKind
{
    Http,
    Queue,
    Timer,
}

/// <summary>
/// One function of the app as the Azure Functions host sees it (<c>functions/&lt;Name&gt;/function.json</c>).
/// HTTP functions are forwarded with their path; queue and timer functions arrive as <c>POST /&lt;Name&gt;</c>.
/// </summary>
/// <param name="Route">HTTP route (host.json sets routePrefix to empty, so routes carry their own <c>api/</c>).</param>
/// <param name="AuthLevel">HTTP: anonymous (webhooks verify signatures) or function (the status API).</param>
/// <param name="QueueName">Queue trigger: the queue.</param>
/// <param name="Schedule">Timer trigger: NCRONTAB with seconds, or an <c>%AppSetting%</c> holding it.</param>
/// <param name="DefaultSchedule">Timer trigger: the schedule the standalone host uses when the app setting is not set.</param>
public sealed record FunctionDefinition(
    string Name,
    TriggerKind Trigger,
    string? Route = null,
    IReadOnlyList<string>? Methods = null,
    string? AuthLevel = null,
    string? QueueName = null,
    string? Schedule = null,
    string? DefaultSchedule = null);

/// <summary>Every function of the app. The function.json files are checked against this list by a test.</summary>
public static class FunctionCatalog
{
    public const string EngineControl = "EngineControl";
    public const string EngineWorkItems = "EngineWorkItems";
    public const string WebhookDeliveries = "WebhookDeliveries";
    public const string PlatformRefresh = "PlatformRefresh";
    public const string DriftSweep = "DriftSweep";
    public const string EngineMaintenance = "EngineMaintenance";

    /// <summary>Default NCRONTAB schedule of <see cref="PlatformRefresh"/> (every minute), overridable with FLEETFUNCTIONS_PlatformRefreshSchedule.</summary>
    public const string PlatformRefreshSchedule = "0 */1 * * * *";

    /// <summary>Default NCRONTAB schedule of <see cref="DriftSweep"/> (every 5 minutes), overridable with FLEETFUNCTIONS_DriftSweepSchedule.</summary>
    public const string DriftSweepSchedule = "0 */5 * * * *";

    /// <summary>
    /// Default NCRONTAB schedule of <see cref="EngineMaintenance"/> (every 30 seconds), overridable with
    /// FLEETFUNCTIONS_EngineMaintenanceSchedule. Only the Functions host runs it: standalone, the engine worker does the same upkeep itself.
    /// </summary>
    public const string EngineMaintenanceSchedule = "*/30 * * * * *";

    public static IReadOnlyList<FunctionDefinition> All { get; } =
    [
        new("Webhooks", TriggerKind.Http, "api/webhooks/{provider}", ["post"], "anonymous"),
        new("Deliveries", TriggerKind.Http, "api/deliveries/{provider}/{deliveryId}", ["get"], "function"),
        new("Health", TriggerKind.Http, "api/healthz", ["get"], "anonymous"),
        new("SealingCertificate", TriggerKind.Http, "api/sealing/cert.pem", ["get"], "anonymous"),
        new("Fleets", TriggerKind.Http, "api/fleets/{name?}", ["get"], "function"),
        new("Clusters", TriggerKind.Http, "api/clusters/{name}", ["get"], "function"),
        new("Rollouts", TriggerKind.Http, "api/rollouts/{instanceId?}", ["get"], "function"),
        new("RolloutDecision", TriggerKind.Http, "api/rollouts/{instanceId}/{decision}", ["post"], "function"),
        new("DurableTaskApi", TriggerKind.Http, "api/durabletask/{*path}", ["get", "post", "delete"], "function"),
        // The task hub's queues: the host resolves the app setting, so another FLEETFUNCTIONS_TaskHub moves the triggers with it.
        new(EngineControl, TriggerKind.Queue, QueueName: "%FLEETFUNCTIONS_TaskHub%-control"),
        new(EngineWorkItems, TriggerKind.Queue, QueueName: "%FLEETFUNCTIONS_TaskHub%-workitems"),
        new(WebhookDeliveries, TriggerKind.Queue, QueueName: "webhook-deliveries"),
        new(PlatformRefresh, TriggerKind.Timer, Schedule: "%FLEETFUNCTIONS_PlatformRefreshSchedule%", DefaultSchedule: PlatformRefreshSchedule),
        new(DriftSweep, TriggerKind.Timer, Schedule: "%FLEETFUNCTIONS_DriftSweepSchedule%", DefaultSchedule: DriftSweepSchedule),
        new(EngineMaintenance, TriggerKind.Timer, Schedule: "%FLEETFUNCTIONS_EngineMaintenanceSchedule%", DefaultSchedule: EngineMaintenanceSchedule),
    ];

    /// <summary>
    /// The app settings the function.json files bind through <c>%Setting%</c> (queue names, schedules), each with the
    /// functions that use it. The Functions host resolves them from app settings itself: the app's own fallbacks
    /// (task hub <c>fleethub</c>, <see cref="FunctionDefinition.DefaultSchedule"/>) do not reach it.
    /// </summary>
    public static IReadOnlyList<(string Setting, IReadOnlyList<string> Functions)> BoundSettings { get; } =
        All.SelectMany(f => new[] { f.QueueName, f.Schedule }
                .OfType<string>()
                .SelectMany(binding => System.Text.RegularExpressions.Regex.Matches(binding, "%([A-Za-z0-9_]+)%"))
                .Select(m => (Setting: m.Groups[1].Value, Function: f.Name)))
            .GroupBy(b => b.Setting, StringComparer.Ordinal)
            .Select(g => (g.Key, (IReadOnlyList<string>)g.Select(b => b.Function).Distinct().ToList()))
            .ToList();
}
