using System.Buffers;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using FleetFunctions.Simulator.Resources;
using FleetFunctions.Simulator.Store;
using Microsoft.AspNetCore.Http;
using FleetFunctions.Simulator.Serialization;

namespace FleetFunctions.Simulator.Api;

/// <summary>
/// Watches: newline-delimited WatchEvent JSON. resourceVersion absent or "0" starts with synthetic ADDED
/// events for what exists; a given version replays what happened after it. With allowWatchBookmarks a
/// BOOKMARK goes out first so clients waiting for the first event unblock.
/// </summary>
internal sealed partial class ApiHandler
{
    private static readonly TimeSpan s_defaultWatchTimeout = TimeSpan.FromMinutes(30);

    private async Task WatchAsync(HttpContext context, ResourceType type, ApiRequest request)
    {
        var query = context.Request.Query;
        var (labels, fields) = Selectors(context);
        if (request.Name is not null)
        {
            fields = FleetFunctions.Simulator.Selectors.FieldSelector.Parse(string.IsNullOrEmpty(query["fieldSelector"])
                ? $"metadata.name={request.Name}"
                : $"{query["fieldSelector"]},metadata.name={request.Name}");
        }

        var sendInitialEvents = IsTrue(query["sendInitialEvents"]);
        var bookmarks = IsTrue(query["allowWatchBookmarks"]);
        string? rvText = query["resourceVersion"];
        long? from = null;
        if (!sendInitialEvents && !string.IsNullOrEmpty(rvText) && rvText != "0")
        {
            from = long.TryParse(rvText, NumberStyles.None, CultureInfo.InvariantCulture, out var rv)
                ? rv
                : throw ApiException.BadRequest($"resourceVersion: Invalid value: \"{rvText}\": must be an integer");
        }

        var timeout = long.TryParse(query["timeoutSeconds"], NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds > 0
            ? TimeSpan.FromSeconds(seconds)
            : s_defaultWatchTimeout;

        Watcher watcher;
        long startRv;
        lock (backend.Store.Sync)
        {
            watcher = backend.Store.Subscribe(type.StorageKey, request.Namespace, fields, labels, from);
            startRv = backend.Store.ResourceVersion;
        }

        try
        {
            context.Response.StatusCode = 200;
            context.Response.ContentType = JsonContentType;
            context.Response.Headers.CacheControl = "no-cache, private";
            await context.Response.StartAsync(context.RequestAborted);
            if (bookmarks && !sendInitialEvents)
            {
                await WriteBookmarkAsync(context, type, from ?? startRv, initialEventsEnd: false);
            }

            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
            deadline.CancelAfter(timeout);
            var initialPending = sendInitialEvents;
            var asTable = WantsTable(context);
            var reader = watcher.Events;
            while (true)
            {
                while (reader.TryRead(out var e))
                {
                    var json = asTable
                        ? JsonSerializer.SerializeToUtf8Bytes(Table(context, type, [e.Object], e.Object.ResourceVersion), JsonDefaults.Options)
                        : ForVersion(type, e.Object);
                    await WriteEventAsync(context, e.Type, json);
                }

                if (initialPending)
                {
                    initialPending = false;
                    await WriteBookmarkAsync(context, type, startRv, initialEventsEnd: true);
                }

                await context.Response.BodyWriter.FlushAsync(deadline.Token);
                if (!await reader.WaitToReadAsync(deadline.Token))
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // timeoutSeconds elapsed or the client went away: the watch simply ends.
        }
        catch (IOException)
        {
            // the connection was reset while an event was being written
        }
        finally
        {
            lock (backend.Store.Sync)
            {
                backend.Store.Unsubscribe(watcher);
            }
        }
    }

    private static async Task WriteEventAsync(HttpContext context, string eventType, byte[] json)
    {
        var writer = context.Response.BodyWriter;
        writer.Write("{\"type\":\""u8);
        writer.Write(System.Text.Encoding.ASCII.GetBytes(eventType));
        writer.Write("\",\"object\":"u8);
        writer.Write(json);
        writer.Write("}\n"u8);
        if (writer.UnflushedBytes > 64 * 1024)
        {
            await writer.FlushAsync(context.RequestAborted);
        }
    }

    private static Task WriteBookmarkAsync(HttpContext context, ResourceType type, long rv, bool initialEventsEnd)
    {
        var metadata = new JsonObject { ["resourceVersion"] = rv.ToString(CultureInfo.InvariantCulture) };
        if (initialEventsEnd)
        {
            metadata["annotations"] = new JsonObject { ["k8s.io/initial-events-end"] = "true" };
        }

        var obj = new JsonObject { ["kind"] = type.Kind, ["apiVersion"] = type.ApiVersion, ["metadata"] = metadata };
        return WriteEventAsync(context, WatchEvent.Bookmark, JsonSerializer.SerializeToUtf8Bytes(obj, JsonDefaults.Options));
    }
}
