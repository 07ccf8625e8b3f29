namespace FleetFunctions.Core.Policy;

/// <summary>Kyverno's wildcard matching: <c>*</c> any run of characters, <c>?</c> exactly one.</summary>
public static class Wildcard
{
    /// <summary>True when <paramref name="pattern"/> contains <c>*</c> or <c>?</c>.</summary>
    public static bool Contains(string pattern) => pattern.AsSpan().IndexOfAny('*', '?') >= 0;

    /// <summary>Matches the whole of <paramref name="text"/> against <paramref name="pattern"/>.</summary>
    public static bool Match(string pattern, string text)
    {
        if (pattern.Length == 0)
        {
            return text.Length == 0;
        }

        if (pattern == "*")
        {
            return true;
        }

        int p = 0, t = 0, star = -1, mark = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && (pattern[p] == '?' || pattern[p] == text[t]))
            {
                p++;
                t++;
            }
            else if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                mark = t;
            }
            else if (star >= 0)
            {
                p = star + 1;
                t = ++mark;
            }
            else
            {
                return false;
            }
        }

        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }

        return p == pattern.Length;
    }
}
