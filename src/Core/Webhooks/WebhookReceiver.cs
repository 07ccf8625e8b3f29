using System.Runtime.CompilerServices;
using FleetFunctions.Core.Fleet;
using FleetFunctions.Core.Secrets;

namespace FleetFunctions.Core.Webhooks;

/// <summary>
/// Handles one webhook delivery on the request path, in milliseconds: parse, find the GitSources of the
/// repository, verify the signature with their secret, keep the pushes to followed branches, record the
/// delivery once and queue it. Which fleets a commit touches (a Git diff) is decided off the request path
/// by whoever processes the queue. Bad input is a 4xx with a reason; nothing is recorded for it. A redelivery is a
/// duplicate, except of a delivery that rolled nothing out (Failed, or Ignored): that one is evaluated again and, if it
/// now has rollouts to start, recorded and queued again.
/// </summary>
public sealed class WebhookReceiver
{
    private readonly IPlatformProvider _platform;
    private readonly ISecretStore _secrets;
    private readonly DeliveryStore _deliveries;
    private readonly TimeProvider _time;

    // GitSources by normalised repository URL, built once per platform snapshot: with a thousand sources, normalising
    // every source URL on every request cost about a millisecond.
    private readonly ConditionalWeakTable<PlatformConfig, ILookup<string, GitSource>> _sourcesByUrl = new();

    public WebhookReceiver(IPlatformProvider platform, ISecretStore secrets, DeliveryStore deliveries, TimeProvider? time = null)
    {
        _platform = platform;
        _secrets = secrets;
        _deliveries = deliveries;
        _time = time ?? TimeProvider.System;
    }

