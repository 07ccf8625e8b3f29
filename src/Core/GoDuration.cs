using System.Globalization;

namespace FleetFunctions.Core;

/// <summary>
/// Go's <c>time.ParseDuration</c> and <c>Duration.String</c> (<c>1h30m</c>, <c>250ms</c>): the duration syntax of
/// Kubernetes, Flux and Kyverno, used for fleet settings and in policies alike.
/// </summary>
public static class GoDuration
{
    /// <summary>Parses a Go duration into a <see cref="TimeSpan"/> (100 ns resolution).</summary>
    public static bool TryParseTimeSpan(string? text, out TimeSpan value)
    {
        var ok = TryParse(text, out var nanoseconds);
        value = ok ? TimeSpan.FromTicks(nanoseconds / 100) : TimeSpan.Zero;
        return ok;
    }

    /// <summary>Formats a <see cref="TimeSpan"/> as Go does (<c>1h30m0s</c>).</summary>
    public static string Format(TimeSpan value) => Format(value.Ticks * 100);

    /// <summary>Parses a Go duration into a <see cref="TimeSpan"/>-free nanosecond count.</summary>
    public static bool TryParse(string? text, out long nanoseconds)
    {
        nanoseconds = 0;
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }

        var s = text;
        var i = 0;
        var negative = false;
        if (s[0] is '+' or '-')
        {
            negative = s[0] == '-';
            i++;
        }

        if (s[i..] == "0")
        {
            return true;
        }

        if (i >= s.Length)
        {
            return false;
        }

        decimal total = 0;
        while (i < s.Length)
        {
            var start = i;
            while (i < s.Length && (char.IsAsciiDigit(s[i]) || s[i] == '.'))
            {
                i++;
            }

            if (i == start)
            {
                return false;
            }

            if (!decimal.TryParse(s[start..i], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value))
            {
                return false;
            }

            var unitStart = i;
            while (i < s.Length && !char.IsAsciiDigit(s[i]) && s[i] != '.')
            {
                i++;
            }

            var unit = s[unitStart..i];
            decimal scale = unit switch
            {
                "ns" => 1m,
                "us" or "µs" or "μs" => 1_000m,
                "ms" => 1_000_000m,
                "s" => 1_000_000_000m,
                "m" => 60_000_000_000m,
                "h" => 3_600_000_000_000m,
                _ => -1m,
            };
            if (scale < 0)
            {
                return false;
            }

            total += value * scale;
        }

        nanoseconds = (long)Math.Truncate(negative ? -total : total);
        return true;
    }

    /// <summary>Formats nanoseconds as Go does (<c>72h0m0s</c>).</summary>
    public static string Format(long nanoseconds)
    {
        if (nanoseconds == 0)
        {
            return "0s";
        }

        var negative = nanoseconds < 0;
        var u = (decimal)Math.Abs((decimal)nanoseconds);
        string text;
        if (u < 1_000_000_000m)
        {
            text = u < 1_000m ? $"{u}ns" : u < 1_000_000m ? $"{Trim(u / 1_000m)}µs" : $"{Trim(u / 1_000_000m)}ms";
        }
        else
        {
            var hours = Math.Floor(u / 3_600_000_000_000m);
            u -= hours * 3_600_000_000_000m;
            var minutes = Math.Floor(u / 60_000_000_000m);
            u -= minutes * 60_000_000_000m;
            var seconds = u / 1_000_000_000m;
            text = hours > 0 ? $"{hours}h{minutes}m{Trim(seconds)}s" : minutes > 0 ? $"{minutes}m{Trim(seconds)}s" : $"{Trim(seconds)}s";
        }

        return negative ? "-" + text : text;
    }

    private static string Trim(decimal value) => value.ToString("0.#########", CultureInfo.InvariantCulture);
}
