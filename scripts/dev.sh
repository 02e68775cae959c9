#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Quick start: runs a one-machine Regatta (`regatta dev`: master, agent and scheduler in one process) and deploys the
# example app AppSpecs/hello.json (two `python3 -m http.server` instances).
#
#   scripts/dev.sh          install missing Debian packages, build, start `regatta dev` in the background, deploy
#                           hello, wait until its tasks run and answer, print the URLs
#   scripts/dev.sh stop     stop the `regatta dev` started here
#   scripts/dev.sh status   say whether it runs
#
# State: the work directory is ${REGATTA_WORK_DIR:-$PWD/.regatta}; the log and pid file are .regatta/dev.log and
# .regatta/dev.pid in the repository.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

STATE_DIR=$ROOT/.regatta
LOG=$STATE_DIR/dev.log
PIDFILE=$STATE_DIR/dev.pid
WORK_DIR=${REGATTA_WORK_DIR:-$PWD/.regatta}
SCHEDULER=http://127.0.0.1:8080
MASTER=http://127.0.0.1:5050
AGENT=http://127.0.0.1:5051
APP_SPEC=$ROOT/AppSpecs/hello.json
APP_ID=hello
STARTUP_TIMEOUT=120
TASKS_TIMEOUT=120

say() { printf 'dev.sh: %s\n' "$*"; }
die() {
    printf 'dev.sh: error: %s\n' "$*" >&2
    exit 1
}

