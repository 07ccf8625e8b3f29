using FleetFunctions.Core.Clusters;
using FleetFunctions.Core.Health;

namespace FleetFunctions.Core.Apply;

public sealed partial class Applier
{
    /// <summary>Waits until every applied CRD reports Established=True, then refreshes discovery; a CRD that does not becomes Failed.</summary>
    private async Task<IReadOnlyList<ObjectChange>> WaitForCrdsAsync(IReadOnlyList<ObjectChange> crds, CancellationToken cancellationToken)
    {
        var resource = await _client.ResolveAsync("apiextensions.k8s.io/v1", "CustomResourceDefinition", cancellationToken: cancellationToken);
        var deadline = DateTimeOffset.UtcNow + _options.CrdEstablishedTimeout;
        var pending = crds.ToList();
        while (true)
        {
            var still = new List<ObjectChange>();
            foreach (var crd in pending)
            {
                var live = await _client.GetAsync(resource, string.Empty, crd.Reference.Name, cancellationToken);
                if (live is null || !HealthRules.HasCondition(live, "Established", "True"))
                {
                    still.Add(crd);
                }
            }

            if (still.Count == 0)
            {
                _client.InvalidateDiscovery();
                return [];
            }

            if (DateTimeOffset.UtcNow > deadline)
            {
                return still.Select(c => c with
                {
                    Action = ChangeAction.Failed,
                    Message = $"{c.Reference.On(_client.Name)}: not Established within {_options.CrdEstablishedTimeout.TotalSeconds:0}s; check the CRD's conditions (kubectl describe crd {c.Reference.Name}).",
                }).ToList();
            }

            pending = still;
            await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken);
        }
    }
}
