using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using FleetFunctions.Simulator.Apply;
using Xunit;

namespace FleetFunctions.Simulator.Tests.Apply;

/// <summary>Inline objects and helpers shared by the field manager tests.</summary>
internal static class ApplyFixtures
{
    public static readonly DateTimeOffset T0 = new(2025, 1, 2, 3, 4, 5, TimeSpan.Zero);
    public static readonly DateTimeOffset T1 = T0.AddMinutes(1);
    public static readonly DateTimeOffset T2 = T0.AddMinutes(2);

    /// <summary>A Deployment as <c>kubectl apply --server-side</c> sends it.</summary>
    public const string Deployment = """
        {
          "apiVersion": "apps/v1",
          "kind": "Deployment",
          "metadata": { "name": "web", "namespace": "shop", "labels": { "app": "web" } },
          "spec": {
            "replicas": 2,
            "selector": { "matchLabels": { "app": "web" } },
            "template": {
              "metadata": { "labels": { "app": "web" } },
              "spec": {
                "containers": [
                  {
                    "name": "app",
                    "image": "nginx:1.27",
                    "ports": [ { "containerPort": 80 } ],
                    "env": [ { "name": "MODE", "value": "prod" } ]
                  }
                ]
              }
            }
          }
        }
        """;

    private static readonly JsonSerializerOptions Compact = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Compact JSON without escaping quotes, to compare with FieldsV1 as the API server writes it.</summary>
    public static string Json(JsonNode? node) => node?.ToJsonString(Compact) ?? "null";

    public static JsonObject Parse(string json) => JsonNode.Parse(json)!.AsObject();

    public static JsonObject Deploy() => Parse(Deployment);

    /// <summary>A copy of <paramref name="obj"/> changed by <paramref name="edit"/>.</summary>
    public static JsonObject With(JsonObject obj, Action<JsonObject> edit)
    {
        var copy = (JsonObject)obj.DeepClone();
        edit(copy);
        return copy;
    }

    public static JsonObject Spec(JsonObject obj) => obj["spec"]!.AsObject();

    public static JsonObject PodSpec(JsonObject obj) => obj["spec"]!["template"]!["spec"]!.AsObject();

    public static JsonObject Container(JsonObject obj, int index = 0) => PodSpec(obj)["containers"]![index]!.AsObject();

    public static JsonObject Merged(ApplyResult result)
    {
        Assert.False(result.HasConflicts, "unexpected conflicts: " + string.Join(", ", result.Conflicts));
        return result.Merged!;
    }

    public static JsonArray ManagedFields(JsonObject obj) => obj["metadata"]!["managedFields"]!.AsArray();

    /// <summary>The managedFields entry of <paramref name="manager"/> with <paramref name="operation"/>.</summary>
    public static JsonObject? Entry(JsonObject obj, string manager, string operation = "Apply") =>
        ManagedFields(obj)
            .Select(e => e!.AsObject())
            .SingleOrDefault(e => (string?)e["manager"] == manager && (string?)e["operation"] == operation);

    public static JsonObject FieldsOf(JsonObject obj, string manager, string operation = "Apply") =>
        Entry(obj, manager, operation)?["fieldsV1"]?.AsObject() ?? throw new Xunit.Sdk.XunitException($"no {operation} entry for {manager}");

    /// <summary>Whether the FieldsV1 of the entry has the path given as FieldsV1 keys, e.g. <c>f:spec</c>, <c>f:replicas</c>.</summary>
    public static bool Owns(JsonObject obj, string manager, string operation, params string[] path)
    {
        if (Entry(obj, manager, operation)?["fieldsV1"] is not JsonObject node)
        {
            return false;
        }

        foreach (var element in path)
        {
            if (node[element] is not JsonObject next)
            {
                return false;
            }

            node = next;
        }

        return true;
    }

    public static void AssertJsonEqual(JsonNode? expected, JsonNode? actual) =>
        Assert.True(JsonNode.DeepEquals(expected, actual), $"expected:\n{expected?.ToJsonString()}\nactual:\n{actual?.ToJsonString()}");
}
