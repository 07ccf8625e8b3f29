using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Cronos;
using FleetFunctions.Core.Storage;
using FleetFunctions.Core.Webhooks;
using FleetFunctions.Functions.Triggers;
using FleetFunctions.Orchestrations.Drift;
using FleetFunctions.Orchestrations.Engine;
using FleetFunctions.Orchestrations.Engine.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FleetFunctions.Functions.Hosting;

/// <summary>Standalone only: runs the durable engine's own queue pollers (the Functions host uses queue triggers instead).</summary>
internal sealed class EngineWorkerService(DurableTaskHub hub, DurableTaskRegistry registry, ILoggerFactory loggers) : IHostedService, IAsyncDisposable
{
    private DurableWorker? _worker;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await hub.CreateIfNotExistsAsync(cancellationToken);
        _worker = new DurableWorker(hub, registry, loggerFactory: loggers);
        await _worker.StartAsync(cancellationToken);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_worker is not null)
        {
            await _worker.StopAsync(cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_worker is not null)
        {
            await _worker.DisposeAsync();
        }
    }
}

/// <summary>
/// Standalone only: polls the delivery store's queue (webhook-deliveries) and hands each message to <see cref="FunctionHandlers"/>,
/// as the Functions host's queue trigger would: delete on success, retry after a back-off on failure, move to
/// <c>&lt;queue&gt;-poison</c> after <see cref="FunctionHandlers.MaxDequeueCount"/> attempts. Polls every 100 ms while
/// there is work, backing off to 2 s when idle.
/// </summary>
internal sealed partial class DeliveryQueuePoller(StorageAccount storage, DeliveryStore store, FunctionHandlers handlers, ILogger<DeliveryQueuePoller> logger) : BackgroundService
{
    private static readonly TimeSpan s_busyDelay = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan s_idleDelay = TimeSpan.FromSeconds(2);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var function = FunctionCatalog.All.Single(f => f.Name == FunctionCatalog.WebhookDeliveries);
        var queue = storage.CreateQueueClient(store.QueueName, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.None });
        var poison = storage.CreateQueueClient(store.QueueName + "-poison", new QueueClientOptions { MessageEncoding = QueueMessageEncoding.None });
        var delay = s_busyDelay;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await queue.CreateIfNotExistsAsync(cancellationToken: stoppingToken);
                QueueMessage[] messages = (await queue.ReceiveMessagesAsync(16, TimeSpan.FromMinutes(5), stoppingToken)).Value;
                foreach (var message in messages)
                {
                    var result = await handlers.HandleQueueMessageAsync(function.Name, message.Body.ToString(), message.DequeueCount, message.MessageId, stoppingToken);
                    if (result.Succeeded)
                    {
                        await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, stoppingToken);
                    }
                    else if (message.DequeueCount >= FunctionHandlers.MaxDequeueCount)
                    {
                        await poison.CreateIfNotExistsAsync(cancellationToken: stoppingToken);
                        await poison.SendMessageAsync(message.Body.ToString(), stoppingToken);
                        await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, stoppingToken);
                    }
                    else
                    {
                        await queue.UpdateMessageAsync(message.MessageId, message.PopReceipt, visibilityTimeout: TimeSpan.FromSeconds(5 * message.DequeueCount), cancellationToken: stoppingToken);
                    }
                }

                delay = messages.Length > 0 ? s_busyDelay : TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, s_idleDelay.Ticks));
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogPollFailed(logger, ex.Message);
                delay = s_idleDelay;
            }

            await Task.Delay(delay, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    [LoggerMessage(EventId = 2101, Level = LogLevel.Warning, Message = "polling the delivery queue failed: {Error}; retrying")]
    private static partial void LogPollFailed(ILogger logger, string error);
}

/// <summary>Standalone only: runs the timer functions on their NCRONTAB schedules (with seconds), as the Functions host would.</summary>
internal sealed partial class TimerScheduler(IConfiguration configuration, FunctionHandlers handlers, TimeProvider time, ILogger<TimerScheduler> logger) : BackgroundService
{
    // EngineMaintenance is for the Functions host: standalone, EngineWorkerService's worker sweeps and redrives itself.
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(FunctionCatalog.All
            .Where(f => f.Trigger == TriggerKind.Timer && f.Name != FunctionCatalog.EngineMaintenance)
            .Select(f => RunAsync(f, stoppingToken)));

    /// <summary>
    /// Resolves a schedule: <c>%Setting%</c> reads the setting, or the same name without its <c>FLEETFUNCTIONS_</c> prefix
    /// as other settings are read (<c>serve --DriftSweepSchedule=…</c>), falling back to the function's default.
    /// </summary>
    internal static CronExpression Resolve(FunctionDefinition function, IConfiguration configuration)
    {
        var text = function.Schedule!;
        if (text.StartsWith('%') && text.EndsWith('%'))
        {
            var setting = text.Trim('%');
            text = configuration[setting] is { Length: > 0 } configured ? configured
                : setting.StartsWith(AppOptions.SettingPrefix, StringComparison.Ordinal) && configuration[setting[AppOptions.SettingPrefix.Length..]] is { Length: > 0 } plain ? plain
                : function.DefaultSchedule ?? throw new InvalidOperationException($"{function.Name}: set the app setting {setting} to an NCRONTAB schedule with seconds (the function has no default)");
        }

        return CronExpression.Parse(text, CronFormat.IncludeSeconds);
    }

    private async Task RunAsync(FunctionDefinition function, CancellationToken stoppingToken)
    {
        var schedule = Resolve(function, configuration);
        while (!stoppingToken.IsCancellationRequested)
        {
            var now = time.GetUtcNow();
            var next = schedule.GetNextOccurrence(now, TimeZoneInfo.Utc) ?? now.AddMinutes(1);
            await Task.Delay(next - now, time, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            if (stoppingToken.IsCancellationRequested)
            {
                break;
            }

            var result = await handlers.HandleTimerAsync(function.Name, stoppingToken);
            if (!result.Succeeded)
            {
                LogTimerFailed(logger, function.Name, result.Error ?? "failed");
            }
        }
    }

    [LoggerMessage(EventId = 2102, Level = LogLevel.Warning, Message = "timer function {Function} failed: {Error}")]
    private static partial void LogTimerFailed(ILogger logger, string function, string error);
}

/// <summary>Standalone only, with <c>FLEETFUNCTIONS_DriftWatch=true</c>: keeps the drift watches running (the timer sweep stays the safety net).</summary>
internal sealed class DriftWatchService(DriftWatcher watcher) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => watcher.RunAsync(stoppingToken);
}
