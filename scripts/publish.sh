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
log "done: deploy $out (zip it for 'az functionapp deployment source config-zip')"
