using System.Text.Encodings.Web;
using System.Text.Json;

namespace FleetFunctions.Simulator.Serialization;

/// <summary>JSON output settings: compact, and escaping like Go's encoder (quotes as \", no HTML escaping).</summary>
internal static class JsonDefaults
{
    public static readonly JsonSerializerOptions Options = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        WriteIndented = false,
    };

    public static readonly JsonWriterOptions Writer = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = true,
    };
}
