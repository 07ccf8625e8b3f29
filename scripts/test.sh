#!/usr/bin/env bash
# Sets everything up and runs the whole test suite: installs what is missing (scripts/setup.sh),
# starts one Azurite on loopback for the run, builds, runs every test project, prints a summary
# line 'N passed, N failed, N skipped' and exits non-zero on any failure.
# Extra arguments go to 'dotnet test' (e.g. --filter "FullyQualifiedName~Simulator").
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
setup_tests=1 # also OpenSSH, for the Git-over-SSH tests
source "$REPO_ROOT/scripts/setup.sh"
cd "$REPO_ROOT"
trap stop_children EXIT

start_azurite
export FLEETFUNCTIONS_TEST_STORAGE="$AZURITE_CONNECTION_STRING"

log "building (Release)"
dotnet build FleetFunctions.sln -c Release --no-restore --verbosity quiet -nologo -clp:ErrorsOnly

results="$REPO_ROOT/artifacts/test-results"
rm -rf "$results"; mkdir -p "$results"
log "running tests"
status=0
dotnet test FleetFunctions.sln -c Release --no-build --nologo \
  --logger "trx" --logger "console;verbosity=normal" --results-directory "$results" \
  --blame-hang-timeout 10m "$@" || status=$?

passed=0; failed=0; skipped=0
for trx in "$results"/*.trx; do
  [ -e "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters"); passed=$((passed + ${p:-0}))
  f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters"); failed=$((failed + ${f:-0}))
  e=$(sed -n 's/.* error="\([0-9]*\)".*/\1/p' <<<"$counters"); failed=$((failed + ${e:-0}))
  t=$(sed -n 's/.* total="\([0-9]*\)".*/\1/p' <<<"$counters")
  x=$(sed -n 's/.* executed="\([0-9]*\)".*/\1/p' <<<"$counters"); skipped=$((skipped + ${t:-0} - ${x:-0}))
done
# Name every failed test with the head of its message last, where a CI log's tail shows it.
if [ "$failed" -ne 0 ]; then
  node -e '
    const fs = require("fs");
    for (const file of process.argv.slice(1)) {
      const trx = fs.readFileSync(file, "utf8");
      for (const m of trx.matchAll(/<UnitTestResult [^>]*testName="([^"]*)"[^>]*outcome="(?:Failed|Error)"[^>]*>([\s\S]*?)<\/UnitTestResult>/g)) {
        const message = (/<Message>([\s\S]*?)<\/Message>/.exec(m[2]) || [, ""])[1].split("\n").slice(0, 6).join("\n      ");
        const text = s => s.replace(/&(lt|gt|quot|apos|amp);/g, (_, e) => ({lt: "<", gt: ">", quot: "\"", apos: "'\''", amp: "&"})[e]);
        console.log(text(`FAILED ${m[1]}\n      ${message}`));
      }
    }' "$results"/*.trx || true
fi
echo "$passed passed, $failed failed, $skipped skipped"
if [ "$status" -ne 0 ] || [ "$failed" -ne 0 ]; then exit 1; fi
[ "$passed" -gt 0 ] || die "no test ran"
