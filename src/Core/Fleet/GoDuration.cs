using System.Globalization;
using System.Text.RegularExpressions;

namespace FleetFunctions.Core.Fleet;

/// <summary>
/// Durations written as Kubernetes and Flux users write them: Go's <c>time.ParseDuration</c> syntax
/// (<c>30s</c>, <c>5m</c>, <c>1h30m</c>, <c>250ms</c>), which is what every GitOps tool accepts.
/// </summary>
public static partial class GoDuration
{
    /// <summary>Parses <paramref name="text"/>; returns false when it is not a valid duration.</summary>
    public static bool TryParse(string? text, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        if (text == "0")
        {
            return true;
        }

        var matches = Part().Matches(text);
        if (matches.Count == 0 || matches.Sum(m => m.Length) != text.Length)
        {
            return false;
        }

        double ticks = 0;
        foreach (Match m in matches)
        {
            var number = double.Parse(m.Groups["n"].Value, CultureInfo.InvariantCulture);
            ticks += m.Groups["u"].Value switch
            {
                "ns" => number / 100,
                "us" or "µs" => number * 10,
                "ms" => number * TimeSpan.TicksPerMillisecond,
                "s" => number * TimeSpan.TicksPerSecond,
                "m" => number * TimeSpan.TicksPerMinute,
                _ => number * TimeSpan.TicksPerHour,
            };
        }

        value = TimeSpan.FromTicks((long)ticks);
        return true;
    }

    /// <summary>Formats a duration the way it is usually written (<c>1h30m</c>, <c>45s</c>, <c>250ms</c>).</summary>
    public static string Format(TimeSpan value)
    {
        if (value == TimeSpan.Zero)
        {
            return "0s";
        }

        if (value < TimeSpan.FromSeconds(1))
        {
            return $"{value.TotalMilliseconds.ToString(CultureInfo.InvariantCulture)}ms";
        }

        var parts = new List<string>(3);
        if (value.Hours + (value.Days * 24) > 0)
        {
            parts.Add($"{value.Hours + (value.Days * 24)}h");
        }

        if (value.Minutes > 0)
        {
            parts.Add($"{value.Minutes}m");
        }

        var seconds = value.Seconds + (value.Milliseconds / 1000.0);
        if (seconds > 0)
        {
            parts.Add($"{seconds.ToString(CultureInfo.InvariantCulture)}s");
        }

        return string.Concat(parts);
    }

    [GeneratedRegex(@"(?<n>\d+(\.\d+)?)(?<u>ns|us|µs|ms|s|m|h)", RegexOptions.CultureInvariant)]
    private static partial Regex Part();
}
