using System.Text.Json;
using System.Text.Json.Nodes;
using FleetFunctions.Orchestrations.Engine;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace FleetFunctions.Functions.Triggers;

/// <summary>
/// Custom-handler invocations: the Functions host posts each queue and timer trigger to <c>POST /&lt;FunctionName&gt;</c>
/// with <c>{"Data": {binding: value}, "Metadata": {...}}</c> and expects <c>{"Outputs": {}, "Logs": [], "ReturnValue": …}</c>.
/// A non-2xx answer makes the host retry a queue message and, after maxDequeueCount, move it to the poison queue.
/// </summary>
internal static class InvocationEndpoints
{
    // The host reads the reply with Json.NET; the documented member names are PascalCase, so no naming policy.
    private static readonly JsonSerializerOptions s_reply = new();

    public static IEndpointRouteBuilder MapInvocations(this IEndpointRouteBuilder app)
    {
        foreach (var function in FunctionCatalog.All.Where(f => f.Trigger != TriggerKind.Http))
        {
            app.MapPost("/" + function.Name, (HttpRequest request, FunctionHandlers handlers, CancellationToken cancellationToken) =>
                InvokeAsync(function, request, handlers, cancellationToken));
        }

        return app;
    }

    private static async Task<IResult> InvokeAsync(FunctionDefinition function, HttpRequest request, FunctionHandlers handlers, CancellationToken cancellationToken)
    {
        JsonObject payload;
        try
        {
            payload = await JsonNode.ParseAsync(request.Body, cancellationToken: cancellationToken) as JsonObject
                ?? throw new JsonException("the body is not a JSON object");
        }
        catch (JsonException ex)
        {
            return Reply(MessageHandlingResult.Failure($"{function.Name}: the invocation body is not the Functions host's JSON ({ex.Message})"), StatusCodes.Status400BadRequest);
        }

        MessageHandlingResult result;
        if (function.Trigger == TriggerKind.Timer)
        {
            result = await handlers.HandleTimerAsync(function.Name, cancellationToken);
        }
        else
        {
            var data = payload["Data"] as JsonObject;
            var value = data?.FirstOrDefault().Value;
            if (value is null)
            {
                return Reply(MessageHandlingResult.Failure($"{function.Name}: the invocation carries no queue message in Data"), StatusCodes.Status400BadRequest);
            }

            var message = value.GetValueKind() == JsonValueKind.String ? HostString(value.GetValue<string>()) : value.ToJsonString();
            var metadata = payload["Metadata"] as JsonObject;
            var dequeueCount = metadata?["DequeueCount"] is { } count && long.TryParse(HostString(count.ToString()), out var n) ? n : 1;
            var id = metadata?["Id"] is { } idNode ? HostString(idNode.ToString()) : null;
            result = await handlers.HandleQueueMessageAsync(function.Name, message, dequeueCount, id, cancellationToken);
        }

        return Reply(result, result.Succeeded ? StatusCodes.Status200OK : StatusCodes.Status500InternalServerError);
    }

    /// <summary>
    /// Undoes the host's encoding of a string value. The host builds the payload with Json.NET and passes every
    /// value that is not an object through <c>JsonConvert.SerializeObject</c> (azure-functions-host,
    /// <c>ScriptInvocationContextExtensions.GetHttpScriptInvocationContextValue</c>), so a queue message
    /// <c>{"a":1}</c> arrives as the JSON string <c>"\"{\\\"a\\\":1}\""</c>, the message id quoted and the dequeue
    /// count as the string <c>"1"</c>. A value that is itself a JSON string literal is unwrapped once; anything
    /// else (the documented single-encoded form, a plain string) is taken as it is. The app's own messages are
    /// JSON objects, never bare JSON strings, so the unwrapping cannot misread one.
    /// </summary>
    internal static string HostString(string value)
    {
        if (value.Length >= 2 && value[0] == '"' && value[^1] == '"')
        {
            try
            {
                return JsonSerializer.Deserialize<string>(value) ?? value;
            }
            catch (JsonException)
            {
                // Not a JSON string literal after all: a message that merely starts and ends with a quote.
            }
        }

        return value;
    }

    private static IResult Reply(MessageHandlingResult result, int status) =>
        Results.Json(new
        {
            Outputs = new Dictionary<string, object>(),
            Logs = result.Succeeded ? Array.Empty<string>() : [result.Error ?? "failed"],
            ReturnValue = result.Succeeded ? "ok" : result.Error,
        }, s_reply, statusCode: status);
}
