using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using FleetFunctions.Orchestrations.Engine;
using FleetFunctions.Orchestrations.Engine.Http;
using FleetFunctions.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace FleetFunctions.Orchestrations.Tests.Engine;

/// <summary>The Durable-Functions-shaped management API on a real Kestrel, driven by HttpClient.</summary>
public sealed class HttpApiTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task ManagementApi_StartWaitSignalCompletePurge_FollowsDurableFunctionsShape()
    {
        await using var h = await EngineHarness.StartAsync(azurite.ConnectionString, r => r
            .AddOrchestrator<string, string>("Greeter", async (ctx, name) =>
            {
                ctx.SetCustomStatus(new { phase = "waiting" });
                var punctuation = await ctx.WaitForExternalEvent<string>("Punctuation");
                return $"Hello {name}{punctuation}";
            }));
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        await using var app = builder.Build();
        app.MapDurableTaskApi(h.Client);
        app.MapPost("/start/{name}", async (HttpRequest request, string name) =>
            DurableHttpResponses.CreateCheckStatusResponse(request, await h.Client.ScheduleNewOrchestrationInstanceAsync("Greeter", name)));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        using var http = new HttpClient { BaseAddress = new Uri(address) };
        const string api = "/runtime/webhooks/durabletask/instances";

        var start = await http.PostAsync("/start/fleet", null);
        Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
        var payload = (await start.Content.ReadFromJsonAsync<JsonObject>())!;
        var id = (string)payload["id"]!;
        Assert.Equal(start.Headers.Location!.ToString(), (string)payload["statusQueryGetUri"]!);
        Assert.EndsWith($"{api}/{id}/raiseEvent/{{eventName}}", (string)payload["sendEventPostUri"]!, StringComparison.Ordinal);
        Assert.Contains("/terminate?reason=", (string)payload["terminatePostUri"]!, StringComparison.Ordinal);
        Assert.NotNull(payload["purgeHistoryDeleteUri"]);
        Assert.NotNull(payload["suspendPostUri"]);
        Assert.NotNull(payload["resumePostUri"]);

        HttpResponseMessage status;
        JsonObject body;
        do
        {
            await Task.Delay(50);
            status = await http.GetAsync($"{api}/{id}");
            body = (await status.Content.ReadFromJsonAsync<JsonObject>())!;
        }
        while (body["customStatus"] is null);
        Assert.Equal(HttpStatusCode.Accepted, status.StatusCode);
        Assert.NotNull(status.Headers.Location);
        Assert.NotNull(status.Headers.RetryAfter);
        Assert.Equal("Running", (string)body["runtimeStatus"]!);
        Assert.Equal("fleet", (string)body["input"]!);
        Assert.Equal("waiting", (string)body["customStatus"]!["phase"]!);

        var raised = await http.PostAsync($"{api}/{id}/raiseEvent/Punctuation", new StringContent("\"!\"", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Accepted, raised.StatusCode);
        await h.WaitAsync(id);
        var done = await http.GetAsync($"{api}/{id}?showHistory=true");
        var doneBody = (await done.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(HttpStatusCode.OK, done.StatusCode);
        Assert.Equal("Completed", (string)doneBody["runtimeStatus"]!);
        Assert.Equal("Hello fleet!", (string)doneBody["output"]!);
        Assert.Contains(doneBody["historyEvents"]!.AsArray(), e => (string)e!["EventType"]! == "EventRaised");
        Assert.NotNull(doneBody["createdTime"]);
        Assert.NotNull(doneBody["lastUpdatedTime"]);

        Assert.Equal(HttpStatusCode.Gone, (await http.PostAsync($"{api}/{id}/terminate?reason=late", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"{api}/nope")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.PostAsync($"{api}/nope/suspend", null)).StatusCode);

        // A second instance, terminated over HTTP; then list with paging.
        var second = (await (await http.PostAsync("/start/other", null)).Content.ReadFromJsonAsync<JsonObject>())!;
        var secondId = (string)second["id"]!;
        await h.WaitForStatusAsync(secondId, s => s.SerializedCustomStatus is not null);
        Assert.Equal(HttpStatusCode.Accepted, (await http.PostAsync($"{api}/{secondId}/terminate?reason=stop", null)).StatusCode);
        Assert.Equal(OrchestrationRuntimeStatus.Terminated, (await h.WaitAsync(secondId)).RuntimeStatus);

        using var page1 = new HttpRequestMessage(HttpMethod.Get, $"{api}?top=1&runtimeStatus=Completed,Terminated");
        var list1 = await http.SendAsync(page1);
        var token = list1.Headers.GetValues(DurableTaskApi.ContinuationHeader).Single();
        using var page2 = new HttpRequestMessage(HttpMethod.Get, $"{api}?top=1&runtimeStatus=Completed,Terminated");
        page2.Headers.Add(DurableTaskApi.ContinuationHeader, token);
        var list2 = await http.SendAsync(page2);
        var ids = (await list1.Content.ReadFromJsonAsync<JsonArray>())!.Concat((await list2.Content.ReadFromJsonAsync<JsonArray>())!)
            .Select(i => (string)i!["instanceId"]!).Order().ToList();
        Assert.Equal(new[] { id, secondId }.Order(), ids);
        Assert.Equal(HttpStatusCode.BadRequest, (await http.GetAsync($"{api}?runtimeStatus=Sleeping")).StatusCode);
        var byPrefix = (await (await http.GetAsync($"{api}?instanceIdPrefix={Uri.EscapeDataString(secondId[..10])}")).Content.ReadFromJsonAsync<JsonArray>())!;
        Assert.Equal(secondId, (string)Assert.Single(byPrefix)!["instanceId"]!);

        var purge = await http.DeleteAsync($"{api}/{id}");
        Assert.Equal(HttpStatusCode.OK, purge.StatusCode);
        Assert.Equal(1, (int)(await purge.Content.ReadFromJsonAsync<JsonObject>())!["instancesDeleted"]!);
        Assert.Equal(HttpStatusCode.NotFound, (await http.DeleteAsync($"{api}/{id}")).StatusCode);
        var purgeAll = await http.DeleteAsync($"{api}?runtimeStatus=Terminated");
        Assert.Equal(1, (int)(await purgeAll.Content.ReadFromJsonAsync<JsonObject>())!["instancesDeleted"]!);
        await app.StopAsync();
    }
}
