using FleetFunctions.Core;
using FleetFunctions.Core.Analysis;
using FleetFunctions.Core.Fleet;
using FleetFunctions.Orchestrations.Engine;

namespace FleetFunctions.Orchestrations.Rollouts;

/// <summary>The steps of a rollout: waiting, applying waves, analysis, approval, failure handling and rollback.</summary>
internal sealed partial class RolloutRun
{
    private async Task<RolloutOutcome?> WaitForDependenciesAsync()
    {
        var deadline = context.CurrentUtcDateTime + RolloutOrchestrator.DependencyTimeout;
        var pause = RolloutOrchestrator.PollInterval;
        while (true)
        {
            var state = await context.CallActivityAsync<DependencyState>(RolloutNames.DependenciesActivity, new DependencyInput(_plan.DependsOn, _plan.Commit));
            if (state.Suspended.Count > 0)
            {
                return await FinishAsync(RolloutPhase.Failed,
                    $"dependencies are suspended and will not roll out commit {CommitSha.Short(_plan.Commit)}: {string.Join(", ", state.Suspended.Select(f => "ClusterFleet/" + f))} (spec.suspend); nothing was applied");
            }

            if (state.Failed.Count > 0)
            {
                return await FinishAsync(RolloutPhase.Failed,
                    $"dependencies failed to roll out commit {CommitSha.Short(_plan.Commit)}: {string.Join(", ", state.Failed.Select(f => "ClusterFleet/" + f))}; nothing was applied");
            }

            if (state.Pending.Count == 0)
            {
                return null;
            }

            if (context.CurrentUtcDateTime >= deadline)
            {
                return await FinishAsync(RolloutPhase.Failed,
                    $"dependencies did not roll out commit {CommitSha.Short(_plan.Commit)} within {GoDuration.Format(RolloutOrchestrator.DependencyTimeout)}: {string.Join(", ", state.Pending)}; nothing was applied");
            }

            MoveTo(RolloutPhase.WaitingForDependencies, $"waiting for {string.Join(", ", state.Pending.Select(f => "ClusterFleet/" + f))} to roll out commit {CommitSha.Short(_plan.Commit)}");
            Publish();
            if (await WaitAsync(pause) is var interrupt && interrupt != Interrupt.None)
            {
                return await InterruptedAsync(interrupt);
            }

            pause = NextPause(pause);
        }
    }

    /// <summary>The pause after <paramref name="pause"/>: doubled up to <see cref="RolloutOrchestrator.MaxPollInterval"/> from version 3 on, the same before.</summary>
    private TimeSpan NextPause(TimeSpan pause) =>
        RolloutOrchestrator.VersionNumber(context.Version) < 3 ? pause
        : pause * 2 < RolloutOrchestrator.MaxPollInterval ? pause * 2
        : RolloutOrchestrator.MaxPollInterval;

    private async Task<RolloutOutcome?> WaitForPreviousAsync(string previous)
    {
        await context.CallActivityAsync(RolloutNames.SupersedeActivity, new SupersedeInput(previous, context.InstanceId));
        var pause = RolloutOrchestrator.PollInterval;
        while (await context.CallActivityAsync<bool>(RolloutNames.PhaseActivity, previous))
        {
            MoveTo(RolloutPhase.WaitingForPrevious, $"waiting for the superseded rollout {previous} to stop at its next checkpoint");
            Publish();
            if (await WaitAsync(pause) is var interrupt && interrupt != Interrupt.None)
            {
                return await InterruptedAsync(interrupt);
            }

            pause = NextPause(pause);
        }

        return null;
    }

    /// <summary>Between steps: a newer rollout or an abort ends this one here.</summary>
    private async Task<RolloutOutcome?> CheckpointAsync() =>
        _superseded.IsCompleted ? await InterruptedAsync(Interrupt.Superseded)
        : _abort.IsCompleted ? await InterruptedAsync(Interrupt.Aborted)
        : null;

