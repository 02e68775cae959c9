#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Starts and stops the real services the test suite runs against, all on 127.0.0.1 with free ports:
# PostgreSQL 15, a standalone ZooKeeper and (unless one already answers on /var/run/docker.sock) dockerd,
# plus the tiny test image regatta-test/busybox:latest.
#
#   scripts/services.sh install                  install missing Debian packages (quiet unless it fails)
#   scripts/services.sh start [--dir DIR] [--only postgres,zookeeper,docker]
#                                                start services; prints `export ...` lines on stdout, so
#                                                `eval "$(scripts/services.sh start)"` sets up a shell
#   scripts/services.sh env [--dir DIR]          print the `export ...` lines again
#   scripts/services.sh status [--dir DIR]       show what is running
#   scripts/services.sh stop [--dir DIR]         stop what `start` started and remove DIR (unless --keep)
#
# Without --dir, `start` makes a fresh temporary directory and remembers it in $REGATTA_SERVICES_DIR (exported)
# and in /tmp/regatta-services.current, which `env`, `status` and `stop` fall back to.
# Progress goes to stderr, the environment to stdout. Service logs stay in DIR until `stop`.
set -euo pipefail

readonly DOCKER_SOCKET=/var/run/docker.sock
readonly TEST_IMAGE=regatta-test/busybox:latest
readonly CURRENT_POINTER=/tmp/regatta-services.current
readonly PACKAGES=(docker.io zookeeper libzookeeper-mt-dev busybox-static postgresql python3-venv curl)

log() { printf 'services: %s\n' "$*" >&2; }
die() { printf 'services: error: %s\n' "$*" >&2; exit 1; }

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

