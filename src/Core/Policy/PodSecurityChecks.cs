using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace FleetFunctions.Core.Policy;

/// <summary>The Pod Security Standards levels.</summary>
internal enum PodSecurityLevel
{
    Privileged,
    Baseline,
    Restricted,
}

/// <summary>
/// One field of a pod that a Pod Security Standards check forbids, as a field error of
/// <c>k8s.io/pod-security-admission</c>: its path in the pod (<c>spec.containers[0].securityContext.privileged</c>),
/// the container it belongs to (null for the pod), and the forbidden values (null when the field is required but unset).
/// </summary>
internal sealed partial record PodSecurityFinding(string Path, PodContainer? Container, IReadOnlyList<string>? BadValues)
{
    /// <summary>The path with every index as <c>[*]</c>: Kyverno's <c>restrictedField</c> spelling.</summary>
    public string Field => IndexPattern().Replace(Path, "[*]");

    /// <summary>The path in the checked object: under the pod template for a Pod controller.</summary>
    public string Describe(string specPrefix, string metadataPrefix)
    {
        var path = Path.StartsWith("spec.", StringComparison.Ordinal) ? specPrefix + Path["spec".Length..]
            : Path.StartsWith("metadata.", StringComparison.Ordinal) ? metadataPrefix + Path["metadata".Length..]
            : Path;
        return BadValues switch
        {
            null => $"{path}: Required value",
            [var one] => $"{path} is forbidden, forbidden values found: {one}",
            var many => $"{path} is forbidden, forbidden values found: [{string.Join(' ', many)}]",
        };
    }

    [GeneratedRegex(@"\[\d+\]")]
    private static partial Regex IndexPattern();
}

/// <summary>A container, init container or ephemeral container of the pod being checked.</summary>
internal sealed record PodContainer(string Name, string Image, string Path, JsonObject Node)
{
    public JsonObject? SecurityContext => Node["securityContext"] as JsonObject;
}

/// <summary>The pod a check reads: its metadata, its spec, and every container of every list.</summary>
internal sealed class PodView
{
    private static readonly string[] s_lists = ["initContainers", "containers", "ephemeralContainers"];

    public PodView(JsonObject? metadata, JsonObject spec, IReadOnlyList<PodContainer>? containers = null)
    {
        Metadata = metadata;
        Spec = spec;
        Containers = containers ?? [.. s_lists.SelectMany(list => (spec[list] as JsonArray ?? []).Select((node, i) => (node, i))
            .Where(c => c.node is JsonObject)
            .Select(c => new PodContainer(JsonUtil.GetString(c.node, "name") ?? "", JsonUtil.GetString(c.node, "image") ?? "", $"spec.{list}[{c.i}]", (JsonObject)c.node!)))];
    }

    public JsonObject? Metadata { get; }

    public JsonObject Spec { get; }

    /// <summary>Init containers, containers, then ephemeral containers, as the standards visit them.</summary>
    public IReadOnlyList<PodContainer> Containers { get; }

    public JsonObject? SecurityContext => Spec["securityContext"] as JsonObject;

    public bool IsWindows => string.Equals(JsonUtil.GetString(Spec, "os", "name"), "windows", StringComparison.Ordinal);

    /// <summary>This pod with only <paramref name="containers"/> (pod-level fields unchanged): what an exclusion is checked on.</summary>
    public PodView With(IReadOnlyList<PodContainer> containers) => new(Metadata, Spec, containers);
}

/// <summary>
/// One check of the Pod Security Standards as <c>k8s.io/pod-security-admission/policy</c> defines it: its id, the
/// control it belongs to (Kyverno's <c>controlName</c>), its level, the first Kubernetes minor version it applies to,
/// the baseline check it replaces at restricted, and its reason in a denial. <see cref="Find"/> gets the minor version,
/// for checks whose rules changed between versions.
/// </summary>
internal sealed record PodSecurityCheck(
    string Id,
    string Control,
    PodSecurityLevel Level,
    int SinceMinor,
    string? Overrides,
    string Reason,
    Func<PodView, int, IReadOnlyList<PodSecurityFinding>> Find);

/// <summary>The Pod Security Standards checks, baseline and restricted, as of Kubernetes v1.32.</summary>
internal static class PodSecurityChecks
{
    /// <summary>The newest Kubernetes minor version these checks know; <c>latest</c> means this one.</summary>
    public const int LatestMinor = 32;

    /// <summary>From this version, the restricted checks that cannot apply to Windows pass Windows pods (<c>spec.os.name: windows</c>).</summary>
    private const int WindowsExemptSince = 25;