running_pid() {
    [ -f "$PIDFILE" ] || return 1
    local pid
    pid=$(cat "$PIDFILE")
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

port_answers() { timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ "$1" 2>/dev/null; }

show_log_tail() {
    if [ -f "$LOG" ]; then
        printf -- '--- last 40 lines of %s ---\n' "$LOG" >&2
        tail -n 40 "$LOG" >&2
        printf -- '---\n' >&2
    fi
}

cmd_stop() {
    local pid
    if ! pid=$(running_pid); then
        rm -f "$PIDFILE"
        say "regatta dev is not running"
        return 0
    fi
    say "stopping regatta dev (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    local i
    for i in $(seq 1 120); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.25
    done
    if kill -0 "$pid" 2>/dev/null; then
        say "it did not stop within 30 s; killing it"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    # It was started as the leader of its own process group: stop anything of it that is left.
    kill -TERM -- "-$pid" 2>/dev/null || true
    rm -f "$PIDFILE"
    say "stopped"
}

cmd_status() {
    local pid
    if pid=$(running_pid); then
        say "regatta dev runs (pid $pid); scheduler $SCHEDULER, master $MASTER, agent $AGENT; log $LOG"
    else
        say "regatta dev is not running"
        return 1
    fi
}

# Prints "host:port" for every running task of the app, one per line.
running_task_endpoints() {
    curl -fs "$SCHEDULER/v2/apps/$APP_ID/tasks" 2>/dev/null | python3 -c '
import json, sys
try:
    tasks = json.load(sys.stdin).get("tasks", [])
except ValueError:
    sys.exit(0)
for task in tasks:
    running = task.get("state", "TASK_RUNNING") == "TASK_RUNNING" and task.get("startedAt")
    if running and task.get("ports"):
        print("%s:%s" % (task.get("host") or "127.0.0.1", task["ports"][0]))
' || true
}

cmd_start() {
    mkdir -p "$STATE_DIR" "$WORK_DIR"

    say "checking Debian packages"
    "$ROOT/scripts/services.sh" install

    say "building (swift build --product regatta)"
    swift build --product regatta
    local binary
    binary=$(swift build --show-bin-path)/regatta
    [ -x "$binary" ] || die "build did not produce $binary"

    local pid
    if pid=$(running_pid); then
        say "regatta dev already runs (pid $pid); 'scripts/dev.sh stop' restarts it from scratch"
    else
        local port
        for port in 8080 5050 5051; do
            if port_answers "$port"; then
                die "something already listens on 127.0.0.1:$port; stop it first (ss -ltnp 'sport = :$port' shows what)"
            fi
        done
        say "starting regatta dev --work_dir $WORK_DIR (log $LOG)"
        printf '\n=== %s: regatta dev --work_dir %s ===\n' "$(date -Is)" "$WORK_DIR" >>"$LOG"
        setsid "$binary" dev --work_dir "$WORK_DIR" </dev/null >>"$LOG" 2>&1 &
        pid=$!
        echo "$pid" >"$PIDFILE"
    fi

    # Wait for the scheduler's /ping.
    local deadline=$((SECONDS + STARTUP_TIMEOUT))
    until [ "$(curl -fs -m 2 "$SCHEDULER/ping" 2>/dev/null || true)" = pong ]; do
        if ! kill -0 "$pid" 2>/dev/null; then
            rm -f "$PIDFILE"
            show_log_tail
            die "regatta dev exited during startup (log above)"
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            show_log_tail
            die "the scheduler did not answer $SCHEDULER/ping within ${STARTUP_TIMEOUT}s (log above);" \
                "'scripts/dev.sh stop' stops it"
        fi
        sleep 0.5
    done
    say "scheduler answers pong"

    # Deploy the example app; 409 means it is already there (a restart keeps apps in the work directory).
    local body status
    body=$(mktemp)
    status=$(curl -s -o "$body" -w '%{http_code}' -X POST "$SCHEDULER/v2/apps" \
        -H 'Content-Type: application/json' -d @"$APP_SPEC" || true)
    case $status in
        200 | 201) say "posted $APP_SPEC" ;;
        409) say "app /$APP_ID already exists" ;;
        *)
            cat "$body" >&2
            echo >&2
            rm -f "$body"
            die "POST $SCHEDULER/v2/apps answered HTTP ${status:-(no answer)} (body above)"
            ;;
    esac
    rm -f "$body"

    # Wait until the instances run and answer on their ports.
    local wanted endpoints count answering endpoint
    wanted=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1])).get("instances", 1))' "$APP_SPEC")
    deadline=$((SECONDS + TASKS_TIMEOUT))
    while true; do
        endpoints=$(running_task_endpoints)
        count=$(printf '%s' "$endpoints" | grep -c . || true)
        answering=0
        for endpoint in $endpoints; do
            curl -fs -m 2 -o /dev/null "http://$endpoint/" && answering=$((answering + 1))
        done
        [ "$count" -ge "$wanted" ] && [ "$answering" -ge "$wanted" ] && break
        if ! kill -0 "$pid" 2>/dev/null; then
            rm -f "$PIDFILE"
            show_log_tail
            die "regatta dev exited while /$APP_ID was deploying (log above)"
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            curl -s "$SCHEDULER/v2/apps/$APP_ID/tasks" >&2 || true
            echo >&2
            curl -s "$SCHEDULER/v2/queue" >&2 || true
            echo >&2
            show_log_tail
            die "/$APP_ID has $count of $wanted tasks running ($answering answering) after ${TASKS_TIMEOUT}s"
        fi
        sleep 1
    done

    cat <<EOF

Regatta is running (pid $pid).
  scheduler (Marathon API)  $SCHEDULER        e.g. curl $SCHEDULER/v2/apps
  master    (Mesos API)     $MASTER        e.g. curl $MASTER/master/state
  agent                     $AGENT
  work directory            $WORK_DIR
  log                       $LOG

/$APP_ID runs $count instances; they answer on:
EOF
    for endpoint in $endpoints; do
        echo "  port ${endpoint##*:}: http://127.0.0.1:${endpoint##*:}/  (task on $endpoint)"
    done
    cat <<EOF

Stop it with: scripts/dev.sh stop
EOF
}

case ${1:-start} in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    -h | --help | help) sed -n '4,15p' "$0" | sed 's/^# \{0,1\}//' ;;
    *) die "unknown command '$1'; use start, stop or status" ;;
esac
