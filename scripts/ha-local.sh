#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Runs the highly available layout of deploy/ on one machine, on loopback ports, to try failover by hand:
# a 3-node ZooKeeper ensemble, 3 masters, 2 schedulers sharing a PostgreSQL database, and 2 agents.
# Each master and scheduler runs under a small restart loop (what systemd's Restart=always does in deploy/), so
# `kill -9` of a leader, or its exit after losing ZooKeeper (101) or leadership (103), brings it back as a follower.
# Every link is TLS by default: the script makes a local CA with openssl in $REGATTA_HA_DIR/tls and a certificate for
# 127.0.0.1/localhost that every daemon serves and presents; masters, agents and schedulers serve HTTPS only and
# verify each other with the CA (`curl --cacert $REGATTA_HA_DIR/tls/ca.crt https://127.0.0.1:8080/v2/info`). When the
# binary has the authentication flags (--credentials), it also writes credentials there and requires them.
#
#   scripts/ha-local.sh [start]     start everything (builds nothing: run `swift build` first); prints the URLs
#   scripts/ha-local.sh status      who leads, what runs
#   scripts/ha-local.sh stop        stop everything, including the tasks the agents started, and remove the directory
#
# Environment:
#   REGATTA_HA_DIR          state and logs (default /tmp/regatta-ha)
#   REGATTA_HA_PORT_OFFSET  added to every port below (default 0), to run next to something on the usual ports
#   REGATTA_BIN             the regatta binary (default .build/release/regatta, else .build/debug/regatta)
#   REGATTA_HA_SESSION_TIMEOUT  --zk_session_timeout for every process (default 10secs)
#   REGATTA_HA_TLS          1 (default): TLS on every link; 0: plain HTTP, as before
#
# Ports (before the offset): ZooKeeper clients 2181-2183 (quorum 2888-2890, election 3888-3890), masters 5050, 5060,
# 5070, agents 5051 and 5061, schedulers 8080 and 8081, PostgreSQL 5433.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIR=${REGATTA_HA_DIR:-/tmp/regatta-ha}
OFFSET=${REGATTA_HA_PORT_OFFSET:-0}
SESSION_TIMEOUT=${REGATTA_HA_SESSION_TIMEOUT:-10secs}

ZK_CLIENT=(2181 2182 2183)
ZK_QUORUM=(2888 2889 2890)
ZK_ELECTION=(3888 3889 3890)
MASTER_PORTS=(5050 5060 5070)
AGENT_PORTS=(5051 5061)
SCHEDULER_PORTS=(8080 8081)
PG_PORT=5433

say() { printf 'ha-local: %s\n' "$*" >&2; }
die() { printf 'ha-local: error: %s\n' "$*" >&2; exit 1; }
port() { echo $(($1 + OFFSET)); }

TLS=${REGATTA_HA_TLS:-1}
if [ "$TLS" = 1 ]; then SCHEME=https; else SCHEME=http; fi
# curl with the layout's CA (and client certificate), when TLS is on.
CURL_TLS=()
CURL_AUTH=()
[ "$TLS" = 1 ] && CURL_TLS=(--cacert "$DIR/tls/ca.crt")