    /// <summary>Capabilities a baseline container may add (the container runtimes' defaults).</summary>
    private static readonly HashSet<string> s_baselineCapabilities = new(StringComparer.Ordinal)
    {
        "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE", "SETFCAP", "SETGID",
        "SETPCAP", "SETUID", "SYS_CHROOT",
    };

    /// <summary>Volume types a restricted pod may use.</summary>
    private static readonly HashSet<string> s_restrictedVolumeTypes = new(StringComparer.Ordinal)
    {
        "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret",
    };

    /// <summary>Every volume source a pod spec may set (a volume's type is the one it sets).</summary>
    private static readonly string[] s_volumeTypes =
    [
        "hostPath", "emptyDir", "gcePersistentDisk", "awsElasticBlockStore", "gitRepo", "secret", "nfs", "iscsi", "glusterfs",
        "persistentVolumeClaim", "rbd", "flexVolume", "cinder", "cephfs", "flocker", "downwardAPI", "fc", "azureFile", "configMap",
        "vsphereVolume", "quobyte", "azureDisk", "photonPersistentDisk", "projected", "portworxVolume", "scaleIO", "storageos", "csi",
        "ephemeral", "image",
    ];

    public static IReadOnlyList<PodSecurityCheck> All { get; } =
    [
        new("windowsHostProcess", "HostProcess", PodSecurityLevel.Baseline, 0, null, "hostProcess", HostProcess),
        new("hostNamespaces", "Host Namespaces", PodSecurityLevel.Baseline, 0, null, "host namespaces", HostNamespaces),
        new("privileged", "Privileged Containers", PodSecurityLevel.Baseline, 0, null, "privileged", Privileged),
        new("capabilities_baseline", "Capabilities", PodSecurityLevel.Baseline, 0, null, "non-default capabilities", BaselineCapabilities),
        new("hostPathVolumes", "HostPath Volumes", PodSecurityLevel.Baseline, 0, null, "hostPath volumes", HostPathVolumes),
        new("hostPorts", "Host Ports", PodSecurityLevel.Baseline, 0, null, "hostPort", HostPorts),
        new("appArmorProfile", "AppArmor", PodSecurityLevel.Baseline, 0, null, "forbidden AppArmor profile(s)", AppArmor),
        new("seLinuxOptions", "SELinux", PodSecurityLevel.Baseline, 0, null, "seLinuxOptions", SeLinux),
        new("procMount", "/proc Mount Type", PodSecurityLevel.Baseline, 0, null, "procMount", ProcMount),
        new("seccompProfile_baseline", "Seccomp", PodSecurityLevel.Baseline, 0, null, "seccompProfile", BaselineSeccomp),
        new("sysctls", "Sysctls", PodSecurityLevel.Baseline, 0, null, "forbidden sysctls", Sysctls),
        new("restrictedVolumes", "Volume Types", PodSecurityLevel.Restricted, 0, "hostPathVolumes", "restricted volume types", RestrictedVolumes),
        new("allowPrivilegeEscalation", "Privilege Escalation", PodSecurityLevel.Restricted, 8, null, "allowPrivilegeEscalation != false", AllowPrivilegeEscalation),
        new("runAsNonRoot", "Running as Non-root", PodSecurityLevel.Restricted, 0, null, "runAsNonRoot != true", RunAsNonRoot),
        new("runAsUser", "Running as Non-root user", PodSecurityLevel.Restricted, 23, null, "runAsUser=0", RunAsUser),
        new("seccompProfile_restricted", "Seccomp", PodSecurityLevel.Restricted, 19, "seccompProfile_baseline", "seccompProfile", RestrictedSeccomp),
        new("capabilities_restricted", "Capabilities", PodSecurityLevel.Restricted, 22, "capabilities_baseline", "unrestricted capabilities", RestrictedCapabilities),
    ];

    /// <summary>Controls that concern containers only: Kyverno requires <c>images</c> on their exclusions.</summary>
    public static IReadOnlySet<string> ContainerControls { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "Capabilities", "Privileged Containers", "Host Ports", "/proc Mount Type", "Privilege Escalation",
    };

    /// <summary>Controls that concern the pod only: Kyverno refuses <c>images</c> on their exclusions.</summary>
    public static IReadOnlySet<string> PodControls { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "Host Namespaces", "HostPath Volumes", "Sysctls", "AppArmor", "Volume Types",
    };