    public async Task<WebhookResult> ReceiveAsync(WebhookRequest request, CancellationToken cancellationToken = default)
    {
        ParsedWebhook parsed;
        try
        {
            parsed = WebhookParser.Parse(request);
        }
        catch (WebhookFormatException ex)
        {
            return WebhookResult.Rejected(400, ex.Message);
        }

        var platform = (await _platform.GetCurrentAsync(cancellationToken)).Config;
        var byUrl = _sourcesByUrl.GetValue(platform, p => p.Sources.Values.ToLookup(s => RepositoryUrl.Normalize(s.Url), StringComparer.Ordinal));
        var sources = parsed.RepositoryUrls
            .Select(RepositoryUrl.Normalize)
            .SelectMany(u => byUrl[u])
            .Distinct()
            .OrderBy(s => s.Name, StringComparer.Ordinal)
            .ToList();
        if (sources.Count == 0)
        {
            return await AnswerUnfollowedAsync(request, parsed, platform, cancellationToken);
        }

        var authentication = await AuthenticateAsync(request, sources, cancellationToken);
        if (authentication.Authenticated.Count == 0)
        {
            return authentication.Unconfigured.Count == sources.Count
                ? WebhookResult.Rejected(403,
                    $"webhooks for this repository cannot be authenticated, so they are refused: {string.Join("; ", authentication.Unconfigured)}", parsed.DeliveryId)
                : NotAuthentic(parsed, authentication);
        }

        var authenticated = authentication.Authenticated;

        if (parsed.IsPing)
        {
            return WebhookResult.Ignored(
                $"pong: pushes will be accepted for {string.Join(", ", authenticated.Select(s => $"GitSource/{s.Name} (branch {s.Branch})"))}", parsed.DeliveryId);
        }

        if (!parsed.IsPush)
        {
            return WebhookResult.Ignored($"event '{parsed.Event}' is not handled; only pushes start rollouts", parsed.DeliveryId);
        }

        var followed = new List<(GitSource Source, RefUpdate Update)>();
        foreach (var source in authenticated)
        {
            foreach (var update in parsed.Updates)
            {
                if (update.IsBranch && update.ShortName == source.Branch && update.After is not null)
                {
                    followed.Add((source, update));
                }
            }
        }

        if (followed.Count == 0)
        {
            var deleted = parsed.Updates.Where(u => u.IsBranch && u.After is null && authenticated.Any(s => s.Branch == u.ShortName)).ToList();
            if (deleted.Count > 0)
            {
                var followers = authenticated.Where(s => deleted.Any(u => u.ShortName == s.Branch)).Select(s => $"GitSource/{s.Name} follows branch {s.Branch}");
                return WebhookResult.Ignored(
                    $"{string.Join(", ", deleted.Select(u => u.Ref))} was deleted: nothing is rolled out, and clusters keep running what they last applied ({string.Join(", ", followers)}: push the branch again to roll out, or point spec.branch at another branch)",
                    parsed.DeliveryId);
            }

            var pushed = string.Join(", ", parsed.Updates.Select(u => u.After is null ? $"{u.Ref} (deleted)" : u.Ref));
            var following = string.Join(", ", authenticated.Select(s => $"GitSource/{s.Name} follows branch {s.Branch}"));
            return WebhookResult.Ignored($"no GitSource follows {pushed}: {following}", parsed.DeliveryId);
        }

        var rollouts = followed
            .SelectMany(f => platform.FleetsFollowing(f.Source).Select(fleet => new CandidateRollout(fleet.Name, f.Update.After!, RolloutInstanceId.For(fleet.Name, f.Update.After!))))
            .DistinctBy(r => r.InstanceId)
            .ToList();
        var record = new DeliveryRecord(
            parsed.Provider,
            parsed.DeliveryId,
            _time.GetUtcNow(),
            rollouts.Count == 0 ? DeliveryStatus.Ignored : DeliveryStatus.Received,
            rollouts.Count == 0 ? "no ClusterFleet uses the pushed GitSource" : "received",
            followed.Select(f => f.Source.Name).Distinct(StringComparer.Ordinal).ToList(),
            followed.Select(f => f.Update).Distinct().ToList(),
            rollouts);

        var (added, stored) = await _deliveries.TryAddAsync(record, cancellationToken);
        if (!added && rollouts.Count > 0 && stored.Status is DeliveryStatus.Failed or DeliveryStatus.Ignored)
        {
            // Redelivering is how an operator retries a push that rolled nothing out: one that failed (Git was down
            // through every retry) or was ignored (no ClusterFleet used the source yet) is recorded and queued afresh.
            if (stored.Status == DeliveryStatus.Failed)
            {
                record = record with { Message = $"received again; the earlier attempt failed: {stored.Message}" };
            }

            (added, stored) = await _deliveries.TryReplaceAsync(record, stored.Status, cancellationToken);
        }

        // A delivery ignored before and still ignored is answered with today's reason below, not as a duplicate.
        if (!added && (rollouts.Count > 0 || stored.Status != DeliveryStatus.Ignored))
        {
            if (stored.Status == DeliveryStatus.Received && stored.ReceivedAt <= _time.GetUtcNow() - DeliveryStore.StaleAfter)
            {
                // Recorded long ago and still unprocessed: the first attempt may have died before queueing, queue it again.
                await _deliveries.RequeueAsync(stored.Provider, stored.DeliveryId, cancellationToken);
            }

            return new WebhookResult(200, WebhookOutcome.Duplicate, $"delivery {parsed.DeliveryId} was already received ({stored.Status}); nothing new started", parsed.DeliveryId, stored.Rollouts);
        }

        if (rollouts.Count == 0)
        {
            return WebhookResult.Ignored($"no ClusterFleet uses {string.Join(", ", record.Sources.Select(s => "GitSource/" + s))}; nothing to roll out", parsed.DeliveryId);
        }

        await _deliveries.EnqueueAsync(record, cancellationToken);
        return new WebhookResult(202, WebhookOutcome.Accepted,
            $"accepted {string.Join(", ", record.Updates.Select(u => $"{u.Ref}@{CommitSha.Short(u.After!)}"))}: rollouts start for the fleets whose paths the push touches",
            parsed.DeliveryId, rollouts);
    }

