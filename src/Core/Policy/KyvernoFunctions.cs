using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using DevLab.JmesPath.Functions;
using DevLab.JmesPath.Interop;
using Newtonsoft.Json.Linq;
using static FleetFunctions.Core.Policy.JmesFunctions;

namespace FleetFunctions.Core.Policy;

/// <summary>Declares a function name to JmesPath.Net's parser; the engine's evaluator runs the real implementation.</summary>
internal sealed class DeclaredFunction(string name, int minArgs, int maxArgs) : JmesPathFunction(name, minArgs, maxArgs)
{
    public override void Validate(params JmesPathFunctionArgument[] args)
    {
    }

    public override JToken Execute(params JmesPathFunctionArgument[] args) =>
        throw new PolicyEvaluationException($"function {Name}() is evaluated by the policy engine, not by JmesPath.Net");
}

/// <summary>Kyverno's custom JMESPath functions (strings, regex, arithmetic on quantities and durations, time, parsing).</summary>
internal static class KyvernoFunctions
{
    /// <summary>Makes every function name known to JmesPath.Net's parser.</summary>
    public static void Declare(IRegisterFunctions repository)
    {
        foreach (var f in JmesFunctions.All)
        {
            repository.Register(f.Name, new DeclaredFunction(f.Name, f.MinArgs, Math.Min(f.MaxArgs, 64)));
        }
    }

    public static IEnumerable<JmesFunction> All()
    {
        yield return new("to_upper", 1, 1, (a, _) => Str(a, 0, "to_upper").ToUpperInvariant());
        yield return new("to_lower", 1, 1, (a, _) => Str(a, 0, "to_lower").ToLowerInvariant());
        yield return new("trim_prefix", 2, 2, (a, _) => Str(a, 0, "trim_prefix") is var s && s.StartsWith(Str(a, 1, "trim_prefix"), StringComparison.Ordinal) ? s[Str(a, 1, "trim_prefix").Length..] : Str(a, 0, "trim_prefix"));
        yield return new("replace_all", 3, 3, (a, _) => Str(a, 0, "replace_all").Replace(Str(a, 1, "replace_all"), Str(a, 2, "replace_all"), StringComparison.Ordinal));
        yield return new("equal_fold", 2, 2, (a, _) => string.Equals(Str(a, 0, "equal_fold"), Str(a, 1, "equal_fold"), StringComparison.OrdinalIgnoreCase));
        yield return new("compare", 2, 2, (a, _) => (double)Math.Sign(string.CompareOrdinal(Str(a, 0, "compare"), Str(a, 1, "compare"))));
        yield return new("truncate", 2, 2, Truncate);
        yield return new("base64_decode", 1, 1, (a, _) => Base64Decode(Str(a, 0, "base64_decode")));
        yield return new("base64_encode", 1, 1, (a, _) => Convert.ToBase64String(Encoding.UTF8.GetBytes(Str(a, 0, "base64_encode"))));
        yield return new("sha256", 1, 1, (a, _) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Str(a, 0, "sha256")))));
#pragma warning disable CA5351 // Kyverno's md5() for policies that compare checksums: not used for security here
        yield return new("md5", 1, 1, (a, _) => Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(Str(a, 0, "md5")))));
