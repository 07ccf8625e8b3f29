using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using FleetFunctions.Core.Tests.Support;
using FleetFunctions.Functions.Cli;
using FleetFunctions.Functions.Tests.Cli;
using FleetFunctions.TestSupport;
using Xunit;

namespace FleetFunctions.Functions.Tests.EndToEnd;

/// <summary>
/// A SealedSecret sealed for FleetFunctions' published certificate and pushed to Git reaches every cluster of the fleet
/// sealed for that cluster's own certificate (from its Cluster resource), through the whole app: sealed with
/// <c>fleetfunctions seal</c> against the app's certificate URL, as a user without kubeseal would.
/// </summary>
public sealed class SealedSecretEndToEndTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task Push_SealedSecretSealedForThePublishedCertificate_EachClusterCanUnsealItsCopy()
    {
        var fleetKey = SealingTestKeys.NewPem("fleetfunctions");
        var clusterKeys = new Dictionary<string, string>();
        await using var env = await FleetEnvironment.StartAsync(azurite.ConnectionString, clusterCount: 2,
            sealing: (fleetKey, name => SealingTestKeys.CertificateOf(clusterKeys.TryGetValue(name, out var pem) ? pem : clusterKeys[name] = SealingTestKeys.NewPem(name))));

        // What a user does first: fetch the certificate to seal for (kubeseal --cert <url>).
        using var certificate = await env.Client.GetAsync("api/sealing/cert.pem");
        Assert.Equal(HttpStatusCode.OK, certificate.StatusCode);
        Assert.Equal("application/x-pem-file", certificate.Content.Headers.ContentType?.MediaType);
        var published = await certificate.Content.ReadAsStringAsync();
        Assert.Equal(SealingTestKeys.CertificateOf(fleetKey), published);

        // Then seal a Secret for it (fleetfunctions seal, as kubeseal --cert would) and commit only the SealedSecret.
        var secretFile = Path.Combine(Path.GetTempPath(), $"db-credentials-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(secretFile, "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db-credentials\n  namespace: web\nstringData:\n  password: hunter2\n");
        (int Exit, string Output, string Error) sealing;
        try
        {
            sealing = await CliRunner.RunAsync(SealCommand.Create(), "seal", "--cert", new Uri(env.Client.BaseAddress!, "api/sealing/cert.pem").ToString(), secretFile);
        }
        finally
        {
            File.Delete(secretFile);
        }

        Assert.True(sealing.Exit == 0, sealing.Error);
        var before = env.AppRepo.Commit("base");
        env.AppRepo.Write("web/crd-sealedsecrets.yaml", File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "testdata", "sealed-secrets", "crd.yaml")))
            .Write("web/db-credentials.yaml", sealing.Output);
        var commit = env.CommitApp("example/web:1.1");
        using var accepted = await env.Client.SendAsync(PushWebhooks.GitHub("sealed-1", env.AppRepo.Url, before, commit, FleetEnvironment.WebhookSecret));
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var body = (await accepted.Content.ReadFromJsonAsync<JsonObject>())!;

        var done = await env.WaitForRolloutAsync(body["rollouts"]![0]!["statusQueryGetUri"]!.GetValue<string>());

        Assert.True(done["output"]?["phase"]?.GetValue<string>() == "Succeeded", done.ToJsonString());
        var values = env.Clusters.Select(c => SealingTestKeys.EncryptedValue(c.GetObject("bitnami.com/v1alpha1", "SealedSecret", "web", "db-credentials")!, "password")).ToList();
        for (var i = 0; i < env.Clusters.Count; i++)
        {
            Assert.Equal("hunter2", SealingTestKeys.Unseal(clusterKeys[env.Clusters[i].Name], values[i], "web", "db-credentials"));
        }

        Assert.NotEqual(values[0], values[1]);
    }
}
