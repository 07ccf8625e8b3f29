using System.CommandLine;
using FleetFunctions.Core.Manifests;
using FleetFunctions.Core.Secrets;

namespace FleetFunctions.Functions.Cli;

/// <summary>
/// <c>fleetfunctions seal --cert CERT [--scope S] [--namespace NS] [--out FILE] [FILE]</c>: seals the Secrets of a
/// YAML file (or standard input) for a certificate, as <c>kubeseal --cert CERT -o yaml</c> does, for machines without
/// kubeseal. Without <c>--scope</c> each Secret is sealed for the scope its own annotations ask for. CERT is a PEM file or an http(s) URL such as <c>https://APP/api/sealing/cert.pem</c> (FleetFunctions'
/// certificate: what is committed to Git is sealed for it, and re-sealed for each cluster).
/// </summary>
internal static class SealCommand
{
    public static Command Create()
    {
        var cert = new Option<string>("--cert") { Description = "The certificate to seal for: a PEM file, or an http(s) URL (FleetFunctions' is GET /api/sealing/cert.pem).", Required = true };
        var scope = new Option<string?>("--scope")
        {
            Description = "Who may unseal: strict (this name in this namespace), namespace-wide, cluster-wide. Default: what each Secret's " +
                "sealedsecrets.bitnami.com/namespace-wide or cluster-wide: \"true\" annotation asks for, else strict (as kubeseal).",
        };
        scope.AcceptOnlyFromAmong("strict", "namespace-wide", "cluster-wide");
        var ns = new Option<string>("--namespace", "-n") { Description = "The namespace of Secrets that name none (default: default); written into the SealedSecret.", DefaultValueFactory = _ => "default" };
        var output = new Option<FileInfo?>("--out", "-o") { Description = "Write the SealedSecrets to this file instead of standard output." };
        var input = new Argument<string?>("file") { Description = "A YAML file of one or more v1 Secrets; standard input when absent or '-'.", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("seal", "Seal Kubernetes Secrets into bitnami SealedSecrets for a certificate (like kubeseal --cert).") { cert, scope, ns, output, input };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var error = parseResult.InvocationConfiguration.Error;
            try
            {
                var (yaml, source) = await ReadInputAsync(parseResult.GetValue(input), cancellationToken);
                var secrets = ManifestParser.Parse(yaml, source);
                if (secrets.Count == 0)
                {
                    error.WriteLine($"{source}: holds no Secret to seal.");
                    return 1;
                }

                var certificate = parseResult.GetValue(cert)!;
                var recipient = SealingKeys.PublicKeyOf(await ReadCertificateAsync(certificate, cancellationToken), certificate);
                SealingScope? sealingScope = parseResult.GetValue(scope) switch
                {
                    "strict" => SealingScope.Strict,
                    "namespace-wide" => SealingScope.NamespaceWide,
                    "cluster-wide" => SealingScope.ClusterWide,
                    _ => null,
                };
                var sealedSecrets = secrets.Select(s => SecretSealer.Seal(s, recipient, sealingScope, parseResult.GetValue(ns)!)).ToList();
                var text = ManifestYaml.Write(sealedSecrets);
                if (parseResult.GetValue(output) is { } file)
                {
                    await File.WriteAllTextAsync(file.FullName, text, cancellationToken);
                    error.WriteLine($"wrote {sealedSecrets.Count} SealedSecret(s) to {file.FullName}; commit it (the Secret itself stays out of Git)");
                }
                else
                {
                    parseResult.InvocationConfiguration.Output.Write(text);
                }

                return 0;
            }
            catch (Exception e) when (e is SealingException or ManifestException)
            {
                error.WriteLine(e.Message);
                return 1;
            }
        });
        return command;
    }

    private static async Task<(string Yaml, string Source)> ReadInputAsync(string? path, CancellationToken cancellationToken)
    {
        if (path is null or "-")
        {
            return (await Console.In.ReadToEndAsync(cancellationToken), "<stdin>");
        }

        try
        {
            return (await File.ReadAllTextAsync(path, cancellationToken), path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SealingException($"{path}: cannot read the Secrets to seal: {e.Message}");
        }
    }

    private static async Task<string> ReadCertificateAsync(string certificate, CancellationToken cancellationToken)
    {
        const string Hint = "give a PEM certificate file, or FleetFunctions' certificate URL (https://APP/api/sealing/cert.pem)";
        try
        {
            if (!certificate.StartsWith("http://", StringComparison.OrdinalIgnoreCase) && !certificate.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
            {
                return await File.ReadAllTextAsync(certificate, cancellationToken);
            }

            using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            using var response = await client.GetAsync(new Uri(certificate), cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            return response.IsSuccessStatusCode
                ? body
                : throw new SealingException($"--cert {certificate}: answered {(int)response.StatusCode} {response.ReasonPhrase}: {body.Trim()}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or HttpRequestException or TaskCanceledException)
        {
            throw new SealingException($"--cert {certificate}: {e.Message.TrimEnd('.')}; {Hint}.");
        }
    }
}
