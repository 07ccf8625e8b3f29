namespace FleetFunctions.Core.Fleet;

/// <summary>ClusterFleet reading and cross-resource checks.</summary>
public static partial class PlatformLoader
{
    /// <summary>Health timeout when a fleet sets none.</summary>
    public static readonly TimeSpan DefaultHealthTimeout = TimeSpan.FromMinutes(5);

    /// <summary>Clusters reconciled at once within a wave when a fleet sets no <c>maxParallel</c>.</summary>
    public const int DefaultMaxParallel = 10;

    private static ClusterFleet ReadFleet(StrictYamlReader root)
    {
        var (name, _, spec, origin) = ReadHeader(root);
        if (spec is null)
        {
            return new ClusterFleet(name, new FleetSource(string.Empty, string.Empty), LabelSelector.Everything, [], [],
                new RolloutSpec(RolloutStrategy.AllAtOnce, null, null, DefaultMaxParallel), DefaultHealthTimeout,
                true, false, true, false, false, null, [], origin);
        }

        var sourceMap = spec.Map("source", required: true);
        var source = new FleetSource(sourceMap?.String("gitSource", required: true) ?? string.Empty, NormalizePath(sourceMap?.String("path") ?? "."));
        sourceMap?.RejectUnknownFields();

        var selector = ReadSelector(spec.Map("clusterSelector")) ?? LabelSelector.Everything;
        var regions = spec.StringList("regions");
        var capabilities = spec.StringList("capabilities");
        var rollout = ReadRollout(spec.Map("rollout"));
        var healthTimeout = spec.Duration("healthTimeout", TimeSpan.FromSeconds(1)) ?? DefaultHealthTimeout;
        var prune = spec.Bool("prune", true);
        var allowEmpty = spec.Bool("allowEmpty", false);
        var selfHeal = spec.Bool("selfHeal", true);
        var force = spec.Bool("force", false);
        var recreate = spec.Bool("recreate", false);
        var policySet = spec.String("policySet") is { } p ? NormalizePath(p) : null;
        var dependsOn = spec.StringList("dependsOn");
        var suspend = spec.Bool("suspend", false);
        spec.RejectUnknownFields();

        return new ClusterFleet(name, source, selector, regions, capabilities, rollout, healthTimeout, prune, allowEmpty,
            selfHeal, force, recreate, policySet, dependsOn, origin, suspend);
    }

    private static string NormalizePath(string path)
    {
        var trimmed = path.Replace('\\', '/').Trim('/');
        while (trimmed.StartsWith("./", StringComparison.Ordinal))
        {
            trimmed = trimmed[2..];
        }

        return trimmed.Length == 0 ? "." : trimmed;
    }

    private static LabelSelector? ReadSelector(StrictYamlReader? map)
    {
        if (map is null)
        {
            return null;
        }

        var labels = map.StringMap("matchLabels");
        var expressions = new List<SelectorRequirement>();
        foreach (var expression in map.MapList("matchExpressions"))
        {
            var key = expression.String("key", required: true) ?? string.Empty;
            var op = expression.Enum<SelectorOperator>("operator");
            if (op is null && !expression.Has("operator"))
            {
                expression.Error("operator", "is required: In, NotIn, Exists or DoesNotExist");
            }

            var values = expression.StringList("values");
            if (op is SelectorOperator.In or SelectorOperator.NotIn && values.Count == 0)
            {
                expression.Error("values", $"must not be empty for operator {op}");
            }
            else if (op is SelectorOperator.Exists or SelectorOperator.DoesNotExist && values.Count > 0)
            {
                expression.Error("values", $"must be empty for operator {op}");
            }

            expression.RejectUnknownFields();
            if (op is { } known)
            {
                expressions.Add(new SelectorRequirement(key, known, values));
            }
        }

        map.RejectUnknownFields();
        return new LabelSelector(labels, expressions);
    }

