using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using FleetFunctions.TestSupport;

namespace FleetFunctions.Functions.Tests.EndToEnd;

/// <summary>One invocation the emulator made and what the app answered.</summary>
internal sealed record HostInvocation(string Function, string Request, int Status, string Response);

/// <summary>
/// Plays the Azure Functions host in front of a custom handler: reads the queue-trigger queues from Azurite and posts
/// each message to <c>POST /&lt;Function&gt;</c>, and posts timer triggers, with the payload the host builds
/// (azure-functions-host <c>ScriptInvocationContextExtensions.ToHttpScriptInvocationContext</c>, documented in
/// "Azure Functions custom handlers", Request payload): <c>Data</c> holds the trigger under its binding name and
/// <c>Metadata</c> the trigger metadata, every non-object value passed through Json.NET's <c>SerializeObject</c>
/// (so the message text, the message id and the pop receipt arrive as quoted JSON strings and the dequeue count as
/// the string <c>"1"</c>), plus <c>sys</c> (<c>MethodName</c>, <c>UtcNow</c>, <c>RandGuid</c>). Like the host's
/// queue listener it takes a batch of <c>batchSize</c> messages, invokes them concurrently, deletes a message on
/// a 2xx answer and otherwise makes it visible again after <c>visibilityTimeout</c>, moving it to
/// <c>&lt;queue&gt;-poison</c> once it has been dequeued <c>maxDequeueCount</c> times (all read from host.json).
/// </summary>
internal sealed class FunctionsHostEmulator
{
    private static readonly JsonSerializerOptions s_jsonNet = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private readonly HttpClient _client;
    private readonly Dictionary<string, QueueClient> _queues;
    private readonly string _connectionString;
    private readonly List<HostInvocation> _invocations = [];

