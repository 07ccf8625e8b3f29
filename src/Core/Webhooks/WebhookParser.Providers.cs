using System.Text.Json;

namespace FleetFunctions.Core.Webhooks;

/// <summary>Provider-specific payload shapes.</summary>
public static partial class WebhookParser
{
    // GitHub: X-GitHub-Event (push, ping), X-GitHub-Delivery; payload ref/before/after/repository.*.
    private static ParsedWebhook ParseGitHub(WebhookRequest request, JsonElement root)
    {
        var @event = RequireHeader(request, "X-GitHub-Event");
        var delivery = RequireHeader(request, "X-GitHub-Delivery");
        var urls = Urls(OptionalString(root, "repository", "clone_url"), OptionalString(root, "repository", "ssh_url"),
            OptionalString(root, "repository", "html_url"), OptionalString(root, "repository", "url"));
        return @event switch
        {
            "ping" => new ParsedWebhook(request.Provider, delivery, @event, urls, [], IsPing: true),
            "push" => new ParsedWebhook(request.Provider, delivery, @event, RequireUrls(request, urls), [PushUpdate(request, root)], IsPing: false),
            _ => new ParsedWebhook(request.Provider, delivery, @event, urls, [], IsPing: false),
        };
    }

    // GitLab: X-Gitlab-Event ("Push Hook", "Tag Push Hook", "System Hook"), X-Gitlab-Event-UUID (15.x+).
    private static ParsedWebhook ParseGitLab(WebhookRequest request, JsonElement root)
    {
        var @event = RequireHeader(request, "X-Gitlab-Event");
        var delivery = request.Header("X-Gitlab-Event-UUID") ?? request.Header("X-Gitlab-Webhook-UUID") ?? BodyHash(request);
        var urls = Urls(OptionalString(root, "project", "git_http_url"), OptionalString(root, "project", "git_ssh_url"),
            OptionalString(root, "project", "web_url"), OptionalString(root, "repository", "git_http_url"));
        return @event is "Push Hook" or "Tag Push Hook"
            ? new ParsedWebhook(request.Provider, delivery, @event, RequireUrls(request, urls), [PushUpdate(request, root)], IsPing: false)
            : new ParsedWebhook(request.Provider, delivery, @event, urls, [], IsPing: false);
    }

    // Gitea / Forgejo: X-Gitea-Event or X-Forgejo-Event, X-Gitea-Delivery / X-Forgejo-Delivery; GitHub-like payload.
    private static ParsedWebhook ParseGitea(WebhookRequest request, JsonElement root)
    {
        var @event = request.Header("X-Gitea-Event") ?? request.Header("X-Forgejo-Event") ?? RequireHeader(request, "X-Gitea-Event");
        var delivery = request.Header("X-Gitea-Delivery") ?? request.Header("X-Forgejo-Delivery") ?? BodyHash(request);
        var urls = Urls(OptionalString(root, "repository", "clone_url"), OptionalString(root, "repository", "ssh_url"),
            OptionalString(root, "repository", "html_url"));
        return @event == "push"
            ? new ParsedWebhook(request.Provider, delivery, @event, RequireUrls(request, urls), [PushUpdate(request, root)], IsPing: false)
            : new ParsedWebhook(request.Provider, delivery, @event, urls, [], IsPing: false);
    }

    // Bitbucket Cloud: X-Event-Key (repo:push, diagnostics:ping), X-Request-UUID / X-Hook-UUID; push.changes[].old/new.
    private static ParsedWebhook ParseBitbucket(WebhookRequest request, JsonElement root)
    {
        var @event = RequireHeader(request, "X-Event-Key");
        var delivery = request.Header("X-Request-UUID") ?? request.Header("X-Hook-UUID") ?? BodyHash(request);
        var fullName = OptionalString(root, "repository", "full_name");
        var urls = Urls(OptionalString(root, "repository", "links", "html", "href"), fullName is null ? null : $"https://bitbucket.org/{fullName}.git");
        if (@event == "diagnostics:ping")
        {
            return new ParsedWebhook(request.Provider, delivery, @event, urls, [], IsPing: true);
        }

        if (@event != "repo:push")
        {
            return new ParsedWebhook(request.Provider, delivery, @event, urls, [], IsPing: false);
        }

        var updates = new List<RefUpdate>();
        if (Property(root, "push", "changes") is not { ValueKind: JsonValueKind.Array } changes)
        {
            throw new WebhookFormatException("Bitbucket webhook: repo:push payload has no 'push.changes' list");
        }

        foreach (var change in changes.EnumerateArray())
        {
            var side = Property(change, "new") is { ValueKind: JsonValueKind.Object } n ? n : Property(change, "old");
            var type = side is { } s ? OptionalString(s, "type") : null;
            var name = side is { } s2 ? OptionalString(s2, "name") : null;
            if (type is null || name is null)
            {
                throw new WebhookFormatException("Bitbucket webhook: a push change has neither 'new' nor 'old' with a type and a name");
            }

            var prefix = type == "tag" || type == "annotated_tag" ? "refs/tags/" : "refs/heads/";
            updates.Add(new RefUpdate(prefix + name, Sha(OptionalString(change, "old", "target", "hash")), Sha(OptionalString(change, "new", "target", "hash"))));
        }

        return new ParsedWebhook(request.Provider, delivery, @event, RequireUrls(request, urls), updates, IsPing: false);
    }

    // Azure DevOps service hooks: eventType git.push, id; resource.refUpdates[]; resource.repository.remoteUrl.
    private static ParsedWebhook ParseAzureDevOps(WebhookRequest request, JsonElement root)
    {
        var @event = RequireString(request, root, "eventType");
        var delivery = OptionalString(root, "id") ?? OptionalString(root, "notificationId") ?? BodyHash(request);
        var urls = Urls(OptionalString(root, "resource", "repository", "remoteUrl"), OptionalString(root, "resource", "repository", "sshUrl"),
            OptionalString(root, "resource", "repository", "webUrl"));
        if (@event != "git.push")
        {
            return new ParsedWebhook(request.Provider, delivery, @event, urls, [], IsPing: false);
        }

        if (Property(root, "resource", "refUpdates") is not { ValueKind: JsonValueKind.Array } refUpdates)
        {
            throw new WebhookFormatException("AzureDevOps webhook: git.push payload has no 'resource.refUpdates' list");
        }

        var updates = refUpdates.EnumerateArray()
            .Select(u => new RefUpdate(RequireString(request, u, "name"), Sha(OptionalString(u, "oldObjectId")), Sha(OptionalString(u, "newObjectId"))))
            .ToList();
        return new ParsedWebhook(request.Provider, delivery, @event, RequireUrls(request, urls), updates, IsPing: false);
    }

    private static RefUpdate PushUpdate(WebhookRequest request, JsonElement root)
    {
        var @ref = RequireString(request, root, "ref");
        var after = Sha(OptionalString(root, "after") ?? OptionalString(root, "checkout_sha"));
        var before = Sha(OptionalString(root, "before"));
        if (after is null && before is null)
        {
            throw new WebhookFormatException($"{request.Provider} webhook: the push names neither a 'before' nor an 'after' commit");
        }

        return new RefUpdate(@ref, before, after);
    }
}