    private static RolloutSpec ReadRollout(StrictYamlReader? map)
    {
        if (map is null)
        {
            return new RolloutSpec(RolloutStrategy.AllAtOnce, null, null, DefaultMaxParallel);
        }

        var strategy = map.Enum<RolloutStrategy>("strategy") ?? RolloutStrategy.AllAtOnce;
        var maxParallel = map.Int("maxParallel", min: 1) ?? DefaultMaxParallel;
        var progressiveMap = map.Map("progressive");
        var canaryMap = map.Map("canary");
        var progressive = progressiveMap is null ? null : ReadProgressive(progressiveMap);
        var canary = canaryMap is null ? null : ReadCanary(canaryMap);

        if (strategy == RolloutStrategy.Progressive && progressiveMap is null)
        {
            map.Error("progressive", "is required when strategy is Progressive");
        }

        if (strategy == RolloutStrategy.Canary && canaryMap is null)
        {
            map.Error("canary", "is required when strategy is Canary");
        }

        if (strategy != RolloutStrategy.Progressive && progressiveMap is not null)
        {
            map.Error("progressive", $"is only read when strategy is Progressive (strategy is {strategy}); remove it or change the strategy");
        }

        if (strategy != RolloutStrategy.Canary && canaryMap is not null)
        {
            map.Error("canary", $"is only read when strategy is Canary (strategy is {strategy}); remove it or change the strategy");
        }

        map.RejectUnknownFields();
        return new RolloutSpec(strategy, progressive, canary, maxParallel);
    }

    /// <param name="onFailure">What onFailure means when not given (a canary's promotion waves inherit the canary's).</param>
    private static ProgressiveSpec ReadProgressive(StrictYamlReader map, FailureAction onFailure = FailureAction.Rollback)
    {
        var waves = new List<WaveSpec>();
        foreach (var wave in map.MapList("waves"))
        {
            var name = wave.String("name");
            var selector = ReadSelector(wave.Map("selector"));
            var count = wave.Int("count", min: 1);
            var percent = wave.Int("percent", min: 1, max: 100);
            var given = (selector is null ? 0 : 1) + (count is null ? 0 : 1) + (percent is null ? 0 : 1);
            if (given != 1 && !wave.Has("count") && !wave.Has("percent") && !wave.Has("selector"))
            {
                wave.Error(string.Empty, "a wave needs one of selector, count or percent");
            }
            else if (given > 1)
            {
                wave.Error(string.Empty, "a wave takes exactly one of selector, count or percent");
            }

            wave.RejectUnknownFields();
            waves.Add(new WaveSpec(name, selector, count, percent));
        }

        if (waves.Count == 0 && !map.Has("waves"))
        {
            map.Error("waves", "is required: list the waves (each a selector, a count or a percent of the remaining clusters)");
        }

        var soak = map.Duration("soak") ?? TimeSpan.Zero;
        var maxFailures = map.Int("maxFailures", min: 0) ?? 0;
        var action = map.Enum<FailureAction>("onFailure") ?? onFailure;
        map.RejectUnknownFields();
        return new ProgressiveSpec(waves, soak, maxFailures, action);
    }

    private static CanarySpec ReadCanary(StrictYamlReader map)
    {
        var selector = ReadSelector(map.Map("selector", required: true)) ?? LabelSelector.Everything;
        var analysisMap = map.Map("analysis", required: true);
        var analysis = analysisMap is null
            ? new AnalysisSpec(TimeSpan.FromMinutes(1), 1, 0, 0, NoDataPolicy.Inconclusive, [])
            : ReadAnalysis(analysisMap);

        ApprovalSpec? approval = null;
        if (map.Map("approval") is { } approvalMap)
        {
            approval = new ApprovalSpec(approvalMap.Duration("timeout", TimeSpan.FromSeconds(1)) ?? TimeSpan.FromHours(24));
            approvalMap.RejectUnknownFields();
        }

        var onFailure = map.Enum<FailureAction>("onFailure") ?? FailureAction.Rollback;
        var promotion = RolloutStrategy.AllAtOnce;
        ProgressiveSpec? promotionProgressive = null;
        if (map.Map("promotion") is { } promotionMap)
        {
            promotion = promotionMap.Enum<RolloutStrategy>("strategy") ?? RolloutStrategy.AllAtOnce;
            if (promotion == RolloutStrategy.Canary)
            {
                promotionMap.Error("strategy", "promotion after a canary is AllAtOnce or Progressive");
                promotion = RolloutStrategy.AllAtOnce;
            }

            if (promotionMap.Map("progressive") is { } p)
            {
                promotionProgressive = ReadProgressive(p, onFailure);
            }

            if (promotion == RolloutStrategy.Progressive && promotionProgressive is null)
            {
                promotionMap.Error("progressive", "is required when the promotion strategy is Progressive");
            }

            promotionMap.RejectUnknownFields();
        }

        map.RejectUnknownFields();
        return new CanarySpec(selector, analysis, approval, promotion, promotionProgressive, onFailure);
    }

