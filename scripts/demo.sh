#!/usr/bin/env bash
# The FleetFunctions demo, in one command. It starts Azurite, a simulated fleet of 6 Kubernetes clusters in
# 3 regions (eu, us, asia; one canary each), Prometheus scraping the clusters' request metrics, and the app
# standalone; creates the example platform and app repositories as local Git repositories under .run/;
# then rolls out three pushes, each announced by a signed GitHub webhook and shown live:
#   1. the initial commit (podinfo 6.7.1 everywhere, its API token a SealedSecret that each cluster receives sealed
#      for its own sealed-secrets key),
#   2. a new image tag (6.7.2): canaries, Prometheus analysis, then region by region,
#   3. a bad image (6.7.3-bad, 50% errors): the canary analysis fails and the canaries are rolled back.
# Ctrl-C stops everything.
#
#   scripts/demo.sh             the whole demo; afterwards the servers keep running until Ctrl-C
#   scripts/demo.sh --servers   only start the servers and repositories, print how to reach them, and wait
#   DEMO_EXIT=1 scripts/demo.sh exit after the third rollout (non-interactive runs); the exit code says
#                               whether every rollout ended as expected
#   DEMO_RUN_DIR=/tmp/x         where repositories, logs and Prometheus data go (default .run/)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

servers_only=${DEMO_SERVERS_ONLY:-0}
for arg in "$@"; do
  case "$arg" in
    --servers) servers_only=1 ;;
    -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) die "unknown argument '$arg' (see scripts/demo.sh --help)" ;;
  esac
done

source "$REPO_ROOT/scripts/setup.sh"
cd "$REPO_ROOT"
command -v curl >/dev/null && command -v openssl >/dev/null || die "curl and openssl are needed to send the signed webhooks: install them and re-run."
trap 'log "stopping"; stop_children' EXIT
trap 'exit 130' INT TERM

run_dir="${DEMO_RUN_DIR:-$REPO_ROOT/.run}"
mkdir -p "$run_dir"
run_dir=$(cd "$run_dir" && pwd)
rm -rf "$run_dir/git" "$run_dir/work" "$run_dir/secrets" "$run_dir/prometheus" "$run_dir/cache" "$run_dir/sealing"
mkdir -p "$run_dir/git" "$run_dir/work" "$run_dir/secrets" "$run_dir/prometheus" "$run_dir/sealing"

log "building the app and the simulator (Release)"
for project in src/Functions src/Simulator; do
  dotnet build "$project" -c Release --no-restore -nologo >"$run_dir/build.log" 2>&1 \
    || { grep -E 'error|warning' "$run_dir/build.log" | sort -u >&2; die "the build of $project failed (full log: $run_dir/build.log)"; }
done
fleetfunctions=(dotnet "$REPO_ROOT/src/Functions/bin/Release/net10.0/fleetfunctions.dll")

# Reads JSON on stdin and prints the value at a path such as .rollouts[0].instanceId (nothing when absent).
json() {
  node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{let v;try{v=JSON.parse(s)}catch{}
    for(const k of process.argv[1].match(/[^.[\]]+/g)??[])v=v==null?undefined:v[k];
    console.log(v==null?"":typeof v==="string"?v:JSON.stringify(v));});' "$1"
}

# --- servers ------------------------------------------------------------------------------------------------
start_azurite "$run_dir/azurite.log"

clusters=(eu-1 eu-2 us-1 us-2 asia-1 asia-2)
admin_port=$(free_port)
dotnet "src/Simulator/bin/Release/net10.0/fleet-simulator.dll" --clusters 0 --admin-port "$admin_port" \
  >"$run_dir/simulator.log" 2>&1 &
CHILD_PIDS+=($!)
wait_port "$admin_port"
admin="http://127.0.0.1:$admin_port"
for name in "${clusters[@]}"; do
  curl -sSf -X POST "$admin/clusters" -H 'Content-Type: application/json' -d "{\"name\":\"$name\"}" >/dev/null
done
cluster_list=$(curl -sSf "$admin/clusters")
cluster_field() { node -e 'const c=JSON.parse(process.argv[1]).find(c=>c.name===process.argv[2]);console.log(c?.[process.argv[3]]??"")' "$cluster_list" "$1" "$2"; }
server_of() { cluster_field "$1" server; }
metrics_of() { cluster_field "$1" metrics; }

