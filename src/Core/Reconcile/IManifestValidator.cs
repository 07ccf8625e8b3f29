using FleetFunctions.Core.Manifests;

namespace FleetFunctions.Core.Reconcile;

/// <summary>What is being validated: the fleet, cluster and commit the manifests belong to.</summary>
public sealed record ValidationContext(string Cluster, string Fleet, string Commit, string Path);

/// <summary>
/// Violations found by a validator; each message starts with <c>Kind/namespace/name</c> (or <c>path:line</c>)
/// and names the rule. Empty: the manifests may be applied.
/// </summary>
public sealed record ValidationResult(IReadOnlyList<string> Violations)
{
    public static ValidationResult Valid { get; } = new([]);

    /// <summary>Findings that do not block (Kyverno Audit rules), reported with the reconcile result.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    public bool IsValid => Violations.Count == 0;
}

/// <summary>
/// The validate phase between render and apply (the policy engine plugs in here). When any object fails,
/// nothing is applied.
/// </summary>
public interface IManifestValidator
{
    ValueTask<ValidationResult> ValidateAsync(ValidationContext context, ManifestSet manifests, CancellationToken cancellationToken = default);
}
