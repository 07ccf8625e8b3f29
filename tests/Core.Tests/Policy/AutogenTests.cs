using FleetFunctions.Core.Policy;
using Xunit;

namespace FleetFunctions.Core.Tests.Policy;

public sealed class AutogenTests
{
    private const string ValidateRule = """
          - name: no-privileged
            match:
              any:
              - resources:
                  kinds: [Pod]
            validate:
              pattern:
                spec:
                  containers:
                  - =(securityContext):
                      =(privileged): false
        """;

    private static IReadOnlyList<string> RuleNames(string otherRule)
    {
        var yaml = $"""
            apiVersion: kyverno.io/v1
            kind: ClusterPolicy
            metadata:
              name: p
            spec:
              rules:
            {otherRule}
            {ValidateRule}
            """;
        return [.. PolicySet.Load([("p.yaml", yaml)]).Policies.Single().RuleNames];
    }

    [Theory]
    [InlineData("""
          - name: pull-always
            match: {any: [{resources: {kinds: [Pod]}}]}
            mutate:
              patchStrategicMerge:
                spec:
                  containers:
                  - (name): "*"
                    imagePullPolicy: Always
        """)]
    [InlineData("""
          - name: add-label
            match: {any: [{resources: {kinds: [Pod]}}]}
            mutate:
              foreach:
              - list: request.object.spec.containers
                patchStrategicMerge:
                  metadata:
                    labels:
                      patched: "true"
        """)]
    [InlineData("""
          - name: nested-json-patch
            match: {any: [{resources: {kinds: [Pod]}}]}
            mutate:
              foreach:
              - list: request.object.spec.containers
                foreach:
                - list: element.ports
                  patchesJson6902: |-
                    - op: add
                      path: /metadata/labels/nested
                      value: "true"
        """)]
    public void Load_MutateRuleWithoutJsonPatch_ValidateRulesStillAutogen(string mutateRule)
    {
        Assert.Equal(["no-privileged", "autogen-no-privileged", "autogen-cronjob-no-privileged"], RuleNames(mutateRule));
    }

    [Theory]
    [InlineData("""
          - name: json-patch
            match: {any: [{resources: {kinds: [Pod]}}]}
            mutate:
              patchesJson6902: |-
                - op: add
                  path: /metadata/labels/patched
                  value: "true"
        """)]
    [InlineData("""
          - name: foreach-json-patch
            match: {any: [{resources: {kinds: [Pod]}}]}
            mutate:
              foreach:
              - list: request.object.spec.containers
                patchesJson6902: |-
                  - op: add
                    path: /metadata/labels/patched
                    value: "true"
        """)]
    [InlineData("""
          - name: copy-secret
            match: {any: [{resources: {kinds: [Namespace]}}]}
            generate:
              kind: Secret
              apiVersion: v1
              name: registry
              namespace: "{{ request.object.metadata.name }}"
              clone: {namespace: default, name: registry}
        """)]
    public void Load_JsonPatchOrGenerateRule_NoAutogenForThePolicy(string otherRule)
    {
        Assert.Equal(["no-privileged"], RuleNames(otherRule));
    }
}