    /// <summary>Reconciles clusters with at most <c>MaxParallel</c> at once; results in input order.</summary>
    private async Task<ClusterReconcileSummary[]> ReconcileAllAsync(IReadOnlyList<PlannedCluster> clusters, string commit, bool rollback)
    {
        var results = new ClusterReconcileSummary[clusters.Count];
        var running = new List<(Task<ClusterReconcileSummary> Task, int Index)>();
        var next = 0;
        while (next < clusters.Count || running.Count > 0)
        {
            while (next < clusters.Count && running.Count < _plan.MaxParallel)
            {
                var cluster = clusters[next];
                if (!rollback && !_touched.Contains(cluster))
                {
                    _touched.Add(cluster);
                }

                _status = _status.WithCluster(cluster.Name, ClusterRolloutState.Applying, rollback ? $"rolling back to {CommitSha.Short(commit)}" : $"applying {CommitSha.Short(commit)}");
                running.Add((ReconcileWithRetryAsync(cluster, commit, rollback), next));
                next++;
            }

            Publish();
            var done = await Task.WhenAny(running.Select(r => r.Task));
            var entry = running.First(r => r.Task == done);
            running.Remove(entry);
            var summary = await done;
            results[entry.Index] = summary;
            var state = (summary.Succeeded, rollback) switch
            {
                (true, false) => ClusterRolloutState.Healthy,
                (true, true) => ClusterRolloutState.RolledBack,
                (false, false) => ClusterRolloutState.Failed,
                (false, true) => ClusterRolloutState.RollbackFailed,
            };
            _status = _status.WithCluster(summary.Cluster, state, summary.Message, summary);
        }

        Publish();
        return results;
    }

    private async Task<ClusterReconcileSummary> ReconcileWithRetryAsync(PlannedCluster cluster, string commit, bool rollback)
    {
        var input = new ClusterReconcileInput(_plan.Fleet, cluster, commit, _plan.Settings, _plan.HealthTimeout, rollback);
        for (var attempt = 1; ; attempt++)
        {
            ClusterReconcileSummary summary;
            try
            {
                summary = await context.CallActivityAsync<ClusterReconcileSummary>(RolloutNames.ReconcileActivity, input);
            }
            catch (TaskFailedException ex)
            {
                summary = new ClusterReconcileSummary(cluster.Name, false, IsTransient: true, "Activity",
                    $"{cluster.Name}: reconcile crashed: {ex.FailureDetails.ErrorType}: {ex.FailureDetails.ErrorMessage}", 0, 0, 0, 0);
            }

            if (summary.Succeeded || !summary.IsTransient || attempt >= RolloutOrchestrator.TransientAttempts)
            {
                return summary;
            }

            await context.CreateTimer(context.CurrentUtcDateTime + (RolloutOrchestrator.TransientRetryDelay * attempt), CancellationToken.None);
        }
    }

    private async Task<RolloutOutcome?> AnalyzeCanaryAsync(PlannedWave canary, AnalysisSpec spec)
    {
        var clusters = canary.Clusters.Select(c => c.Name).ToList();
        var iterations = new List<AnalysisIteration>();
        for (var i = 0; i < spec.Iterations; i++)
        {
            MoveTo(RolloutPhase.Analyzing, $"canary analysis: iteration {i + 1} of {spec.Iterations} in {GoDuration.Format(spec.Interval)}");
            Publish();
            if (await WaitAsync(spec.Interval) is var interrupt && interrupt != Interrupt.None)
            {
                return await InterruptedAsync(interrupt);
            }

            AnalysisIteration iteration;
            try
            {
                iteration = await context.CallActivityAsync<AnalysisIteration>(RolloutNames.AnalyzeActivity,
                    new AnalysisInput(_plan.Fleet, spec, clusters, i, context.CurrentUtcDateTime));
            }
            catch (TaskFailedException ex)
            {
                iteration = new AnalysisIteration(i, new DateTimeOffset(context.CurrentUtcDateTime, TimeSpan.Zero), MeasurementOutcome.Inconclusive,
                    [new MetricMeasurement("analysis", null, string.Empty, null, MeasurementOutcome.Inconclusive, $"analysis activity failed: {ex.FailureDetails.ErrorMessage}")]);
            }

            iterations.Add(iteration);
            _status = _status with { Analysis = iterations.ToList() };
            var verdict = CanaryAnalyzer.Decide(spec, iterations);
            if (verdict.Phase == AnalysisPhase.Failed)
            {
                var outcome = await OnFailureAsync($"canary analysis failed: {verdict.Reason}", _plan.OnFailure);
                _promotionDecided = outcome is null;
                return outcome;
            }

            if (verdict.Phase == AnalysisPhase.Succeeded)
            {
                _status = _status with { Message = $"canary analysis passed: {verdict.Reason}" };
                break;
            }
        }

        Publish();
        return null;
    }