# A CA, and one certificate for 127.0.0.1 and localhost that every daemon serves and presents as a client.
make_tls() {
    command -v openssl >/dev/null 2>&1 || die "openssl not found: apt-get install openssl (or REGATTA_HA_TLS=0)"
    local t=$DIR/tls
    mkdir -p "$t"
    chmod 700 "$t"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 -subj "/CN=regatta-ha CA" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -keyout "$t/ca.key" -out "$t/ca.crt" >"$DIR/logs/openssl.log" 2>&1 || die "openssl failed (see $DIR/logs/openssl.log)"
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=localhost" \
        -keyout "$t/node.key" -out "$t/node.csr" >>"$DIR/logs/openssl.log" 2>&1 || die "openssl failed"
    printf 'basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n' \
        >"$t/node.ext"
    openssl x509 -req -in "$t/node.csr" -CA "$t/ca.crt" -CAkey "$t/ca.key" -CAcreateserial -days 30 \
        -extfile "$t/node.ext" -out "$t/node.crt" >>"$DIR/logs/openssl.log" 2>&1 || die "openssl failed"
    chmod 600 "$t"/*.key
}

# The TLS flags every daemon gets (empty with REGATTA_HA_TLS=0).
tls_flags() {
    [ "$TLS" = 1 ] || return 0
    printf '%s\n' --tls_cert_file "$DIR/tls/node.crt" --tls_key_file "$DIR/tls/node.key" --tls_ca_file "$DIR/tls/ca.crt"
}

# Whether the binary knows `regatta ROLE --FLAG`.
has_flag() { "$(regatta_bin)" "$1" --help 2>&1 | grep -q -- "--$2 "; }

zk_hosts() {
    local hosts=() p
    for p in "${ZK_CLIENT[@]}"; do hosts+=("127.0.0.1:$(port "$p")"); done
    local IFS=,
    echo "${hosts[*]}"
}

regatta_bin() {
    if [ -n "${REGATTA_BIN:-}" ]; then echo "$REGATTA_BIN"; return; fi
    local candidate
    for candidate in "$ROOT/.build/release/regatta" "$ROOT/.build/debug/regatta"; do
        [ -x "$candidate" ] && { echo "$candidate"; return; }
    done
    die "no regatta binary: run 'swift build' (or 'swift build -c release') first, or set REGATTA_BIN"
}

postgres_bin() {
    local dir
    for dir in /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin; do
        [ -x "$dir/initdb" ] && { echo "$dir"; return 0; }
    done
    command -v initdb >/dev/null 2>&1 && { dirname "$(command -v initdb)"; return 0; }
    die "initdb not found: apt-get install postgresql"
}

as_postgres() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

zk_classpath() {
    local jars=(/usr/share/java/zookeeper.jar /usr/share/java/slf4j-log4j12.jar /usr/share/java/log4j-1.2.jar)
    local jar
    for jar in "${jars[@]}"; do
        [ -f "$jar" ] || { echo "/etc/zookeeper/conf:$(ls /usr/share/java/*.jar | tr '\n' :)"; return 0; }
    done
    local IFS=:
    echo "/etc/zookeeper/conf:${jars[*]}"
}

four_letter() {
    timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" && printf "%s" "$2" >&3 && cat <&3' _ "$1" "$2" 2>/dev/null || true
}

# Runs "$@" in its own session with output to $1.log; the pid (= process group) goes to $1.pid.
spawn() {
    local name=$1
    shift
    setsid "$@" </dev/null >>"$DIR/logs/$name.log" 2>&1 &
    echo $! >"$DIR/pids/$name.pid"
}

# Like spawn, but restarts the command 2 s after it exits (Restart=always, RestartSec=2 in deploy/systemd).
supervise() {
    local name=$1
    shift
    local quoted
    quoted=$(printf '%q ' "$@")
    # Exit 64 is a usage error (a bad flag): restarting cannot help (RestartPreventExitStatus=64 in deploy/systemd).
    spawn "$name" bash -c "while true; do $quoted; code=\$?; echo \"ha-local: $name exited with \$code\";
        [ \$code -eq 64 ] && exit 64; sleep 2; done"
}

wait_for() {
    local what=$1 tries=$2
    shift 2
    local i
    for i in $(seq 1 "$tries"); do
        "$@" >/dev/null && return 0
        sleep 0.5
    done
    die "timed out waiting for $what (logs in $DIR/logs)"
}

zk_serving() {
    local p mode
    for p in "${ZK_CLIENT[@]}"; do
        mode=$(four_letter "$(port "$p")" srvr | sed -n 's/^Mode: //p')
        [ "$mode" = leader ] || [ "$mode" = follower ] || return 1
    done
}

url_ok() { curl -fsS "${CURL_TLS[@]}" -o /dev/null --max-time 2 "$1"; }

master_leader() {
    local p location
    for p in "${MASTER_PORTS[@]}"; do
        location=$(curl -s "${CURL_TLS[@]}" -o /dev/null -w '%{redirect_url}' --max-time 2 \
            "$SCHEME://127.0.0.1:$(port "$p")/master/redirect" 2>/dev/null || true)
        location=${location#*://}
        [ -n "$location" ] && { echo "${location%/}"; return 0; }
    done
    return 1
}

active_agents() {
    local leader
    leader=$(master_leader) || { echo 0; return; }
    curl -s "${CURL_TLS[@]}" "${CURL_AUTH[@]}" --max-time 2 "$SCHEME://$leader/metrics/snapshot" |
        python3 -c 'import json,sys; print(int(json.load(sys.stdin).get("master/slaves_active", 0)))' 2>/dev/null || echo 0
}

agents_registered() { [ "$(active_agents)" -ge "${#AGENT_PORTS[@]}" ]; }

scheduler_leader() {
    local p
    for p in "${SCHEDULER_PORTS[@]}"; do
        curl -s "${CURL_TLS[@]}" "${CURL_AUTH[@]}" --max-time 2 "$SCHEME://127.0.0.1:$(port "$p")/v2/leader" |
            python3 -c 'import json,sys; print(json.load(sys.stdin)["leader"])' 2>/dev/null && return 0
    done
    return 1
}

start() {
    [ -d "$DIR/pids" ] && [ -n "$(ls -A "$DIR/pids" 2>/dev/null)" ] && die "$DIR holds a running layout: run '$0 stop' first"
    command -v java >/dev/null 2>&1 || die "java not found: apt-get install zookeeper"
    command -v curl >/dev/null 2>&1 || die "curl not found: apt-get install curl"
    local bin pg
    bin=$(regatta_bin)
    pg=$(postgres_bin)
    mkdir -p "$DIR/logs" "$DIR/pids"
    # A failed start stops what it started (its logs are kept in $DIR-failed-logs).
    trap 'code=$?; if [ $code -ne 0 ]; then rm -rf "$DIR-failed-logs"; cp -r "$DIR/logs" "$DIR-failed-logs" 2>/dev/null;
        say "start failed: stopping what started; logs kept in $DIR-failed-logs"; stop; fi' EXIT
    local zk_url
    zk_url="zk://$(zk_hosts)"
    local tls=()
    if [ "$TLS" = 1 ]; then
        make_tls
        mapfile -t tls < <(tls_flags)
        say "TLS on every link; CA $DIR/tls/ca.crt"
    fi
    # Credentials, when this binary has the authentication flags: one operator principal for everything.
    local master_auth=() agent_auth=() scheduler_auth=()
    if has_flag master credentials; then
        local secret
        secret=$(openssl rand -hex 16 2>/dev/null || head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
        mkdir -p "$DIR/auth"
        chmod 700 "$DIR/auth"
        printf '{"credentials":[{"principal":"regatta","secret":"%s"}]}\n' "$secret" >"$DIR/auth/credentials.json"
        printf '{"principal":"regatta","secret":"%s"}\n' "$secret" >"$DIR/auth/credential.json"
        printf '%s' "$secret" >"$DIR/auth/secret"
        chmod 600 "$DIR/auth"/*
        master_auth=(--credentials "$DIR/auth/credentials.json")
        has_flag agent credential && agent_auth=(--credential "$DIR/auth/credential.json")
        has_flag scheduler http_credentials && scheduler_auth=(--http_credentials "regatta:$secret"
            --mesos_authentication_principal regatta --mesos_authentication_secret_file "$DIR/auth/secret")
        CURL_AUTH=(-u "regatta:$secret")
        say "credentials: principal regatta, secret in $DIR/auth/secret"
    fi

    # 1. ZooKeeper ensemble.
    local i servers=""
    for i in 0 1 2; do
        servers+="server.$((i + 1))=127.0.0.1:$(port "${ZK_QUORUM[$i]}"):$(port "${ZK_ELECTION[$i]}")"$'\n'
    done
    for i in 0 1 2; do
        local zdir=$DIR/zookeeper-$((i + 1))
        mkdir -p "$zdir/data"
        echo $((i + 1)) >"$zdir/data/myid"
        cat >"$zdir/zoo.cfg" <<EOF
tickTime=2000
initLimit=10
syncLimit=5
dataDir=$zdir/data
clientPort=$(port "${ZK_CLIENT[$i]}")
clientPortAddress=127.0.0.1
maxClientCnxns=0
minSessionTimeout=4000
maxSessionTimeout=40000
admin.enableServer=false
4lw.commands.whitelist=ruok,mntr,stat,srvr
$servers
EOF
        spawn "zookeeper-$((i + 1))" java -Xmx256m -XX:+UseSerialGC -Dzookeeper.admin.enableServer=false \
            -Dzookeeper.root.logger=INFO,CONSOLE -Dzookeeper.log.dir="$zdir" -cp "$(zk_classpath)" \
            org.apache.zookeeper.server.quorum.QuorumPeerMain "$zdir/zoo.cfg"
    done
    wait_for "the ZooKeeper ensemble to form a quorum" 120 zk_serving
    say "ZooKeeper ensemble: $(zk_hosts)"

    # 2. PostgreSQL for the schedulers.
    local pgdir=$DIR/postgres
    mkdir -p "$pgdir"
    [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$pgdir"
    chmod 700 "$pgdir"
    as_postgres "$pg/initdb" -D "$pgdir/data" -A trust -U postgres -E UTF8 --locale=C >"$DIR/logs/initdb.log" 2>&1 ||
        die "initdb failed (see $DIR/logs/initdb.log)"
    as_postgres "$pg/pg_ctl" -D "$pgdir/data" -l "$pgdir/postgres.log" -w -t 60 \
        -o "-p $(port $PG_PORT) -k $pgdir -c listen_addresses=127.0.0.1" start >/dev/null ||
        die "PostgreSQL did not start (see $pgdir/postgres.log)"
    echo "$pg" >"$DIR/postgres.bin"
    "$pg/psql" -X -q -h 127.0.0.1 -p "$(port $PG_PORT)" -U postgres -c "CREATE DATABASE regatta" postgres ||
        die "could not create the regatta database"
    local store="postgres://postgres@127.0.0.1:$(port $PG_PORT)/regatta"
    say "PostgreSQL: $store"

    # 3. Masters, elected under /mesos.
    for i in 0 1 2; do
        supervise "master-$((i + 1))" "$bin" master --ip 127.0.0.1 --port "$(port "${MASTER_PORTS[$i]}")" \
            --hostname 127.0.0.1 --work_dir "$DIR/master-$((i + 1))" --zk "$zk_url/mesos" --quorum 2 \
            --zk_session_timeout "$SESSION_TIMEOUT" "${tls[@]}" "${master_auth[@]}"
    done
    wait_for "a leading master" 120 master_leader
    say "masters: $(for p in "${MASTER_PORTS[@]}"; do printf '%s://127.0.0.1:%s ' "$SCHEME" "$(port "$p")"; done)(leader $(master_leader))"

    # 4. Agents, following the leading master through ZooKeeper.
    for i in 0 1; do
        spawn "agent-$((i + 1))" "$bin" agent --master "$zk_url/mesos" --zk_session_timeout "$SESSION_TIMEOUT" \
            --ip 127.0.0.1 --port "$(port "${AGENT_PORTS[$i]}")" --hostname "agent-$((i + 1))" \
            --work_dir "$DIR/agent-$((i + 1))" --resources "cpus:4;mem:4096;disk:8192;ports:[$(port 31000)-$(port 31999)]" \
            "${tls[@]}" "${agent_auth[@]}"
    done
    wait_for "${#AGENT_PORTS[@]} agents to register" 120 agents_registered
    say "agents: $(for p in "${AGENT_PORTS[@]}"; do printf '%s://127.0.0.1:%s ' "$SCHEME" "$(port "$p")"; done)"

    # 5. Schedulers, elected under /regatta, sharing the database.
    for i in 0 1; do
        supervise "scheduler-$((i + 1))" "$bin" scheduler --master "$zk_url/mesos" --zk "$zk_url/regatta" \
            --zk_session_timeout "$SESSION_TIMEOUT" --hostname 127.0.0.1 \
            --http_port "$(port "${SCHEDULER_PORTS[$i]}")" --store "$store" "${tls[@]}" "${scheduler_auth[@]}"
    done
    wait_for "a leading scheduler" 120 scheduler_leader
    say "schedulers: $(for p in "${SCHEDULER_PORTS[@]}"; do printf '%s://127.0.0.1:%s ' "$SCHEME" "$(port "$p")"; done)(leader $(scheduler_leader))"
    local curl_hint="curl -s"
    [ "$TLS" = 1 ] && curl_hint+=" --cacert $DIR/tls/ca.crt"
    [ ${#CURL_AUTH[@]} -gt 0 ] && curl_hint+=" -u regatta:\$(cat $DIR/auth/secret)"
    cat >&2 <<EOF
ha-local: up. Try:
  $curl_hint $SCHEME://127.0.0.1:$(port 8080)/v2/apps -H 'Content-Type: application/json' \\
      -d '{"id":"/sleepy","cmd":"sleep 100000","cpus":0.05,"mem":16,"instances":10}'
  $0 status                                  # who leads
  kill -9 \$(pgrep -f "^$bin master .*--port $(port 5050)")   # kill a master; its restart loop brings it back
  kill -9 \$(pgrep -f "^$bin scheduler .*--http_port $(port 8080)")
  $0 stop
Logs: $DIR/logs
EOF
    trap - EXIT
}

status() {
    [ -d "$DIR/pids" ] || { say "nothing runs in $DIR"; return 0; }
    [ -f "$DIR/auth/secret" ] && CURL_AUTH=(-u "regatta:$(cat "$DIR/auth/secret")")
    [ -f "$DIR/tls/ca.crt" ] || { TLS=0; SCHEME=http; CURL_TLS=(); }
    local file name pid
    for file in "$DIR"/pids/*.pid; do
        [ -e "$file" ] || continue
        name=$(basename "$file" .pid)
        pid=$(cat "$file")
        if kill -0 "$pid" 2>/dev/null; then echo "$name: running (pid $pid)"; else echo "$name: not running"; fi
    done
    local p
    for p in "${ZK_CLIENT[@]}"; do
        echo "zookeeper 127.0.0.1:$(port "$p"): $(four_letter "$(port "$p")" srvr | sed -n 's/^Mode: //p')"
    done
    echo "leading master: $(master_leader || echo none)"
    echo "active agents: $(active_agents)"
    echo "leading scheduler: $(scheduler_leader || echo none)"
}

stop() {
    [ -d "$DIR" ] || { say "nothing to stop in $DIR"; return 0; }
    local file pid i
    # Agents and schedulers first, then masters, then ZooKeeper; each pid is its own process group (setsid).
    for pattern in agent scheduler master zookeeper; do
        for file in "$DIR"/pids/"$pattern"-*.pid; do
            [ -e "$file" ] || continue
            pid=$(cat "$file")
            kill -TERM -- "-$pid" 2>/dev/null || true
        done
        for file in "$DIR"/pids/"$pattern"-*.pid; do
            [ -e "$file" ] || continue
            pid=$(cat "$file")
            for i in $(seq 1 40); do kill -0 -- "-$pid" 2>/dev/null || break; sleep 0.25; done
            kill -KILL -- "-$pid" 2>/dev/null || true
            rm -f "$file"
        done
    done
    # Agents leave their tasks running when they stop (as Mesos agents do): end the tasks' process groups.
    local proc cmdline
    for proc in /proc/[0-9]*; do
        cmdline=$(tr '\0' ' ' 2>/dev/null <"$proc/cmdline" || true)
        if [[ "$cmdline" == *"$DIR/agent-"*supervisor.sh* ]]; then
            kill -KILL -- "-${proc#/proc/}" 2>/dev/null || kill -KILL "${proc#/proc/}" 2>/dev/null || true
        fi
    done
    if [ -f "$DIR/postgres/data/postmaster.pid" ]; then
        local pg
        pg=$(cat "$DIR/postgres.bin" 2>/dev/null || postgres_bin)
        as_postgres "$pg/pg_ctl" -D "$DIR/postgres/data" -m fast -t 30 stop >/dev/null 2>&1 ||
            as_postgres "$pg/pg_ctl" -D "$DIR/postgres/data" -m immediate stop >/dev/null 2>&1 || true
    fi
    rm -rf "$DIR"
    say "stopped; removed $DIR"
}

case ${1:-start} in
start) start ;;
status) status ;;
stop) stop ;;
*) sed -n '4,24p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
