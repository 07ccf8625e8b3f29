using System.Globalization;

namespace FleetFunctions.Core.Policy;

/// <summary>Semantic version ranges for <c>semver_compare</c> (<c>&gt;=1.2.0 &lt;2.0.0 || 3.x</c>).</summary>
internal static class Semver
{
    public static bool Satisfies(string version, string range)
    {
        if (!TryParse(version, out var v))
        {
            throw new PolicyEvaluationException($"function semver_compare(): '{version}' is not a semantic version");
        }

        foreach (var alternative in range.Split("||", StringSplitOptions.TrimEntries))
        {
            var all = true;
            foreach (var term in alternative.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                if (!Check(v, term))
                {
                    all = false;
                    break;
                }
            }

            if (all)
            {
                return true;
            }
        }

        return false;
    }

    private static bool Check(int[] v, string term)
    {
        var op = term.TakeWhile(c => c is '<' or '>' or '=' or '!' or '~' or '^').ToArray();
        var text = term[op.Length..];
        var opText = new string(op);
        if (text.Contains('x', StringComparison.OrdinalIgnoreCase) || text.Contains('*', StringComparison.Ordinal))
        {
            var parts = text.Split('.');
            for (var i = 0; i < parts.Length && i < 3; i++)
            {
                if (parts[i] is "x" or "X" or "*")
                {
                    return true;
                }

                if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out var p) || p != v[i])
                {
                    return false;
                }
            }

            return true;
        }

        if (!TryParse(text, out var r))
        {
            throw new PolicyEvaluationException($"function semver_compare(): '{term}' is not a version constraint");
        }

        var c = Compare(v, r);
        return opText switch
        {
            "" or "=" or "==" => c == 0,
            "!=" => c != 0,
            ">" => c > 0,
            ">=" => c >= 0,
            "<" => c < 0,
            "<=" => c <= 0,
            "~" => c >= 0 && v[0] == r[0] && v[1] == r[1],
            "^" => c >= 0 && v[0] == r[0],
            _ => throw new PolicyEvaluationException($"function semver_compare(): unknown operator '{opText}'"),
        };
    }

    private static int Compare(int[] a, int[] b)
    {
        for (var i = 0; i < 3; i++)
        {
            if (a[i] != b[i])
            {
                return a[i].CompareTo(b[i]);
            }
        }

        return 0;
    }

    private static bool TryParse(string text, out int[] version)
    {
        version = [0, 0, 0];
        var core = text.TrimStart('v').Split('-', '+')[0];
        var parts = core.Split('.');
        if (parts.Length is 0 or > 3)
        {
            return false;
        }

        for (var i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out version[i]))
            {
                return false;
            }
        }

        return true;
    }
}