# kubeconfig: one context per cluster, as a real fleet's would be.
kubeconfig="$run_dir/kubeconfig"
{
  echo "apiVersion: v1"; echo "kind: Config"; echo "current-context: ${clusters[0]}"
  echo "clusters:"; for n in "${clusters[@]}"; do echo "- name: $n"; echo "  cluster: {server: \"$(server_of "$n")\"}"; done
  echo "users:"; for n in "${clusters[@]}"; do echo "- name: $n"; echo "  user: {token: demo-token-$n}"; done
  echo "contexts:"; for n in "${clusters[@]}"; do echo "- name: $n"; echo "  context: {cluster: $n, user: $n, namespace: default}"; done
} >"$kubeconfig"
log "simulated fleet: ${clusters[*]} (admin $admin)"

# Sealed secrets. FleetFunctions' own sealing key goes into its secrets folder (the default secret name 'sealing-key'):
# SealedSecrets in Git are sealed for its certificate. Each cluster runs a sealed-secrets controller with a key of its
# own: here its CRD is applied and its key pair made with openssl (a real controller makes the key; kubeseal
# --fetch-cert reads the certificate), and FleetFunctions re-seals every SealedSecret for that cluster's certificate.
"${fleetfunctions[@]}" sealing-key new --out "$run_dir/secrets/sealing-key" 2>/dev/null &
sealing_key_job=$!
for n in "${clusters[@]}"; do
  "$FLEETFUNCTIONS_KUBECTL" --kubeconfig "$kubeconfig" --context "$n" apply --server-side -f examples/addons/sealed-secrets/crd.yaml >/dev/null
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$run_dir/sealing/$n.key" -out "$run_dir/sealing/$n.crt" \
    -subj "/CN=sealed-secrets-$n" -days 365 2>/dev/null
done
wait "$sealing_key_job" || die "fleetfunctions sealing-key new failed"
"${fleetfunctions[@]}" sealing-key cert "$run_dir/secrets/sealing-key" >"$run_dir/sealing/fleetfunctions.crt"