    private static AnalysisSpec ReadAnalysis(StrictYamlReader map)
    {
        var interval = map.Duration("interval", TimeSpan.FromMilliseconds(100)) ?? TimeSpan.FromMinutes(1);
        var iterations = map.Int("iterations", min: 1) ?? 5;
        var failureLimit = map.Int("failureLimit", min: 0) ?? 0;
        var inconclusiveLimit = map.Int("inconclusiveLimit", min: 0) ?? 0;
        var noData = map.Enum<NoDataPolicy>("noData") ?? NoDataPolicy.Inconclusive;
        var metrics = new List<MetricSpec>();
        foreach (var metric in map.MapList("metrics"))
        {
            var name = metric.String("name", required: true) ?? string.Empty;
            var query = metric.String("query", required: true) ?? string.Empty;
            var min = metric.Number("min");
            var max = metric.Number("max");
            // A bound given as null (`max:` left blank) is no bound: without one the metric could never fail.
            if (min is null && max is null)
            {
                metric.Error(metric.Has("max") ? "max" : metric.Has("min") ? "min" : string.Empty, "a metric needs min, max or both, as numbers: the range its value must stay in");
            }
            else if (min > max)
            {
                metric.Error("min", $"({min}) is greater than max ({max})");
            }

            metric.RejectUnknownFields();
            metrics.Add(new MetricSpec(name, query, min, max));
        }

        if (metrics.Count == 0)
        {
            map.Error("metrics", "is required (and may not be empty): a canary is judged by at least one metric");
        }

        if (metrics.GroupBy(m => m.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } dup)
        {
            map.Error("metrics", $"metric name '{dup.Key}' is used twice");
        }

        map.RejectUnknownFields();
        return new AnalysisSpec(interval, iterations, failureLimit, inconclusiveLimit, noData, metrics);
    }

    private static void CheckReferences(List<GitSource> sources, List<ClusterFleet> fleets, List<ResourceError> errors)
    {
        var sourceNames = sources.Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
        var fleetsByName = fleets.GroupBy(f => f.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        foreach (var fleet in fleets)
        {
            if (fleet.Source.GitSource.Length > 0 && !sourceNames.Contains(fleet.Source.GitSource))
            {
                errors.Add(new ResourceError(fleet.Origin.File, fleet.Origin.Line, "spec.source.gitSource",
                    $"ClusterFleet '{fleet.Name}' refers to GitSource '{fleet.Source.GitSource}', which is not defined; known: {string.Join(", ", sourceNames.Order(StringComparer.Ordinal))}"));
            }

            foreach (var dependency in fleet.DependsOn)
            {
                if (dependency == fleet.Name)
                {
                    errors.Add(new ResourceError(fleet.Origin.File, fleet.Origin.Line, "spec.dependsOn", $"ClusterFleet '{fleet.Name}' depends on itself"));
                }
                else if (!fleetsByName.TryGetValue(dependency, out var needed))
                {
                    errors.Add(new ResourceError(fleet.Origin.File, fleet.Origin.Line, "spec.dependsOn", $"ClusterFleet '{fleet.Name}' depends on '{dependency}', which is not defined"));
                }
                else if (needed.Source.GitSource != fleet.Source.GitSource)
                {
                    // A dependency must have rolled out the same commit, which only a fleet of the same repository can.
                    errors.Add(new ResourceError(fleet.Origin.File, fleet.Origin.Line, "spec.dependsOn",
                        $"ClusterFleet '{fleet.Name}' (GitSource '{fleet.Source.GitSource}') depends on '{dependency}', which follows GitSource '{needed.Source.GitSource}': " +
                        "dependsOn orders fleets that roll out the same commit of one GitSource; put both on one source, or drop the dependency"));
                }
            }
        }

        foreach (var fleet in fleets)
        {
            if (FindCycle(fleet.Name, fleetsByName) is { } cycle)
            {
                errors.Add(new ResourceError(fleet.Origin.File, fleet.Origin.Line, "spec.dependsOn", $"dependency cycle: {string.Join(" -> ", cycle)}"));
                break;
            }
        }
    }

    private static List<string>? FindCycle(string start, IReadOnlyDictionary<string, ClusterFleet> fleets)
    {
        var path = new List<string>();
        var visiting = new HashSet<string>(StringComparer.Ordinal);
        return Visit(start);

        List<string>? Visit(string name)
        {
            if (!visiting.Add(name))
            {
                return name == start ? [.. path, name] : null;
            }

            path.Add(name);
            if (fleets.TryGetValue(name, out var fleet))
            {
                foreach (var dependency in fleet.DependsOn.Where(d => d != name))
                {
                    if (Visit(dependency) is { } cycle)
                    {
                        return cycle;
                    }
                }
            }

            path.RemoveAt(path.Count - 1);
            return null;
        }
    }
}