    /// <summary>
    /// A delivery from a repository no GitSource follows. Only an authentic sender learns that: the signature is checked
    /// against every webhook secret in use, and a request none verifies is refused like a mis-signed one for a followed
    /// repository, in the same words. When no secret can be read at all, no webhook is authenticated: the refusal says so.
    /// </summary>
    private async Task<WebhookResult> AnswerUnfollowedAsync(WebhookRequest request, ParsedWebhook parsed, PlatformConfig platform, CancellationToken cancellationToken)
    {
        var urls = string.Join(" / ", parsed.RepositoryUrls.DefaultIfEmpty("(none named)"));
        var add = $"add a GitSource whose spec.url is {parsed.RepositoryUrls.FirstOrDefault() ?? "the repository's URL"}";
        var secretSources = platform.Sources.Values.Where(s => s.WebhookSecretRef is not null).DistinctBy(s => s.WebhookSecretRef!.Name).ToList();
        var authentication = await AuthenticateAsync(request, secretSources, cancellationToken);
        if (authentication.Authenticated.Count > 0)
        {
            return WebhookResult.Ignored($"no GitSource follows repository {urls}; nothing to do (to roll it out, {add})", parsed.DeliveryId);
        }

        return authentication.Unconfigured.Count == secretSources.Count
            ? WebhookResult.Rejected(403,
                $"{parsed.Provider} webhook: no GitSource follows repository {urls}, and no webhook secret can be read to authenticate the request (no GitSource has a spec.webhookSecretRef whose secret is in the secret store), so it is refused; {add}, give it a spec.webhookSecretRef and set the same secret at the provider",
                parsed.DeliveryId)
            : NotAuthentic(parsed, authentication);
    }

    /// <summary>Checks the request's signature or token against the webhook secret of each source.</summary>
    private async Task<Authentication> AuthenticateAsync(WebhookRequest request, List<GitSource> sources, CancellationToken cancellationToken)
    {
        var authenticated = new List<GitSource>();
        var sawInvalid = false;
        var unconfigured = new List<string>();
        foreach (var source in sources)
        {
            if (source.WebhookSecretRef is not { } secretRef)
            {
                unconfigured.Add($"GitSource/{source.Name} has no spec.webhookSecretRef");
                continue;
            }

            if (await _secrets.GetAsync(secretRef.Name, cancellationToken) is not { } secret)
            {
                unconfigured.Add($"secret '{secretRef.Name}' of GitSource/{source.Name} is not in the secret store ({EnvironmentSecretStore.HowToSet(secretRef.Name)})");
                continue;
            }

            switch (WebhookSignature.Verify(request, secret))
            {
                case SignatureCheck.Valid:
                    authenticated.Add(source);
                    break;
                case SignatureCheck.Invalid:
                    sawInvalid = true;
                    break;
            }
        }

        return new Authentication(authenticated, unconfigured, sawInvalid);
    }

    /// <summary>
    /// The refusal of a request no readable secret verifies. Its words are the same whether or not a GitSource follows the
    /// repository, so that they tell an unauthenticated sender nothing about which repositories are followed.
    /// </summary>
    private static WebhookResult NotAuthentic(ParsedWebhook parsed, Authentication authentication) => authentication.SawInvalid
        ? WebhookResult.Rejected(401,
            $"{parsed.Provider} webhook: the signature does not match the webhook secret of any GitSource that follows the pushed repository; set the webhook's secret at the provider to the one the GitSource whose spec.url is the repository's URL names in spec.webhookSecretRef (and add such a GitSource if there is none)",
            parsed.DeliveryId)
        : WebhookResult.Rejected(401, $"{parsed.Provider} webhook: the request carries no {SignatureHeader(parsed.Provider)}; configure a secret for this webhook at the provider", parsed.DeliveryId);

    private sealed record Authentication(List<GitSource> Authenticated, List<string> Unconfigured, bool SawInvalid);

    private static string SignatureHeader(WebhookProvider provider) => provider switch
    {
        WebhookProvider.GitHub => "X-Hub-Signature-256 header",
        WebhookProvider.GitLab => "X-Gitlab-Token header",
        WebhookProvider.Gitea => "X-Gitea-Signature header",
        WebhookProvider.Bitbucket => "X-Hub-Signature header",
        _ => "basic authentication (Authorization header)",
    };
}
