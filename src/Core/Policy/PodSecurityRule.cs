using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace FleetFunctions.Core.Policy;

/// <summary>
/// One <c>exclude</c> entry of a <c>validate.podSecurity</c> rule: the control it exempts, for the containers whose
/// image matches <see cref="Images"/> (none: the pod's own fields only), optionally only <see cref="RestrictedField"/>
/// and only when every forbidden value matches one of <see cref="Values"/>.
/// </summary>
internal sealed record PodSecurityExclusion(string Control, IReadOnlyList<string> Images, string? RestrictedField, IReadOnlyList<string>? Values)
{
    /// <summary>Whether this entry exempts <paramref name="finding"/> of a check of <paramref name="control"/>.</summary>
    public bool Exempts(string control, PodSecurityFinding finding)
    {
        if (control != Control)
        {
            return false;
        }

        // As Kyverno does: the check is run again on the pod with only the excluded containers (none without images)
        // and what it still reports there is exempt. Pod-level fields are reported there whatever the images.
        var covered = finding.Container is null || Images.Any(pattern => Wildcard.Match(pattern, finding.Container.Image));
        if (!covered || (RestrictedField is not null && RestrictedField != finding.Field))
        {
            return false;
        }

        // A required field that is unset has no value to compare: a matching restrictedField exempts it.
        return Values is null || finding.BadValues is null
            || finding.BadValues.All(bad => bad.Length == 0 || Values.Any(allowed => Wildcard.Match(allowed, bad)));
    }
}

/// <summary>
/// A Kyverno <c>validate.podSecurity</c> rule: the Kubernetes Pod Security Standards at a level and version, checked on
/// a Pod or on the pod template of a Pod controller, with exclusions. Results read like Kyverno's:
/// <c>Validation rule 'r' failed. It violates PodSecurity "restricted:latest": (Forbidden reason: ..., field error list: [...])</c>.
/// </summary>
internal sealed class PodSecurityRule
{
    private readonly string _levelText;
    private readonly string _versionText;
    private readonly IReadOnlyList<PodSecurityCheck> _checks;
    private readonly IReadOnlyList<PodSecurityExclusion> _exclusions;

    private PodSecurityRule(PodSecurityLevel level, string levelText, string versionText, int minor, IReadOnlyList<PodSecurityExclusion> exclusions)
    {
        _levelText = levelText;
        _versionText = versionText;
        _checks = PodSecurityChecks.For(level, minor);
        _exclusions = exclusions;
        Minor = minor;
    }

    /// <summary>The Kubernetes minor version whose standards apply.</summary>
    public int Minor { get; }

    /// <exception cref="PolicyLoadException">A level, version or exclusion Kyverno would refuse, with what is accepted.</exception>
    public static PodSecurityRule Compile(JsonNode? node, string where)
    {
        where += ".podSecurity";
        if (node is not JsonObject spec)
        {
            throw new PolicyLoadException($"{where}: expected an object with level, and optionally version and exclude");
        }

        var levelText = JsonUtil.GetString(spec, "level");
        var level = levelText switch
        {
            "privileged" => PodSecurityLevel.Privileged,
            "baseline" => PodSecurityLevel.Baseline,
            "restricted" => PodSecurityLevel.Restricted,
            null => throw new PolicyLoadException($"{where}.level is required: privileged, baseline or restricted"),
            _ => throw new PolicyLoadException($"{where}.level '{levelText}' must be privileged, baseline or restricted"),
        };
        var versionText = JsonUtil.GetString(spec, "version") is { Length: > 0 } version ? version : "latest";
        var minor = ParseVersion(versionText, where);
        var exclusions = (spec["exclude"] as JsonArray ?? []).Select((e, i) => CompileExclusion(e, level, $"{where}.exclude[{i}]")).ToList();
        if (spec["exclude"] is { } exclude and not JsonArray)
        {
            throw new PolicyLoadException($"{where}.exclude: expected a list, got {JsonUtil.Sprint(exclude)}");
        }

        return new PodSecurityRule(level, levelText, versionText, minor, exclusions);
    }

