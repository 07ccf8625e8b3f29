using System.Security.Cryptography;
using System.Text.Json;

namespace FleetFunctions.Core.Webhooks;

/// <summary>
/// Reads push deliveries of each provider into a <see cref="ParsedWebhook"/>. Bodies are untrusted: any
/// shape problem is a <see cref="WebhookFormatException"/> naming what is missing, never another exception.
/// </summary>
public static partial class WebhookParser
{
    private const string ZeroSha = "0000000000000000000000000000000000000000";

    private static readonly JsonDocumentOptions s_options = new() { MaxDepth = 64, CommentHandling = JsonCommentHandling.Disallow };

    public static ParsedWebhook Parse(WebhookRequest request)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(request.Body, s_options);
        }
        catch (JsonException ex)
        {
            throw new WebhookFormatException($"{request.Provider} webhook: the body is not valid JSON ({ex.Message}); is the webhook's content type set to application/json?");
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new WebhookFormatException($"{request.Provider} webhook: the body must be a JSON object");
            }

            ParsedWebhook parsed;
            try
            {
                parsed = request.Provider switch
                {
                    WebhookProvider.GitHub => ParseGitHub(request, document.RootElement),
                    WebhookProvider.GitLab => ParseGitLab(request, document.RootElement),
                    WebhookProvider.Gitea => ParseGitea(request, document.RootElement),
                    WebhookProvider.Bitbucket => ParseBitbucket(request, document.RootElement),
                    _ => ParseAzureDevOps(request, document.RootElement),
                };
            }
            catch (InvalidOperationException ex)
            {
                // JsonElement accessors throw InvalidOperationException on an unexpected value kind.
                throw new WebhookFormatException($"{request.Provider} webhook: unexpected payload shape ({ex.Message})");
            }

            if (!IsDeliveryId(parsed.DeliveryId))
            {
                throw new WebhookFormatException($"{request.Provider} webhook: the delivery id {DeliveryIdRule}");
            }

            return parsed;
        }
    }

    /// <summary>Longest delivery id accepted (providers send UUIDs or hashes; ids become table keys).</summary>
    public const int MaxDeliveryIdLength = 128;

    /// <summary>What <see cref="IsDeliveryId"/> asks of a delivery id, as a message ends.</summary>
    public static readonly string DeliveryIdRule = $"must be at most {MaxDeliveryIdLength} printable ASCII characters";

    /// <summary>Whether <paramref name="deliveryId"/> can be a delivery id: only those are accepted, so only those are recorded.</summary>
    public static bool IsDeliveryId(string deliveryId) =>
        deliveryId.Length <= MaxDeliveryIdLength && deliveryId.All(c => c is >= (char)0x21 and <= (char)0x7e);

    /// <summary>A delivery id for providers that send none: the body's SHA-256, so identical redeliveries collapse.</summary>
    private static string BodyHash(WebhookRequest request) => Convert.ToHexStringLower(SHA256.HashData(request.Body.Span));

    private static string RequireHeader(WebhookRequest request, string name) =>
        request.Header(name) is { Length: > 0 } value
            ? value
            : throw new WebhookFormatException($"{request.Provider} webhook: the {name} header is missing; is this a {request.Provider} delivery sent to the right URL?");

    private static JsonElement? Property(JsonElement element, params string[] path)
    {
        var current = element;
        foreach (var name in path)
        {
            if (current.ValueKind != JsonValueKind.Object || !current.TryGetProperty(name, out current))
            {
                return null;
            }
        }

        return current;
    }

    private static string? OptionalString(JsonElement element, params string[] path) =>
        Property(element, path) is { ValueKind: JsonValueKind.String } value ? value.GetString() : null;

    private static string RequireString(WebhookRequest request, JsonElement element, params string[] path) =>
        OptionalString(element, path) is { Length: > 0 } value
            ? value
            : throw new WebhookFormatException($"{request.Provider} webhook: the payload has no '{string.Join('.', path)}'");

    private static string? Sha(string? sha) => sha is null || sha == ZeroSha || sha.Length == 0 ? null : sha;

    private static List<string> Urls(params string?[] urls) => urls.Where(u => !string.IsNullOrWhiteSpace(u)).Select(u => u!).Distinct(StringComparer.Ordinal).ToList();

    private static List<string> RequireUrls(WebhookRequest request, List<string> urls) =>
        urls.Count > 0 ? urls : throw new WebhookFormatException($"{request.Provider} webhook: the payload names no repository URL");
}
