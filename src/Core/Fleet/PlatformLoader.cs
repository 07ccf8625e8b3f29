using FleetFunctions.Core.Clusters;
using FleetFunctions.Core.Manifests;
using FleetFunctions.Core.Secrets;
using FleetFunctions.Core.Sources;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace FleetFunctions.Core.Fleet;

/// <summary>
/// Loads <c>fleetfunctions.io/v1alpha1</c> resources (<c>GitSource</c>, <c>Cluster</c>, <c>ClusterFleet</c>) from
/// the files of the platform repository. Documents of other API groups (policies, notes) are left alone.
/// Every problem is reported with file, line and field, all at once, and unknown fields are rejected.
/// </summary>
public static partial class PlatformLoader
{
    /// <summary>The API version this loader reads.</summary>
    public const string ApiVersion = "fleetfunctions.io/v1alpha1";

    /// <summary>Loads every <c>*.yaml</c>/<c>*.yml</c> file under <paramref name="directory"/>.</summary>
    public static PlatformConfig LoadDirectory(string directory)
    {
        var files = Directory.EnumerateFiles(directory, "*.*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".yml", StringComparison.OrdinalIgnoreCase))
            .Where(f => !Path.GetRelativePath(directory, f).Split(Path.DirectorySeparatorChar).Any(p => p.StartsWith('.')))
            .Order(StringComparer.Ordinal)
            .Select(f => (Path.GetRelativePath(directory, f).Replace(Path.DirectorySeparatorChar, '/'), File.ReadAllText(f)));
        return Load(files);
    }

    /// <summary>Loads resources from (path, YAML text) pairs; throws <see cref="ResourceValidationException"/> listing every error.</summary>
    public static PlatformConfig Load(IEnumerable<(string Path, string Text)> files)
    {
        var errors = new List<ResourceError>();
        var sources = new List<GitSource>();
        var clusters = new List<Cluster>();
        var fleets = new List<ClusterFleet>();

        foreach (var (path, text) in files)
        {
            foreach (var document in ParseDocuments(path, text, errors))
            {
                var root = new StrictYamlReader(path, string.Empty, document, errors);
                var apiVersion = root.String("apiVersion");
                if (apiVersion is null || !apiVersion.StartsWith("fleetfunctions.io/", StringComparison.Ordinal))
                {
                    continue;
                }

                var kind = root.String("kind", required: true);
                if (apiVersion != ApiVersion)
                {
                    root.Error("apiVersion", $"version '{apiVersion}' is not supported; use {ApiVersion}");
                    continue;
                }

                switch (kind)
                {
                    case "GitSource":
                        sources.Add(ReadGitSource(root));
                        break;
                    case "Cluster":
                        clusters.Add(ReadCluster(root));
                        break;
                    case "ClusterFleet":
                        fleets.Add(ReadFleet(root));
                        break;
                    case null:
                        break;
                    default:
                        root.Error("kind", $"unknown kind '{kind}' in {ApiVersion}; expected GitSource, Cluster or ClusterFleet");
                        break;
                }
            }
        }

        CheckUnique(sources, s => s.Name, s => s.Origin, "GitSource", errors);
        CheckUnique(clusters, c => c.Name, c => c.Origin, "Cluster", errors);
        CheckUnique(fleets, f => f.Name, f => f.Origin, "ClusterFleet", errors);
        CheckReferences(sources, fleets, errors);

        if (errors.Count > 0)
        {
            throw new ResourceValidationException(errors);
        }

        return new PlatformConfig(sources, clusters, fleets);
    }

    private static List<YamlMappingNode> ParseDocuments(string path, string text, List<ResourceError> errors)
    {
        var stream = new YamlStream();
        var parser = new Parser(new StringReader(text));
        try
        {
            // Guarded as manifests are: nesting beyond 64 and keys that are collections never reach YamlDotNet's loader.
            stream.Load(new ManifestParser.GuardedParser(parser, path));
        }
        catch (YamlException ex)
        {
            errors.Add(new ResourceError(path, (int)ex.Start.Line, string.Empty, $"malformed YAML: {ex.Message}; fix the syntax and push again"));
            return [];
        }
        catch (ManifestException ex)
        {
            // Its message starts "path:line: ", which the error adds itself.
            var line = (int)(parser.Current?.Start.Line ?? 0);
            errors.Add(new ResourceError(path, line, string.Empty, ex.Message.StartsWith($"{path}:{line}: ", StringComparison.Ordinal) ? ex.Message[$"{path}:{line}: ".Length..] : ex.Message));
            return [];
        }

        var result = new List<YamlMappingNode>();
        foreach (var document in stream.Documents)
        {
            switch (document.RootNode)
            {
                case YamlMappingNode map:
                    result.Add(map);
                    break;
                case YamlScalarNode { Value: null or "" }:
                    break;
                case var other:
                    errors.Add(new ResourceError(path, (int)other.Start.Line, string.Empty, "a YAML document must be a mapping (a Kubernetes-style object)"));
                    break;
            }
        }

        return result;
    }

    private static (string Name, IReadOnlyDictionary<string, string> Labels, StrictYamlReader? Spec, ResourceOrigin Origin) ReadHeader(StrictYamlReader root)
    {
        var metadata = root.Map("metadata", required: true);
        var name = metadata?.String("name", required: true) ?? string.Empty;
        if (name.Length > 0 && !IsDnsLabel(name))
        {
            metadata!.Error("name", $"'{name}' must be a DNS label: lower-case letters, digits and '-', at most 63 characters");
        }

        var labels = metadata?.StringMap("labels") ?? new Dictionary<string, string>();
        metadata?.StringMap("annotations");
        metadata?.String("namespace");
        metadata?.RejectUnknownFields();
        var spec = root.Map("spec", required: true);
        root.RejectUnknownFields();
        return (name, labels, spec, new ResourceOrigin(root.File, root.Line));
    }

    private static GitSource ReadGitSource(StrictYamlReader root)
    {
        var (name, _, spec, origin) = ReadHeader(root);
        var url = spec?.String("url", required: true) ?? string.Empty;
        var branch = spec?.String("branch") ?? "main";
        var secretRef = ReadSecretRef(spec, "secretRef");
        var webhookSecretRef = ReadSecretRef(spec, "webhookSecretRef");
        var gitHubApp = ReadGitHubApp(spec, url, secretRef);
        var knownHosts = spec?.String("knownHosts");
        if (spec is not null && SshTransport.IsSshUrl(url))
        {
            if (string.IsNullOrWhiteSpace(knownHosts))
            {
                spec.Error("knownHosts", "is required for an SSH url: the server's host keys as known_hosts lines (ssh-keyscan -p PORT HOST prints them; check the fingerprints), so that no other server can pose as it");
            }
            else if (KnownHostsProblem(knownHosts) is { } problem)
            {
                spec.Error("knownHosts", problem);
            }
        }
        else if (spec is not null && knownHosts is not null)
        {
            spec.Error("knownHosts", $"is for SSH urls only; '{url}' is not one (ssh://… or user@host:path)");
        }

        spec?.RejectUnknownFields();
        return new GitSource(name, url, branch, secretRef, webhookSecretRef, origin, gitHubApp, knownHosts);
    }

    /// <summary>Why <paramref name="knownHosts"/> is not known_hosts text (each line: hosts, key type, base64 key), or null.</summary>
    private static string? KnownHostsProblem(string knownHosts)
    {
        var lines = knownHosts.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();
        foreach (var line in lines)
        {
            var fields = line.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            var offset = fields.Length > 0 && fields[0].StartsWith('@') ? 1 : 0;
            if (fields.Length < offset + 3 || !IsBase64(fields[offset + 2]))
            {
                return $"'{(line.Length > 60 ? line[..60] + "..." : line)}' is not a known_hosts line (HOST KEYTYPE BASE64KEY, as ssh-keyscan prints)";
            }
        }

        return lines.Count == 0 ? "holds no known_hosts line (HOST KEYTYPE BASE64KEY, as ssh-keyscan prints)" : null;

        static bool IsBase64(string text) => text.Length % 4 == 0 && Convert.TryFromBase64String(text, new byte[text.Length], out _);
    }

    private static GitHubAppSpec? ReadGitHubApp(StrictYamlReader? spec, string url, SecretReference? secretRef)
    {
        if (spec?.Map("githubApp") is not { } app)
        {
            return null;
        }

        var appId = NumericId(app, "appID");
        var installationId = NumericId(app, "installationID");
        var baseUrl = app.String("baseURL");
        if (baseUrl is not null && !GitHubAppSpec.IsApiUrl(baseUrl))
        {
            app.Error("baseURL", $"'{baseUrl}' is not an http(s) URL; give GitHub Enterprise Server's REST API, e.g. https://github.example.com/api/v3");
        }

        app.RejectUnknownFields();
        if (secretRef is null)
        {
            spec.Error("secretRef", "is required with githubApp: it names the secret holding the App's private key (PEM)");
        }

        if (url.Length > 0 && !url.StartsWith("https://", StringComparison.OrdinalIgnoreCase) && !url.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
        {
            spec.Error("url", "must be an https:// URL with githubApp (the installation token is sent over HTTPS)");
        }

        return appId is null || installationId is null ? null : new GitHubAppSpec(appId.Value, installationId.Value, baseUrl);
    }

    private static long? NumericId(StrictYamlReader map, string key)
    {
        var text = map.String(key, required: true);
        if (text is null)
        {
            return null;
        }

        if (GitHubAppSpec.TryParseId(text, out var id))
        {
            return id;
        }

        map.Error(key, $"'{text}' must be a positive number (shown on the App's settings page, or in the installation's URL)");
        return null;
    }

    private static Cluster ReadCluster(StrictYamlReader root)
    {
        var (name, labels, spec, origin) = ReadHeader(root);
        var server = spec?.String("server");
        var credentialsRef = ReadSecretRef(spec, "credentialsRef");
        KubeconfigReference? kubeconfig = null;
        if (spec?.Map("kubeconfig") is { } kc)
        {
            kubeconfig = new KubeconfigReference(kc.String("path", required: true) ?? string.Empty, kc.String("context"));
            kc.RejectUnknownFields();
        }

        if (spec is not null)
        {
            if (server is null && kubeconfig is null)
            {
                spec.Error("server", "is required unless kubeconfig is given");
            }
            else if (server is not null && kubeconfig is not null)
            {
                spec.Error("kubeconfig", "give either server (with credentialsRef) or kubeconfig, not both");
            }
            else if (server is not null && !(Uri.TryCreate(server, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"))
            {
                spec.Error("server", $"'{server}' is not an http(s) URL");
            }
        }

        var region = spec?.String("region", required: true) ?? string.Empty;
        var capabilities = spec?.StringList("capabilities") ?? [];
        var certificate = spec?.String("sealingCertificate");
        if (certificate is not null && !certificate.Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal))
        {
            spec!.Error("sealingCertificate", "must be a PEM certificate (-----BEGIN CERTIFICATE-----)");
        }
        else if (certificate is not null && SealingKeys.ProblemWith(certificate) is { } problem)
        {
            spec!.Error("sealingCertificate", problem);
        }

        var caData = spec?.String("caData");
        var insecure = spec?.Bool("insecureSkipTLSVerify", false) ?? false;
        AzureIdentitySpec? azure = null;
        if (spec?.Map("azureIdentity") is { } identity)
        {
            azure = new AzureIdentitySpec(identity.String("clientID"), identity.String("scope") ?? AzureIdentitySpec.AksScope);
            identity.RejectUnknownFields();
            if (server is null)
            {
                spec.Error("azureIdentity", "applies to server only; a kubeconfig carries its own credentials");
            }
            else if (credentialsRef is not null)
            {
                spec.Error("azureIdentity", "give either credentialsRef (a stored token) or azureIdentity, not both");
            }
        }

        if (spec is not null)
        {
            ValidateServerTls(spec, server, caData, insecure);
        }

        spec?.RejectUnknownFields();
        return new Cluster(name, labels, server, credentialsRef, kubeconfig, region, capabilities, certificate, origin, caData, insecure, azure);
    }

    /// <summary><c>caData</c> (base64 PEM certificates) or <c>insecureSkipTLSVerify</c>, for an https <c>server</c> only.</summary>
    private static void ValidateServerTls(StrictYamlReader spec, string? server, string? caData, bool insecure)
    {
        if ((caData is not null || insecure) && server is null)
        {
            spec.Error(caData is not null ? "caData" : "insecureSkipTLSVerify", "applies to server only; a kubeconfig carries its own certificate-authority-data");
            return;
        }

        if (caData is not null && insecure)
        {
            spec.Error("insecureSkipTLSVerify", "give either caData or insecureSkipTLSVerify, not both");
        }

        if (caData is null)
        {
            return;
        }

        try
        {
            if (ClusterConnection.ReadCertificateAuthorityData(caData).Count == 0)
            {
                spec.Error("caData", "decodes to no '-----BEGIN CERTIFICATE-----' block; give the base64 of the CA's PEM (a kubeconfig's certificate-authority-data)");
            }
        }
        catch (Exception e) when (e is FormatException or System.Security.Cryptography.CryptographicException)
        {
            spec.Error("caData", $"is not base64 of PEM CA certificates ({e.Message}); give a kubeconfig's certificate-authority-data, e.g. the output of 'base64 -w0 ca.pem'");
        }
    }

    private static SecretReference? ReadSecretRef(StrictYamlReader? spec, string key)
    {
        if (spec?.Map(key) is not { } map)
        {
            return null;
        }

        var name = map.String("name", required: true);
        map.RejectUnknownFields();
        return name is null ? null : new SecretReference(name);
    }

    private static bool IsDnsLabel(string name) =>
        name.Length <= 63 && name.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-') && name[0] != '-' && name[^1] != '-';

    private static void CheckUnique<T>(List<T> items, Func<T, string> name, Func<T, ResourceOrigin> origin, string kind, List<ResourceError> errors)
    {
        foreach (var group in items.GroupBy(name, StringComparer.Ordinal).Where(g => g.Key.Length > 0 && g.Count() > 1))
        {
            var first = origin(group.First());
            foreach (var duplicate in group.Skip(1))
            {
                var at = origin(duplicate);
                errors.Add(new ResourceError(at.File, at.Line, "metadata.name", $"{kind} '{group.Key}' is also defined at {first}; names must be unique"));
            }
        }
    }
}
