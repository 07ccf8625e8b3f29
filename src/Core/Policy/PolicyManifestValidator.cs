using FleetFunctions.Core.Manifests;
using FleetFunctions.Core.Reconcile;

namespace FleetFunctions.Core.Policy;

/// <summary>
/// The validate phase of a reconcile: every rendered object is checked against a fleet's policy set before
/// anything is applied. A failed or errored rule of an Enforce policy blocks the whole commit on that cluster;
/// Audit findings are reported as warnings. Each finding names the policy and rule, the object
/// (<c>Kind/namespace/name</c>), its source file and the policy's message. Namespace labels for
/// <c>namespaceSelector</c> come from the Namespace objects of the same render. An object without a namespace is
/// validated in the namespace it will land in (<c>default</c> for namespaced kinds; see <see cref="ResourceScopes"/>),
/// though it is applied as rendered.
/// </summary>
public sealed class PolicyManifestValidator(PolicySet policies) : IManifestValidator
{
    public ValueTask<ValidationResult> ValidateAsync(ValidationContext context, ManifestSet manifests, CancellationToken cancellationToken = default)
    {
        var namespaceLabels = manifests.Objects
            .Where(o => o.Kind == "Namespace" && o.Group.Length == 0)
            .ToDictionary(
                o => o.Name,
                o => (IReadOnlyDictionary<string, string>)(o.Object["metadata"]?["labels"]?.AsObject()
                    .Where(p => p.Value is not null)
                    .ToDictionary(p => p.Key, p => p.Value!.ToString(), StringComparer.Ordinal) ?? new Dictionary<string, string>()),
                StringComparer.Ordinal);
        var policyContext = new PolicyContext
        {
            NamespaceLabels = namespaceLabels,
            Scopes = ResourceScopes.For(manifests.Objects.Select(o => o.Object)),
        };
        var blocking = new List<string>();
        var warnings = new List<string>();
        foreach (var manifest in manifests.Objects)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var report = PolicyEngine.Validate(policies, manifest.Object, policyContext, manifest.Location);
            foreach (var violation in report.Violations)
            {
                var text = $"{violation.Resource} ({violation.SourceFile ?? manifest.Location}): policy {violation.Policy}/{violation.Rule}: {violation.Message}";
                if (violation.Action == FailureAction.Enforce)
                {
                    blocking.Add($"{context.Cluster}/{text}; fix the object or the policy (Enforce blocks the whole commit on this cluster)");
                }
                else
                {
                    warnings.Add($"{context.Cluster}/{text} (Audit)");
                }
            }
        }

        return ValueTask.FromResult(new ValidationResult(blocking) { Warnings = warnings });
    }
}
