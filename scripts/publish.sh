#!/usr/bin/env bash
# Produces the deployable Azure Functions folder: the self-contained linux-x64 `fleetfunctions` executable
# (custom handler), host.json and one folder per function with its function.json.
#   scripts/publish.sh [OUTPUT]      default: artifacts/functionapp
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"
out="${1:-$REPO_ROOT/artifacts/functionapp}"
rm -rf "$out"
log "publishing to $out"
dotnet publish src/Functions -c Release -r linux-x64 --self-contained -o "$out" --verbosity quiet -nologo
cp host.json "$out/"
cp -r src/Functions/functions/* "$out/"

# A Functions host has no kubectl: kustomize overlays render with the one shipped beside the app (tools/kubectl,
# found by RenderOptions before any on PATH). FLEETFUNCTIONS_KUBECTL picks another for the build.
kubectl_bin="${FLEETFUNCTIONS_KUBECTL:-}"
if [[ -z "$kubectl_bin" ]]; then
  if [[ -x /usr/lib/google-cloud-sdk/bin/kubectl.1.32 ]]; then kubectl_bin=/usr/lib/google-cloud-sdk/bin/kubectl.1.32
  elif command -v kubectl >/dev/null; then kubectl_bin="$(readlink -f "$(command -v kubectl)")"
  else die "no kubectl to ship with the app: install kubectl (1.32 or later, linux-x64) or set FLEETFUNCTIONS_KUBECTL to one"; fi
fi
file_type="$(head -c 4 "$kubectl_bin" | od -An -c | tr -d ' ')"
[[ "$file_type" == "177ELF" ]] || die "$kubectl_bin is not a linux executable (a wrapper script?): set FLEETFUNCTIONS_KUBECTL to the kubectl binary itself"
mkdir -p "$out/tools"
cp "$kubectl_bin" "$out/tools/kubectl"
chmod +x "$out/tools/kubectl"
log "shipped $("$out/tools/kubectl" version --client 2>/dev/null | head -1) as tools/kubectl"
log "done: deploy $out (zip it for 'az functionapp deployment source config-zip')"
