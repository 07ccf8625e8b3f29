using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using DevLab.JmesPath.Functions;
using DevLab.JmesPath.Interop;
using Newtonsoft.Json.Linq;

namespace FleetFunctions.Core.Policy;

/// <summary>A JMESPath function implemented by a delegate over evaluated arguments.</summary>
internal sealed class KyvernoFunction(string name, int minArgs, int maxArgs, Func<JToken[], JToken> body)
    : JmesPathFunction(name, minArgs, maxArgs)
{
    public override void Validate(params JmesPathFunctionArgument[] args)
    {
        if (args.Length < MinArgumentCount || args.Length > MaxArgumentCount)
        {
            throw new PolicyEvaluationException($"function {Name}() takes {MinArgumentCount}{(MaxArgumentCount != MinArgumentCount ? "-" + MaxArgumentCount : "")} arguments, got {args.Length}");
        }
    }

    public override JToken Execute(params JmesPathFunctionArgument[] args)
    {
        var tokens = new JToken[args.Length];
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i].IsExpressionType)
            {
                throw new PolicyEvaluationException($"function {Name}() does not take an expression (&...) argument");
            }

            tokens[i] = args[i].Token ?? JValue.CreateNull();
        }

        return body(tokens);
    }
}

/// <summary>Kyverno's custom JMESPath functions (strings, regex, arithmetic on quantities and durations, time, parsing).</summary>
internal static partial class KyvernoFunctions
{
    public static void Register(IRegisterFunctions repository)
    {
        foreach (var function in All())
        {
            repository.Register(function.Name, function);
        }
    }