    /// <summary>Every control name, in the order of <see cref="All"/>.</summary>
    public static IReadOnlyList<string> Controls { get; } = [.. All.Select(c => c.Control).Distinct(StringComparer.Ordinal)];

    /// <summary>
    /// The checks of <paramref name="level"/> at Kubernetes minor version <paramref name="minor"/>: those of the level
    /// and below that the version has, without the baseline checks a restricted one replaces. Privileged has none.
    /// </summary>
    public static IReadOnlyList<PodSecurityCheck> For(PodSecurityLevel level, int minor)
    {
        var applicable = All.Where(c => level != PodSecurityLevel.Privileged && c.Level <= level && c.SinceMinor <= minor).ToList();
        var replaced = applicable.Select(c => c.Overrides).OfType<string>().ToHashSet(StringComparer.Ordinal);
        return [.. applicable.Where(c => !replaced.Contains(c.Id))];
    }

    private static bool IsTrue(JsonNode? node) => JsonUtil.TryGetBool(node, out var value) && value;

    private static bool IsFalse(JsonNode? node) => JsonUtil.TryGetBool(node, out var value) && !value;

    private static List<PodSecurityFinding> HostProcess(PodView pod, int minor) =>
        PodAndContainerField(pod, "windowsOptions.hostProcess", v => IsTrue(v) ? "true" : null);

    private static List<PodSecurityFinding> HostNamespaces(PodView pod, int minor) =>
        [.. new[] { "hostNetwork", "hostPID", "hostIPC" }.Where(f => IsTrue(pod.Spec[f])).Select(f => new PodSecurityFinding("spec." + f, null, ["true"]))];

    private static List<PodSecurityFinding> Privileged(PodView pod, int minor) =>
        [.. pod.Containers.Where(c => IsTrue(JsonUtil.Get(c.SecurityContext, "privileged")))
            .Select(c => new PodSecurityFinding(c.Path + ".securityContext.privileged", c, ["true"]))];

    private static List<PodSecurityFinding> BaselineCapabilities(PodView pod, int minor) =>
        [.. pod.Containers
            .Select(c => (Container: c, Forbidden: Strings(JsonUtil.Get(c.SecurityContext, "capabilities", "add")).Where(a => !s_baselineCapabilities.Contains(a)).ToList()))
            .Where(x => x.Forbidden.Count > 0)
            .Select(x => new PodSecurityFinding(x.Container.Path + ".securityContext.capabilities.add", x.Container, x.Forbidden))];

    private static List<PodSecurityFinding> HostPathVolumes(PodView pod, int minor) =>
        [.. Volumes(pod).Where(v => v.Volume["hostPath"] is not null)
            .Select(v => new PodSecurityFinding($"spec.volumes[{v.Index}].hostPath", null, [JsonUtil.GetString(v.Volume, "hostPath", "path") ?? ""]))];

    private static List<PodSecurityFinding> HostPorts(PodView pod, int minor)
    {
        var findings = new List<PodSecurityFinding>();
        foreach (var container in pod.Containers)
        {
            var ports = container.Node["ports"] as JsonArray ?? [];
            for (var i = 0; i < ports.Count; i++)
            {
                if (JsonUtil.Get(ports[i], "hostPort") is { } port && JsonUtil.Sprint(port) != "0")
                {
                    findings.Add(new($"{container.Path}.ports[{i}].hostPort", container, [JsonUtil.Sprint(port)]));
                }
            }
        }

        return findings;
    }

    private static List<PodSecurityFinding> AppArmor(PodView pod, int minor)
    {
        const string prefix = "container.apparmor.security.beta.kubernetes.io/";
        var findings = new List<PodSecurityFinding>();
        foreach (var (key, value) in (pod.Metadata?["annotations"] as JsonObject ?? []).Where(a => a.Key.StartsWith(prefix, StringComparison.Ordinal)))
        {
            var profile = JsonUtil.AsString(value) ?? "";
            if (profile is not ("" or "runtime/default") && !profile.StartsWith("localhost/", StringComparison.Ordinal))
            {
                // An annotation is a field of the pod's metadata, whichever container it names.
                findings.Add(new($"metadata.annotations[{key}]", null, [profile]));
            }
        }

        findings.AddRange(PodAndContainerField(pod, "appArmorProfile.type", v => ForbiddenAppArmorType(JsonUtil.AsString(v))));
        return findings;
    }

    private static string? ForbiddenAppArmorType(string? type) => type is null or "RuntimeDefault" or "Localhost" ? null : type;

