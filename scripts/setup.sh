#!/usr/bin/env bash
# Installs what the demo and the tests need on a fresh machine, idempotently:
#   - npm packages (Azurite) from package-lock.json
#   - Debian packages: prometheus (canary analysis, the demo and the tests), git, curl, openssl; for the tests only
#     (setup_tests=1) openssh-server and openssh-client (Git-over-SSH tests run their own sshd)
#   - checks for the .NET 10 SDK, Node.js and kubectl 1.32 (with built-in kustomize)
#   - restores NuGet packages
# Package services are neither started nor enabled: the scripts run their own servers on loopback ports.
# scripts/demo.sh and scripts/test.sh source it (test.sh with setup_tests=1) and use the FLEETFUNCTIONS_KUBECTL it exports.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"
setup_tests=${setup_tests:-0}

command -v dotnet >/dev/null || die "the .NET SDK is missing: install .NET 10 (https://dot.net) and re-run."
dotnet --list-sdks | grep -q '^10\.' || die "the .NET 10 SDK is missing (found: $(dotnet --list-sdks | tr '\n' ' '))."
# Node.js runs Azurite (and the scripts' port helpers). Azurite 3.35.0 (package-lock.json) is the last that supports
# Node.js 20; package.json's "engines" says the same.
node_min=20
command -v node >/dev/null && command -v npm >/dev/null \
  || die "Node.js and npm are missing: install Node.js $node_min or later with npm (https://nodejs.org) and re-run."
node -e "process.exit(Number(process.versions.node.split('.')[0]) >= $node_min ? 0 : 1)" \
  || die "Node.js $node_min or later is needed to run Azurite (found $(node --version) at $(command -v node)): install a newer Node.js and re-run."

# Reinstall only when package-lock.json changed since the last install (a content hash, not timestamps:
# a fresh checkout or worktree must not trigger a reinstall of a node_modules another checkout shares).
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -x node_modules/.bin/azurite ] || [ "$(cat node_modules/.fleetfunctions-lock-hash 2>/dev/null)" != "$lock_hash" ]; then
  log "installing npm packages (Azurite) with npm ci"
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
  echo "$lock_hash" > node_modules/.fleetfunctions-lock-hash
fi

# Installs Debian packages without starting their services: a policy-rc.d answering 101 ("action forbidden") while
# apt runs, removed afterwards if this script created it, and the units of packages it installed are disabled, so no
# prometheus on :9090 or sshd on :22 outlives the script or comes back at boot.
apt_install() {
  local sudo="" policy=/usr/sbin/policy-rc.d created_policy=0 status=0 pkg unit new=()
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  command -v apt-get >/dev/null || die "$1 is missing and apt-get is not available: install $* and re-run."
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' || new+=("$pkg")
  done
  log "installing Debian package(s): $* (their services are not started)"
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# scripts/setup.sh: no service starts while it installs packages; removed when it is done.\nexit 101\n' \
      | $sudo tee "$policy" >/dev/null
    $sudo chmod 755 "$policy"
    created_policy=1
    trap "$sudo rm -f $policy" EXIT
  fi
  { $sudo apt-get update -qq >/dev/null &&
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null; } || status=$?
  if [ "$created_policy" -eq 1 ]; then
    $sudo rm -f "$policy"
    trap - EXIT
  fi
  [ "$status" -eq 0 ] || die "apt-get install $* failed (exit $status)"
  if command -v systemctl >/dev/null; then
    for pkg in "${new[@]}"; do
      for unit in $(dpkg-query -L "$pkg" | grep -E '^(/usr)?/lib/systemd/system/[^/]+\.(service|socket)$' | xargs -r -n1 basename); do
        $sudo systemctl disable --quiet "$unit" 2>/dev/null || true
      done
    done
  fi
}
command -v prometheus >/dev/null || apt_install prometheus
command -v git >/dev/null || apt_install git
{ command -v curl >/dev/null && command -v openssl >/dev/null; } || apt_install curl openssl
if [ "$setup_tests" = 1 ]; then
  { [ -x /usr/sbin/sshd ] && command -v ssh >/dev/null && command -v ssh-keygen >/dev/null; } || apt_install openssh-server openssh-client
  # sshd will not start without its privilege separation folder (the package's service would create it; the tests run their own sshd).
  if [ ! -d /run/sshd ]; then
    if [ "$(id -u)" -eq 0 ]; then mkdir -p /run/sshd; else sudo mkdir -p /run/sshd; fi
  fi
fi

# kubectl 1.32: the machine image ships it under the Google Cloud SDK; any kubectl on PATH also works.
if [ -z "${FLEETFUNCTIONS_KUBECTL:-}" ]; then
  if [ -x /usr/lib/google-cloud-sdk/bin/kubectl.1.32 ]; then
    FLEETFUNCTIONS_KUBECTL=/usr/lib/google-cloud-sdk/bin/kubectl.1.32
  elif command -v kubectl >/dev/null; then
    FLEETFUNCTIONS_KUBECTL=$(command -v kubectl)
  else
    die "kubectl is missing: install kubectl 1.32 (it includes kustomize) and re-run, or set FLEETFUNCTIONS_KUBECTL."
  fi
fi
export FLEETFUNCTIONS_KUBECTL

log "restoring NuGet packages"
dotnet restore FleetFunctions.sln --verbosity quiet >/dev/null
