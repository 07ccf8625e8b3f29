using System.CommandLine;
using System.Text.Json;
using FleetFunctions.Core.Policy;
using FleetFunctions.Core.Policy.Testing;

namespace FleetFunctions.Functions.Cli;

/// <summary>
/// <c>fleetfunctions policy check POLICIES MANIFESTS... [--output table|json] [--values FILE]</c>: validates manifests
/// for CI. Exit codes: 0 no violation or Audit-only violations, 1 at least one Enforce violation (a rule failed or
/// errored in a policy or rule whose action is Enforce), 2 invalid input (unreadable file, invalid policy).
/// </summary>
internal static class PolicyCheckCommand
{
    private static readonly JsonSerializerOptions s_json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static Command Create()
    {
        var policies = new Argument<string>("policies") { Description = "Policy file or folder (ClusterPolicy/Policy documents, searched recursively)." };
        var manifests = new Argument<string[]>("manifests") { Description = "Manifest files or folders (multi-document YAML, searched recursively).", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string>("--output", "-o") { Description = "table or json.", DefaultValueFactory = _ => "table" };
        output.AcceptOnlyFromAmong("table", "json");
        var values = new Option<string?>("--values") { Description = "Kyverno Values file: operation, namespace labels, values for apiCall/configMap context entries." };
        var command = new Command("check", "Validate manifests against policies; exit 1 on Enforce violations, 0 when only Audit rules fail.");
        command.Arguments.Add(policies);
        command.Arguments.Add(manifests);
        command.Options.Add(output);
        command.Options.Add(values);
        command.SetAction(parseResult =>
        {
            var stdout = parseResult.InvocationConfiguration.Output;
            var stderr = parseResult.InvocationConfiguration.Error;
            PolicyCheckResult result;
            try
            {
                var set = PolicySet.LoadPaths([parseResult.GetValue(policies)!]);
                var valuesFile = parseResult.GetValue(values);
                result = PolicyChecker.CheckPaths(set, parseResult.GetValue(manifests)!, valuesFile is null ? null : KyvernoValues.Load(valuesFile));
            }
            catch (Exception ex) when (ex is PolicyLoadException or IOException)
            {
                stderr.WriteLine(ex.Message);
                return 2;
            }

            if (parseResult.GetValue(output) == "json")
            {
                var payload = new
                {
                    resources = result.Reports.Count,
                    blocked = result.Blocked,
                    violations = result.Violations.Select(v => new { v.Policy, v.Rule, v.Resource, v.SourceFile, v.Message, action = v.Action.ToString() }),
                };
                stdout.WriteLine(JsonSerializer.Serialize(payload, s_json));
            }
            else
            {
                WriteTable(stdout, result);
            }

            return result.Blocked ? 1 : 0;
        });
        return command;
    }

    private static void WriteTable(TextWriter output, PolicyCheckResult result)
    {
        if (result.Violations.Count > 0)
        {
            string[] header = ["ACTION", "POLICY", "RULE", "RESOURCE", "SOURCE", "MESSAGE"];
            var rows = result.Violations.Select(v => new[] { v.Action.ToString(), v.Policy, v.Rule, v.Resource, v.SourceFile ?? "", v.Message.ReplaceLineEndings(" ") }).ToList();
            var widths = header.Select((h, i) => Math.Min(i == 5 ? 100 : 60, Math.Max(h.Length, rows.Max(r => r[i].Length)))).ToArray();
            void Line(string[] row) => output.WriteLine(string.Join("  ", row.Select((c, i) => (c.Length > widths[i] ? c[..(widths[i] - 1)] + "…" : c).PadRight(widths[i]))).TrimEnd());
            Line(header);
            foreach (var row in rows)
            {
                Line(row);
            }

            output.WriteLine();
        }

        var enforce = result.Violations.Count(v => v.Action == FailureAction.Enforce);
        var audit = result.Violations.Count - enforce;
        output.WriteLine($"{result.Reports.Count} resources checked: {enforce} Enforce violations, {audit} Audit violations.{(result.Blocked ? " Blocked." : "")}");
    }
}