    private static List<PodSecurityFinding> SeLinux(PodView pod, int minor)
    {
        var findings = new List<PodSecurityFinding>();
        Add("spec.securityContext.seLinuxOptions", null, pod.SecurityContext);
        foreach (var container in pod.Containers)
        {
            Add(container.Path + ".securityContext.seLinuxOptions", container, container.SecurityContext);
        }

        return findings;

        void Add(string path, PodContainer? container, JsonObject? securityContext)
        {
            if (securityContext?["seLinuxOptions"] is not JsonObject options)
            {
                return;
            }

            var type = JsonUtil.GetString(options, "type") ?? "";
            if (type is not ("" or "container_t" or "container_init_t" or "container_kvm_t") && !(type == "container_engine_t" && minor >= 31))
            {
                findings.Add(new(path + ".type", container, [type]));
            }

            foreach (var key in new[] { "user", "role" })
            {
                if (JsonUtil.GetString(options, key) is { Length: > 0 } value)
                {
                    findings.Add(new(path + "." + key, container, [value]));
                }
            }
        }
    }

    private static List<PodSecurityFinding> ProcMount(PodView pod, int minor) =>
        [.. pod.Containers.Select(c => (Container: c, Mount: JsonUtil.GetString(c.SecurityContext, "procMount")))
            .Where(x => x.Mount is not null and not "Default")
            .Select(x => new PodSecurityFinding(x.Container.Path + ".securityContext.procMount", x.Container, [x.Mount!]))];

    /// <summary>Before v1.19, the seccomp annotations; from v1.19, the <c>seccompProfile</c> fields: never <c>Unconfined</c>.</summary>
    private static List<PodSecurityFinding> BaselineSeccomp(PodView pod, int minor)
    {
        var findings = new List<PodSecurityFinding>();
        if (minor < 19)
        {
            foreach (var (key, value) in (pod.Metadata?["annotations"] as JsonObject ?? []))
            {
                var profile = JsonUtil.AsString(value) ?? "";
                var seccomp = key == "seccomp.security.alpha.kubernetes.io/pod" || key.StartsWith("container.seccomp.security.alpha.kubernetes.io/", StringComparison.Ordinal);
                if (seccomp && profile is not ("runtime/default" or "docker/default") && !profile.StartsWith("localhost/", StringComparison.Ordinal))
                {
                    findings.Add(new($"metadata.annotations[{key}]", null, [profile]));
                }
            }

            return findings;
        }

        return PodAndContainerField(pod, "seccompProfile.type", v => JsonUtil.AsString(v) is "Unconfined" ? "Unconfined" : null);
    }

    private static List<PodSecurityFinding> Sysctls(PodView pod, int minor)
    {
        var allowed = new HashSet<string>(StringComparer.Ordinal)
        {
            "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_unprivileged_port_start",
        };
        if (minor >= 27)
        {
            allowed.Add("net.ipv4.ip_local_reserved_ports");
        }

        if (minor >= 29)
        {
            allowed.UnionWith(["net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes"]);
        }

        if (minor >= 32)
        {
            allowed.UnionWith(["net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"]);
        }

        var sysctls = pod.SecurityContext?["sysctls"] as JsonArray ?? [];
        return [.. sysctls.Select((s, i) => (Name: JsonUtil.GetString(s, "name") ?? "", Index: i))
            .Where(s => !allowed.Contains(s.Name))
            .Select(s => new PodSecurityFinding($"spec.securityContext.sysctls[{s.Index}].name", null, [s.Name]))];
    }

    private static List<PodSecurityFinding> RestrictedVolumes(PodView pod, int minor)
    {
        var findings = new List<PodSecurityFinding>();
        foreach (var (volume, index) in Volumes(pod))
        {
            // A volume that names no source is an emptyDir once the API server has defaulted it.
            var type = s_volumeTypes.FirstOrDefault(t => volume[t] is not null)
                ?? volume.Select(p => p.Key).FirstOrDefault(k => k != "name")
                ?? "emptyDir";
            if (!s_restrictedVolumeTypes.Contains(type))
            {
                findings.Add(new($"spec.volumes[{index}].{type}", null, [type]));
            }
        }

        return findings;
    }

    private static List<PodSecurityFinding> AllowPrivilegeEscalation(PodView pod, int minor) =>
        WindowsExempt(pod, minor) ? [] :
        [.. pod.Containers.Select(c => (Container: c, Value: JsonUtil.Get(c.SecurityContext, "allowPrivilegeEscalation")))
            .Where(x => !IsFalse(x.Value))
            .Select(x => new PodSecurityFinding(x.Container.Path + ".securityContext.allowPrivilegeEscalation", x.Container, x.Value is null ? null : [JsonUtil.Sprint(x.Value)]))];

