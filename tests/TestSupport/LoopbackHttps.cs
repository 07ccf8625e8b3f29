using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace FleetFunctions.TestSupport;

/// <summary>
/// A Kestrel app on a free loopback port over HTTPS, with a certificate from a throw-away CA: what a server with a
/// private CA (a self-hosted Git server, GitHub Enterprise Server, a Kubernetes API server) looks like to the controller.
/// </summary>
public static class LoopbackHttps
{
    /// <summary>Starts the app with the routes <paramref name="configure"/> adds; returns it, its port and the CA's PEM.</summary>
    /// <param name="certificateHost">The one name the certificate is issued for; default 127.0.0.1 and localhost.</param>
    public static async Task<(WebApplication App, int Port, string CaPem)> StartAsync(Action<WebApplication> configure, string? certificateHost = null)
    {
        var (ca, leaf) = CreateCertificates(certificateHost);
        var port = FreePort.Next();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port, listen =>
        {
            listen.Protocols = HttpProtocols.Http1;
            listen.UseHttps(leaf);
        }));
        var app = builder.Build();
        configure(app);
        await app.StartAsync();
        return (app, port, ca.ExportCertificatePem());
    }

    /// <summary>A CA and a server certificate it signed for <paramref name="host"/>, or for 127.0.0.1 and localhost.</summary>
    private static (X509Certificate2 Ca, X509Certificate2 Leaf) CreateCertificates(string? host)
    {
        var now = DateTimeOffset.UtcNow;
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=FleetFunctions test CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        using var ca = caRequest.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));

        using var leafKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var leafRequest = new CertificateRequest("CN=" + (host ?? "127.0.0.1"), leafKey, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        if (host is null)
        {
            names.AddIpAddress(IPAddress.Loopback);
            names.AddDnsName("localhost");
        }
        else
        {
            names.AddDnsName(host);
        }

        leafRequest.CertificateExtensions.Add(names.Build());
        leafRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        leafRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, false));
        leafRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        leafRequest.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, true, false));
        using var signed = leafRequest.Create(ca, now.AddMinutes(-5), now.AddDays(1), RandomNumberGenerator.GetBytes(8));
        using var withKey = signed.CopyWithPrivateKey(leafKey);

        // Kestrel on Linux wants a key it can export: load the pair back from PKCS#12.
        var leaf = X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
        return (X509CertificateLoader.LoadCertificate(ca.Export(X509ContentType.Cert)), leaf);
    }
}
