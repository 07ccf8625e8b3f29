using System.Globalization;
using System.Text.RegularExpressions;

namespace FleetFunctions.Simulator;

/// <summary>The <c>fleet-simulator</c> command line, parsed and validated.</summary>
internal sealed record SimulatorCommandLine(int Clusters, string NamePrefix, string? Kubeconfig, SimulatorOptions Options)
{
    public const string Usage =
        "usage: fleet-simulator --clusters N [--name-prefix c] [--admin-port P] [--kubeconfig PATH] [--ready-delay 1s]\n" +
        "                       [--broken-image-pattern REGEX] [--bad-image-pattern REGEX]";

    /// <summary>Parses the arguments; throws <see cref="ArgumentException"/> naming the bad one.</summary>
    public static SimulatorCommandLine Parse(IReadOnlyList<string> args)
    {
        var clusters = 1;
        var prefix = "c";
        string? kubeconfig = null;
        var options = new SimulatorOptions();
        for (var i = 0; i < args.Count; i++)
        {
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--clusters":
                    clusters = int.TryParse(Value(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 0 and <= 1000
                        ? n
                        : throw new ArgumentException($"--clusters: '{args[i]}' is not a number from 0 to 1000");
                    break;
                case "--name-prefix":
                    prefix = Value();
                    break;
                case "--admin-port":
                    options = options with
                    {
                        AdminPort = int.TryParse(Value(), NumberStyles.None, CultureInfo.InvariantCulture, out var p) && p <= 65535
                            ? p
                            : throw new ArgumentException($"--admin-port: '{args[i]}' is not a port"),
                    };
                    break;
                case "--kubeconfig":
                    kubeconfig = Value();
                    break;
                case "--ready-delay":
                    options = options with { WorkloadReadyDelay = ParseDuration(Value()) };
                    break;
                case "--broken-image-pattern":
                    options = options with { BrokenImagePattern = new Regex(Value(), RegexOptions.CultureInvariant) };
                    break;
                case "--bad-image-pattern":
                    options = options with { BadImagePattern = new Regex(Value(), RegexOptions.CultureInvariant) };
                    break;
                default:
                    throw new ArgumentException($"unknown argument '{args[i]}'");
            }
        }

        return new SimulatorCommandLine(clusters, prefix, kubeconfig, options);
    }

    /// <summary>Parses <c>1s</c>, <c>250ms</c>, <c>2m</c> or a plain number of seconds.</summary>
    public static TimeSpan ParseDuration(string text)
    {
        var match = Regex.Match(text, @"^(\d+(?:\.\d+)?)(ms|s|m)?$", RegexOptions.CultureInvariant);
        if (!match.Success)
        {
            throw new ArgumentException($"duration '{text}' is invalid: use e.g. 0, 500ms, 1s or 2m");
        }

        var value = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        return match.Groups[2].Value switch
        {
            "ms" => TimeSpan.FromMilliseconds(value),
            "m" => TimeSpan.FromMinutes(value),
            _ => TimeSpan.FromSeconds(value),
        };
    }
}
