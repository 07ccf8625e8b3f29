using System.Collections;
using System.Globalization;
using System.Text.Json.Nodes;
using Cel;

namespace FleetFunctions.Core.Policy;

/// <summary>
/// A Kyverno <c>validate.cel</c> rule: CEL expressions (Google's Common Expression Language, through the <c>Cel</c>
/// package) that must all be true, as a ValidatingAdmissionPolicy has them: <c>object</c>, <c>oldObject</c>,
/// <c>request</c>, <c>namespaceObject</c> and <c>variables</c> are in scope. Each expression is compiled when the
/// policy loads, so a typo is a load error naming the file and line.
/// </summary>
internal sealed class CelRule
{
    private static readonly Lazy<CelEnvironment> s_environment = new(CreateEnvironment);
    private readonly IReadOnlyList<(string Name, CelProgramDelegate Program)> _variables;
    private readonly IReadOnlyList<CelCheck> _checks;

    private CelRule(IReadOnlyList<(string, CelProgramDelegate)> variables, IReadOnlyList<CelCheck> checks)
    {
        _variables = variables;
        _checks = checks;
    }

    /// <exception cref="PolicyLoadException">An expression does not compile, or the rule asks for what this engine cannot give (parameters).</exception>
    public static CelRule Compile(JsonNode? node, string where)
    {
        where += ".cel";
        if (node is not JsonObject cel)
        {
            throw new PolicyLoadException($"{where}: expected an object with expressions");
        }

        if (cel["paramKind"] is not null || cel["paramRef"] is not null)
        {
            throw new PolicyLoadException($"{where}: paramKind/paramRef need the parameter resource from the cluster; this engine makes no live lookups. Put the values in the expressions or in variables.");
        }

        var variables = new List<(string, CelProgramDelegate)>();
        foreach (var (variable, i) in (cel["variables"] as JsonArray ?? []).Select((v, i) => (v, i)))
        {
            var at = $"{where}.variables[{i}]";
            var name = JsonUtil.GetString(variable, "name") is { Length: > 0 } n ? n : throw new PolicyLoadException($"{at}.name is required");
            variables.Add((name, CompileExpression(JsonUtil.GetString(variable, "expression"), at + ".expression")));
        }

        if (cel["expressions"] is not JsonArray { Count: > 0 } expressions)
        {
            throw new PolicyLoadException($"{where}.expressions is required: a list of expression (and message or messageExpression)");
        }

        var checks = new List<CelCheck>();
        for (var i = 0; i < expressions.Count; i++)
        {
            var at = $"{where}.expressions[{i}]";
            var text = JsonUtil.GetString(expressions[i], "expression");
            var messageExpression = JsonUtil.GetString(expressions[i], "messageExpression");
            checks.Add(new CelCheck(
                text ?? string.Empty,
                CompileExpression(text, at + ".expression"),
                JsonUtil.GetString(expressions[i], "message"),
                messageExpression is null ? null : CompileExpression(messageExpression, at + ".messageExpression")));
        }

        return new CelRule(variables, checks);
    }

    /// <summary>Runs the expressions on <paramref name="context"/>'s resource; the first false one fails the rule with its message.</summary>
    public RuleOutcome Evaluate(string ruleName, EvalContext context)
    {
        var scope = Scope(context);
        var variables = new Dictionary<string, object?>(StringComparer.Ordinal);
        scope["variables"] = variables;
        foreach (var (name, program) in _variables)
        {
            // In order: a variable may use the ones before it.
            try
            {
                variables[name] = program(scope);
            }
            catch (CelException ex)
            {
                return RuleOutcome.Error($"rule {ruleName}: variable '{name}' could not be evaluated: {ex.Message}");
            }
        }

        foreach (var check in _checks)
        {
            object? result;
            try
            {
                result = check.Program(scope);
            }
            catch (CelException ex)
            {
                return RuleOutcome.Error($"rule {ruleName}: expression '{check.Text}' could not be evaluated: {ex.Message}");
            }

            if (result is not bool passed)
            {
                return RuleOutcome.Error($"rule {ruleName}: expression '{check.Text}' gave {Describe(result)}, not a bool");
            }

            if (!passed)
            {
                return RuleOutcome.Fail(Message(check, scope));
            }
        }

        return RuleOutcome.Pass();
    }

