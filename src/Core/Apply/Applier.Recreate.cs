using FleetFunctions.Core.Clusters;
using FleetFunctions.Core.Manifests;

namespace FleetFunctions.Core.Apply;

/// <summary>Recreation of an object whose immutable field changed (<see cref="ApplyOptions.Recreate"/>).</summary>
public sealed partial class Applier
{
    /// <summary>
    /// Deletes <paramref name="obj"/> and applies it again, except volumes: a PersistentVolumeClaim or PersistentVolume is
    /// never recreated (its deletion, held by the protection finalizer until no Pod uses it, would destroy the data). An
    /// object already being deleted is not deleted again, only awaited. A StatefulSet is deleted with Orphan propagation, so
    /// its Pods keep running and the new StatefulSet adopts them instead of all being killed at once.
    /// </summary>
    private async Task<ObjectChange> RecreateAsync(ManifestObject obj, ResourceInfo resource, IReadOnlyList<string> immutable, CancellationToken cancellationToken)
    {
        var fields = string.Join(", ", immutable);
        if (obj.Group.Length == 0 && obj.Kind is "PersistentVolumeClaim" or "PersistentVolume")
        {
            return new ObjectChange(
                obj.Reference,
                obj.ApiVersion,
                ChangeAction.Failed,
                $"{obj.Reference.On(_client.Name)}: immutable field changed: {fields}; a {obj.Kind} is never recreated, even with recreate: true " +
                $"(deleting it destroys the volume's data once no Pod uses it): revert {fields} in Git, or migrate by hand to a new {obj.Kind} and copy the data.",
                obj.Checksum);
        }

        Log.Recreating(_logger, _client.Name, obj.Reference.ToString(), fields);
        var live = await _client.GetAsync(resource, obj.Namespace, obj.Name, cancellationToken);
        if (live?.StringAt("metadata.deletionTimestamp") is null)
        {
            var propagation = obj.Group == "apps" && obj.Kind == "StatefulSet" ? DeletePropagation.Orphan : DeletePropagation.Background;
            await _client.DeleteAsync(resource, obj.Namespace, obj.Name, propagation, cancellationToken);
        }

        if (await WaitGoneAsync(resource, obj, "after deleting it for recreation", cancellationToken) is { } stuck)
        {
            return stuck;
        }

        return await _client.ApplyAsync(resource, obj, _options.Force, recreated => new ObjectChange(obj.Reference, obj.ApiVersion, ChangeAction.Configured, $"recreated: {fields} cannot change in place", obj.Checksum)
        {
            Recreated = true,
            Health = HealthOf(obj.Reference, recreated),
        }, cancellationToken);
    }
}