    private async Task<RolloutOutcome?> AwaitApprovalAsync(ApprovalSpec approval)
    {
        MoveTo(RolloutPhase.AwaitingApproval,
            $"canary is healthy; raise '{RolloutNames.ApproveEvent}' to promote or '{RolloutNames.AbortEvent}' to roll back (times out in {GoDuration.Format(approval.Timeout)})");
        var gate = OpenGate();
        using var cts = new CancellationTokenSource();
        var timeout = context.CreateTimer(context.CurrentUtcDateTime + approval.Timeout, cts.Token);
        var (winner, decision) = await DecisionAsync(gate, cts, timeout);
        if (winner is null)
        {
            _status = _status with { Message = $"promotion approved{(decision?.By is { } by ? $" by {by}" : string.Empty)}" };
            return null;
        }

        return winner == timeout
            ? await RollbackAsync($"no approval within {GoDuration.Format(approval.Timeout)}")
            : await InterruptedAsync(winner == _abort ? Interrupt.Aborted : Interrupt.Superseded);
    }

    /// <summary>Numbers the decision point the rollout now waits at and publishes it (the status API sends approvals for it).</summary>
    private int OpenGate()
    {
        _gates++;
        _status = _status with { Gate = _gates };
        Publish();
        return _gates;
    }

    /// <summary>
    /// Waits for an approve meant for <paramref name="gate"/> (or for no gate in particular), an abort, a newer rollout or
    /// <paramref name="timeout"/>. An approve meant for an earlier gate (sent twice, or late) is dropped. Returns null as the
    /// winner when approved, with the decision; otherwise the task that won. Either way the gate is closed and the waits
    /// that lost are cancelled.
    /// </summary>
    private async Task<(Task? Winner, DecisionEvent? Decision)> DecisionAsync(int gate, CancellationTokenSource cts, Task? timeout = null)
    {
        while (true)
        {
            var approve = context.WaitForExternalEvent<DecisionEvent>(RolloutNames.ApproveEvent, cts.Token);
            var winner = timeout is null ? await Task.WhenAny(approve, _abort, _superseded) : await Task.WhenAny(approve, timeout, _abort, _superseded);
            var decision = winner == approve ? await approve : null;
            if (winner != approve || decision?.Gate is not { } meant || meant == gate)
            {
                CancelDurableWaits(cts);
                _status = _status with { Gate = null };
                return (winner == approve ? null : winner, decision);
            }
        }
    }

    /// <summary>A wave or the analysis failed: roll back, or pause until an operator decides.</summary>
    private async Task<RolloutOutcome?> OnFailureAsync(string reason, FailureAction action)
    {
        if (action == FailureAction.Rollback)
        {
            return await RollbackAsync(reason);
        }

        MoveTo(RolloutPhase.Paused, $"{reason}; paused: raise '{RolloutNames.ApproveEvent}' to continue or '{RolloutNames.AbortEvent}' to roll back");
        var gate = OpenGate();
        using var cts = new CancellationTokenSource();
        var (winner, _) = await DecisionAsync(gate, cts);
        if (winner is null)
        {
            MoveTo(RolloutPhase.Applying, $"continued by an operator after: {reason}");
            return null;
        }

        return await InterruptedAsync(winner == _abort ? Interrupt.Aborted : Interrupt.Superseded);
    }