    private static string Message(CelCheck check, Dictionary<string, object?> scope)
    {
        if (check.MessageProgram is not null)
        {
            try
            {
                if (check.MessageProgram(scope) is string { Length: > 0 } text)
                {
                    return text;
                }
            }
            catch (CelException)
            {
                // As Kubernetes does: a message expression that fails falls back to the static message.
            }
        }

        return check.Message is { Length: > 0 } message ? message : $"failed expression: {check.Text}";
    }

    /// <summary>The variables a ValidatingAdmissionPolicy expression sees, from the resource and the admission context.</summary>
    internal static Dictionary<string, object?> Scope(EvalContext context)
    {
        var resource = context.Resource;
        var policyContext = context.PolicyContext;
        var ns = JsonUtil.GetString(resource, "metadata", "namespace") ?? string.Empty;
        var oldObject = context.OldResource;
        return new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["object"] = context.IsDelete ? null : context.CelResource,
            ["oldObject"] = oldObject is null ? null : ReferenceEquals(oldObject, resource) ? context.CelResource : ToCel(oldObject),
            ["request"] = new Dictionary<string, object?>(StringComparer.Ordinal)
            {
                ["operation"] = context.Operation,
                ["namespace"] = ns,
                ["name"] = JsonUtil.GetString(resource, "metadata", "name") ?? string.Empty,
                ["kind"] = new Dictionary<string, object?>(StringComparer.Ordinal)
                {
                    ["group"] = Manifests.ObjectReference.SplitApiVersion(JsonUtil.GetString(resource, "apiVersion") ?? string.Empty).Group,
                    ["kind"] = JsonUtil.GetString(resource, "kind") ?? string.Empty,
                },
                ["userInfo"] = new Dictionary<string, object?>(StringComparer.Ordinal) { ["username"] = policyContext.UserName ?? string.Empty, ["groups"] = new List<object?>() },
            },
            ["namespaceObject"] = ns.Length == 0 ? null : new Dictionary<string, object?>(StringComparer.Ordinal)
            {
                ["metadata"] = new Dictionary<string, object?>(StringComparer.Ordinal)
                {
                    ["name"] = ns,
                    ["labels"] = (policyContext.NamespaceLabels.TryGetValue(ns, out var labels) ? labels : new Dictionary<string, string>())
                        .ToDictionary(l => l.Key, l => (object?)l.Value, StringComparer.Ordinal),
                },
            },
        };
    }

    /// <summary>JSON as the CEL package takes it: maps, lists, <see cref="long"/> for whole numbers, <see cref="double"/>, strings, bools, null.</summary>
    internal static object? ToCel(JsonNode? node) => node switch
    {
        null => null,
        JsonObject o => o.ToDictionary(p => p.Key, p => ToCel(p.Value), StringComparer.Ordinal),
        JsonArray a => a.Select(ToCel).ToList(),
        JsonValue v => v.GetValueKind() switch
        {
            System.Text.Json.JsonValueKind.True => true,
            System.Text.Json.JsonValueKind.False => false,
            System.Text.Json.JsonValueKind.Null => null,
            System.Text.Json.JsonValueKind.Number => Number(v),
            _ => JsonUtil.AsString(v) ?? v.ToString(),
        },
        _ => node.ToString(),
    };

    /// <summary>A JSON number as CEL has it: an int when whole (whatever .NET type holds it), otherwise a double.</summary>
    private static object Number(JsonValue value)
    {
        var number = JsonUtil.GetDouble(value);
        return number == Math.Floor(number) && Math.Abs(number) < 9e15 ? JsonUtil.GetLong(value) : number;
    }

    internal static CelProgramDelegate CompileExpression(string? text, string where)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new PolicyLoadException($"{where} is required");
        }

        try
        {
            return s_environment.Value.Compile(text);
        }
        catch (CelException ex)
        {
            throw new PolicyLoadException($"{where}: '{text}' is not a CEL expression this engine can run: {ex.Message}");
        }
    }

    private static string Describe(object? value) => value switch
    {
        null => "null",
        string s => $"the string \"{s}\"",
        IEnumerable => "a list or map",
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? value.GetType().Name,
    };

    /// <summary>The CEL environment with the string and list extensions Kubernetes expressions commonly use.</summary>
    private static CelEnvironment CreateEnvironment()
    {
        var environment = new CelEnvironment(null, string.Empty);
        Register(environment, "lowerAscii", [typeof(string)], a => Str(a, 0).ToLowerInvariant());
        Register(environment, "upperAscii", [typeof(string)], a => Str(a, 0).ToUpperInvariant());
        Register(environment, "trim", [typeof(string)], a => Str(a, 0).Trim());
        Register(environment, "split", [typeof(string), typeof(string)], a => Str(a, 0).Split(Str(a, 1)).Cast<object?>().ToList());
        Register(environment, "replace", [typeof(string), typeof(string), typeof(string)], a => Str(a, 0).Replace(Str(a, 1), Str(a, 2), StringComparison.Ordinal));
        Register(environment, "indexOf", [typeof(string), typeof(string)], a => (long)Str(a, 0).IndexOf(Str(a, 1), StringComparison.Ordinal));
        Register(environment, "lastIndexOf", [typeof(string), typeof(string)], a => (long)Str(a, 0).LastIndexOf(Str(a, 1), StringComparison.Ordinal));
        Register(environment, "substring", [typeof(string), typeof(long)], a => Str(a, 0)[checked((int)(long)a[1]!)..]);
        Register(environment, "substring", [typeof(string), typeof(long), typeof(long)], a => Str(a, 0)[checked((int)(long)a[1]!)..checked((int)(long)a[2]!)]);
        Register(environment, "join", [typeof(IEnumerable)], a => string.Concat(((IEnumerable)a[0]!).Cast<object?>()));
        Register(environment, "join", [typeof(IEnumerable), typeof(string)], a => string.Join(Str(a, 1), ((IEnumerable)a[0]!).Cast<object?>()));

        // Kubernetes' regex library.
        Register(environment, "find", [typeof(string), typeof(string)], a => Regex(a, 1).Match(Str(a, 0)) is { Success: true } m ? m.Value : string.Empty);
        Register(environment, "findAll", [typeof(string), typeof(string)], a => Regex(a, 1).Matches(Str(a, 0)).Select(m => (object?)m.Value).ToList());

        // Kubernetes' lists library, on lists of numbers or strings.
        Register(environment, "isSorted", [typeof(IEnumerable)], a => Items(a) is var items && items.Zip(items.Skip(1)).All(p => Compare(p.First, p.Second) <= 0));
        Register(environment, "sum", [typeof(IEnumerable)], a => Items(a) is var items && items.All(i => i is long) ? items.Sum(i => (long)i!) : (object)items.Sum(i => Convert.ToDouble(i, CultureInfo.InvariantCulture)));
        Register(environment, "min", [typeof(IEnumerable)], a => Extreme(Items(a), -1, "min"));
        Register(environment, "max", [typeof(IEnumerable)], a => Extreme(Items(a), 1, "max"));

        // Kubernetes' quantity library: quantity('500Mi'), compared and added exactly.
        Register(environment, "quantity", [typeof(string)], a => ParseQuantity(Str(a, 0)));
        Register(environment, "isQuantity", [typeof(string)], a => Quantity.TryParse(Str(a, 0), out _));
        Register(environment, "compareTo", [typeof(Quantity), typeof(Quantity)], a => (long)((Quantity)a[0]!).CompareTo((Quantity)a[1]!));
        Register(environment, "isGreaterThan", [typeof(Quantity), typeof(Quantity)], a => ((Quantity)a[0]!).CompareTo((Quantity)a[1]!) > 0);
        Register(environment, "isLessThan", [typeof(Quantity), typeof(Quantity)], a => ((Quantity)a[0]!).CompareTo((Quantity)a[1]!) < 0);
        Register(environment, "add", [typeof(Quantity), typeof(Quantity)], a => (Quantity)a[0]! + (Quantity)a[1]!);
        Register(environment, "add", [typeof(Quantity), typeof(long)], a => (Quantity)a[0]! + Quantity.FromDouble((long)a[1]!));
        Register(environment, "sub", [typeof(Quantity), typeof(Quantity)], a => (Quantity)a[0]! - (Quantity)a[1]!);
        Register(environment, "sub", [typeof(Quantity), typeof(long)], a => (Quantity)a[0]! - Quantity.FromDouble((long)a[1]!));
        Register(environment, "sign", [typeof(Quantity)], a => (long)((Quantity)a[0]!).Numerator.Sign);
        Register(environment, "isInteger", [typeof(Quantity)], a => ((Quantity)a[0]!).Numerator % ((Quantity)a[0]!).Denominator == 0);
        Register(environment, "asInteger", [typeof(Quantity)], a => (Quantity)a[0]! is var q && q.Numerator % q.Denominator == 0
            ? (long)(q.Numerator / q.Denominator)
            : throw new CelArgumentRangeException($"quantity {q} is not an integer"));
        Register(environment, "asApproximateFloat", [typeof(Quantity)], a => ((Quantity)a[0]!).ToDouble());

        // Kubernetes' URL library: absolute URLs (or absolute paths), as Go's url.ParseRequestURI reads them.
        Register(environment, "url", [typeof(string)], a => ParseUrl(Str(a, 0)) ?? throw new CelArgumentRangeException($"'{Str(a, 0)}' is not an absolute URL or path"));
        Register(environment, "isURL", [typeof(string)], a => ParseUrl(Str(a, 0)) is not null);
        Register(environment, "getScheme", [typeof(Uri)], a => ((Uri)a[0]!).IsAbsoluteUri ? ((Uri)a[0]!).Scheme : string.Empty);
        Register(environment, "getHost", [typeof(Uri)], a => a[0] is Uri { IsAbsoluteUri: true } u ? (HasPort(u) ? $"{HostOf(u)}:{u.Port}" : HostOf(u)) : string.Empty);
        Register(environment, "getHostname", [typeof(Uri)], a => ((Uri)a[0]!).IsAbsoluteUri ? ((Uri)a[0]!).Host : string.Empty);
        Register(environment, "getPort", [typeof(Uri)], a => a[0] is Uri { IsAbsoluteUri: true } u && HasPort(u) ? u.Port.ToString(CultureInfo.InvariantCulture) : string.Empty);
        Register(environment, "getEscapedPath", [typeof(Uri)], a => ((Uri)a[0]!).IsAbsoluteUri ? ((Uri)a[0]!).AbsolutePath : ((Uri)a[0]!).OriginalString.Split('?')[0]);
        Register(environment, "getQuery", [typeof(Uri)], a => Query((Uri)a[0]!));
        return environment;
    }

    private static Uri? ParseUrl(string text) =>
        text.StartsWith('/') ? new Uri(text, UriKind.Relative)
        : Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme.Length > 0 && !uri.IsFile ? uri
        : null;

    /// <summary>Whether the URL names a port (Go keeps an explicit default port, .NET's Uri hides it).</summary>
    private static bool HasPort(Uri uri) => !uri.IsDefaultPort || uri.OriginalString.Contains($"{uri.Host}:{uri.Port}", StringComparison.OrdinalIgnoreCase);

    private static string HostOf(Uri uri) => uri.HostNameType == UriHostNameType.IPv6 ? $"[{uri.IdnHost.Trim('[', ']')}]" : uri.Host;

    private static Dictionary<string, object?> Query(Uri uri)
    {
        var text = uri.IsAbsoluteUri ? uri.Query.TrimStart('?') : (uri.OriginalString.Split('?', 2) is [_, var q] ? q : string.Empty);
        var result = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var pair in text.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var (key, value) = pair.Split('=', 2) is [var k, var v] ? (k, v) : (pair, string.Empty);
            key = Uri.UnescapeDataString(key);
            if (result.GetValueOrDefault(key) is not List<object?> values)
            {
                result[key] = values = [];
            }

            values.Add(Uri.UnescapeDataString(value));
        }

        return result;
    }

    private static Quantity ParseQuantity(string text) =>
        Quantity.TryParse(text, out var quantity) ? quantity : throw new CelArgumentRangeException($"'{text}' is not a quantity");

    private static System.Text.RegularExpressions.Regex Regex(object?[] args, int index) =>
        new(Str(args, index), System.Text.RegularExpressions.RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));

    /// <summary>The smallest (<paramref name="sign"/> -1) or largest (1) item.</summary>
    private static object? Extreme(List<object?> items, int sign, string function) =>
        items.Count > 0 ? items.Aggregate((x, y) => Compare(x, y) * sign >= 0 ? x : y) : throw new CelArgumentRangeException($"{function}() of an empty list");

    private static List<object?> Items(object?[] args) => ((IEnumerable)args[0]!).Cast<object?>().ToList();

    private static int Compare(object? x, object? y) => (x, y) switch
    {
        (string a, string b) => string.CompareOrdinal(a, b),
        (long a, long b) => a.CompareTo(b),
        _ => Convert.ToDouble(x, CultureInfo.InvariantCulture).CompareTo(Convert.ToDouble(y, CultureInfo.InvariantCulture)),
    };

    private static void Register(CelEnvironment environment, string name, Type[] types, Func<object?[], object?> function) =>
        environment.RegisterFunction(name, types, args => function(args));

    private static string Str(object?[] args, int index) => args[index] as string ?? throw new CelNoSuchOverloadException($"expected a string as argument {index + 1}");

    private sealed record CelCheck(string Text, CelProgramDelegate Program, string? Message, CelProgramDelegate? MessageProgram);
}
