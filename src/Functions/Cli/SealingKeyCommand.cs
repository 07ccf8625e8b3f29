using System.CommandLine;
using FleetFunctions.Core.Secrets;

namespace FleetFunctions.Functions.Cli;

/// <summary>
/// <c>fleetfunctions sealing-key new [--out FILE]</c>: makes FleetFunctions' sealing key and certificate (one PEM text,
/// to store as the secret named by FLEETFUNCTIONS_SealingKeySecret); <c>fleetfunctions sealing-key cert FILE</c>
/// prints the certificate of such a text, for <c>kubeseal --cert</c>.
/// </summary>
internal static class SealingKeyCommand
{
    public static Command Create()
    {
        var command = new Command("sealing-key", "Make or inspect FleetFunctions' sealing key (SealedSecrets in Git are sealed for it, then re-sealed for each cluster).");
        command.Subcommands.Add(CreateNew());
        command.Subcommands.Add(CreateCert());
        return command;
    }

    private static Command CreateNew()
    {
        var output = new Option<FileInfo?>("--out") { Description = "Write the PEM text to this new file (mode 600; an existing file is never overwritten) instead of standard output." };
        var command = new Command("new", "Make a 4096-bit RSA key and a self-signed certificate, as one PEM text.") { output };
        command.SetAction(parseResult =>
        {
            var pem = SealingKeys.Generate();
            if (parseResult.GetValue(output) is { } file)
            {
                if (file.Exists)
                {
                    parseResult.InvocationConfiguration.Error.WriteLine($"{file.FullName} exists; refusing to overwrite a sealing key (values sealed for it could no longer be read). Choose another file.");
                    return 1;
                }

                var create = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
                if (!OperatingSystem.IsWindows())
                {
                    create.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
                }

                using (var writer = new StreamWriter(file.FullName, create))
                {
                    writer.Write(pem);
                }

                parseResult.InvocationConfiguration.Error.WriteLine($"wrote {file.FullName}; store it as the secret named by FLEETFUNCTIONS_SealingKeySecret (default 'sealing-key')");
            }
            else
            {
                parseResult.InvocationConfiguration.Output.Write(pem);
            }

            return 0;
        });
        return command;
    }

    private static Command CreateCert()
    {
        var input = new Argument<FileInfo>("file") { Description = "The PEM text of `sealing-key new`." };
        var command = new Command("cert", "Print the certificate of a sealing key's PEM text (for kubeseal --cert).") { input };
        command.SetAction(parseResult =>
        {
            var file = parseResult.GetValue(input)!;
            try
            {
                parseResult.InvocationConfiguration.Output.Write(SealingKeys.Parse(File.ReadAllText(file.FullName), file.FullName).CertificatePem);
                return 0;
            }
            catch (Exception e) when (e is SealingException or IOException or UnauthorizedAccessException)
            {
                parseResult.InvocationConfiguration.Error.WriteLine(e.Message);
                return 1;
            }
        });
        return command;
    }
}
