using System.Globalization;
using System.Text;

namespace FleetFunctions.Core.Policy;

/// <summary>Kyverno's time helpers over RFC 3339 strings and Go durations.</summary>
internal static class TimeFunctions
{
    private static readonly (string Go, string Net)[] s_layoutTokens =
    [
        ("January", "MMMM"), ("Monday", "dddd"), ("Z07:00", "K"), ("-07:00", "zzz"), ("-0700", "zzz"), ("2006", "yyyy"),
        (".000000000", ".fffffffff"), (".000000", ".ffffff"), (".000", ".fff"), (".999999999", ".FFFFFFFFF"), (".999", ".FFF"),
        ("Jan", "MMM"), ("Mon", "ddd"), ("MST", "'UTC'"), ("01", "MM"), ("02", "dd"), ("_2", "%d"), ("15", "HH"), ("03", "hh"),
        ("04", "mm"), ("05", "ss"), ("06", "yy"), ("PM", "tt"), ("pm", "tt"), ("1", "%M"), ("2", "%d"), ("3", "%h"), ("4", "%m"), ("5", "%s"),
    ];

    public static IEnumerable<JmesFunction> All()
    {
        yield return new("time_now", 0, 0, (_, _) => Format(DateTimeOffset.Now));
        yield return new("time_now_utc", 0, 0, (_, _) => Format(DateTimeOffset.UtcNow));
        yield return new("time_utc", 1, 1, (a, _) => Format(Time(a, 0, "time_utc").ToUniversalTime()));
        yield return new("time_add", 2, 2, (a, _) => Format(Time(a, 0, "time_add").AddTicks(Duration(a, 1, "time_add") / 100)));
        yield return new("time_after", 2, 2, (a, _) => Time(a, 0, "time_after") > Time(a, 1, "time_after"));
        yield return new("time_before", 2, 2, (a, _) => Time(a, 0, "time_before") < Time(a, 1, "time_before"));
        yield return new("time_between", 3, 3, (a, _) => Time(a, 0, "time_between") is var t && t > Time(a, 1, "time_between") && t < Time(a, 2, "time_between"));
        yield return new("time_diff", 2, 2, (a, _) => GoDuration.Format((Time(a, 1, "time_diff") - Time(a, 0, "time_diff")).Ticks * 100));
        yield return new("time_parse", 2, 2, (a, _) => Format(Parse(JmesFunctions.Str(a, 0, "time_parse"), JmesFunctions.Str(a, 1, "time_parse"))));
        yield return new("time_since", 3, 3, (a, _) => TimeSince(a));
        yield return new("time_to_cron", 1, 1, (a, _) => Time(a, 0, "time_to_cron").ToUniversalTime() is var t
            ? string.Create(CultureInfo.InvariantCulture, $"{t.Minute} {t.Hour} {t.Day} {t.Month} {(int)t.DayOfWeek}")
            : "");
        yield return new("time_truncate", 2, 2, (a, _) =>
        {
            var t = Time(a, 0, "time_truncate");
            var d = Duration(a, 1, "time_truncate") / 100;
            if (d <= 0)
            {
                return Format(t);
            }

            var utc = t.UtcTicks;
            return Format(new DateTimeOffset(utc - (utc % d), TimeSpan.Zero).ToOffset(t.Offset));
        });
    }

    private static object? TimeSince(object?[] a)
    {
        var layout = JmesFunctions.Str(a, 0, "time_since");
        var t1 = Parse(layout, JmesFunctions.Str(a, 1, "time_since"));
        var second = JmesFunctions.Str(a, 2, "time_since");
        var t2 = second.Length == 0 ? DateTimeOffset.UtcNow : Parse(layout, second);
        return GoDuration.Format((t2 - t1).Ticks * 100);
    }

    private static string Format(DateTimeOffset t) =>
        t.Offset == TimeSpan.Zero
            ? t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture) + "Z"
            : t.ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture);

    private static DateTimeOffset Time(object?[] a, int index, string function) => Parse("", JmesFunctions.Str(a, index, function));

    private static long Duration(object?[] a, int index, string function)
    {
        var s = JmesFunctions.Str(a, index, function);
        return GoDuration.TryParse(s, out var d) ? d : throw new PolicyEvaluationException($"function {function}(): '{s}' is not a duration");
    }

    /// <summary>Parses with a Go layout (<c>2006-01-02</c>); an empty layout means RFC 3339.</summary>
    public static DateTimeOffset Parse(string layout, string value)
    {
        if (layout.Length == 0 || layout == "2006-01-02T15:04:05Z07:00")
        {
            if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var rfc)
                && value.Contains('T', StringComparison.Ordinal))
            {
                return DateTimeOffset.Parse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
            }

            throw new PolicyEvaluationException($"'{value}' is not an RFC 3339 time");
        }

        var format = ToNetFormat(layout);
        if (DateTimeOffset.TryParseExact(value, format, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
        {
            return parsed;
        }

        throw new PolicyEvaluationException($"'{value}' does not match the time layout '{layout}'");
    }

    private static string ToNetFormat(string layout)
    {
        var sb = new StringBuilder();
        var i = 0;
        while (i < layout.Length)
        {
            var matched = false;
            foreach (var (go, net) in s_layoutTokens)
            {
                if (string.CompareOrdinal(layout, i, go, 0, go.Length) == 0)
                {
                    sb.Append(net);
                    i += go.Length;
                    matched = true;
                    break;
                }
            }

            if (!matched)
            {
                var c = layout[i++];
                sb.Append(char.IsLetter(c) ? "'" + c + "'" : c is ':' or '/' or '.' or '-' or ' ' or ',' or 'T' ? "\\" + c : c.ToString());
            }
        }

        return sb.ToString();
    }
}
