# Shared helpers for the scripts in this folder. Source it; do not run it.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export REPO_ROOT
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

# Prints a TCP port that is free on 127.0.0.1.
free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close();});'
}

# Waits until 127.0.0.1:$1 accepts connections (at most $2 seconds, default 60).
wait_port() {
  local port=$1 limit=${2:-60} i=0
  until node -e "const c=require('net').connect($port,'127.0.0.1',()=>{c.end();process.exit(0)});c.on('error',()=>process.exit(1));" 2>/dev/null; do
    i=$((i + 1)); [ "$i" -le $((limit * 5)) ] || die "nothing listens on 127.0.0.1:$port after ${limit}s"
    sleep 0.2
  done
}

# Waits until the app with process id $1 answers its health check at $2 (at most $3 seconds, default 120). Fails
# (status 1) if the process exits first: e.g. another process took its port between free_port and its start, which a
# bare port check would not notice (it would find that other process listening).
wait_app() {
  local pid=$1 url=$2 limit=${3:-120} i=0
  until curl -fsS --max-time 2 "$url/api/healthz" 2>/dev/null | grep -q '"mode":"standalone"'; do
    kill -0 "$pid" 2>/dev/null || return 1
    i=$((i + 1)); [ "$i" -le $((limit * 5)) ] || die "the app at $url did not answer its health check after ${limit}s"
    sleep 0.2
  done
}

# Background processes started by the scripts; stopped by stop_children on exit.
CHILD_PIDS=()
stop_children() {
  local pid
  for pid in "${CHILD_PIDS[@]:-}"; do
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  done
  for pid in "${CHILD_PIDS[@]:-}"; do
    [ -n "$pid" ] && wait "$pid" 2>/dev/null || true
  done
}

# Starts an in-memory Azurite on free loopback ports; exports AZURITE_CONNECTION_STRING.
start_azurite() {
  local blob queue table
  blob=$(free_port); queue=$(free_port); table=$(free_port)
  "$REPO_ROOT/node_modules/.bin/azurite" --inMemoryPersistence --silent --skipApiVersionCheck --loose --disableTelemetry \
    --blobHost 127.0.0.1 --blobPort "$blob" --queueHost 127.0.0.1 --queuePort "$queue" \
    --tableHost 127.0.0.1 --tablePort "$table" >"${1:-/dev/null}" 2>&1 &
  CHILD_PIDS+=($!)
  wait_port "$blob"; wait_port "$queue"; wait_port "$table"
  AZURITE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:$blob/devstoreaccount1;QueueEndpoint=http://127.0.0.1:$queue/devstoreaccount1;TableEndpoint=http://127.0.0.1:$table/devstoreaccount1;"
  export AZURITE_CONNECTION_STRING
  log "Azurite: blob 127.0.0.1:$blob, queue 127.0.0.1:$queue, table 127.0.0.1:$table"
}