#pragma warning restore CA5351
        yield return new("image_normalize", 1, 1, (a, _) => ImageInfo.Normalize(Str(a, 0, "image_normalize")));
        yield return new("regex_match", 2, 2, (a, _) => Regex(a, 0, "regex_match").IsMatch(StrOrNumber(a, 1, "regex_match")));
        yield return new("regex_replace_all", 3, 3, (a, _) => Regex(a, 0, "regex_replace_all").Replace(StrOrNumber(a, 1, "regex_replace_all"), StrOrNumber(a, 2, "regex_replace_all")));
        yield return new("regex_replace_all_literal", 3, 3, (a, _) => Regex(a, 0, "regex_replace_all_literal").Replace(StrOrNumber(a, 1, "regex_replace_all_literal"), StrOrNumber(a, 2, "regex_replace_all_literal").Replace("$", "$$", StringComparison.Ordinal)));
        yield return new("pattern_match", 2, 2, (a, _) => Wildcard.Match(Str(a, 0, "pattern_match"), StrOrNumber(a, 1, "pattern_match")));
        yield return new("label_match", 2, 2, LabelMatch);
        yield return new("parse_json", 1, 1, (a, _) => ParseJson(Str(a, 0, "parse_json")));
        yield return new("parse_yaml", 1, 1, (a, _) => JmesValue.FromNode(YamlDocuments.Parse("parse_yaml", Str(a, 0, "parse_yaml")).FirstOrDefault()?.Root));
        yield return new("lookup", 2, 2, Lookup);
        yield return new("items", 1, 3, Items);
        yield return new("object_from_lists", 2, 2, ObjectFromLists);
        yield return new("path_canonicalize", 1, 1, (a, _) => CanonicalPath(Str(a, 0, "path_canonicalize")));
        yield return new("is_external_url", 1, 1, (a, _) => Uri.TryCreate(Str(a, 0, "is_external_url"), UriKind.Absolute, out var u) && !u.IsLoopback && u.HostNameType != UriHostNameType.Unknown && !IsPrivate(u));
        yield return new("semver_compare", 2, 2, (a, _) => Semver.Satisfies(Str(a, 0, "semver_compare"), Str(a, 1, "semver_compare")));
        yield return new("add", 2, 2, (a, _) => Arithmetic.Apply("add", a[0], a[1]));
        yield return new("subtract", 2, 2, (a, _) => Arithmetic.Apply("subtract", a[0], a[1]));
        yield return new("multiply", 2, 2, (a, _) => Arithmetic.Apply("multiply", a[0], a[1]));
        yield return new("divide", 2, 2, (a, _) => Arithmetic.Apply("divide", a[0], a[1]));
        yield return new("modulo", 2, 2, (a, _) => Arithmetic.Apply("modulo", a[0], a[1]));
        yield return new("round", 2, 2, (a, _) => Math.Round(Num(a, 0, "round"), (int)Num(a, 1, "round"), MidpointRounding.AwayFromZero));
        foreach (var f in TimeFunctions.All())
        {
            yield return f;
        }
    }

    private static string StrOrNumber(object?[] args, int index, string function) => args[index] switch
    {
        string s => s,
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => Numbers.FormatFloat(d),
        _ => throw new PolicyEvaluationException($"function {function}() expects a string or number as argument {index + 1}"),
    };

    private static Regex Regex(object?[] args, int index, string function)
    {
        var pattern = Str(args, index, function);
        try
        {
            return new Regex(pattern, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        }
        catch (ArgumentException ex)
        {
            throw new PolicyEvaluationException($"function {function}(): invalid regular expression '{pattern}': {ex.Message}", ex);
        }
    }

    private static string Base64Decode(string text)
    {
        try
        {
            return Encoding.UTF8.GetString(Convert.FromBase64String(text));
        }
        catch (FormatException ex)
        {
            throw new PolicyEvaluationException($"function base64_decode(): '{text}' is not base64: {ex.Message}", ex);
        }
    }

    private static object? Truncate(object?[] args, JContext _)
    {
        var s = Str(args, 0, "truncate");
        var n = (int)Num(args, 1, "truncate");
        if (n < 0)
        {
            throw new PolicyEvaluationException("function truncate() expects a non-negative length");
        }

        return s.Length <= n ? s : s[..n];
    }

    private static object? LabelMatch(object?[] args, JContext _)
    {
        if (JmesValue.TypeOf(args[0]) != JmesValue.Type.Object || JmesValue.TypeOf(args[1]) != JmesValue.Type.Object)
        {
            throw new PolicyEvaluationException("function label_match() expects two objects");
        }

        var labels = JmesValue.Properties(args[1]).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        return JmesValue.Properties(args[0]).All(p => labels.TryGetValue(p.Key, out var v) && JmesValue.DeepEquals(v, p.Value));
    }

    private static object? ParseJson(string text)
    {
        try
        {
            return JmesValue.FromNode(System.Text.Json.Nodes.JsonNode.Parse(text));
        }
        catch (System.Text.Json.JsonException ex)
        {
            throw new PolicyEvaluationException($"function parse_json(): {ex.Message}", ex);
        }
    }

    private static object? Lookup(object?[] args, JContext _)
    {
        switch (JmesValue.TypeOf(args[0]))
        {
            case JmesValue.Type.Object:
                return JmesValue.Field(args[0], Str(args, 1, "lookup"));
            case JmesValue.Type.Array:
                var items = JmesValue.Items(args[0]);
                var index = (int)Num(args, 1, "lookup");
                return index >= 0 && index < items.Count ? items[index] : null;
            default:
                throw new PolicyEvaluationException("function lookup() expects an object or an array as argument 1");
        }
    }

    private static object? Items(object?[] args, JContext _)
    {
        if (args.Length == 1)
        {
            return JmesValue.Properties(args[0]).Select(p => (object?)new List<object?> { p.Key, p.Value }).ToList();
        }

        if (args.Length != 3)
        {
            throw new PolicyEvaluationException("function items() takes an object or array, a key name and a value name");
        }

        var keyName = Str(args, 1, "items");
        var valueName = Str(args, 2, "items");
        switch (JmesValue.TypeOf(args[0]))
        {
            case JmesValue.Type.Object:
                return JmesValue.Properties(args[0]).OrderBy(p => p.Key, StringComparer.Ordinal)
                    .Select(p => (object?)new Dictionary<string, object?> { [keyName] = p.Key, [valueName] = p.Value }).ToList();
            case JmesValue.Type.Array:
                return JmesValue.Items(args[0]).Select((v, i) => (object?)new Dictionary<string, object?> { [keyName] = (double)i, [valueName] = v }).ToList();
            default:
                throw new PolicyEvaluationException("function items() expects an object or an array as argument 1");
        }
    }

    private static object? ObjectFromLists(object?[] args, JContext _)
    {
        var keys = Arr(args, 0, "object_from_lists");
        var values = Arr(args, 1, "object_from_lists");
        var result = new Dictionary<string, object?>(StringComparer.Ordinal);
        for (var i = 0; i < keys.Count; i++)
        {
            result[keys[i] as string ?? JmesValue.ToJson(keys[i])] = i < values.Count ? values[i] : null;
        }

        return result;
    }

    private static string CanonicalPath(string path)
    {
        var parts = new Stack<string>();
        foreach (var part in path.Split('/'))
        {
            if (part is "" or ".")
            {
                continue;
            }

            if (part == "..")
            {
                if (parts.Count > 0)
                {
                    parts.Pop();
                }

                continue;
            }

            parts.Push(part);
        }

        var joined = string.Join('/', parts.Reverse());
        return path.StartsWith('/') ? "/" + joined : joined.Length == 0 ? "." : joined;
    }

    private static bool IsPrivate(Uri uri)
    {
        if (!System.Net.IPAddress.TryParse(uri.Host, out var ip))
        {
            return false;
        }

        var b = ip.GetAddressBytes();
        return b.Length == 4 && (b[0] == 10 || (b[0] == 172 && b[1] >= 16 && b[1] <= 31) || (b[0] == 192 && b[1] == 168) || b[0] == 127);
    }
}
