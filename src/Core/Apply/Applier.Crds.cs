using FleetFunctions.Core.Clusters;
using FleetFunctions.Core.Health;

namespace FleetFunctions.Core.Apply;

public sealed partial class Applier
{
    /// <summary>
    /// Waits until every applied CRD reports Established=True, then refreshes discovery. A CRD that does not, or whose
    /// state cannot be read (cluster unreachable, API error), becomes Failed, marked <see cref="ObjectChange.Applied"/>.
    /// </summary>
    private async Task<IReadOnlyList<ObjectChange>> WaitForCrdsAsync(IReadOnlyList<ObjectChange> crds, CancellationToken cancellationToken)
    {
        var deadline = DateTimeOffset.UtcNow + _options.CrdEstablishedTimeout;
        var pending = crds.ToList();
        while (true)
        {
            var still = new List<ObjectChange>();
            foreach (var crd in pending)
            {
                try
                {
                    var resource = await _client.ResolveAsync("apiextensions.k8s.io/v1", "CustomResourceDefinition", crd.Reference, cancellationToken);
                    var live = await _client.GetAsync(resource, string.Empty, crd.Reference.Name, cancellationToken);
                    if (live is null || !HealthRules.HasCondition(live, "Established", "True"))
                    {
                        still.Add(crd);
                    }
                }
                catch (Exception e) when (e is KubernetesApiException or ClusterUnreachableException)
                {
                    return [crd with
                    {
                        Action = ChangeAction.Failed,
                        Message = $"{e.Message} It was applied; whether it is Established is not known.",
                        Applied = true,
                        IsTransient = ObjectChange.IsTransientError(e),
                    }];
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
                    Applied = true,
                }).ToList();
            }

            pending = still;
            await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken);
        }
    }
}
