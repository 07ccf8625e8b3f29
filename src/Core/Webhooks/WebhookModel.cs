namespace FleetFunctions.Core.Webhooks;

/// <summary>Git hosting services whose push webhooks are understood.</summary>
public enum WebhookProvider
{
    GitHub,
    GitLab,

    /// <summary>Gitea and Forgejo (same payloads and signature).</summary>
    Gitea,

    /// <summary>Bitbucket Cloud.</summary>
    Bitbucket,
    AzureDevOps,
}

/// <summary>A webhook as received: the provider (from the URL), headers and the raw body bytes.</summary>
public sealed record WebhookRequest(WebhookProvider Provider, IReadOnlyDictionary<string, string> Headers, ReadOnlyMemory<byte> Body)
{
    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;

    /// <summary>Builds a request with case-insensitive header lookup.</summary>
    public static WebhookRequest Create(WebhookProvider provider, IEnumerable<KeyValuePair<string, string>> headers, ReadOnlyMemory<byte> body) =>
        new(provider, new Dictionary<string, string>(headers, StringComparer.OrdinalIgnoreCase), body);
}

/// <summary>One ref update of a push: <see cref="Before"/> is null when the ref was created, <see cref="After"/> null when deleted.</summary>
public sealed record RefUpdate(string Ref, string? Before, string? After)
{
    public bool IsBranch => Ref.StartsWith("refs/heads/", StringComparison.Ordinal);

    public bool IsTag => Ref.StartsWith("refs/tags/", StringComparison.Ordinal);

    /// <summary>The branch or tag name without its <c>refs/heads/</c> or <c>refs/tags/</c> prefix.</summary>
    public string ShortName => IsBranch ? Ref["refs/heads/".Length..] : IsTag ? Ref["refs/tags/".Length..] : Ref;
}

/// <summary>What a delivery says, before its signature is checked.</summary>
/// <param name="DeliveryId">The provider's delivery id (used to drop redeliveries), or a hash of the body when it sends none.</param>
/// <param name="Event">The provider's event name, e.g. <c>push</c>, <c>Push Hook</c>, <c>repo:push</c>, <c>git.push</c>.</param>
/// <param name="RepositoryUrls">Every URL the payload gives for the repository (clone, SSH, web).</param>
/// <param name="Updates">Ref updates for push events; empty for pings and other events.</param>
/// <param name="IsPing">A connectivity check (GitHub ping, Gitea/GitLab test hooks).</param>
public sealed record ParsedWebhook(
    WebhookProvider Provider,
    string DeliveryId,
    string Event,
    IReadOnlyList<string> RepositoryUrls,
    IReadOnlyList<RefUpdate> Updates,
    bool IsPing)
{
    public bool IsPush => Updates.Count > 0;
}

/// <summary>The request is not a well-formed delivery of its provider; answered with 400 and the message.</summary>
public sealed class WebhookFormatException(string message) : Exception(message);
