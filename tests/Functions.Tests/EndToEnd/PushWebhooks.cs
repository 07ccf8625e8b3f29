using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using FleetFunctions.Core.Webhooks;

namespace FleetFunctions.Functions.Tests.EndToEnd;

/// <summary>Push deliveries as the providers send them: headers, payload shape and signature or token.</summary>
internal static class PushWebhooks
{
    /// <summary>A GitHub push (X-GitHub-Event, X-GitHub-Delivery, X-Hub-Signature-256 over the body).</summary>
    public static HttpRequestMessage GitHub(string deliveryId, string repositoryUrl, string? before, string after, string secret, string branch = "main")
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(new
        {
            @ref = "refs/heads/" + branch,
            before = before ?? new string('0', 40),
            after,
            repository = new { clone_url = repositoryUrl, full_name = "org/app" },
            pusher = new { name = "e2e" },
        });
        var request = Json("api/webhooks/github", body);
        request.Headers.Add("X-GitHub-Event", "push");
        request.Headers.Add("X-GitHub-Delivery", deliveryId);
        request.Headers.Add("X-Hub-Signature-256", WebhookSignature.Sign(WebhookProvider.GitHub, secret, body));
        request.Headers.UserAgent.ParseAdd("GitHub-Hookshot/e2e");
        return request;
    }

    /// <summary>A GitLab push hook (X-Gitlab-Event, X-Gitlab-Event-UUID, X-Gitlab-Token).</summary>
    public static HttpRequestMessage GitLab(string eventUuid, string repositoryUrl, string? before, string after, string secret, string branch = "main")
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(new
        {
            object_kind = "push",
            @ref = "refs/heads/" + branch,
            before = before ?? new string('0', 40),
            after,
            checkout_sha = after,
            project = new { git_http_url = repositoryUrl, path_with_namespace = "org/app" },
        });
        var request = Json("api/webhooks/gitlab", body);
        request.Headers.Add("X-Gitlab-Event", "Push Hook");
        request.Headers.Add("X-Gitlab-Event-UUID", eventUuid);
        request.Headers.Add("X-Gitlab-Token", WebhookSignature.Sign(WebhookProvider.GitLab, secret, body));
        return request;
    }

    private static HttpRequestMessage Json(string path, byte[] body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = Encoding.UTF8.WebName };
        return request;
    }
}
