#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Runs the whole test suite from a clean clone: installs missing Debian packages, starts PostgreSQL 15, ZooKeeper and
# (if needed) dockerd on 127.0.0.1 in a temporary directory, builds, runs `swift test`, and always tears down what it
# started. Extra arguments go to `swift test`, e.g. `scripts/test.sh --filter RegattaZooKeeperTests`.
# Unit-test targets run in parallel; the integration suites run one at a time (--no-parallel): they start many real
# processes, and on a 2-core machine running them together starves the timing-sensitive ones.
#
# Environment exported to the tests:
#   REGATTA_TEST_PG_URL        postgres://postgres@127.0.0.1:PORT/postgres
#   REGATTA_TEST_ZK            127.0.0.1:PORT
#   REGATTA_TEST_DOCKER        1 when a Docker daemon answers on /var/run/docker.sock (unset otherwise)
#   REGATTA_TEST_DOCKER_IMAGE  regatta-test/busybox:latest (busybox-static and its applets, built with docker import)
#
# Time limits (CI stops everything at 90 minutes; these leave room to tear down and report first):
#   REGATTA_BUILD_TIMEOUT      seconds for `swift build --build-tests` (default 2700)
#   REGATTA_TEST_TIMEOUT       seconds for `swift test` (default 1800)
#   REGATTA_FUZZ_SECONDS       seconds per libFuzzer target in the fuzz smoke after the tests (default 5; 0 skips)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