usage() {
    sed -n '4,17p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

# ---------------------------------------------------------------------------------------------------------------------
# install

install_packages() {
    local missing=() package
    for package in "${PACKAGES[@]}"; do
        # A removed package can linger in dpkg as "deinstall ... config-files": only "install ok installed" counts.
        # (Captured, not piped into grep -q: with pipefail an early grep exit fails the pipeline.)
        [[ "$(dpkg -s "$package" 2>/dev/null)" == *"Status: install ok installed"* ]] || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        die "missing Debian packages: ${missing[*]}; install them as root (apt-get install ${missing[*]})"
    fi
    log "installing ${missing[*]} (apt-get)"
    local aptlog
    aptlog=$(mktemp /tmp/regatta-apt.XXXXXX.log)
    if ! { DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}"; } \
        </dev/null >"$aptlog" 2>&1; then
        cat "$aptlog" >&2
        rm -f "$aptlog"
        die "apt-get could not install ${missing[*]} (output above)"
    fi
    rm -f "$aptlog"
}

# ---------------------------------------------------------------------------------------------------------------------
# helpers

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Runs a command as the postgres user when we are root (initdb and pg_ctl refuse to run as root).
as_postgres() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

postgres_bin() {
    local dir
    for dir in /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin; do
        [ -x "$dir/initdb" ] && { echo "$dir"; return 0; }
    done
    command -v initdb >/dev/null 2>&1 && { dirname "$(command -v initdb)"; return 0; }
    return 1
}

zookeeper_ruok() {
    timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" && printf ruok >&3 && cat <&3' _ "$1" 2>/dev/null || true
}

docker_answers() {
    [ -S "$DOCKER_SOCKET" ] && timeout 10 docker -H "unix://$DOCKER_SOCKET" version --format '{{.Server.Version}}' \
        >/dev/null 2>&1
}

resolve_dir() {
    local dir=${1:-}
    [ -n "$dir" ] || dir=${REGATTA_SERVICES_DIR:-}
    if [ -z "$dir" ] && [ -f "$CURRENT_POINTER" ]; then dir=$(cat "$CURRENT_POINTER"); fi
    [ -n "$dir" ] || die "no services directory: pass --dir DIR or run 'scripts/services.sh start' first"
    echo "$dir"
}

# ---------------------------------------------------------------------------------------------------------------------
# PostgreSQL

start_postgres() {
    local dir=$1/postgres bin port started
    started=$(now)
    bin=$(postgres_bin) || { log "postgres: initdb not found (apt-get install postgresql)"; return 1; }
    port=$(free_port)
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir"
    chmod 700 "$dir"
    if ! as_postgres "$bin/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C --no-sync \
        >"$dir/initdb.log" 2>&1; then
        cat "$dir/initdb.log" >&2
        log "postgres: initdb failed (output above)"
        return 1
    fi
    if ! as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
            -c full_page_writes=off -c max_connections=300" start >"$dir/pg_ctl.log" 2>&1; then
        tail -n 30 "$dir/postgres.log" >&2 || true
        log "postgres: pg_ctl start failed (log above)"
        return 1
    fi
    local i
    for i in $(seq 1 120); do
        "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -t 1 && break
        sleep 0.25
    done
    "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -t 1 || { log "postgres: not ready on port $port"; return 1; }
    echo "$bin" >"$dir/bin"
    echo "export REGATTA_TEST_PG_URL=postgres://postgres@127.0.0.1:$port/postgres" >"$1/postgres.env"
    log "postgres 15 on 127.0.0.1:$port ($(elapsed "$started")s)"
}

stop_postgres() {
    local dir=$1/postgres bin
    [ -f "$dir/data/postmaster.pid" ] || return 0
    bin=$(cat "$dir/bin" 2>/dev/null || postgres_bin)
    as_postgres "$bin/pg_ctl" -D "$dir/data" -m fast -t 30 stop >/dev/null 2>&1 ||
        as_postgres "$bin/pg_ctl" -D "$dir/data" -m immediate -t 30 stop >/dev/null 2>&1 || true
}

# ---------------------------------------------------------------------------------------------------------------------
# ZooKeeper

zookeeper_classpath() {
    local jars=(/usr/share/java/zookeeper.jar /usr/share/java/slf4j-log4j12.jar /usr/share/java/log4j-1.2.jar) jar
    for jar in "${jars[@]}"; do
        if [ ! -f "$jar" ]; then
            # Unusual layout: fall back to every jar (zookeeper.jar's manifest normally pulls in its dependencies).
            echo "/etc/zookeeper/conf:$(ls /usr/share/java/*.jar | tr '\n' :)"
            return 0
        fi
    done
    local IFS=:
    echo "/etc/zookeeper/conf:${jars[*]}"
}

start_zookeeper() {
    local dir=$1/zookeeper port started pid
    started=$(now)
    command -v java >/dev/null 2>&1 || { log "zookeeper: java not found (apt-get install zookeeper)"; return 1; }
    port=$(free_port)
    mkdir -p "$dir/data"
    cat >"$dir/zoo.cfg" <<EOF
tickTime=500
dataDir=$dir/data
clientPort=$port
clientPortAddress=127.0.0.1
maxClientCnxns=0
minSessionTimeout=1000
maxSessionTimeout=60000
forceSync=no
admin.enableServer=false
4lw.commands.whitelist=*
EOF
    setsid java -Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
        -Dzookeeper.admin.enableServer=false -Dzookeeper.root.logger=INFO,CONSOLE -Dzookeeper.log.dir="$dir" \
        -cp "$(zookeeper_classpath)" org.apache.zookeeper.server.ZooKeeperServerMain "$dir/zoo.cfg" \
        </dev/null >"$dir/zookeeper.log" 2>&1 &
    pid=$!
    echo "$pid" >"$dir/zookeeper.pid"
    local i
    for i in $(seq 1 240); do
        [ "$(zookeeper_ruok "$port")" = imok ] && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.25
    done
    if [ "$(zookeeper_ruok "$port")" != imok ]; then
        tail -n 30 "$dir/zookeeper.log" >&2 || true
        log "zookeeper: did not answer ruok on 127.0.0.1:$port (log above)"
        return 1
    fi
    echo "export REGATTA_TEST_ZK=127.0.0.1:$port" >"$1/zookeeper.env"
    log "zookeeper on 127.0.0.1:$port ($(elapsed "$started")s)"
}

stop_zookeeper() {
    local pidfile=$1/zookeeper/zookeeper.pid pid i
    [ -f "$pidfile" ] || return 0
    pid=$(cat "$pidfile")
    kill -TERM "$pid" 2>/dev/null || { rm -f "$pidfile"; return 0; }
    for i in $(seq 1 40); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.25
    done
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$pidfile"
}

# ---------------------------------------------------------------------------------------------------------------------
# Docker

build_test_image() {
    local dir=$1/docker/image-root applet busybox
    if docker image inspect "$TEST_IMAGE" >/dev/null 2>&1; then return 0; fi
    busybox=/bin/busybox # from busybox-static: the image has no libc, so it must be the static build
    [ -x "$busybox" ] || { log "docker: $busybox not found (apt-get install busybox-static)"; return 1; }
    rm -rf "$dir"
    mkdir -p "$dir/bin" "$dir/usr/bin" "$dir/tmp" "$dir/etc"
    chmod 1777 "$dir/tmp"
    cp "$busybox" "$dir/bin/busybox"
    for applet in $("$busybox" --list); do
        [ "$applet" = busybox ] || ln -sf busybox "$dir/bin/$applet"
    done
    ln -sf /bin/env "$dir/usr/bin/env"
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$dir/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' >"$dir/etc/group"
    if ! tar -C "$dir" -c . | docker import -c 'CMD ["/bin/sh"]' - "$TEST_IMAGE" >/dev/null; then
        log "docker: docker import of $TEST_IMAGE failed"
        return 1
    fi
    rm -rf "$dir"
}

# Starts dockerd with its own data and exec roots under DIR, on the default socket. Returns non-zero if it exits or
# does not answer within the timeout.
launch_dockerd() {
    local dir=$1/docker
    shift
    mkdir -p "$dir"
    rm -f "$dir/dockerd.pid"
    # fd 9 holds the start lock: the daemon must not inherit it.
    setsid dockerd --data-root "$dir/data" --exec-root "$dir/exec" --pidfile "$dir/dockerd.pid" \
        -H "unix://$DOCKER_SOCKET" --shutdown-timeout 2 --log-level warn "$@" \
        </dev/null >>"$dir/dockerd.log" 2>&1 9>&- &
    local pid=$! i
    echo "$pid" >"$dir/dockerd.launch.pid"
    for i in $(seq 1 240); do
        docker_answers && { echo "$pid" >"$dir/dockerd.started"; return 0; }
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.25
    done
    kill -TERM "$pid" 2>/dev/null || true
    return 1
}

start_docker() {
    local root=$1 dir=$1/docker started
    started=$(now)
    mkdir -p "$dir"
    if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1; then
        log "docker: dockerd or docker not found (apt-get install docker.io); Docker tests are skipped"
        return 0
    fi
    local how=""
    {
        flock -w 180 9 || { log "docker: could not take the start lock"; return 0; }
        if docker_answers; then
            how="already running on $DOCKER_SOCKET (left alone)"
        elif [ "$(id -u)" -ne 0 ]; then
            log "docker: no daemon on $DOCKER_SOCKET and not root, so none started; Docker tests are skipped"
            return 0
        elif launch_dockerd "$root"; then
            how="dockerd started (bridge networking, iptables)"
        else
            # A machine without iptables/NAT support: the userland proxy still publishes ports on 127.0.0.1.
            log "docker: dockerd did not start with defaults; retrying with --iptables=false"
            tail -n 5 "$dir/dockerd.log" >&2 || true
            stop_docker "$root"
            if launch_dockerd "$root" --iptables=false --ip-masq=false --userland-proxy=true; then
                how="dockerd started (bridge networking, userland proxy, no iptables)"
            fi
        fi
    } 9>/tmp/regatta-dockerd.lock
    if [ -z "$how" ]; then
        tail -n 20 "$dir/dockerd.log" >&2 || true
        log "docker: DOCKER UNAVAILABLE - dockerd could not start on this machine (log above); Docker tests are skipped"
        return 0
    fi
    build_test_image "$root" || { log "docker: Docker tests are skipped"; return 0; }
    {
        echo "export REGATTA_TEST_DOCKER=1"
        echo "export REGATTA_TEST_DOCKER_IMAGE=$TEST_IMAGE"
    } >"$root/docker.env"
    log "docker $how, image $TEST_IMAGE ($(elapsed "$started")s)"
}

unmount_under() {
    local dir=$1 mountpoint
    # Deepest first.
    awk -v d="$dir/" 'index($2 "/", d) == 1 { print $2 }' /proc/mounts | sort -r | while read -r mountpoint; do
        umount "$mountpoint" 2>/dev/null || umount -l "$mountpoint" 2>/dev/null || true
    done
}

stop_docker() {
    local dir=$1/docker pid="" i
    [ -f "$dir/dockerd.started" ] && pid=$(cat "$dir/dockerd.started")
    [ -z "$pid" ] && [ -f "$dir/dockerd.launch.pid" ] && pid=$(cat "$dir/dockerd.launch.pid")
    [ -n "$pid" ] || return 0
    if kill -0 "$pid" 2>/dev/null; then
        # Only the daemon this script started. Its containers belong to this run: kill them first, or dockerd spends
        # ~10 s per container that ignores SIGTERM (a PID 1 shell) before it exits.
        local containers
        containers=$(timeout 10 docker -H "unix://$DOCKER_SOCKET" ps -aq 2>/dev/null || true)
        if [ -n "$containers" ]; then
            # shellcheck disable=SC2086 # one id per word
            timeout 30 docker -H "unix://$DOCKER_SOCKET" rm -f $containers >/dev/null 2>&1 || true
        fi
        kill -TERM "$pid" 2>/dev/null || true
        for i in $(seq 1 120); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.25
        done
        if kill -0 "$pid" 2>/dev/null; then
            log "docker: dockerd $pid did not stop in 30s; killing it"
            kill -KILL "$pid" 2>/dev/null || true
            local containerd_pid
            containerd_pid=$(cat "$dir/exec/containerd/containerd.pid" 2>/dev/null || true)
            [ -n "$containerd_pid" ] && kill -KILL "$containerd_pid" 2>/dev/null || true
        fi
    fi
    rm -f "$dir/dockerd.started" "$dir/dockerd.launch.pid"
    unmount_under "$dir"
}

# ---------------------------------------------------------------------------------------------------------------------
# commands

cmd_start() {
    local dir="" only="postgres,zookeeper,docker" remember=0
    while [ $# -gt 0 ]; do
        case $1 in
            --dir) dir=$2; shift 2 ;;
            --only) only=$2; shift 2 ;;
            *) usage ;;
        esac
    done
    if [ -z "$dir" ]; then
        dir=$(mktemp -d /tmp/regatta-services.XXXXXX)
        remember=1
    fi
    mkdir -p "$dir"
    chmod 755 "$dir" # the postgres user must reach its data directory inside
    : >"$dir/started-by-services-sh"
    local started pids=() names=() service
    started=$(now)
    # The three start in parallel; each writes DIR/<service>.env on success.
    for service in ${only//,/ }; do
        case $service in
            postgres) start_postgres "$dir" & ;;
            zookeeper) start_zookeeper "$dir" & ;;
            docker) start_docker "$dir" & ;;
            *) die "unknown service '$service'; expected postgres, zookeeper or docker" ;;
        esac
        pids+=($!)
        names+=("$service")
    done
    local failed=() i
    for i in "${!pids[@]}"; do
        wait "${pids[$i]}" || failed+=("${names[$i]}")
    done
    if [ ${#failed[@]} -gt 0 ]; then
        log "could not start: ${failed[*]}; stopping the others"
        cmd_stop --dir "$dir" $([ "$remember" -eq 1 ] || echo --keep)
        exit 1
    fi
    {
        echo "export REGATTA_SERVICES_DIR=$dir"
        for service in postgres zookeeper docker; do
            [ -f "$dir/$service.env" ] && cat "$dir/$service.env"
        done
    } >"$dir/services.env"
    [ "$remember" -eq 1 ] && echo "$dir" >"$CURRENT_POINTER"
    echo "$(elapsed "$started")" >"$dir/setup-seconds"
    log "ready in $(elapsed "$started")s; logs in $dir; stop with: scripts/services.sh stop --dir $dir"
    cat "$dir/services.env"
}

cmd_stop() {
    local dir="" keep=0
    while [ $# -gt 0 ]; do
        case $1 in
            --dir) dir=$2; shift 2 ;;
            --keep) keep=1; shift ;;
            *) usage ;;
        esac
    done
    dir=$(resolve_dir "$dir")
    [ -d "$dir" ] || { rm -f "$CURRENT_POINTER"; return 0; }
    stop_zookeeper "$dir" &
    local zk=$!
    stop_postgres "$dir" &
    local pg=$!
    stop_docker "$dir"
    wait "$zk" "$pg" || true
    if [ "$keep" -eq 0 ]; then
        unmount_under "$dir"
        rm -rf "$dir"
    fi
    if [ -f "$CURRENT_POINTER" ] && [ "$(cat "$CURRENT_POINTER")" = "$dir" ]; then rm -f "$CURRENT_POINTER"; fi
}

