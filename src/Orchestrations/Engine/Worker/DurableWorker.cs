using Azure;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using FleetFunctions.Orchestrations.Engine.Processing;
using FleetFunctions.Orchestrations.Engine.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FleetFunctions.Orchestrations.Engine.Worker;

/// <summary>
/// A standalone worker: polls the control queue (messages to orchestrations) and the work-item queue
/// (activities), runs episodes and activities with bounded concurrency, and sweeps outboxes orphaned by
/// crashes. Any number of workers, in any number of processes, may serve the same task hub.
/// Polling backs off adaptively: immediately again after a full batch, at most
/// <see cref="DurableWorkerOptions.MaxPollingIntervalBusy"/> apart while work is in flight, up to
/// <see cref="DurableWorkerOptions.MaxPollingIntervalIdle"/> when idle; messages sent from this process wake it at once.
/// </summary>
public sealed partial class DurableWorker : IAsyncDisposable
{
    private readonly DurableTaskHub _hub;
    private readonly DurableWorkerOptions _options;
    private readonly ILogger _logger;
    private readonly OrchestrationProcessor _processor;
    private readonly ActivityRunner _activities;
    private readonly MessageIntake _intake;
    private readonly AsyncSignal _controlWake = new();
    private readonly AsyncSignal _workWake = new();
    private readonly SemaphoreSlim _orchestrationSlots;
    private readonly SemaphoreSlim _activitySlots;
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _loops = [];
    private int _controlInFlight;
    private int _workInFlight;

    public DurableWorker(DurableTaskHub hub, DurableTaskRegistry registry, DurableWorkerOptions? options = null, ILoggerFactory? loggerFactory = null)
    {
        _hub = hub ?? throw new ArgumentNullException(nameof(hub));
        ArgumentNullException.ThrowIfNull(registry);
        _options = options ?? new DurableWorkerOptions();
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("FleetFunctions.Orchestrations.Engine.DurableWorker");
        _processor = new OrchestrationProcessor(hub, registry, new InstanceCache(_options.InstanceCacheSize), _logger, new LocalActivityHost(this));
        _activities = new ActivityRunner(hub, registry);
        _intake = new MessageIntake(hub, _processor, _logger);
        _orchestrationSlots = new SemaphoreSlim(_options.MaxConcurrentOrchestrations);
        _activitySlots = new SemaphoreSlim(_options.MaxConcurrentActivities);
    }

    /// <summary>Creates the hub's storage if needed and starts polling.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await _hub.CreateIfNotExistsAsync(cancellationToken);
        _hub.MessageSent += OnMessageSent;
        if (_options.StartInstancesLocally)
        {
            _hub.LocalStarts = StartLocally;
            _hub.LocalCreates = CreateLocallyAsync;
        }

        var stop = _stopping.Token;
        for (var i = 0; i < Math.Max(1, _options.ControlPollers); i++)
        {
            _loops.Add(Task.Run(() => PollAsync(_hub.ControlQueue, _hub.Options.ControlMessageVisibilityTimeout, () => _controlInFlight, OnControlMessage, _controlWake, stop), CancellationToken.None));
        }

        for (var i = 0; i < Math.Max(1, _options.WorkItemPollers); i++)
        {
            _loops.Add(Task.Run(() => PollAsync(_hub.WorkItemQueue, _hub.Options.WorkItemVisibilityTimeout, () => _workInFlight, OnWorkItem, _workWake, stop), CancellationToken.None));
        }
        _loops.Add(Task.Run(() => SweepAsync(stop), CancellationToken.None));
    }

    /// <summary>Stops polling and waits (up to the token) for work in flight; unfinished messages reappear for other workers.</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        _hub.MessageSent -= OnMessageSent;
        if (_hub.LocalStarts == StartLocally)
        {
            _hub.LocalStarts = null;
        }

        if (_hub.LocalCreates == CreateLocallyAsync)
        {
            _hub.LocalCreates = null;
        }

        await _stopping.CancelAsync();
        await Task.WhenAll(_loops).WaitAsync(cancellationToken);
        while ((Volatile.Read(ref _controlInFlight) > 0 || Volatile.Read(ref _workInFlight) > 0 || Volatile.Read(ref _localInFlight) > 0)
            && !cancellationToken.IsCancellationRequested)
        {
            await Task.Delay(20, cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await StopAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            // Leftover work is redelivered to other workers.
        }

        _stopping.Dispose();
        _controlWake.Dispose();
        _workWake.Dispose();
    }

    private void OnMessageSent(TaskHubQueue queue) => (queue == TaskHubQueue.Control ? _controlWake : _workWake).Set();

    private async Task PollAsync(
        QueueClient queue, TimeSpan visibility, Func<int> inFlight, Action<QueueMessage> handle, AsyncSignal wake, CancellationToken stop)
    {
        var delay = _options.MinPollingInterval;
        var failures = 0;
        while (!stop.IsCancellationRequested)
        {
            var room = _options.MaxMessagesInFlight - inFlight();
            if (room <= 0)
            {
                await wake.WaitAsync(TimeSpan.FromMilliseconds(50), stop);
                continue;
            }

            QueueMessage[] messages;
            try
            {
                messages = (await queue.ReceiveMessagesAsync(Math.Min(32, room), visibility, stop)).Value;
                failures = 0;
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is RequestFailedException or HttpRequestException or AggregateException or IOException)
            {
                Log.PollFailed(_logger, queue.Name, ex.Message);
                failures++;
                await wake.WaitAsync(TimeSpan.FromMilliseconds(Math.Min(5000, 100 * (1 << Math.Min(failures, 6)))), stop);
                continue;
            }

            if (messages.Length > 0)
            {
                delay = _options.MinPollingInterval;
                foreach (var message in messages)
                {
                    handle(message);
                }

                continue;
            }

            var max = inFlight() > 0 ? _options.MaxPollingIntervalBusy : _options.MaxPollingIntervalIdle;
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, max.Ticks));
            await wake.WaitAsync(delay, stop);
        }
    }

    /// <summary>
    /// Every <see cref="DurableWorkerOptions.OutboxSweepInterval"/>, a pass of the hub's upkeep (<see cref="EngineUpkeep"/>)
    /// over at most <see cref="DurableWorkerOptions.MaxInstancesPerSweep"/> instances of the outbox index.
    /// </summary>
    private async Task SweepAsync(CancellationToken stop)
    {
        var upkeep = new EngineUpkeep(_hub, _processor, _logger, stallCheckAtOnce: false);
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(_options.OutboxSweepInterval, stop);
                await upkeep.RunAsync(_options.MaxInstancesPerSweep, stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // Whatever went wrong, the next pass runs: the upkeep is the hub's safety net for the life of the process.
                Log.UpkeepFailed(_logger, "an upkeep pass", ex);
            }
        }
    }
}