    private static IEnumerable<KyvernoFunction> All()
    {
        yield return new("to_upper", 1, 1, a => Str(a, 0, "to_upper").ToUpperInvariant());
        yield return new("to_lower", 1, 1, a => Str(a, 0, "to_lower").ToLowerInvariant());
        yield return new("trim_prefix", 2, 2, a => Str(a, 0, "trim_prefix") is var s && s.StartsWith(Str(a, 1, "trim_prefix"), StringComparison.Ordinal) ? s[Str(a, 1, "trim_prefix").Length..] : Str(a, 0, "trim_prefix"));
        yield return new("replace_all", 3, 3, a => Str(a, 0, "replace_all").Replace(Str(a, 1, "replace_all"), Str(a, 2, "replace_all"), StringComparison.Ordinal));
        yield return new("equal_fold", 2, 2, a => string.Equals(Str(a, 0, "equal_fold"), Str(a, 1, "equal_fold"), StringComparison.OrdinalIgnoreCase));
        yield return new("compare", 2, 2, a => Math.Sign(string.CompareOrdinal(Str(a, 0, "compare"), Str(a, 1, "compare"))));
        yield return new("truncate", 2, 2, Truncate);
        yield return new("base64_decode", 1, 1, a => Encoding.UTF8.GetString(Convert.FromBase64String(Str(a, 0, "base64_decode"))));
        yield return new("base64_encode", 1, 1, a => Convert.ToBase64String(Encoding.UTF8.GetBytes(Str(a, 0, "base64_encode"))));
        yield return new("sha256", 1, 1, a => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Str(a, 0, "sha256")))));
        yield return new("regex_match", 2, 2, a => Regex(a, 0, "regex_match").IsMatch(StrOrNumber(a, 1, "regex_match")));
        yield return new("regex_replace_all", 3, 3, a => Regex(a, 0, "regex_replace_all").Replace(StrOrNumber(a, 1, "regex_replace_all"), GoReplacement(StrOrNumber(a, 2, "regex_replace_all"))));
        yield return new("regex_replace_all_literal", 3, 3, a => Regex(a, 0, "regex_replace_all_literal").Replace(StrOrNumber(a, 1, "regex_replace_all_literal"), StrOrNumber(a, 2, "regex_replace_all_literal").Replace("$", "$$", StringComparison.Ordinal)));
        yield return new("pattern_match", 2, 2, a => Wildcard.Match(Str(a, 0, "pattern_match"), StrOrNumber(a, 1, "pattern_match")));
        yield return new("label_match", 2, 2, LabelMatch);
        yield return new("parse_json", 1, 1, a => ParseJson(Str(a, 0, "parse_json")));
        yield return new("parse_yaml", 1, 1, a => JsonBridge.ToToken(YamlDocuments.Parse("parse_yaml", Str(a, 0, "parse_yaml")).FirstOrDefault()?.Root));
        yield return new("lookup", 2, 2, Lookup);
        yield return new("items", 3, 3, Items);
        yield return new("object_from_lists", 2, 2, ObjectFromLists);
        yield return new("path_canonicalize", 1, 1, a => CanonicalPath(Str(a, 0, "path_canonicalize")));
        yield return new("is_external_url", 1, 1, a => Uri.TryCreate(Str(a, 0, "is_external_url"), UriKind.Absolute, out var u) && !u.IsLoopback && u.HostNameType != UriHostNameType.Unknown && !IsPrivate(u));
        yield return new("semver_compare", 2, 2, a => Semver.Satisfies(Str(a, 0, "semver_compare"), Str(a, 1, "semver_compare")));
        yield return new("add", 2, 2, a => Arithmetic.Apply("add", a[0], a[1]));
        yield return new("subtract", 2, 2, a => Arithmetic.Apply("subtract", a[0], a[1]));
        yield return new("multiply", 2, 2, a => Arithmetic.Apply("multiply", a[0], a[1]));
        yield return new("divide", 2, 2, a => Arithmetic.Apply("divide", a[0], a[1]));
        yield return new("modulo", 2, 2, a => Arithmetic.Apply("modulo", a[0], a[1]));
        yield return new("round", 2, 2, a => Math.Round(Num(a, 0, "round"), (int)Num(a, 1, "round"), MidpointRounding.AwayFromZero));
        foreach (var f in TimeFunctions.All())
        {
            yield return f;
        }
    }

    internal static string Str(JToken[] args, int index, string function)
    {
        var token = args[index];
        if (token.Type != JTokenType.String)
        {
            throw new PolicyEvaluationException($"function {function}() expects a string as argument {index + 1}, got {token.Type.ToString().ToLowerInvariant()}");
        }

        return (string)token!;
    }

    internal static double Num(JToken[] args, int index, string function)
    {
        var token = args[index];
        if (token.Type is not (JTokenType.Integer or JTokenType.Float))
        {
            throw new PolicyEvaluationException($"function {function}() expects a number as argument {index + 1}, got {token.Type.ToString().ToLowerInvariant()}");
        }

        return token.Value<double>();
    }

    private static string StrOrNumber(JToken[] args, int index, string function) => args[index].Type switch
    {
        JTokenType.String => (string)args[index]!,
        JTokenType.Integer => args[index].Value<long>().ToString(CultureInfo.InvariantCulture),
        JTokenType.Float => Numbers.FormatFloat(args[index].Value<double>()),
        _ => throw new PolicyEvaluationException($"function {function}() expects a string or number as argument {index + 1}"),
    };

    private static Regex Regex(JToken[] args, int index, string function)
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

    /// <summary>Go's <c>$1</c>/<c>${name}</c> expansion maps to .NET's; a literal <c>$$</c> stays.</summary>
    private static string GoReplacement(string replacement) => replacement;

    private static JToken Truncate(JToken[] args)
    {
        var s = Str(args, 0, "truncate");
        var n = (int)Num(args, 1, "truncate");
        if (n < 0)
        {
            throw new PolicyEvaluationException("function truncate() expects a non-negative length");
        }

        return s.Length <= n ? s : s[..n];
    }

    private static JToken LabelMatch(JToken[] args)
    {
        if (args[0] is not JObject selector || args[1] is not JObject labels)
        {
            throw new PolicyEvaluationException("function label_match() expects two objects");
        }

        foreach (var property in selector.Properties())
        {
            if (labels[property.Name] is not { } value || value.ToString() != property.Value.ToString())
            {
                return false;
            }
        }

        return true;
    }

    private static JToken ParseJson(string text)
    {
        try
        {
            return JToken.Parse(text);
        }
        catch (Newtonsoft.Json.JsonException ex)
        {
            throw new PolicyEvaluationException($"function parse_json(): {ex.Message}", ex);
        }
    }

    private static JToken Lookup(JToken[] args)
    {
        switch (args[0])
        {
            case JObject obj:
                return obj[Str(args, 1, "lookup")] ?? JValue.CreateNull();
            case JArray array:
                var index = (int)Num(args, 1, "lookup");
                return index >= 0 && index < array.Count ? array[index] : JValue.CreateNull();
            default:
                throw new PolicyEvaluationException("function lookup() expects an object or an array as argument 1");
        }
    }

    private static JToken Items(JToken[] args)
    {
        var keyName = Str(args, 1, "items");
        var valueName = Str(args, 2, "items");
        var result = new JArray();
        switch (args[0])
        {
            case JObject obj:
                foreach (var property in obj.Properties().OrderBy(p => p.Name, StringComparer.Ordinal))
                {
                    result.Add(new JObject { [keyName] = property.Name, [valueName] = property.Value.DeepClone() });
                }

                return result;
            case JArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    result.Add(new JObject { [keyName] = i, [valueName] = array[i].DeepClone() });
                }

                return result;
            default:
                throw new PolicyEvaluationException("function items() expects an object or an array as argument 1");
        }
    }

    private static JToken ObjectFromLists(JToken[] args)
    {
        if (args[0] is not JArray keys || args[1] is not JArray values)
        {
            throw new PolicyEvaluationException("function object_from_lists() expects two arrays");
        }

        var result = new JObject();
        for (var i = 0; i < keys.Count; i++)
        {
            result[keys[i].ToString()] = i < values.Count ? values[i].DeepClone() : JValue.CreateNull();
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
