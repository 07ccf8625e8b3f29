using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Storage.Queues;
using FleetFunctions.Core.Webhooks;
using FleetFunctions.Functions.Hosting;
using FleetFunctions.Functions.Triggers;
using FleetFunctions.Orchestrations.Engine;
using FleetFunctions.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace FleetFunctions.Functions.Tests.EndToEnd;

/// <summary>
/// The app as an Azure Functions custom handler: no pollers or timers of its own, driven only by what the Functions
/// host would post (<see cref="FunctionsHostEmulator"/>): forwarded webhooks, queue triggers and timer triggers.
/// </summary>
public sealed class CustomHandlerEndToEndTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task Invocations_PushDrivenOnlyByHostPosts_RolloutCompletesOnEveryClusterAndEveryReplyHasTheHostShape()
    {
        await using var env = await FleetEnvironment.StartAsync(azurite.ConnectionString, customHandler: true);
        var host = Emulator(env);
        var before = env.AppRepo.Commit("base");
        var commit = env.CommitApp("example/web:2.0");

        var timer = await host.InvokeTimerAsync(FunctionCatalog.PlatformRefresh);
        using var accepted = await env.Client.SendAsync(PushWebhooks.GitHub("ch-1", env.AppRepo.Url, before, commit, FleetEnvironment.WebhookSecret));
        var body = await StandaloneEndToEndTests.BodyAsync(accepted);
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var statusUrl = Assert.Single(body["rollouts"]!.AsArray())!["statusQueryGetUri"]!.GetValue<string>();

        var done = await env.WaitForRolloutAsync(statusUrl, async () => await host.PumpAsync());

        Assert.True(done["runtimeStatus"]!.GetValue<string>() == "Completed", done.ToJsonString());
        Assert.Equal("Succeeded", done["output"]!["phase"]!.GetValue<string>());
        Assert.All(env.Clusters, c => Assert.Equal("example/web:2.0", env.ImageOn(c)));
        var invocations = host.Invocations;
        Assert.Equal(200, timer.Status);
        Assert.Contains(invocations, i => i.Function == FunctionCatalog.WebhookDeliveries);
        Assert.Contains(invocations, i => i.Function == FunctionCatalog.EngineControl);
        Assert.Contains(invocations, i => i.Function == FunctionCatalog.EngineWorkItems);
        Assert.All(invocations.Append(timer), i =>
        {
            Assert.True(i.Status == 200, $"{i.Function} answered {i.Status}: {i.Response}");
            AssertHostReply(i.Response, succeeded: true);
        });

        // The delivery was read from the host's double-encoded message: it is recorded as processed, not dropped.
        var delivery = await env.Deliveries.GetAsync(WebhookProvider.GitHub, "ch-1");
        Assert.Equal(DeliveryStatus.Processed, delivery!.Status);
    }

    [Fact]
    public async Task Invocations_DeliveryThatKeepsFailing_RetriedUntilMaxDequeueCountThenPoisonedAndRecordedAsFailed()
    {
        await using var env = await FleetEnvironment.StartAsync(azurite.ConnectionString, clusterCount: 1, customHandler: true);
        var host = Emulator(env, visibilityTimeout: TimeSpan.Zero);
        var head = env.AppRepo.Commit("base");
        var missing = new string('e', 40);
        var record = new DeliveryRecord(WebhookProvider.GitHub, "poison-1", DateTimeOffset.UtcNow, DeliveryStatus.Received, "received",
            ["apps"], [new RefUpdate("refs/heads/main", head, missing)], [new CandidateRollout(FleetEnvironment.Fleet, missing, $"{FleetEnvironment.Fleet}-{missing}")]);
        await env.Deliveries.TryAddAsync(record);
        await env.Deliveries.EnqueueAsync(record);

        for (var pass = 0; pass < 50 && host.Invocations.Count < host.MaxDequeueCount; pass++)
        {
            await host.PumpAsync();
        }

        await host.PumpAsync();
        var attempts = host.Invocations.Where(i => i.Function == FunctionCatalog.WebhookDeliveries).ToList();
        Assert.Equal(host.MaxDequeueCount, attempts.Count);
        Assert.All(attempts, a =>
        {
            Assert.Equal(500, a.Status);
            AssertHostReply(a.Response, succeeded: false);
            Assert.Contains("poison-1", a.Response, StringComparison.Ordinal);
        });
        var queue = new QueueClient(azurite.ConnectionString, env.Deliveries.QueueName);
        var poison = new QueueClient(azurite.ConnectionString, env.Deliveries.QueueName + "-poison");
        Assert.Empty((await queue.PeekMessagesAsync(32)).Value);
        var parked = Assert.Single((await poison.PeekMessagesAsync(32)).Value);
        Assert.Equal("poison-1", DeliveryStore.ParseMessage(parked.Body.ToString()).DeliveryId);
        var failed = await env.Deliveries.GetAsync(WebhookProvider.GitHub, "poison-1");
        Assert.Equal(DeliveryStatus.Failed, failed!.Status);
        Assert.Contains("processing failed for good", failed.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Invocations_HostEncodedDocumentedAndObjectQueueMessages_AllProcessTheirDelivery()
    {
        await using var env = await FleetEnvironment.StartAsync(azurite.ConnectionString, clusterCount: 1, customHandler: true);
        var before = env.AppRepo.Commit("base");
        var commit = env.CommitApp("example/web:3.0");
        var forms = new Dictionary<string, Func<string, JsonNode>>
        {
            ["jsonnet"] = m => JsonSerializer.Serialize(m), // what the host sends: Json.NET's SerializeObject of the text
            ["documented"] = m => m,                        // the docs' sample: the text itself
            ["object"] = m => JsonNode.Parse(m)!,           // a JSON object
        };

        foreach (var (form, encode) in forms)
        {
            var record = new DeliveryRecord(WebhookProvider.GitHub, form, DateTimeOffset.UtcNow, DeliveryStatus.Queued, "queued",
                ["apps"], [new RefUpdate("refs/heads/main", before, commit)], []);
            await env.Deliveries.TryAddAsync(record);
            var message = JsonSerializer.Serialize(new DeliveryMessage(WebhookProvider.GitHub, form), new JsonSerializerOptions(JsonSerializerDefaults.Web));
            var payload = new JsonObject
            {
                ["Data"] = new JsonObject { ["message"] = encode(message) },
                ["Metadata"] = new JsonObject { ["DequeueCount"] = "1", ["Id"] = "\"5b0c0d4e-1d9e-4e57-9f5e-3c4c2b3b1a00\"" },
            };
            using var response = await env.Client.PostAsync(FunctionCatalog.WebhookDeliveries, new StringContent(payload.ToJsonString(), System.Text.Encoding.UTF8, "application/json"));

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            AssertHostReply(await response.Content.ReadAsStringAsync(), succeeded: true);
            var processed = await env.Deliveries.GetAsync(WebhookProvider.GitHub, form);
            Assert.True(processed!.Status == DeliveryStatus.Processed, $"{form}: {processed.Status} {processed.Message}");
            Assert.Equal($"{FleetEnvironment.Fleet}-{commit}", Assert.Single(processed.Rollouts).InstanceId);
        }
    }

    private static FunctionsHostEmulator Emulator(FleetEnvironment env, TimeSpan? visibilityTimeout = null)
    {
        var hub = env.App.Services.GetRequiredService<DurableTaskHub>();
        return new FunctionsHostEmulator(env.Client, env.App.Services.GetRequiredService<AppOptions>().StorageConnectionString!, new Dictionary<string, string>
        {
            [FunctionCatalog.EngineControl] = hub.ControlQueueName,
            [FunctionCatalog.EngineWorkItems] = hub.WorkItemQueueName,
            [FunctionCatalog.WebhookDeliveries] = env.Deliveries.QueueName,
        }, visibilityTimeout);
    }

    /// <summary>The reply the host reads: <c>{"Outputs": {}, "Logs": [...], "ReturnValue": ...}</c>, member names as documented.</summary>
    private static void AssertHostReply(string text, bool succeeded)
    {
        var reply = JsonNode.Parse(text)!.AsObject();
        Assert.IsType<JsonObject>(reply["Outputs"]);
        var logs = Assert.IsType<JsonArray>(reply["Logs"]);
        Assert.True(reply.ContainsKey("ReturnValue"), text);
        if (succeeded)
        {
            Assert.Empty(logs);
            Assert.Equal("ok", reply["ReturnValue"]!.GetValue<string>());
        }
        else
        {
            Assert.NotEmpty(logs);
        }
    }
}
