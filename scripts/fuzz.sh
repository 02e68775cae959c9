#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Builds the libFuzzer harnesses in Fuzz/ and runs them.
#
#   scripts/fuzz.sh [TARGET|all] [SECONDS]     targets: codec recordio parsers sandbox app master (default: all 60)
#
# One binary (.build/fuzz/regatta-fuzz-O or -Onone) holds every target; REGATTA_FUZZ_TARGET selects one. It is built with swiftc
# directly (no SwiftPM change): RegattaCore plus the few pure master, agent and scheduler files the harnesses need,
# compiled as one module, with -sanitize=fuzzer,address. The build is reused while its sources and flags are
# unchanged. Each target's corpus lives in .build/fuzz/corpus/TARGET, seeded from Fuzz/Seeds/TARGET; crashes are
# written to .build/fuzz/crashes/TARGET/ and make the script exit non-zero.
#
# Environment:
#   REGATTA_FUZZ_ALLOW  known findings to tolerate (default: the ids in Fuzz/Crashes/allow; "" for none)
#   FUZZ_OPT            -O for runs of 60 s or more, -Onone for shorter ones (default; that build is much faster)
#   FUZZ_SANITIZERS     default fuzzer,address
#   FUZZ_RSS_MB         libFuzzer's -rss_limit_mb, default 2048
#   FUZZ_ARGS           extra libFuzzer flags
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=.build/fuzz
ALL_TARGETS=(codec recordio parsers sandbox app master)
TARGET=${1:-all}
SECONDS_EACH=${2:-60}
# Short runs (CI smoke) build without optimization: a -O build with the sanitizers takes minutes, -Onone a fraction.
if ((${2:-60} >= 60)); then DEFAULT_OPT=-O; else DEFAULT_OPT=-Onone; fi
OPT=${FUZZ_OPT:-$DEFAULT_OPT}
SANITIZERS=${FUZZ_SANITIZERS:-fuzzer,address}
RSS_MB=${FUZZ_RSS_MB:-2048}
# Findings reported and not fixed yet (Fuzz/Crashes/allow) are tolerated so that CI still catches new ones.
export REGATTA_FUZZ_ALLOW=${REGATTA_FUZZ_ALLOW-$( (grep -v -e '^#' -e '^$' Fuzz/Crashes/allow 2>/dev/null || true) | paste -sd, -)}

if [[ $TARGET == all ]]; then
    TARGETS=("${ALL_TARGETS[@]}")
elif [[ " ${ALL_TARGETS[*]} " == *" $TARGET "* ]]; then
    TARGETS=("$TARGET")
else
    echo "usage: scripts/fuzz.sh [${ALL_TARGETS[*]// /|}|all] [SECONDS]" >&2
    exit 2
fi
if ! [[ $SECONDS_EACH =~ ^[0-9]+$ ]] || ((SECONDS_EACH < 1)); then
    echo "SECONDS must be a positive number of seconds, not '$SECONDS_EACH'" >&2
    exit 2
fi

max_len() {
    case $1 in
        codec | app) echo 4096 ;;
        recordio) echo 1024 ;;
        *) echo 512 ;;
    esac
}

