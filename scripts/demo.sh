#!/usr/bin/env bash
# Sets everything up and runs FleetFunctions on its embedded defaults: Azurite and a simulated fleet
# of Kubernetes clusters (one loopback port each) that kubectl can talk to. Prints how to reach each
# cluster and waits; Ctrl-C stops everything cleanly.
#   CLUSTERS=6 scripts/demo.sh      number of simulated clusters (default 6)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$REPO_ROOT/scripts/setup.sh"
cd "$REPO_ROOT"
trap 'log "stopping"; stop_children' EXIT
trap 'exit 130' INT TERM

run_dir="$REPO_ROOT/.run"
mkdir -p "$run_dir"
start_azurite "$run_dir/azurite.log"

log "building"
dotnet build src/Simulator -c Release --no-restore --verbosity quiet -nologo -clp:ErrorsOnly

kubeconfig="$run_dir/kubeconfig"
admin_port=$(free_port)
dotnet "src/Simulator/bin/Release/net10.0/fleet-simulator.dll" --clusters "${CLUSTERS:-6}" \
  --admin-port "$admin_port" --kubeconfig "$kubeconfig" >"$run_dir/simulator.log" 2>&1 &
CHILD_PIDS+=($!)
wait_port "$admin_port"
for _ in $(seq 1 50); do [ -s "$kubeconfig" ] && break; sleep 0.2; done

cat "$run_dir/simulator.log"
cat <<MSG

FleetFunctions demo is up.
  Azure Storage (Azurite): $AZURITE_CONNECTION_STRING
  Simulator admin API:      http://127.0.0.1:$admin_port/clusters
  kubeconfig:               $kubeconfig

Try:
  export KUBECONFIG=$kubeconfig
  $FLEETFUNCTIONS_KUBECTL config get-contexts
  $FLEETFUNCTIONS_KUBECTL --context c1 apply --server-side -f examples/apps/hello/namespace.yaml
  $FLEETFUNCTIONS_KUBECTL --context c1 apply --server-side -R -f examples/apps/hello/
  $FLEETFUNCTIONS_KUBECTL --context c1 get deployments -A

Press Ctrl-C to stop.
MSG
wait "${CHILD_PIDS[@]}"