cmd_env() {
    local dir=""
    [ "${1:-}" = --dir ] && dir=$2
    dir=$(resolve_dir "$dir")
    [ -f "$dir/services.env" ] || die "no services running from $dir"
    cat "$dir/services.env"
}

cmd_status() {
    local dir=""
    [ "${1:-}" = --dir ] && dir=$2
    dir=$(resolve_dir "$dir")
    [ -f "$dir/services.env" ] || die "no services running from $dir"
    cat "$dir/services.env"
    local zk
    zk=$(sed -n 's/^export REGATTA_TEST_ZK=//p' "$dir/services.env")
    [ -n "$zk" ] && echo "zookeeper ${zk}: $(zookeeper_ruok "${zk##*:}")"
    local pg
    pg=$(sed -n 's/^export REGATTA_TEST_PG_URL=//p' "$dir/services.env")
    [ -n "$pg" ] && echo "postgres: $(pg_isready -d "$pg" 2>&1 || true)"
    if docker_answers; then echo "docker: answering on $DOCKER_SOCKET"; else echo "docker: not answering"; fi
}

case ${1:-} in
    install) shift; install_packages ;;
    start) shift; cmd_start "$@" ;;
    stop) shift; cmd_stop "$@" ;;
    env) shift; cmd_env "$@" ;;
    status) shift; cmd_status "$@" ;;
    *) usage ;;
esac
