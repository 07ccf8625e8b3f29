#!/usr/bin/env bash
# Compiles the Azure infrastructure (infra/bicep/main.bicep) with the Bicep CLI from the NuGet package
# Azure.Bicep.CommandLine.linux-x64 (restored with the test projects), lints it, and writes the ARM template.
#   scripts/infra.sh [OUTPUT]      default: artifacts/infra (main.json)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"
out="${1:-$REPO_ROOT/artifacts/infra}"
dotnet restore tests/Functions.Tests --verbosity quiet >/dev/null
version=$(sed -n 's/.*"Azure.Bicep.CommandLine.linux-x64" Version="\([^"]*\)".*/\1/p' Directory.Packages.props)
bicep="${NUGET_PACKAGES:-$HOME/.nuget/packages}/azure.bicep.commandline.linux-x64/$version/tools/bicep"
[ -x "$bicep" ] || die "Bicep CLI not found at $bicep: restore failed?"
log "linting infra/bicep/main.bicep ($("$bicep" --version))"
"$bicep" lint infra/bicep/main.bicep
mkdir -p "$out"
"$bicep" build infra/bicep/main.bicep --outdir "$out"
log "done: $out/main.json (deploy: az deployment group create -g <group> -f infra/bicep/main.bicep -p platformRepository=<url>)"