    private static List<PodSecurityFinding> RunAsNonRoot(PodView pod, int minor)
    {
        var findings = new List<PodSecurityFinding>();
        var podValue = JsonUtil.Get(pod.SecurityContext, "runAsNonRoot");
        if (IsFalse(podValue))
        {
            findings.Add(new("spec.securityContext.runAsNonRoot", null, ["false"]));
        }

        foreach (var container in pod.Containers)
        {
            var value = JsonUtil.Get(container.SecurityContext, "runAsNonRoot");
            if (IsFalse(value))
            {
                findings.Add(new(container.Path + ".securityContext.runAsNonRoot", container, ["false"]));
            }
            else if (value is null && !IsTrue(podValue))
            {
                // Unset here and not true on the pod: the container may run as root.
                findings.Add(new(container.Path + ".securityContext.runAsNonRoot", container, null));
            }
        }

        return findings;
    }

    private static List<PodSecurityFinding> RunAsUser(PodView pod, int minor) =>
        PodAndContainerField(pod, "runAsUser", v => v is not null && JsonUtil.Sprint(v) == "0" ? "0" : null);

    private static List<PodSecurityFinding> RestrictedSeccomp(PodView pod, int minor)
    {
        if (WindowsExempt(pod, minor))
        {
            return [];
        }

        var findings = new List<PodSecurityFinding>();
        var podType = JsonUtil.GetString(pod.SecurityContext, "seccompProfile", "type");
        if (podType is not (null or "RuntimeDefault" or "Localhost"))
        {
            findings.Add(new("spec.securityContext.seccompProfile.type", null, [podType]));
        }

        foreach (var container in pod.Containers)
        {
            var type = JsonUtil.GetString(container.SecurityContext, "seccompProfile", "type");
            if (type is not (null or "RuntimeDefault" or "Localhost"))
            {
                findings.Add(new(container.Path + ".securityContext.seccompProfile.type", container, [type]));
            }
            else if (type is null && podType is null)
            {
                // Neither the container nor the pod sets a profile.
                findings.Add(new(container.Path + ".securityContext.seccompProfile.type", container, null));
            }
        }

        return findings;
    }

    private static List<PodSecurityFinding> RestrictedCapabilities(PodView pod, int minor)
    {
        if (WindowsExempt(pod, minor))
        {
            return [];
        }

        var findings = new List<PodSecurityFinding>();
        foreach (var container in pod.Containers)
        {
            var capabilities = JsonUtil.Get(container.SecurityContext, "capabilities");
            if (!Strings(JsonUtil.Get(capabilities, "drop")).Contains("ALL", StringComparer.Ordinal))
            {
                findings.Add(new(container.Path + ".securityContext.capabilities.drop", container, null));
            }

            var added = Strings(JsonUtil.Get(capabilities, "add")).Where(c => c != "NET_BIND_SERVICE").ToList();
            if (added.Count > 0)
            {
                findings.Add(new(container.Path + ".securityContext.capabilities.add", container, added));
            }
        }

        return findings;
    }

    /// <summary>
    /// A securityContext field checked alike on the pod and on every container: a finding for each place where
    /// <paramref name="forbidden"/> gives the offending value.
    /// </summary>
    private static List<PodSecurityFinding> PodAndContainerField(PodView pod, string field, Func<JsonNode?, string?> forbidden)
    {
        var path = field.Split('.');
        var findings = new List<PodSecurityFinding>();
        if (forbidden(JsonUtil.Get(pod.SecurityContext, path)) is { } podValue)
        {
            findings.Add(new($"spec.securityContext.{field}", null, [podValue]));
        }

        foreach (var container in pod.Containers)
        {
            if (forbidden(JsonUtil.Get(container.SecurityContext, path)) is { } value)
            {
                findings.Add(new($"{container.Path}.securityContext.{field}", container, [value]));
            }
        }

        return findings;
    }

    private static bool WindowsExempt(PodView pod, int minor) => minor >= WindowsExemptSince && pod.IsWindows;

    private static IEnumerable<(JsonObject Volume, int Index)> Volumes(PodView pod) =>
        (pod.Spec["volumes"] as JsonArray ?? []).Select((v, i) => (v as JsonObject, i)).Where(v => v.Item1 is not null).Select(v => (v.Item1!, v.i));

    private static IEnumerable<string> Strings(JsonNode? node) =>
        (node as JsonArray ?? []).Select(JsonUtil.AsString).OfType<string>();
}