prometheus_port=$(free_port)
{
  printf '['; sep=""
  for n in "${clusters[@]}"; do
    m=$(metrics_of "$n"); hostport=${m#http://}; hostport=${hostport%%/*}
    printf '%s{"targets":["%s"]}' "$sep" "$hostport"; sep=","
  done
  printf ']\n'
} >"$run_dir/prometheus/targets.json"
cat >"$run_dir/prometheus/prometheus.yml" <<YAML
global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: fleet
    file_sd_configs: [{files: ['$run_dir/prometheus/targets.json'], refresh_interval: 1s}]
YAML
prometheus --config.file="$run_dir/prometheus/prometheus.yml" --storage.tsdb.path="$run_dir/prometheus/data" \
  --web.listen-address="127.0.0.1:$prometheus_port" --log.level=warn >"$run_dir/prometheus.log" 2>&1 &
CHILD_PIDS+=($!)
wait_port "$prometheus_port"
prometheus_url="http://127.0.0.1:$prometheus_port"
log "Prometheus: $prometheus_url (scraping every 1s)"

# --- repositories ---------------------------------------------------------------------------------------------
git_() { git -c user.name="FleetFunctions demo" -c user.email=demo@fleetfunctions.invalid -c init.defaultBranch=main "$@"; }
apps_repo="$run_dir/git/apps.git"
platform_repo="$run_dir/git/platform.git"
git_ init -q --bare "$apps_repo"
git_ init -q --bare "$platform_repo"

git_ clone -q "$platform_repo" "$run_dir/work/platform" 2>/dev/null
cp -R examples/platform/. "$run_dir/work/platform/"
sed -i "s#url: https://git.example.com/demo/apps.git#url: $apps_repo#" "$run_dir/work/platform/sources.yaml"
for n in "${clusters[@]}"; do
  # The cluster's API server, and its sealed-secrets controller's certificate as spec.sealingCertificate.
  awk -v server="server: https://$n.k8s.example.com" -v url="server: $(server_of "$n")" -v cert="$run_dir/sealing/$n.crt" '
    index($0, server) { sub(server, url); print; print "  sealingCertificate: |"; while ((getline line < cert) > 0) print "    " line; next }
    { print }' "$run_dir/work/platform/clusters.yaml" >"$run_dir/work/platform/clusters.yaml.new"
  mv "$run_dir/work/platform/clusters.yaml.new" "$run_dir/work/platform/clusters.yaml"
  printf 'demo-token-%s' "$n" >"$run_dir/secrets/$n-token"
done
git_ -C "$run_dir/work/platform" add -A
git_ -C "$run_dir/work/platform" commit -q -m "Platform: 6 clusters in 3 regions with their sealing certificates, the podinfo fleet (canary, then region by region)"
git_ -C "$run_dir/work/platform" push -q origin main

git_ clone -q "$apps_repo" "$run_dir/work/apps" 2>/dev/null
cp -R examples/apps/. "$run_dir/work/apps/"
# podinfo's API token: the Secret stays out of Git; what is committed is sealed for FleetFunctions' certificate.
podinfo_token=$(openssl rand -hex 16)
printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: podinfo-auth\n  namespace: podinfo\nstringData:\n  token: %s\n' "$podinfo_token" >"$run_dir/sealing/podinfo-auth.yaml"
"${fleetfunctions[@]}" seal --cert "$run_dir/sealing/fleetfunctions.crt" --out "$run_dir/work/apps/podinfo/base/sealed-secret.yaml" \
  "$run_dir/sealing/podinfo-auth.yaml" 2>/dev/null || die "fleetfunctions seal failed"
sed -i 's#^  - widget.yaml$#  - widget.yaml\n  - sealed-secret.yaml#' "$run_dir/work/apps/podinfo/base/kustomization.yaml"
git_ -C "$run_dir/work/apps" add -A
git_ -C "$run_dir/work/apps" commit -q -m "podinfo 6.7.1 (its token as a SealedSecret) and hello"
git_ -C "$run_dir/work/apps" push -q origin main
log "repositories: platform $platform_repo, apps $apps_repo (work trees under $run_dir/work)"

webhook_secret=$(openssl rand -hex 20)
printf '%s' "$webhook_secret" >"$run_dir/secrets/apps-webhook"
api_key=$(openssl rand -hex 16)

# --- the app --------------------------------------------------------------------------------------------------
for attempt in 1 2 3; do
  app_port=$(free_port)
  app_url="http://127.0.0.1:$app_port"
  FLEETFUNCTIONS_Storage="$AZURITE_CONNECTION_STRING" \
  FLEETFUNCTIONS_PlatformRepository="$platform_repo" \
  FLEETFUNCTIONS_PrometheusUrl="$prometheus_url" \
  FLEETFUNCTIONS_SecretsDirectory="$run_dir/secrets" \
  FLEETFUNCTIONS_CacheDirectory="$run_dir/cache" \
  FLEETFUNCTIONS_Urls="$app_url" \
  FLEETFUNCTIONS_ApiKey="$api_key" \
    "${fleetfunctions[@]}" serve >"$run_dir/app.log" 2>&1 &
  app_pid=$!
  CHILD_PIDS+=("$app_pid")
  wait_app "$app_pid" "$app_url" 120 && break
  [ "$attempt" -lt 3 ] || die "the app exited before answering on $app_url; see $run_dir/app.log"
  log "the app exited before answering on $app_url (port taken meanwhile?); trying another port"
done
export FLEETFUNCTIONS_URL="$app_url" FLEETFUNCTIONS_ApiKey="$api_key" KUBECONFIG="$kubeconfig"
log "app: $app_url (log $run_dir/app.log)"

print_servers() {
  cat <<MSG

FleetFunctions demo servers:
  app (standalone):        $app_url   API key: $api_key
  Azure Storage (Azurite): $AZURITE_CONNECTION_STRING
  Prometheus:              $prometheus_url
  simulator admin API:     $admin/clusters
  kubeconfig:              $kubeconfig   (contexts ${clusters[*]})
  platform repository:     $platform_repo  (work tree $run_dir/work/platform)
  apps repository:         $apps_repo  (work tree $run_dir/work/apps)
  webhook secret:          $run_dir/secrets/apps-webhook

Try:
  export KUBECONFIG=$kubeconfig FLEETFUNCTIONS_URL=$app_url FLEETFUNCTIONS_ApiKey=$api_key
  curl -s -H "x-api-key: $api_key" $app_url/api/fleets/podinfo
  curl -s -H "x-api-key: $api_key" $app_url/api/rollouts
  $FLEETFUNCTIONS_KUBECTL --context us-2 -n podinfo get deployments,configmaps,widgets
  dotnet src/Functions/bin/Release/net10.0/fleetfunctions.dll rollout list --fleet podinfo
  dotnet src/Functions/bin/Release/net10.0/fleetfunctions.dll rollout watch podinfo-<commit>
  (push_webhook in scripts/demo.sh shows how to sign and send a push webhook)
MSG
}

if [ "$servers_only" = 1 ]; then
  print_servers
  echo; echo "Press Ctrl-C to stop."
  wait "${CHILD_PIDS[@]}"
  exit 0
fi

# --- the rollouts ---------------------------------------------------------------------------------------------
# Sends GitHub's push webhook for main moving from $1 to $2, signed with the webhook secret
# (X-Hub-Signature-256: HMAC-SHA256 of the body), and prints the rollout's status URL from the answer.
push_webhook() {
  local before=$1 after=$2 body signature answer url
  body=$(printf '{"ref":"refs/heads/main","before":"%s","after":"%s","repository":{"full_name":"demo/apps","clone_url":"%s"},"pusher":{"name":"demo"},"head_commit":{"id":"%s","message":"%s"}}' \
    "$before" "$after" "$apps_repo" "$after" "$(git -C "$run_dir/work/apps" log -1 --format=%s "$after")")
  signature=$(printf '%s' "$body" | openssl dgst -sha256 -hmac "$webhook_secret" -r | cut -d' ' -f1)
  answer=$(curl -sS -X POST "$app_url/api/webhooks/github" -H 'Content-Type: application/json' \
    -H 'X-GitHub-Event: push' -H "X-GitHub-Delivery: $(node -e 'console.log(crypto.randomUUID())')" \
    -H "X-Hub-Signature-256: sha256=$signature" --data-binary "$body" -w '\n%{http_code}')
  printf '   webhook answered %s: %s\n' "${answer##*$'\n'}" "$(json '.message' <<<"${answer%$'\n'*}")" >&2
  url=$(json '.rollouts[0].statusQueryGetUri' <<<"${answer%$'\n'*}")
  [ -n "$url" ] || die "the webhook started no rollout: ${answer}"
  echo "$url"
}

# Commits the podinfo image tag $1 in the apps work tree and pushes it; prints the new commit.
push_image() {
  sed -i "s#image: ghcr.io/stefanprodan/podinfo:.*#image: ghcr.io/stefanprodan/podinfo:$1#" "$run_dir/work/apps/podinfo/base/deployment.yaml"
  git_ -C "$run_dir/work/apps" commit -q -am "podinfo $1"
  git_ -C "$run_dir/work/apps" push -q origin main
  git -C "$run_dir/work/apps" rev-parse HEAD
}

images() {
  local n line=""
  for n in "${clusters[@]}"; do
    line+="$n=$("$FLEETFUNCTIONS_KUBECTL" --context "$n" -n podinfo get deployment podinfo -o jsonpath='{.spec.template.spec.containers[0].image}' 2>/dev/null | sed 's#.*:##')  "
  done
  echo "   podinfo image tags: ${line%  }"
}

# Prints the value of a SealedSecret sealed for the key in file $1 (namespace $2, name $3, strict scope, base64 $4),
# unsealed with Node's crypto (OpenSSL): RSA-OAEP-SHA256 with the label "namespace/name", then AES-256-GCM.
unseal_with() {
  node -e 'const [key, ns, name, b64] = process.argv.slice(1), crypto = require("crypto"), v = Buffer.from(b64, "base64");
    const n = v.readUInt16BE(0), body = v.subarray(2 + n);
    const session = crypto.privateDecrypt({ key: require("fs").readFileSync(key), padding: crypto.constants.RSA_PKCS1_OAEP_PADDING,
      oaepHash: "sha256", oaepLabel: Buffer.from(ns + "/" + name) }, v.subarray(2, 2 + n));
    const d = crypto.createDecipheriv("aes-256-gcm", session, Buffer.alloc(12)); d.setAuthTag(body.subarray(body.length - 16));
    process.stdout.write(Buffer.concat([d.update(body.subarray(0, body.length - 16)), d.final()]));' "$@" 2>/dev/null
}

# Each cluster holds podinfo-auth sealed for its own certificate: different bytes, opened by that cluster's key only.
sealed_secrets() {
  local n value previous="" line="" opened=0 distinct=1
  for n in "${clusters[@]}"; do
    value=$("$FLEETFUNCTIONS_KUBECTL" --context "$n" -n podinfo get sealedsecret podinfo-auth -o jsonpath='{.spec.encryptedData.token}' 2>/dev/null)
    [ "$(unseal_with "$run_dir/sealing/$n.key" podinfo podinfo-auth "$value")" = "$podinfo_token" ] && opened=$((opened + 1))
    [ "$value" != "$previous" ] || distinct=0
    previous=$value
    line+="$n=${value:0:10}…  "
  done
  echo "   SealedSecret podinfo/podinfo-auth (token): ${line%  }"
  if [ "$opened" -eq "${#clusters[@]}" ] && [ "$distinct" = 1 ] && [ -z "$(unseal_with "$run_dir/sealing/${clusters[1]}.key" podinfo podinfo-auth "$value")" ]; then
    echo "   each cluster's copy is sealed for its own controller's key and opens with it only (checked with Node's crypto)"
  else
    printf '\033[1;31m   the SealedSecret did not reach every cluster sealed for its own key (%s of %s opened); app log: %s\033[0m\n' "$opened" "${#clusters[@]}" "$run_dir/app.log"
    failures=$((failures + 1))
  fi
}

# Watches a rollout live; $2 is the phase it should end in. Returns non-zero when it ended otherwise.
watch_rollout() {
  local url=$1 expected=$2 rc=0 phase synced
  "${fleetfunctions[@]}" rollout watch "$url" --timeout 5m || rc=$?
  [ "$rc" -ne 130 ] || exit 130
  phase=$(curl -sS -H "x-api-key: $api_key" "$url" | json '.output.phase')
  images
  synced=$(curl -sS -H "x-api-key: $api_key" "$app_url/api/fleets/podinfo" | json '.syncedCommit')
  echo "   fleet podinfo is synced to ${synced:0:12} (GET /api/fleets/podinfo)"
  if [ "$phase" = "$expected" ]; then
    printf '\033[1;32m   as expected: %s\033[0m  (status: %s)\n\n' "$phase" "$url"
  else
    printf '\033[1;31m   expected %s, got %s (watch exit %s); app log: %s\033[0m\n\n' "$expected" "$phase" "$rc" "$run_dir/app.log"
    failures=$((failures + 1))
  fi
}

failures=0
zero=0000000000000000000000000000000000000000
started=$SECONDS

first=$(git -C "$run_dir/work/apps" rev-parse HEAD)
log "1/3 initial commit ${first:0:12} (podinfo 6.7.1): a signed push webhook starts the first rollout"
watch_rollout "$(push_webhook "$zero" "$first")" Succeeded
sealed_secrets
echo

second=$(push_image 6.7.2)
log "2/3 push ${second:0:12} (podinfo 6.7.2): canaries eu-1, us-1, asia-1 first, judged by Prometheus, then region by region"
watch_rollout "$(push_webhook "$first" "$second")" Succeeded

third=$(push_image 6.7.3-bad)
log "3/3 push ${third:0:12} (podinfo 6.7.3-bad fails half its requests): the canary analysis fails and rolls back"
watch_rollout "$(push_webhook "$second" "$third")" RolledBack

log "demo finished in $((SECONDS - started))s with $failures unexpected outcome(s)"
if [ "${DEMO_EXIT:-0}" = 1 ]; then
  [ "$failures" -eq 0 ] || { tail -n 40 "$run_dir/app.log" >&2; exit 1; }
  exit 0
fi
print_servers
echo; echo "The servers keep running: push more commits in $run_dir/work/apps. Press Ctrl-C to stop."
wait "${CHILD_PIDS[@]}"