    /// <summary>
    /// Checks the Pod or pod template of <paramref name="resource"/>. When it fails and <paramref name="exceptions"/>
    /// (PolicyExceptions that apply) bring Pod Security exclusions, those are added, as Kyverno does: the rule is then
    /// skipped if nothing is left, and fails with what is left otherwise.
    /// </summary>
    public RuleOutcome Evaluate(string ruleName, JsonObject resource, bool isDelete, IReadOnlyList<CompiledException>? exceptions = null)
    {
        if (isDelete)
        {
            return RuleOutcome.Skip("skipping PSS validation on deleted resource");
        }

        var kind = JsonUtil.GetString(resource, "kind") ?? "";
        if (PodTemplates.TemplatePath(kind) is not { } template)
        {
            return RuleOutcome.Error($"rule {ruleName}: podSecurity checks Pods and the pod templates of DaemonSets, Deployments, Jobs, StatefulSets, ReplicaSets, ReplicationControllers and CronJobs; {kind} has none. Match only those kinds.");
        }

        string[] metadataPath = [.. template, "metadata"], specPath = [.. template, "spec"];
        var pod = new PodView(JsonUtil.Get(resource, metadataPath) as JsonObject, JsonUtil.Get(resource, specPath) as JsonObject ?? []);
        var (metadataPrefix, specPrefix) = (string.Join('.', metadataPath), string.Join('.', specPath));
        var failures = Failures(pod, _exclusions, specPrefix, metadataPrefix);
        if (failures.Length > 0 && exceptions is { Count: > 0 })
        {
            failures = Failures(pod, [.. _exclusions, .. exceptions.SelectMany(e => e.PodSecurity)], specPrefix, metadataPrefix);
            if (failures.Length == 0)
            {
                return CompiledException.Skipped(exceptions);
            }
        }

        return failures.Length == 0
            ? RuleOutcome.Pass()
            : RuleOutcome.Fail($"Validation rule '{ruleName}' failed. It violates PodSecurity \"{_levelText}:{_versionText}\": {failures}");
    }

    /// <summary>What the checks still report with <paramref name="exclusions"/>, in Kyverno's words; empty when the pod passes.</summary>
    private string Failures(PodView pod, IReadOnlyList<PodSecurityExclusion> exclusions, string specPrefix, string metadataPrefix)
    {
        var text = new StringBuilder();
        foreach (var check in _checks)
        {
            var findings = check.Find(pod, Minor).Where(f => !exclusions.Any(e => e.Exempts(check.Control, f))).ToList();
            if (findings.Count > 0)
            {
                text.Append(CultureInfo.InvariantCulture, $"(Forbidden reason: {check.Reason}, field error list: [{string.Join(", ", findings.Select(f => f.Describe(specPrefix, metadataPrefix)))}])");
            }
        }

        return text.ToString();
    }

    private static int ParseVersion(string text, string where)
    {
        if (text == "latest")
        {
            return PodSecurityChecks.LatestMinor;
        }

        if (text.StartsWith("v1.", StringComparison.Ordinal) && int.TryParse(text.AsSpan(3), NumberStyles.None, CultureInfo.InvariantCulture, out var minor)
            && minor <= PodSecurityChecks.LatestMinor)
        {
            return minor;
        }

        throw new PolicyLoadException($"{where}.version '{text}' is not known: use latest or v1.0 to v1.{PodSecurityChecks.LatestMinor} (the standards of Kubernetes v1.{PodSecurityChecks.LatestMinor} are the newest this engine has)");
    }

    /// <summary>Compiles one exclusion; <paramref name="level"/> is the rule's (null in a PolicyException, which may name any control).</summary>
    internal static PodSecurityExclusion CompileExclusion(JsonNode? node, PodSecurityLevel? level, string where)
    {
        if (node is not JsonObject exclude)
        {
            throw new PolicyLoadException($"{where}: expected an object with controlName and images");
        }

        var control = JsonUtil.GetString(exclude, "controlName")
            ?? throw new PolicyLoadException($"{where}.controlName is required: one of {Known()}");
        if (!PodSecurityChecks.Controls.Contains(control))
        {
            throw new PolicyLoadException($"{where}.controlName '{control}' is not a Pod Security Standards control this engine knows: one of {Known()}");
        }

        var images = (exclude["images"] as JsonArray ?? []).Select(JsonUtil.AsString).OfType<string>().ToList();
        if (PodSecurityChecks.ContainerControls.Contains(control) && images.Count == 0)
        {
            throw new PolicyLoadException($"{where}: exclude.images must be specified for the container level control '{control}' (use [\"*\"] for every container)");
        }

        if (PodSecurityChecks.PodControls.Contains(control) && images.Count > 0)
        {
            throw new PolicyLoadException($"{where}: exclude.images must not be specified for the pod level control '{control}'");
        }

        if (level == PodSecurityLevel.Baseline && control is not ("Seccomp" or "Capabilities")
            && PodSecurityChecks.All.Where(c => c.Control == control).All(c => c.Level == PodSecurityLevel.Restricted))
        {
            throw new PolicyLoadException($"{where}: Invalid control name defined at the given level: '{control}' is a restricted control and the rule checks baseline");
        }

        var field = JsonUtil.GetString(exclude, "restrictedField");
        var values = exclude["values"] is JsonArray list ? list.Select(JsonUtil.AsString).OfType<string>().ToList() : null;
        if (field is not null && values is null)
        {
            throw new PolicyLoadException($"{where}: values is required with restrictedField '{field}'");
        }

        if (field is null && values is not null)
        {
            throw new PolicyLoadException($"{where}: restrictedField is required with values");
        }

        return new PodSecurityExclusion(control, images, field, values);

        static string Known() => string.Join(", ", PodSecurityChecks.Controls.Select(c => $"'{c}'"));
    }
}
