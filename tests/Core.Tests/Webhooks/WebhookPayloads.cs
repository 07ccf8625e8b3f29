using System.Text;
using System.Text.Json;
using FleetFunctions.Core.Webhooks;

namespace FleetFunctions.Core.Tests.Webhooks;

/// <summary>Push deliveries shaped as each provider sends them (trimmed to the fields that matter), signed like the provider would.</summary>
internal static class WebhookPayloads
{
    public const string Before = "1111111111111111111111111111111111111111";
    public const string After = "2222222222222222222222222222222222222222";

    public static WebhookRequest Push(WebhookProvider provider, string repoUrl, string branch, string? secret, string deliveryId = "d-1", string after = After)
    {
        object payload = provider switch
        {
            WebhookProvider.GitHub => new { @ref = $"refs/heads/{branch}", before = Before, after, repository = new { clone_url = repoUrl, full_name = "org/app" }, commits = Array.Empty<object>() },
            WebhookProvider.GitLab => new { object_kind = "push", @ref = $"refs/heads/{branch}", before = Before, after, checkout_sha = after, project = new { git_http_url = repoUrl, path_with_namespace = "org/app" } },
            WebhookProvider.Gitea => new { @ref = $"refs/heads/{branch}", before = Before, after, repository = new { clone_url = repoUrl } },
            WebhookProvider.Bitbucket => new
            {
                push = new { changes = new[] { new { old = new { type = "branch", name = branch, target = new { hash = Before } }, @new = new { type = "branch", name = branch, target = new { hash = after } } } } },
                repository = new { full_name = "org/app", links = new { html = new { href = repoUrl } } },
            },
            _ => new { id = deliveryId, eventType = "git.push", resource = new { refUpdates = new[] { new { name = $"refs/heads/{branch}", oldObjectId = Before, newObjectId = after } }, repository = new { remoteUrl = repoUrl } } },
        };
        var headers = provider switch
        {
            WebhookProvider.GitHub => new Dictionary<string, string> { ["X-GitHub-Event"] = "push", ["X-GitHub-Delivery"] = deliveryId },
            WebhookProvider.GitLab => new Dictionary<string, string> { ["X-Gitlab-Event"] = "Push Hook", ["X-Gitlab-Event-UUID"] = deliveryId },
            WebhookProvider.Gitea => new Dictionary<string, string> { ["X-Gitea-Event"] = "push", ["X-Gitea-Delivery"] = deliveryId },
            WebhookProvider.Bitbucket => new Dictionary<string, string> { ["X-Event-Key"] = "repo:push", ["X-Request-UUID"] = deliveryId },
            _ => new Dictionary<string, string>(),
        };
        var body = JsonSerializer.Serialize(payload);
        var bytes = Encoding.UTF8.GetBytes(body);
        if (secret is not null)
        {
            headers[SignatureHeader(provider)] = WebhookSignature.Sign(provider, secret, bytes);
        }

        return WebhookRequest.Create(provider, headers, bytes);
    }

    public static string SignatureHeader(WebhookProvider provider) => provider switch
    {
        WebhookProvider.GitHub => "X-Hub-Signature-256",
        WebhookProvider.GitLab => "X-Gitlab-Token",
        WebhookProvider.Gitea => "X-Gitea-Signature",
        WebhookProvider.Bitbucket => "X-Hub-Signature",
        _ => "Authorization",
    };
}