say() { printf 'test.sh: %s\n' "$*" >&2; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

SERVICES_DIR=""
CHILD=""

teardown() {
    local status=$?
    trap - EXIT INT TERM
    if [ -n "$CHILD" ]; then
        kill -TERM "$CHILD" 2>/dev/null || true
        wait "$CHILD" 2>/dev/null || true
    fi
    if [ -n "$SERVICES_DIR" ]; then
        local started
        started=$(now)
        "$ROOT/scripts/services.sh" stop --dir "$SERVICES_DIR" || say "teardown of $SERVICES_DIR reported an error"
        say "services stopped ($(since "$started")s)"
    fi
    exit "$status"
}
trap teardown EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Runs a command in the background and waits for it, so INT/TERM are handled at once (bash defers traps while a
# foreground child runs) and the child is stopped by the teardown.
run() {
    "$@" &
    CHILD=$!
    local status=0
    wait "$CHILD" || status=$?
    CHILD=""
    return "$status"
}

TOTAL_STARTED=$(now)

# 1. Packages (a prepared machine spends only the dpkg checks here).
STARTED=$(now)
"$ROOT/scripts/services.sh" install
INSTALL_SECONDS=$(since "$STARTED")

# 2. Services.
SERVICES_DIR=$(mktemp -d /tmp/regatta-test.XXXXXX)
STARTED=$(now)
ENVIRONMENT=$("$ROOT/scripts/services.sh" start --dir "$SERVICES_DIR")
eval "$ENVIRONMENT"
SETUP_SECONDS=$(since "$STARTED")
if [ "${REGATTA_TEST_DOCKER:-}" = 1 ]; then DOCKER_STATE="docker enabled"; else DOCKER_STATE="DOCKER DISABLED"; fi
say "services up in ${SETUP_SECONDS}s ($DOCKER_STATE)"

# 3. Build, then test.
STARTED=$(now)
BUILD_STATUS=0
run timeout --signal=TERM --kill-after=30 "${REGATTA_BUILD_TIMEOUT:-2700}" swift build --build-tests || BUILD_STATUS=$?
if [ "$BUILD_STATUS" -ne 0 ]; then
    if [ "$BUILD_STATUS" -eq 124 ]; then WHY="timed out after ${REGATTA_BUILD_TIMEOUT:-2700}s"; else WHY=failed; fi
    say "FAILED: swift build --build-tests $WHY (packages ${INSTALL_SECONDS}s, services ${SETUP_SECONDS}s," \
        "build $(since "$STARTED")s)"
    exit 1
fi
BUILD_SECONDS=$(since "$STARTED")

# Unit tests (no services, no real time) run in parallel; the suites that start real processes, services or
# containers, or still run on real time, run one at a time after them. A new test target is a unit target unless it
# is added to INTEGRATION. Arguments given to this script replace both phases with one serial run.
# The named unit suites still wait on real time (live loopback servers, deadlines of a few hundred milliseconds) and
# would be starved by the CPU-bound simulations running beside them, so they run in the serial phase too.
INTEGRATION='^(RegattaAgentTests|RegattaStoreTests|RegattaZooKeeperTests|RegattaSimulatorTests|IntegrationTests|RegattaHTTPTests)\.'
INTEGRATION+='|HealthCheckServiceTests|NetworkHealthCheckerTests|MasterLeadershipTests|StateDocumentRendererTests'
INTEGRATION+='|AgentRegistryTests|MasterConnectionCallTests|MasterConnectionRedirectTests|MasterCallQueueTests'
INTEGRATION+='|MarathonAppsViewTests|MarathonRoutesTests|SchedulerAuthLiveTests'
STARTED=$(now)
STATUS=0
UNIT_SECONDS=0
if [ "$#" -gt 0 ]; then
    run timeout --signal=TERM --kill-after=30 "${REGATTA_TEST_TIMEOUT:-1800}" swift test --skip-build --no-parallel "$@" || STATUS=$?
else
    run timeout --signal=TERM --kill-after=30 600 swift test --skip-build --parallel --skip "$INTEGRATION" || STATUS=$?
    UNIT_SECONDS=$(since "$STARTED")
    say "unit tests (parallel) took ${UNIT_SECONDS}s, exit $STATUS"
    INTEGRATION_STATUS=0
    run timeout --signal=TERM --kill-after=30 "${REGATTA_TEST_TIMEOUT:-1800}" swift test --skip-build --no-parallel \
        --filter "$INTEGRATION" || INTEGRATION_STATUS=$?
    if [ "$STATUS" -eq 0 ]; then STATUS=$INTEGRATION_STATUS; fi
fi
TEST_SECONDS=$(since "$STARTED")

# 4. Fuzz smoke: every libFuzzer harness in Fuzz/ for a few seconds (a crash, or a finding not in
#    Fuzz/Crashes/allow, fails the run). REGATTA_FUZZ_SECONDS=0 skips it.
FUZZ_STATUS=0
FUZZ_SECONDS_EACH=${REGATTA_FUZZ_SECONDS:-5}
STARTED=$(now)
if [ "$FUZZ_SECONDS_EACH" -gt 0 ]; then
    run timeout --signal=TERM --kill-after=30 900 "$ROOT/scripts/fuzz.sh" all "$FUZZ_SECONDS_EACH" || FUZZ_STATUS=$?
fi
FUZZ_TIME=$(since "$STARTED")
if [ "$STATUS" -eq 0 ] && [ "$FUZZ_STATUS" -ne 0 ]; then
    say "fuzz smoke FAILED (exit $FUZZ_STATUS); see the summary above and .build/fuzz/crashes/"
    STATUS=$FUZZ_STATUS
fi

if [ "$STATUS" -eq 0 ]; then
    RESULT=PASSED
elif [ "$STATUS" -eq 124 ]; then
    RESULT="FAILED (swift test timed out after ${REGATTA_TEST_TIMEOUT:-1800}s)"
else
    RESULT="FAILED (swift test exit $STATUS)"
fi
say "$RESULT in $(since "$TOTAL_STARTED")s: packages ${INSTALL_SECONDS}s, services ${SETUP_SECONDS}s," \
    "build ${BUILD_SECONDS}s, tests ${TEST_SECONDS}s (unit ${UNIT_SECONDS}s), fuzz smoke ${FUZZ_TIME}s; $DOCKER_STATE"
exit "$STATUS"
