using System.Text.Json.Nodes;
using FleetFunctions.Simulator.Resources;
using FleetFunctions.Simulator.Store;
using Microsoft.AspNetCore.Http;

namespace FleetFunctions.Simulator.Api;

/// <summary>
/// Server-side printing: when a client asks for <c>as=Table</c> (kubectl get), lists, single objects and
/// watch events come back as <c>meta.k8s.io/v1</c> Tables with the kind's usual columns.
/// </summary>
internal sealed partial class ApiHandler
{
    private static bool WantsTable(HttpContext context) =>
        context.Request.Headers.Accept.ToString().Contains("as=Table", StringComparison.Ordinal);

    private JsonObject Table(HttpContext context, ResourceType type, IEnumerable<StoredObject> items, long resourceVersion, bool includeColumns = true)
    {
        var columns = TableColumns.For(type.Kind);
        var now = backend.Now;
        var fullObject = context.Request.Query["includeObject"] == "Object";
        var rows = new JsonArray();
        foreach (var item in items)
        {
            var obj = item.ToJsonObject();
            rows.Add(new JsonObject
            {
                ["cells"] = new JsonArray(columns.Select(c => c.Cell(obj, now)).ToArray()),
                ["object"] = fullObject ? obj : new JsonObject
                {
                    ["kind"] = "PartialObjectMetadata",
                    ["apiVersion"] = "meta.k8s.io/v1",
                    ["metadata"] = obj["metadata"]?.DeepClone(),
                },
            });
        }

        var table = new JsonObject
        {
            ["kind"] = "Table",
            ["apiVersion"] = "meta.k8s.io/v1",
            ["metadata"] = new JsonObject { ["resourceVersion"] = resourceVersion.ToString(System.Globalization.CultureInfo.InvariantCulture) },
        };
        if (includeColumns)
        {
            table["columnDefinitions"] = new JsonArray(columns.Select(c => (JsonNode)new JsonObject
            {
                ["name"] = c.Name,
                ["type"] = c.Type,
                ["format"] = c.Format,
                ["description"] = c.Name,
                ["priority"] = c.Priority,
            }).ToArray());
        }

        table["rows"] = rows;
        return table;
    }
}