    /// <param name="queues">Queue-trigger function name → the queue it reads (function.json names the default hub's queues).</param>
    /// <param name="visibilityTimeout">Retry delay; null uses host.json's <c>extensions.queues.visibilityTimeout</c>.</param>
    public FunctionsHostEmulator(HttpClient client, string connectionString, IReadOnlyDictionary<string, string> queues, TimeSpan? visibilityTimeout = null)
    {
        _client = client;
        _connectionString = connectionString;
        var host = JsonNode.Parse(File.ReadAllText(Path.Combine(RepoPaths.Root, "host.json")))!["extensions"]!["queues"]!;
        if (host["messageEncoding"]?.GetValue<string>() != "none")
        {
            throw new InvalidOperationException("host.json: extensions.queues.messageEncoding must be 'none' (the engine writes plain-text messages)");
        }

        MaxDequeueCount = host["maxDequeueCount"]!.GetValue<int>();
        BatchSize = host["batchSize"]!.GetValue<int>();
        VisibilityTimeout = visibilityTimeout ?? TimeSpan.Parse(host["visibilityTimeout"]!.GetValue<string>(), CultureInfo.InvariantCulture);
        _queues = queues.ToDictionary(q => q.Key, q => new QueueClient(connectionString, q.Value, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.None }));
    }

    public int MaxDequeueCount { get; }

    public int BatchSize { get; }

    public TimeSpan VisibilityTimeout { get; }

    public IReadOnlyList<HostInvocation> Invocations
    {
        get
        {
            lock (_invocations)
            {
                return [.. _invocations];
            }
        }
    }

    /// <summary>One pass over every queue: receives a batch from each and invokes its function for each message; returns how many were invoked.</summary>
    public async Task<int> PumpAsync(CancellationToken cancellationToken = default)
    {
        var counts = await Task.WhenAll(_queues.Select(q => PumpQueueAsync(q.Key, q.Value, cancellationToken)));
        return counts.Sum();
    }

    /// <summary>Posts a timer trigger as the host does when the schedule fires.</summary>
    public async Task<HostInvocation> InvokeTimerAsync(string function, bool isPastDue = false, CancellationToken cancellationToken = default)
    {
        var now = DateTimeOffset.UtcNow;
        var payload = new JsonObject
        {
            ["Data"] = new JsonObject
            {
                ["timer"] = new JsonObject
                {
                    ["Schedule"] = new JsonObject { ["AdjustForDST"] = true },
                    ["ScheduleStatus"] = new JsonObject
                    {
                        ["Last"] = Iso(now.AddMinutes(-1)),
                        ["Next"] = Iso(now.AddMinutes(1)),
                        ["LastUpdated"] = Iso(now.AddMinutes(-1)),
                    },
                    ["IsPastDue"] = isPastDue,
                },
            },
            ["Metadata"] = new JsonObject { ["sys"] = Sys(function, now) },
        };
        return await InvokeAsync(function, payload, cancellationToken);
    }

    private async Task<int> PumpQueueAsync(string function, QueueClient queue, CancellationToken cancellationToken)
    {
        if (!(await queue.ExistsAsync(cancellationToken)).Value)
        {
            return 0;
        }

        QueueMessage[] batch = (await queue.ReceiveMessagesAsync(BatchSize, TimeSpan.FromMinutes(10), cancellationToken)).Value;
        await Task.WhenAll(batch.Select(async message =>
        {
            var invocation = await InvokeAsync(function, QueuePayload(function, message), cancellationToken);
            if (invocation.Status is >= 200 and < 300)
            {
                await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, cancellationToken);
            }
            else if (message.DequeueCount >= MaxDequeueCount)
            {
                var poison = new QueueClient(_connectionString, queue.Name + "-poison", new QueueClientOptions { MessageEncoding = QueueMessageEncoding.None });
                await poison.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
                await poison.SendMessageAsync(message.Body.ToString(), cancellationToken);
                await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, cancellationToken);
            }
            else
            {
                await queue.UpdateMessageAsync(message.MessageId, message.PopReceipt, visibilityTimeout: VisibilityTimeout, cancellationToken: cancellationToken);
            }
        }));
        return batch.Length;
    }

    private static JsonObject QueuePayload(string function, QueueMessage message)
    {
        var now = DateTimeOffset.UtcNow;
        return new JsonObject
        {
            ["Data"] = new JsonObject { ["message"] = SerializeObject(message.Body.ToString()) },
            ["Metadata"] = new JsonObject
            {
                ["DequeueCount"] = message.DequeueCount.ToString(CultureInfo.InvariantCulture),
                ["ExpirationTime"] = Iso(message.ExpiresOn ?? now.AddDays(7)),
                ["Id"] = SerializeObject(message.MessageId),
                ["InsertionTime"] = Iso(message.InsertedOn ?? now),
                ["NextVisibleTime"] = Iso(message.NextVisibleOn ?? now),
                ["PopReceipt"] = SerializeObject(message.PopReceipt),
                ["sys"] = Sys(function, now),
            },
        };
    }

    private async Task<HostInvocation> InvokeAsync(string function, JsonObject payload, CancellationToken cancellationToken)
    {
        var body = payload.ToJsonString(s_jsonNet);
        using var request = new HttpRequestMessage(HttpMethod.Post, function) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("X-Azure-Functions-InvocationId", Guid.NewGuid().ToString());
        request.Headers.Add("X-Azure-Functions-HostVersion", "4.1000.0.0");
        request.Headers.UserAgent.Add(new ProductInfoHeaderValue("Azure-Functions-Host", "4.1000.0.0"));
        using var response = await _client.SendAsync(request, cancellationToken);
        var invocation = new HostInvocation(function, body, (int)response.StatusCode, await response.Content.ReadAsStringAsync(cancellationToken));
        lock (_invocations)
        {
            _invocations.Add(invocation);
        }

        return invocation;
    }

    /// <summary>What Json.NET's <c>JsonConvert.SerializeObject</c> makes of a string: the JSON literal, quotes included.</summary>
    private static string SerializeObject(string value) => JsonSerializer.Serialize(value, s_jsonNet);

    private static string Iso(DateTimeOffset time) => time.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'+00:00'", CultureInfo.InvariantCulture);

    private static JsonObject Sys(string function, DateTimeOffset now) => new()
    {
        ["MethodName"] = function,
        ["UtcNow"] = now.UtcDateTime.ToString("o", CultureInfo.InvariantCulture),
        ["RandGuid"] = Guid.NewGuid().ToString(),
    };
}