    private async Task<RolloutOutcome> RollbackAsync(string reason)
    {
        if (_touched.Count == 0)
        {
            return await FinishAsync(RolloutPhase.Failed, $"{reason}; nothing had been applied");
        }

        if (_status.LastGoodCommit is not { } lastGood)
        {
            MoveTo(RolloutPhase.RollingBack, reason);
            return await FinishAsync(RolloutPhase.Failed,
                $"{reason}; no earlier successful rollout of ClusterFleet/{_plan.Fleet} to roll back to, so {_touched.Count} cluster(s) keep commit {CommitSha.Short(_plan.Commit)}: fix forward with a new commit");
        }

        MoveTo(RolloutPhase.RollingBack, $"{reason}; rolling {_touched.Count} cluster(s) back to {CommitSha.Short(lastGood)}");
        Publish();
        var results = await ReconcileAllAsync(_touched.ToList(), lastGood, rollback: true);
        var failed = results.Where(r => !r.Succeeded).ToList();
        return failed.Count == 0
            ? await FinishAsync(RolloutPhase.RolledBack, $"{reason}; rolled back to {CommitSha.Short(lastGood)} on {results.Length} cluster(s)")
            : await FinishAsync(RolloutPhase.Failed,
                $"{reason}; rollback to {CommitSha.Short(lastGood)} failed on {MessageList.Listed([.. failed.Select(f => $"{f.Cluster}: {f.Message}")])}: those clusters need an operator");
    }

    /// <summary>Waits on a durable timer unless an abort or a newer rollout comes first.</summary>
    private async Task<Interrupt> WaitAsync(TimeSpan delay)
    {
        if (_superseded.IsCompleted)
        {
            return Interrupt.Superseded;
        }

        if (_abort.IsCompleted)
        {
            return Interrupt.Aborted;
        }

        using var cts = new CancellationTokenSource();
        var timer = context.CreateTimer(context.CurrentUtcDateTime + delay, cts.Token);
        var winner = await Task.WhenAny(timer, _abort, _superseded);
        if (winner == timer)
        {
            return Interrupt.None;
        }

        CancelDurableWaits(cts);
        return winner == _abort ? Interrupt.Aborted : Interrupt.Superseded;
    }

    /// <summary>
    /// Cancels the timers and event waits that lost a <c>WhenAny</c>. Synchronously: <c>CancelAsync</c> would run the
    /// callbacks on the thread pool, outside the replay, and the orchestrator would never resume.
    /// </summary>
#pragma warning disable CA1849 // Call async methods when in an async method: CancelAsync is wrong in orchestrator code (see summary).
    private static void CancelDurableWaits(CancellationTokenSource cts) => cts.Cancel();
#pragma warning restore CA1849

    private async Task<RolloutOutcome> InterruptedAsync(Interrupt interrupt)
    {
        if (interrupt == Interrupt.Superseded)
        {
            var by = (await _superseded).By;
            _status = _status with { SupersededBy = by };
            return await FinishAsync(RolloutPhase.Superseded, $"superseded by {by}", by);
        }

        var decision = await _abort;
        return await RollbackAsync($"aborted{(decision?.By is { } who ? $" by {who}" : string.Empty)}{(decision?.Reason is { } why ? $": {why}" : string.Empty)}");
    }

    private async Task<RolloutOutcome> FinishAsync(RolloutPhase phase, string reason, string? supersededBy = null)
    {
        await context.CallActivityAsync(RolloutNames.RecordActivity, new RecordInput(_plan.Fleet, context.InstanceId, _plan.Commit, phase, reason));
        MoveTo(phase, reason);
        Publish();
        return new RolloutOutcome(phase, reason, supersededBy);
    }
}