# The sources: RegattaCore, and the pure files of the other modules (none imports Hummingbird or NIO; the names they
# take from RegattaHTTP have stand-ins in Fuzz/StandIns, and their `import RegattaHTTP`/`import RegattaModel` is dropped
# below; RegattaModel's files are compiled in).
SOURCES=(
    $(find Sources/RegattaCore -name '*.swift' | sort)
    Sources/RegattaMaster/State/*.swift
    Sources/RegattaMaster/Allocation/*.swift
    Sources/RegattaMaster/MasterError.swift
    Sources/RegattaMaster/MasterConfiguration.swift
    Sources/RegattaMaster/Security/*.swift
    Sources/RegattaMaster/HA/AgentRegistryEntry.swift
    Sources/RegattaAgent/HTTP/SandboxFiles.swift
    Sources/RegattaAgent/Tasks/SandboxLayout.swift
    Sources/RegattaScheduler/App/*.swift
    Sources/RegattaScheduler/Placement/*.swift
    Sources/RegattaModel/*.swift
    Fuzz/*.swift
    Fuzz/StandIns/*.swift
)
FLAGS=(-sanitize="$SANITIZERS" -parse-as-library "$OPT" -g -wmo -num-threads 2 -module-name RegattaCore -suppress-warnings)

BINARY=$OUT/regatta-fuzz${OPT}
mkdir -p "$OUT"
STAMP=$( (printf '%s\n' "${FLAGS[@]}"; cat "${SOURCES[@]}") | sha256sum | cut -c1-16)
BUILD_START=$(date +%s)
if [[ -x $BINARY && -f $BINARY.stamp && $(cat "$BINARY.stamp") == "$STAMP" ]]; then
    echo "fuzz: build up to date ($BINARY)"
else
    echo "fuzz: building $BINARY (${#SOURCES[@]} files, ${FLAGS[*]})"
    rm -f "$BINARY.stamp"
    # ld.gold warns about every ASan helper symbol; only the errors matter.
    # Everything is one module, so `import RegattaCore` is a no-op; `import RegattaHTTP` would not resolve.
    rm -rf "$OUT/src"
    COMPILED=()
    for source in "${SOURCES[@]}"; do
        if grep -qE '^(public )?import (RegattaHTTP|RegattaModel)$' "$source"; then
            mkdir -p "$OUT/src/$(dirname "$source")"
            sed -E '/^(public )?import (RegattaHTTP|RegattaModel)$/d' "$source" >"$OUT/src/$source"
            COMPILED+=("$ROOT/$OUT/src/$source")
        else
            COMPILED+=("$ROOT/$source")
        fi
    done
    if ! (cd "$OUT" && swiftc "${FLAGS[@]}" "${COMPILED[@]}" -o "$ROOT/$BINARY" 2>&1) \
        | { grep -v -e 'Cannot export local symbol' -e '^$' || true; }; then
        echo "fuzz: build failed" >&2
        exit 1
    fi
    echo "$STAMP" >"$BINARY.stamp"
fi
echo "fuzz: build took $(($(date +%s) - BUILD_START)) s${REGATTA_FUZZ_ALLOW:+; tolerating known findings: $REGATTA_FUZZ_ALLOW}"

FAILED=0
SUMMARY=()
for target in "${TARGETS[@]}"; do
    corpus=$OUT/corpus/$target
    crashes=$OUT/crashes/$target
    log=$OUT/logs/$target.log
    mkdir -p "$corpus" "$crashes" "$OUT/logs"
    if [[ -d Fuzz/Seeds/$target ]]; then
        cp -n Fuzz/Seeds/$target/* "$corpus/" 2>/dev/null || true
    fi
    dict=()
    [[ -f Fuzz/Seeds/$target.dict ]] && dict=(-dict="Fuzz/Seeds/$target.dict")
    echo "fuzz: $target for ${SECONDS_EACH} s (corpus $corpus, log $log)"
    status=0
    # Swift's own crash backtracer fights ASan; libFuzzer prints the stack.
    REGATTA_FUZZ_TARGET=$target SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:handle_abort=1} "$BINARY" \
        -max_total_time="$SECONDS_EACH" -max_len="$(max_len "$target")" -rss_limit_mb="$RSS_MB" -timeout=20 \
        -detect_leaks=0 -print_final_stats=1 -artifact_prefix="$crashes/" "${dict[@]}" ${FUZZ_ARGS:-} \
        "$corpus" >"$log" 2>&1 || status=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    cov=$( (grep -o 'cov: [0-9]*' "$log" || true) | tail -1 | cut -d' ' -f2)
    features=$( (grep -o 'ft: [0-9]*' "$log" || true) | tail -1 | cut -d' ' -f2)
    units=$(find "$corpus" -type f | wc -l)
    artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
    if ((status != 0)) || [[ -n $artifact ]]; then
        FAILED=1
        SUMMARY+=("$(printf '%-9s CRASH  exit %s; reproducer: %s; log: %s' "$target" "$status" "${artifact:-none}" "$log")")
        { grep -E 'INVARIANT BROKEN|Fatal error|ERROR: (AddressSanitizer|libFuzzer)|SUMMARY' "$log" || true; } \
            | head -5 | cut -c1-400 | sed 's/^/    /'
    else
        SUMMARY+=("$(printf '%-9s ok     executions %s (%s/s), cov %s, ft %s, corpus %s units, crashes 0' \
            "$target" "${runs:-?}" "${speed:-?}" "${cov:-?}" "${features:-?}" "$units")")
    fi
done

echo
echo "fuzz: summary (${SECONDS_EACH} s per target)"
printf '  %s\n' "${SUMMARY[@]}"
if ((FAILED)); then
    echo "fuzz: a target crashed; reproduce with: REGATTA_FUZZ_TARGET=<target> $BINARY <reproducer>" >&2
    exit 1
fi
