using System.Text;
using FleetFunctions.Core.Webhooks;
using Xunit;

namespace FleetFunctions.Core.Tests.Webhooks;

public sealed class WebhookParserTests
{
    public static TheoryData<WebhookProvider> Providers => new(Enum.GetValues<WebhookProvider>());

    [Theory]
    [MemberData(nameof(Providers))]
    public void Parse_Push_ReadsRefCommitsRepositoryAndDeliveryId(WebhookProvider provider)
    {
        var parsed = WebhookParser.Parse(WebhookPayloads.Push(provider, "https://git.example.com/org/app.git", "main", "s3cret", "delivery-42"));

        var update = Assert.Single(parsed.Updates);
        Assert.Equal("refs/heads/main", update.Ref);
        Assert.Equal(WebhookPayloads.Before, update.Before);
        Assert.Equal(WebhookPayloads.After, update.After);
        Assert.Equal("delivery-42", parsed.DeliveryId);
        Assert.Contains(parsed.RepositoryUrls, u => RepositoryUrl.SameRepository(u, "https://git.example.com/org/app"));
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public void Verify_SignedBody_IsValidAndAnyChangeInvalidatesIt(WebhookProvider provider)
    {
        var request = WebhookPayloads.Push(provider, "https://git.example.com/org/app.git", "main", "s3cret");
        var tampered = request with { Body = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(request.Body.Span).Replace("main", "prod", StringComparison.Ordinal)) };
        var unsigned = WebhookPayloads.Push(provider, "https://git.example.com/org/app.git", "main", secret: null);

        Assert.Equal(SignatureCheck.Valid, WebhookSignature.Verify(request, "s3cret"));
        Assert.Equal(SignatureCheck.Invalid, WebhookSignature.Verify(request, "other"));
        Assert.Equal(SignatureCheck.Missing, WebhookSignature.Verify(unsigned, "s3cret"));
        // GitLab and Azure DevOps authenticate the sender, not the body.
        Assert.Equal(provider is WebhookProvider.GitLab or WebhookProvider.AzureDevOps ? SignatureCheck.Valid : SignatureCheck.Invalid,
            WebhookSignature.Verify(tampered, "s3cret"));
    }

    [Fact]
    public void Parse_GitHubPingAndOtherEvents_AreNotPushes()
    {
        var ping = WebhookRequest.Create(WebhookProvider.GitHub,
            new Dictionary<string, string> { ["X-GitHub-Event"] = "ping", ["X-GitHub-Delivery"] = "p1" },
            Encoding.UTF8.GetBytes("""{"zen":"Keep it logically awesome.","hook_id":1,"repository":{"clone_url":"https://github.com/org/app.git"}}"""));
        var issue = WebhookRequest.Create(WebhookProvider.GitHub,
            new Dictionary<string, string> { ["x-github-event"] = "issues", ["x-github-delivery"] = "i1" },
            Encoding.UTF8.GetBytes("""{"action":"opened"}"""));

        Assert.True(WebhookParser.Parse(ping).IsPing);
        var parsedIssue = WebhookParser.Parse(issue);
        Assert.False(parsedIssue.IsPush);
        Assert.Equal("issues", parsedIssue.Event);
    }

    [Fact]
    public void Parse_GitLabTagPush_IsATagUpdate()
    {
        var request = WebhookRequest.Create(WebhookProvider.GitLab,
            new Dictionary<string, string> { ["X-Gitlab-Event"] = "Tag Push Hook" },
            Encoding.UTF8.GetBytes("""{"ref":"refs/tags/v1.2.0","before":"0000000000000000000000000000000000000000","after":"2222222222222222222222222222222222222222","project":{"git_http_url":"https://gitlab.com/org/app.git"}}"""));

        var update = Assert.Single(WebhookParser.Parse(request).Updates);

        Assert.True(update.IsTag);
        Assert.Equal("v1.2.0", update.ShortName);
        Assert.Null(update.Before);
    }

    [Theory]
    [InlineData("not json", "not valid JSON")]
    [InlineData("[1,2]", "must be a JSON object")]
    [InlineData("""{"before":"a","after":"b","repository":{"clone_url":"https://x/y"}}""", "no 'ref'")]
    [InlineData("""{"ref":"refs/heads/main","repository":{"clone_url":"https://x/y"}}""", "neither a 'before' nor an 'after'")]
    [InlineData("""{"ref":"refs/heads/main","after":"abc"}""", "names no repository URL")]
    [InlineData("""{"ref":5,"after":"abc","repository":{"clone_url":"https://x/y"}}""", "no 'ref'")]
    public void Parse_MalformedGitHubPush_ThrowsFormatExceptionNamingTheProblem(string body, string fragment)
    {
        var request = WebhookRequest.Create(WebhookProvider.GitHub,
            new Dictionary<string, string> { ["X-GitHub-Event"] = "push", ["X-GitHub-Delivery"] = "x" }, Encoding.UTF8.GetBytes(body));

        var ex = Assert.Throws<WebhookFormatException>(() => WebhookParser.Parse(request));

        Assert.Contains(fragment, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_OversizedDeliveryId_IsRejected()
    {
        var request = WebhookPayloads.Push(WebhookProvider.GitHub, "https://x/y", "main", null, new string('a', 500));

        Assert.Throws<WebhookFormatException>(() => WebhookParser.Parse(request));
    }

    [Theory]
    [InlineData("https://github.com/Org/App.git", "git@github.com:org/app")]
    [InlineData("https://user:token@github.com/org/app/", "ssh://git@github.com/org/app.git")]
    [InlineData("file:///srv/git/app.git", "/srv/git/app")]
    [InlineData("https://dev.azure.com/org/proj/_git/app", "https://DEV.azure.com/org/proj/_git/app")]
    public void SameRepository_EquivalentUrls_Match(string a, string b) => Assert.True(RepositoryUrl.SameRepository(a, b));

    [Theory]
    [InlineData("https://github.com/org/app", "https://github.com/org/app2")]
    [InlineData("https://github.com/org/app", "https://gitlab.com/org/app")]
    [InlineData("/srv/git/App", "/srv/git/app")]
    public void SameRepository_DifferentRepositories_DoNotMatch(string a, string b) => Assert.False(RepositoryUrl.SameRepository(a, b));
}
