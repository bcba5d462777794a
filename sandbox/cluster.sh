#!/usr/bin/env bash
# sandbox/cluster.sh - a real Patroni 4.1.5 + etcd (or ZooKeeper) + PostgreSQL 15 cluster on one machine,
# loopback only.
#
# Used to test `patctl` (a drop-in replacement for `patronictl`) against the real thing.
# Every server listens on 127.0.0.1 only. Processes are stopped only by the PIDs recorded in PID files
# (never by name). Needs root (Patroni itself runs as the `postgres` OS user via setpriv).
#
# Usage: sandbox/cluster.sh SUBCOMMAND [ARGS]
#   install          idempotent: apt packages (etcd-server etcd-client postgresql-15 protobuf-compiler libprotobuf-dev
#                    python3-venv curl openssl libssl-dev pkg-config zookeeper ...; default-jre-headless only when
#                    there is no `java`) if missing, venv /opt/patroni-venv with patroni[etcd3,etcd,zookeeper]==4.1.5
#                    + psycopg2-binary, symlink /usr/local/bin/patronictl, venv /opt/check-patroni-venv with
#                    check_patroni==2.2.* (symlink /usr/local/bin/check_patroni), checks that `cargo` is on PATH
#   up               wipe $SANDBOX_DIR, start etcd (or ZooKeeper) + node1..nodeN, wait until 1 leader + N-1 streaming
#   down             stop Patroni nodes, orphaned postmasters, then etcd / ZooKeeper (keeps data and logs)
#   status           one line per process (alive/dead); exit 1 if anything is down
#   env              print `export` lines (SANDBOX_*, PATCTL_TEST_CONFIG, SANDBOX_ETCD_URL);
#                    use: eval "$(sandbox/cluster.sh env)"
#   tag NODE MAP     set the `tags:` of NODE's patroni.yml to the YAML flow map MAP (e.g.
#                    '{nofailover: true, replicatefrom: node2}', '{}' clears), reload Patroni (POST /reload)
#                    and wait (30 s) until the member key in etcd shows the new tags
#   etcd-stop K      stop etcd member K (1-based; SIGTERM by its recorded PID) for fault tests
#   etcd-start K     start etcd member K again (same data dir and flags) and wait (30 s) until it is healthy
#   node-stop NODE   stop NODE's Patroni (SIGTERM by its recorded PID: PostgreSQL stops, the member key goes)
#   node-start NODE  start NODE's Patroni again (same patroni.yml and data), without waiting
#   zk-stop          stop the sandbox's ZooKeeper (SIGTERM by its recorded PID) for fault tests
#   zk-start         start it again (same zoo.cfg and data) and wait (30 s) until it answers `srvr`
#   clean            down + rm -rf $SANDBOX_DIR
#   install-version V  idempotent: venv /opt/patroni-venv-V with patroni[etcd3,etcd,zookeeper]==V +
#                    psycopg2-binary from PyPI, for SANDBOX_PATRONI_VERSION=V (`install` runs it too when
#                    that variable is set)
#
# Environment (defaults in brackets):
#   SANDBOX_DIR [/tmp/patctl-sandbox]   SANDBOX_NODES [3]          SANDBOX_SCOPE [demo]
#   SANDBOX_ETCD_PORT [2379] (peer port = +1)          SANDBOX_DCS [etcd3] | etcd (v2 API) | zookeeper
#   SANDBOX_PG_BASE [5432] (nodeI: base+I)   SANDBOX_API_BASE [8008] (nodeI REST API: base+I)
#   SANDBOX_TIMEOUT [120] seconds for `up`   SANDBOX_SLOW=1: Patroni default timings (ttl 30, loop_wait 10,
#   retry_timeout 10) instead of the fast ones (ttl 20, loop_wait 2, retry_timeout 5)
#   SANDBOX_FORCE=1: `up` tears a running sandbox down first instead of refusing
#   SANDBOX_PATRONI_VERSION [4.1.5]: run the Patroni NODES on another Patroni (3.0.4, 3.3.x, 4.0.x, ...)
#     from its own venv /opt/patroni-venv-V (`install-version V`); the ctl side (patronictl,
#     /opt/patroni-venv) stays 4.1.5, the oracle. Recorded by `up` like the other settings.
#   SANDBOX_TAGS_nodeI='{nofailover: true}': initial tags of nodeI (YAML flow map)
#   SANDBOX_STANDBY_OF=HOST:PORT: bootstrap the cluster as a Patroni standby cluster replicating from the
#     PostgreSQL at HOST:PORT (`standby_cluster: {host, port, create_replica_methods: [basebackup]}` in the
#     bootstrap dynamic configuration; its leader runs as `standby_leader`). sandbox/sites.sh uses it.
#   SANDBOX_ETCD_MEMBERS [1]: an etcd cluster of that many members (1..9); member K listens for clients on
#     SANDBOX_ETCD_PORT + 2*(K-1) and for peers on the port after it (3 members on 2379: 2379..2384);
#     every node's patroni.yml lists all of them in `hosts`
#   SANDBOX_TLS=1: TLS everywhere, with a CA, server and client certificates made by openssl at `up` in
#     $SANDBOX_DIR/tls: ca.crt; server.{crt,key} with SAN IP:127.0.0.1 + DNS:localhost; client.{crt,key}
#     without a CN (etcd's gateway refuses one when auth is on); other-ca.crt, an unrelated CA for negative
#     tests. etcd serves https and requires client certificates (--client-cert-auth; peers stay http); the
#     REST APIs serve https with `verify_client: required`;
#     patroni.yml gets `<dcs>: {protocol: https, cacert, cert, key}` and `ctl: {cacert, certfile, keyfile}`
#   SANDBOX_TLS=selfsigned: the common quick set-up, patronictl configured by environment only: one self-signed
#     certificate (openssl req -x509 ... -subj /CN=batman.patroni -addext subjectAltName=IP:127.0.0.1, so CA:TRUE)
#     in $SANDBOX_DIR/tls/server.{crt,key} is the REST APIs' certificate and their `cafile` (`verify_client:
#     required`, so clients present that same certificate), and PostgreSQL's (`ssl: on`, `ssl_ca_file`; pg_hba
#     `hostssl all all 127.0.0.1/32 md5 clientcert=verify-ca`, plain `host` only for replication and rewind;
#     Patroni itself uses the unix socket). etcd stays plain http. patroni.yml's `ctl:` has only the client
#     certificate Patroni needs to call the other members (patronictl's side never reads the file); `env`
#     prints PATRONI_RESTAPI_CAFILE, PATRONI_CTL_CERTFILE/KEYFILE, PATRONI_CTL_INSECURE=on,
#     PATRONI_RESTAPI_USERNAME/PASSWORD, PATRONI_ETCD3_HOST (PATRONI_ETCD_HOST with SANDBOX_DCS=etcd),
#     PATRONI_SCOPE, and PGSSLMODE=verify-full, PGSSLROOTCERT/PGSSLCERT/PGSSLKEY, PGPASSWORD for `query`.
#     Also made, for negative tests: other.{crt,key} (an unrelated self-signed certificate), expired.{crt,key}
#     (self-signed, SAN IP:127.0.0.1, expired in 2020), server-enc.key (server.key encrypted with the
#     password in $SANDBOX_DIR/tls/key-password)
#   SANDBOX_ETCD_AUTH=1: etcd authentication: user `root` with password `sandbox-etcd-secret` (v3: user add +
#     auth enable; v2: the v2 auth API, with the guest role's rights revoked); patroni.yml gets
#     `<dcs>: {username: root, password: ...}`
#   SANDBOX_ZK_PORT [2181]: with SANDBOX_DCS=zookeeper, the client port of a standalone ZooKeeper started
#     with java directly (Debian's `zookeeper` jars; never Debian's zookeeperd service), listening on
#     127.0.0.1 only, admin server off, config and data in $SANDBOX_DIR/zookeeper; patroni.yml gets
#     `zookeeper: {hosts: ['127.0.0.1:PORT']}`. No etcd runs in this mode; TLS, auth and several etcd
#     members do not apply to it.
# `up` records its settings in $SANDBOX_DIR/sandbox.env; status/env/tag/etcd-* read them from there.
# `env` also exports ETCDCTL_* (TLS files, user) so that plain `etcdctl` reaches the sandbox's etcd.
#
# Layout: $SANDBOX_DIR/etcd.pid etcd/{data,etcd.log} (member K>1: etcdK.pid etcdK/)  tls/
#         zookeeper.pid zookeeper/{zoo.cfg,data/,zookeeper.log}
#         nodeI/{patroni.yml,patroni.pid,patroni.log,pgpass,data/}
# A second sandbox can run beside the first with another SANDBOX_DIR and other ports, e.g.
#   SANDBOX_DIR=/tmp/sb2 SANDBOX_ETCD_PORT=2479 SANDBOX_PG_BASE=5532 SANDBOX_API_BASE=8108 sandbox/cluster.sh up
set -euo pipefail

if [[ -d "${HOME:-/root}/.cargo/bin" ]]; then
    PATH="${HOME:-/root}/.cargo/bin:$PATH"
fi

readonly VENV=/opt/patroni-venv
readonly PY="$VENV/bin/python3"
readonly PATRONI_VERSION=4.1.5
readonly PG_BIN=/usr/lib/postgresql/15/bin
readonly APT_PACKAGES=(etcd-server etcd-client postgresql-15 protobuf-compiler libprotobuf-dev python3-venv curl openssl libssl-dev pkg-config zsh fish man-db hyperfine time tmux zookeeper rpm)
readonly PIP_EXTRAS=etcd3,etcd,zookeeper
# check_patroni (the Nagios plugin `patctl check` mirrors) in a venv of its own, so its requirements never
# move Patroni's; /usr/local/bin/check_patroni links to it.
readonly CHECK_VENV=/opt/check-patroni-venv
readonly CHECK_PATRONI_SPEC='check_patroni==2.2.*'
# ZooKeeper from Debian's jars, run by java directly: Debian's zkServer.sh pins /etc and /var/log, and its
# classpath has no logging backend (slf4j-simple comes with the package's dependencies).
readonly ZK_CLASSPATH=/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar
readonly ZK_MAIN=org.apache.zookeeper.server.quorum.QuorumPeerMain
readonly ZK_JVM_FLAGS=(-Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:-UsePerfData -Djava.net.preferIPv4Stack=true)
readonly MARKER=.patctl-sandbox
readonly STATE_FILE_NAME=sandbox.env
readonly ETCD_ROOT_PASSWORD=sandbox-etcd-secret

# etcdctl reads ETCDCTL_* from the environment; another sandbox's `env` exports must not leak in here.
while read -r var; do unset "$var"; done < <(compgen -e | grep '^ETCDCTL_' || true)

SANDBOX_DIR=${SANDBOX_DIR:-/tmp/patctl-sandbox}
SANDBOX_DIR=${SANDBOX_DIR%/}

log() { printf '[sandbox] %s\n' "$*" >&2; }
die() { printf '[sandbox] ERROR: %s\n' "$*" >&2; exit 1; }

usage() {
    sed -n '2,/^set -euo pipefail/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
}

# ---------------------------------------------------------------- settings

is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }

# Settings for `up` come from the environment; the other subcommands prefer what `up` recorded.
load_settings() {
    NODES=${SANDBOX_NODES:-3}
    SCOPE=${SANDBOX_SCOPE:-demo}
    ETCD_PORT=${SANDBOX_ETCD_PORT:-2379}
    PG_BASE=${SANDBOX_PG_BASE:-5432}
    API_BASE=${SANDBOX_API_BASE:-8008}
    DCS=${SANDBOX_DCS:-etcd3}
    ETCD_MEMBERS=${SANDBOX_ETCD_MEMBERS:-1}
    TLS=${SANDBOX_TLS:-0}
    ETCD_AUTH=${SANDBOX_ETCD_AUTH:-0}
    ZK_PORT=${SANDBOX_ZK_PORT:-2181}
    NODE_PATRONI=${SANDBOX_PATRONI_VERSION:-$PATRONI_VERSION}
    local state="$SANDBOX_DIR/$STATE_FILE_NAME"
    if [[ ${1:-} == recorded && -f $state ]]; then
        local key value
        while IFS='=' read -r key value; do
            case $key in
                SANDBOX_NODES) NODES=$value ;;
                SANDBOX_SCOPE) SCOPE=$value ;;
                SANDBOX_ETCD_PORT) ETCD_PORT=$value ;;
                SANDBOX_PG_BASE) PG_BASE=$value ;;
                SANDBOX_API_BASE) API_BASE=$value ;;
                SANDBOX_DCS) DCS=$value ;;
                SANDBOX_ETCD_MEMBERS) ETCD_MEMBERS=$value ;;
                SANDBOX_TLS) TLS=$value ;;
                SANDBOX_ETCD_AUTH) ETCD_AUTH=$value ;;
                SANDBOX_ZK_PORT) ZK_PORT=$value ;;
                SANDBOX_PATRONI_VERSION) NODE_PATRONI=$value ;;
            esac
        done <"$state"
    fi
    if ! is_uint "$NODES" || ((NODES < 1)); then
        die "SANDBOX_NODES must be a positive integer (got '$NODES')"
    fi
    local v
    for v in "$ETCD_PORT" "$PG_BASE" "$API_BASE" "$ZK_PORT"; do
        if ! is_uint "$v" || ((v == 0 || v >= 65000)); then die "bad port number '$v'"; fi
    done
    [[ $SCOPE =~ ^[A-Za-z0-9_.-]+$ ]] || die "SANDBOX_SCOPE must match [A-Za-z0-9_.-]+ (got '$SCOPE')"
    [[ $DCS == etcd3 || $DCS == etcd || $DCS == zookeeper ]] ||
        die "SANDBOX_DCS must be 'etcd3', 'etcd' or 'zookeeper' (got '$DCS')"
    [[ $ETCD_MEMBERS =~ ^[1-9]$ ]] || die "SANDBOX_ETCD_MEMBERS must be 1..9 (got '$ETCD_MEMBERS')"
    [[ $TLS == 0 || $TLS == 1 || $TLS == selfsigned ]] || die "SANDBOX_TLS must be 0, 1 or selfsigned (got '$TLS')"
    [[ $NODE_PATRONI =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] ||
        die "SANDBOX_PATRONI_VERSION must be a Patroni version like 3.0.4 (got '$NODE_PATRONI')"
    NODE_VENV=$(node_venv "$NODE_PATRONI")
    [[ $ETCD_AUTH == 0 || $ETCD_AUTH == 1 ]] || die "SANDBOX_ETCD_AUTH must be 0 or 1 (got '$ETCD_AUTH')"
    ((ETCD_PORT + 2 * ETCD_MEMBERS < 65000)) || die "etcd ports would pass 65000"
    SCHEME=http
    [[ $TLS == 1 ]] && SCHEME=https
    # the REST APIs' scheme (etcd stays http with SANDBOX_TLS=selfsigned)
    API_SCHEME=$SCHEME
    [[ $TLS == selfsigned ]] && API_SCHEME=https
    TLS_DIR="$SANDBOX_DIR/tls"
    ETCD_URL="$SCHEME://127.0.0.1:$ETCD_PORT"
    local k urls=() hosts=()
    for ((k = 1; k <= ETCD_MEMBERS; k++)); do
        urls+=("$(etcd_url "$k")")
        hosts+=("127.0.0.1:$(etcd_client_port "$k")")
    done
    ETCD_ENDPOINTS=$(IFS=,; printf '%s' "${urls[*]}")
    ETCD_HOSTS=$(IFS=,; printf '%s' "${hosts[*]}")
    ZK_DIR="$SANDBOX_DIR/zookeeper"
    ZK_HOSTS="127.0.0.1:$ZK_PORT"
    if [[ $DCS == zookeeper ]]; then
        [[ $ETCD_MEMBERS == 1 && $TLS == 0 && $ETCD_AUTH == 0 ]] ||
            die "SANDBOX_DCS=zookeeper takes no SANDBOX_ETCD_MEMBERS, SANDBOX_TLS or SANDBOX_ETCD_AUTH"
    fi
}

# The venv whose Patroni the nodes run: the main one for 4.1.5, /opt/patroni-venv-V otherwise.
node_venv() { if [[ $1 == "$PATRONI_VERSION" ]]; then printf '%s' "$VENV"; else printf '/opt/patroni-venv-%s' "$1"; fi; }

# etcd member K (1-based): client port, peer port, URL, name, directory, PID file.
etcd_client_port() { printf '%s' $((ETCD_PORT + 2 * ($1 - 1))); }
etcd_peer_port() { printf '%s' $((ETCD_PORT + 2 * ($1 - 1) + 1)); }
etcd_url() { printf '%s://127.0.0.1:%s' "$SCHEME" "$(etcd_client_port "$1")"; }
etcd_name() { if (($1 == 1)); then printf 'sandbox'; else printf 'sandbox%s' "$1"; fi; }
etcd_dir() { if (($1 == 1)); then printf '%s/etcd' "$SANDBOX_DIR"; else printf '%s/etcd%s' "$SANDBOX_DIR" "$1"; fi; }
etcd_pidfile() { if (($1 == 1)); then printf '%s/etcd.pid' "$SANDBOX_DIR"; else printf '%s/etcd%s.pid' "$SANDBOX_DIR" "$1"; fi; }

# curl options for TLS to etcd (with SANDBOX_TLS=1 the REST APIs take the same CA and client certificate).
tls_curl_args() {
    if [[ $TLS == 1 ]]; then
        printf '%s\n' --cacert "$TLS_DIR/ca.crt" --cert "$TLS_DIR/client.crt" --key "$TLS_DIR/client.key"
    fi
}

# curl options for TLS to the REST APIs (a client certificate is required in both TLS modes).
api_curl_args() {
    if [[ $TLS == selfsigned ]]; then
        printf '%s\n' --cacert "$TLS_DIR/server.crt" --cert "$TLS_DIR/server.crt" --key "$TLS_DIR/server.key"
    else
        tls_curl_args
    fi
}

# etcdctl with this sandbox's endpoints, TLS files and (unless the first argument is `noauth`) root user.
etcdctl_v3() {
    local auth=1
    if [[ ${1:-} == noauth ]]; then auth=0; shift; fi
    local args=(--endpoints="$ETCD_ENDPOINTS" --command-timeout=5s)
    [[ $TLS == 1 ]] && args+=(--cacert="$TLS_DIR/ca.crt" --cert="$TLS_DIR/client.crt" --key="$TLS_DIR/client.key")
    ((auth)) && [[ $ETCD_AUTH == 1 ]] && args+=(--user="root:$ETCD_ROOT_PASSWORD")
    ETCDCTL_API=3 etcdctl "${args[@]}" "$@"
}

etcdctl_v2() {
    local args=(--endpoints="$ETCD_ENDPOINTS" --timeout=5s)
    [[ $TLS == 1 ]] && args+=(--ca-file="$TLS_DIR/ca.crt" --cert-file="$TLS_DIR/client.crt" --key-file="$TLS_DIR/client.key")
    [[ $ETCD_AUTH == 1 ]] && args+=(--username="root:$ETCD_ROOT_PASSWORD")
    ETCDCTL_API=2 etcdctl "${args[@]}" "$@"
}

save_settings() {
    {
        printf 'SANDBOX_NODES=%s\n' "$NODES"
        printf 'SANDBOX_SCOPE=%s\n' "$SCOPE"
        printf 'SANDBOX_ETCD_PORT=%s\n' "$ETCD_PORT"
        printf 'SANDBOX_PG_BASE=%s\n' "$PG_BASE"
        printf 'SANDBOX_API_BASE=%s\n' "$API_BASE"
        printf 'SANDBOX_DCS=%s\n' "$DCS"
        printf 'SANDBOX_ETCD_MEMBERS=%s\n' "$ETCD_MEMBERS"
        printf 'SANDBOX_TLS=%s\n' "$TLS"
        printf 'SANDBOX_ETCD_AUTH=%s\n' "$ETCD_AUTH"
        printf 'SANDBOX_ZK_PORT=%s\n' "$ZK_PORT"
        printf 'SANDBOX_PATRONI_VERSION=%s\n' "$NODE_PATRONI"
    } >"$SANDBOX_DIR/$STATE_FILE_NAME"
}

# Refuse to wipe anything that does not look like a sandbox directory.
check_sandbox_dir() {
    [[ $SANDBOX_DIR == /* ]] || die "SANDBOX_DIR must be an absolute path (got '$SANDBOX_DIR')"
    case $SANDBOX_DIR in
        / | /bin | /boot | /dev | /etc | /home | /lib* | /opt | /proc | /root | /run | /sbin | /srv | /sys | /tmp | /usr | /var)
            die "refusing to use SANDBOX_DIR=$SANDBOX_DIR" ;;
    esac
    if [[ -d $SANDBOX_DIR && ! -e $SANDBOX_DIR/$MARKER ]] && [[ -n $(ls -A "$SANDBOX_DIR") ]]; then
        die "$SANDBOX_DIR exists, is not empty and is not a sandbox (no $MARKER file); refusing to touch it"
    fi
}

# ---------------------------------------------------------------- processes

cmdline_of() { tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null || true; }

# pid_alive PID NEEDLE: PID exists (not a zombie) and its command line contains NEEDLE.
pid_alive() {
    local pid=$1 needle=$2 state
    is_uint "$pid" || return 1
    [[ -r /proc/$pid/stat ]] || return 1
    state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || true)
    [[ -n $state && $state != Z ]] || return 1
    [[ $(cmdline_of "$pid") == *"$needle"* ]]
}

read_pid() {
    if [[ -f $1 ]]; then head -n1 "$1" 2>/dev/null | tr -dc '0-9' || true; fi
}

# Needles identifying this sandbox's processes (so a recycled PID is never signalled).
etcd_needle() { printf '%s' "$(etcd_dir "${1:-1}")/data"; }
patroni_needle() { printf '%s' "$SANDBOX_DIR/$1/patroni.yml"; }

# PID of nodeX's postmaster if it is alive: postmaster.pid line 1, and its cwd is the data dir.
postmaster_pid() {
    local data="$SANDBOX_DIR/$1/data" pid
    pid=$(read_pid "$data/postmaster.pid")
    [[ -n $pid ]] || return 1
    pid_alive "$pid" postgres || return 1
    [[ $(readlink "/proc/$pid/cwd" 2>/dev/null || true) == "$data" ]] || return 1
    printf '%s\n' "$pid"
}

node_dirs() {
    local d
    # node1..nodeN in numeric order
    for d in "$SANDBOX_DIR"/node*/; do
        [[ -d $d ]] && basename "$d"
    done | sort -V
}

# spawn PIDFILE LOGFILE CWD CMD...: start CMD in its own session; PIDFILE gets CMD's real PID
# (bash writes $$ and then execs, so there is no wrapper process left in between).
spawn() {
    local pidfile=$1 logfile=$2 cwd=$3
    shift 3
    rm -f "$pidfile"
    # shellcheck disable=SC2016  # $$ and $@ are expanded by the inner bash
    setsid bash -c 'cd "$1" && echo $$ >"$2" && shift 2 && exec "$@"' spawn "$cwd" "$pidfile" "$@" \
        >>"$logfile" 2>&1 </dev/null &
    local i
    for ((i = 0; i < 50; i++)); do
        [[ -s $pidfile ]] && return 0
        sleep 0.1
    done
    die "process for $pidfile did not start (see $logfile)"
}

# ---------------------------------------------------------------- ports / http

port_in_use() {
    local port=$1
    if command -v ss >/dev/null 2>&1; then
        [[ -n $(ss -ltnH "sport = :$port" 2>/dev/null) ]]
    else
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
    fi
}

api_port() { printf '%s' $((API_BASE + ${1#node})); }

# ---------------------------------------------------------------- install

cmd_install() {
    local t0=$SECONDS missing=() p wanted=("${APT_PACKAGES[@]}")
    # ZooKeeper needs a Java runtime: the headless one is enough (a full default-jre is hundreds of MB).
    command -v java >/dev/null 2>&1 || wanted+=(default-jre-headless)
    for p in "${wanted[@]}"; do
        dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
    done
    if ((${#missing[@]})); then
        ((EUID == 0)) || die "need root to install: ${missing[*]}"
        log "apt-get update"
        apt-get update -qq
        log "apt-get install ${missing[*]}"
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
        # On a systemd host the package starts its own etcd on 127.0.0.1:2379; the sandbox runs its own.
        if [[ " ${missing[*]} " == *" etcd-server "* ]] && [[ -d /run/systemd/system ]]; then
            log "disabling the distribution's etcd.service (it would hold 127.0.0.1:2379)"
            systemctl disable --now etcd >/dev/null 2>&1 || true
        fi
    else
        log "apt packages present: ${wanted[*]}"
    fi

    local have=""
    [[ -x $VENV/bin/patroni ]] && have=$("$VENV/bin/patroni" --version 2>/dev/null || true)
    # every extra's client library must import (an older venv may lack kazoo, the ZooKeeper client)
    if [[ $have == "patroni $PATRONI_VERSION" ]] && "$PY" -c 'import etcd, kazoo' 2>/dev/null; then
        log "$VENV has $have with the $PIP_EXTRAS clients"
    else
        if [[ ! -x $PY ]]; then
            log "creating venv $VENV with /usr/bin/python3"
            /usr/bin/python3 -m venv "$VENV"
        fi
        log "pip install patroni[$PIP_EXTRAS]==$PATRONI_VERSION psycopg2-binary into $VENV"
        "$VENV/bin/pip" install --quiet --disable-pip-version-check \
            "patroni[$PIP_EXTRAS]==$PATRONI_VERSION" psycopg2-binary
        have=$("$VENV/bin/patroni" --version)
        [[ $have == "patroni $PATRONI_VERSION" ]] || die "unexpected patroni version after pip: $have"
    fi
    if grep -q '^home = /usr/bin$' "$VENV/pyvenv.cfg" 2>/dev/null; then :; else
        log "WARNING: $VENV is not based on /usr/bin/python3; the postgres user may not be able to run it"
    fi
    if [[ $(readlink /usr/local/bin/patronictl 2>/dev/null || true) != "$VENV/bin/patronictl" ]]; then
        log "symlink /usr/local/bin/patronictl -> $VENV/bin/patronictl"
        ln -sfn "$VENV/bin/patronictl" /usr/local/bin/patronictl
    fi
    if "$CHECK_VENV/bin/check_patroni" --version 2>/dev/null | grep >/dev/null '^Version 2\.2\.'; then
        log "$CHECK_VENV has check_patroni $("$CHECK_VENV/bin/check_patroni" --version)"
    else
        [[ -x $CHECK_VENV/bin/python3 ]] || /usr/bin/python3 -m venv "$CHECK_VENV"
        log "pip install $CHECK_PATRONI_SPEC into $CHECK_VENV"
        "$CHECK_VENV/bin/pip" install --quiet --disable-pip-version-check "$CHECK_PATRONI_SPEC"
    fi
    if [[ $(readlink /usr/local/bin/check_patroni 2>/dev/null || true) != "$CHECK_VENV/bin/check_patroni" ]]; then
        log "symlink /usr/local/bin/check_patroni -> $CHECK_VENV/bin/check_patroni"
        ln -sfn "$CHECK_VENV/bin/check_patroni" /usr/local/bin/check_patroni
    fi
    id postgres >/dev/null 2>&1 || die "OS user 'postgres' is missing (normally created by postgresql-common)"
    if ! command -v cargo >/dev/null 2>&1; then
        die "cargo is not on PATH (and not in ~/.cargo/bin): install a Rust toolchain, e.g. via https://rustup.rs"
    fi
    log "cargo: $(command -v cargo)"
    if [[ -n ${SANDBOX_PATRONI_VERSION:-} && $SANDBOX_PATRONI_VERSION != "$PATRONI_VERSION" ]]; then
        cmd_install_version "$SANDBOX_PATRONI_VERSION"
    fi
    log "install done in $((SECONDS - t0)) s"
}

# install-version V: the nodes' Patroni V in a venv of its own (pip from PyPI), idempotent.
cmd_install_version() {
    (($# == 1)) && [[ $1 =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "usage: $0 install-version VERSION (e.g. 3.0.4)"
    local v=$1 venv have
    venv=$(node_venv "$v")
    have=""
    [[ -x $venv/bin/patroni ]] && have=$("$venv/bin/patroni" --version 2>/dev/null || true)
    if [[ $have == "patroni $v" ]] && "$venv/bin/python3" -c 'import etcd, kazoo, psycopg2' 2>/dev/null; then
        log "$venv has $have"
        return 0
    fi
    ((EUID == 0)) || die "need root to create $venv"
    [[ -x $venv/bin/python3 ]] || /usr/bin/python3 -m venv "$venv"
    log "pip install patroni[$PIP_EXTRAS]==$v psycopg2-binary into $venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "patroni[$PIP_EXTRAS]==$v" psycopg2-binary
    have=$("$venv/bin/patroni" --version)
    [[ $have == "patroni $v" ]] || die "unexpected patroni version after pip: $have"
}

# ---------------------------------------------------------------- up

# tags_parse MAP: prints the canonical flow map on line 1 and the JSON Patroni will publish on line 2.
tags_parse() {
    "$PY" - "$1" <<'EOF'
import json, sys, yaml
from patroni.tags import Tags
try:
    d = yaml.safe_load(sys.argv[1])
except yaml.YAMLError as e:
    sys.exit('not valid YAML: %s' % e)
if d is None:
    d = {}
if not isinstance(d, dict):
    sys.exit('not a YAML mapping: %r' % (d,))
print(yaml.safe_dump(d, default_flow_style=True, width=float('inf')).strip())
print(json.dumps(Tags._filter_tags(d), sort_keys=True))
EOF
}

write_patroni_yml() {
    local node=$1 i=${1#node} dir="$SANDBOX_DIR/$1" tags=$2
    local pg_port=$((PG_BASE + i)) api=$((API_BASE + i))
    # fast timings by default; SANDBOX_SLOW=1 writes Patroni's own defaults (30/10/10)
    local ttl=20 loop_wait=2 retry_timeout=5
    if [[ ${SANDBOX_SLOW:-0} == 1 ]]; then
        ttl=30 loop_wait=10 retry_timeout=10
    fi
    {
        cat <<EOF
scope: $SCOPE
namespace: /service/
name: $node
restapi:
  listen: 127.0.0.1:$api
  connect_address: 127.0.0.1:$api
  authentication:
    username: admin
    password: admin
EOF
        if [[ $TLS == 1 ]]; then
            cat <<EOF
  certfile: $TLS_DIR/server.crt
  keyfile: $TLS_DIR/server.key
  cafile: $TLS_DIR/ca.crt
  verify_client: required
ctl:
  cacert: $TLS_DIR/ca.crt
  certfile: $TLS_DIR/client.crt
  keyfile: $TLS_DIR/client.key
EOF
        fi
        if [[ $TLS == selfsigned ]]; then
            # ctl: Patroni's own calls to the other members' REST APIs (switchover candidates) need a
            # client certificate too; patronictl's side does not read this file in this mode.
            cat <<EOF
  certfile: $TLS_DIR/server.crt
  keyfile: $TLS_DIR/server.key
  cafile: $TLS_DIR/server.crt
  verify_client: required
ctl:
  certfile: $TLS_DIR/server.crt
  keyfile: $TLS_DIR/server.key
EOF
        fi
        if [[ $DCS == zookeeper ]]; then
            printf 'zookeeper:\n  hosts: [%s]\n' "'$ZK_HOSTS'"
        else
            printf '%s:\n  hosts: %s\n' "$DCS" "$ETCD_HOSTS"
        fi
        if [[ $TLS == 1 ]]; then
            printf '  protocol: https\n  cacert: %s\n  cert: %s\n  key: %s\n' \
                "$TLS_DIR/ca.crt" "$TLS_DIR/client.crt" "$TLS_DIR/client.key"
        fi
        if [[ $ETCD_AUTH == 1 ]]; then
            printf '  username: root\n  password: %s\n' "$ETCD_ROOT_PASSWORD"
        fi
        cat <<EOF
bootstrap:
  dcs:
    ttl: $ttl
    loop_wait: $loop_wait
    retry_timeout: $retry_timeout
    maximum_lag_on_failover: 1048576
EOF
        if [[ -n ${SANDBOX_STANDBY_OF:-} ]]; then
            printf '    standby_cluster:\n      host: %s\n      port: %s\n      create_replica_methods: [basebackup]\n' \
                "${SANDBOX_STANDBY_OF%:*}" "${SANDBOX_STANDBY_OF##*:}"
        fi
        cat <<EOF
    postgresql:
      use_pg_rewind: true
      use_slots: true
      parameters:
        hot_standby: 'on'
        max_connections: 100
        max_replication_slots: 10
        max_wal_senders: 10
        wal_level: replica
        wal_log_hints: 'on'
  initdb:
  - encoding: UTF8
  - data-checksums
postgresql:
  listen: 127.0.0.1:$pg_port
  connect_address: 127.0.0.1:$pg_port
  data_dir: $dir/data
  bin_dir: $PG_BIN
  pgpass: $dir/pgpass
  authentication:
    superuser:
      username: postgres
      password: postgres
    replication:
      username: replicator
      password: rep-pass
    rewind:
      username: rewind_user
      password: rewind-pass
  parameters:
    unix_socket_directories: '$dir'
    shared_buffers: 16MB
EOF
        if [[ $TLS == selfsigned ]]; then
            cat <<EOF
    ssl: 'on'
    ssl_cert_file: $TLS_DIR/server.crt
    ssl_key_file: $TLS_DIR/server.key
    ssl_ca_file: $TLS_DIR/server.crt
  use_unix_socket: true
  pg_hba:
  - local all all trust
  - host replication replicator 127.0.0.1/32 md5
  - host all rewind_user 127.0.0.1/32 md5
  - hostssl all all 127.0.0.1/32 md5 clientcert=verify-ca
EOF
        else
            cat <<EOF
  pg_hba:
  - local all all trust
  - host all all 127.0.0.1/32 md5
  - host replication replicator 127.0.0.1/32 md5
EOF
        fi
        if [[ -n $tags ]]; then printf 'tags: %s\n' "$tags"; fi
    } >"$dir/patroni.yml"
    chown postgres:postgres "$dir/patroni.yml"
    chmod 0600 "$dir/patroni.yml"
}

# cluster_health N JSON: exit 0 if healthy; prints a one-line summary either way.
cluster_health() {
    "$PY" - "$1" "$2" <<'EOF'
import json, sys
n = int(sys.argv[1])
try:
    members = json.loads(sys.argv[2]).get('members', [])
except Exception:
    print('no /cluster answer yet'); sys.exit(1)
leaders = [m for m in members if (m.get('role'), m.get('state')) in (('leader', 'running'), ('standby_leader', 'running'), ('standby_leader', 'streaming'))]
streaming = [m for m in members if m.get('role') not in ('leader', 'standby_leader') and m.get('state') == 'streaming']
print(', '.join('%s=%s/%s' % (m.get('name'), m.get('role'), m.get('state')) for m in members) or 'no members yet')
sys.exit(0 if len(members) == n and len(leaders) == 1 and len(streaming) == n - 1 else 1)
EOF
}

# etcd_pid K: prints member K's PID if it is alive.
etcd_pid() {
    local pid
    pid=$(read_pid "$(etcd_pidfile "$1")")
    [[ -n $pid ]] && pid_alive "$pid" "$(etcd_needle "$1")" && printf '%s\n' "$pid"
}

# Every etcd member directory that exists (1 2 ...), whatever the recorded settings say.
etcd_members_present() {
    local k
    for ((k = 1; k <= 9; k++)); do
        if [[ -d $(etcd_dir "$k") ]]; then printf '%s\n' "$k"; fi
    done
}

any_alive() {
    local node pid k
    zk_pid >/dev/null && return 0
    while read -r k; do
        etcd_pid "$k" >/dev/null && return 0
    done < <(etcd_members_present)
    while read -r node; do
        [[ -n $node ]] || continue
        pid=$(read_pid "$SANDBOX_DIR/$node/patroni.pid")
        [[ -n $pid ]] && pid_alive "$pid" "$(patroni_needle "$node")" && return 0
        postmaster_pid "$node" >/dev/null && return 0
    done < <(node_dirs)
    return 1
}

# make_tls: a throw-away CA, a server certificate for 127.0.0.1/localhost (etcd and the REST APIs), a client
# certificate (etcdctl, Patroni's etcd client, patronictl), and an unrelated CA for negative tests.
make_tls() {
    local d=$TLS_DIR
    mkdir -p "$d"
    log "making a CA and certificates in $d (openssl)"
    (
        cd "$d"
        openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=patctl sandbox CA" \
            -keyout ca.key -out ca.crt -addext "basicConstraints=critical,CA:TRUE" \
            -addext "keyUsage=critical,keyCertSign,cRLSign"
        openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=unrelated CA" \
            -keyout other-ca.key -out other-ca.crt -addext "basicConstraints=critical,CA:TRUE"
        printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" "extendedKeyUsage=serverAuth,clientAuth" \
            "basicConstraints=CA:FALSE" >server.ext
        printf '%s\n' "extendedKeyUsage=clientAuth" "basicConstraints=CA:FALSE" >client.ext
        openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout server.key -out server.csr
        openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 \
            -extfile server.ext -out server.crt
        # no CN: with auth on, etcd's JSON gateway (Patroni's etcd3 client) refuses client certificates with one
        openssl req -newkey rsa:2048 -nodes -subj "/O=patctl sandbox/OU=client" -keyout client.key -out client.csr
        openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 \
            -extfile client.ext -out client.crt
        rm -f ./*.csr ./*.ext ./*.srl
    ) >"$d/openssl.log" 2>&1 || { cat "$d/openssl.log" >&2; die "openssl failed"; }
    # Patroni runs as postgres and must read the keys; nobody else needs to.
    chown root:postgres "$d"/*.key "$d"/*.crt
    chmod 0640 "$d"/*.key
    chmod 0644 "$d"/*.crt
    chmod 0755 "$d"
}

# make_tls_selfsigned: the reproduction's one self-signed certificate (CA:TRUE, SAN IP:127.0.0.1) for the REST
# APIs and PostgreSQL, plus an unrelated one, an expired one and an encrypted copy of the key for negative tests.
make_tls_selfsigned() {
    local d=$TLS_DIR
    mkdir -p "$d"
    log "making a self-signed certificate in $d (openssl)"
    (
        cd "$d"
        openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=batman.patroni \
            -addext subjectAltName=IP:127.0.0.1 -keyout server.key -out server.crt
        openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=robin.patroni \
            -addext subjectAltName=IP:127.0.0.1 -keyout other.key -out other.crt
        # expired: `openssl ca` is the 3.0 tool that takes explicit dates
        mkdir -p ca-db
        : >ca-db/index.txt
        printf '01\n' >ca-db/serial
        printf '%s\n' '[ca]' 'default_ca = x' '[x]' "dir = $d/ca-db" 'database = $dir/index.txt' \
            'new_certs_dir = $dir' 'serial = $dir/serial' 'default_md = sha256' 'policy = p' \
            'copy_extensions = copy' '[p]' 'commonName = supplied' >ca-db/ca.cnf
        openssl req -new -newkey rsa:2048 -nodes -subj /CN=expired.patroni \
            -addext subjectAltName=IP:127.0.0.1 -keyout expired.key -out expired.csr
        openssl ca -batch -config ca-db/ca.cnf -selfsign -keyfile expired.key -in expired.csr \
            -startdate 20200101000000Z -enddate 20200102000000Z -notext -out expired.crt
        printf '%s' sandbox-key-pass >key-password
        openssl pkey -in server.key -aes256 -passout file:key-password -out server-enc.key
        rm -rf ca-db expired.csr
    ) >"$d/openssl.log" 2>&1 || { cat "$d/openssl.log" >&2; die "openssl failed"; }
    # PostgreSQL wants its key owned by its user and private; Patroni (postgres) reads the same files.
    chown postgres:postgres "$d"/*.key "$d"/*.crt "$d/key-password"
    chmod 0600 "$d"/*.key
    chmod 0644 "$d"/*.crt
    chmod 0755 "$d"
}

# etcd_spawn K: start etcd member K (a new member, or an existing data dir on restart).
etcd_spawn() {
    local k=$1 i dir peers=()
    dir=$(etcd_dir "$k")
    for ((i = 1; i <= ETCD_MEMBERS; i++)); do
        peers+=("$(etcd_name "$i")=http://127.0.0.1:$(etcd_peer_port "$i")")
    done
    local args=(
        /usr/bin/etcd --name "$(etcd_name "$k")" --data-dir "$dir/data"
        --listen-client-urls "$(etcd_url "$k")" --advertise-client-urls "$(etcd_url "$k")"
        --listen-peer-urls "http://127.0.0.1:$(etcd_peer_port "$k")"
        --initial-advertise-peer-urls "http://127.0.0.1:$(etcd_peer_port "$k")"
        --initial-cluster "$(IFS=,; printf '%s' "${peers[*]}")"
        --initial-cluster-state new --initial-cluster-token "patctl-sandbox-$ETCD_PORT"
    )
    [[ $DCS == etcd ]] && args+=(--enable-v2=true)
    if [[ $TLS == 1 ]]; then
        args+=(--cert-file "$TLS_DIR/server.crt" --key-file "$TLS_DIR/server.key"
            --trusted-ca-file "$TLS_DIR/ca.crt" --client-cert-auth)
    fi
    log "starting etcd member $k ($(etcd_name "$k")) on $(etcd_url "$k") (peer $(etcd_peer_port "$k"))"
    spawn "$(etcd_pidfile "$k")" "$dir/etcd.log" "$SANDBOX_DIR" "${args[@]}"
}

# etcd_wait_healthy K SECONDS: wait until member K answers /health with a leader elected.
etcd_wait_healthy() {
    local k=$1 deadline=$((SECONDS + $2)) dir tls_args=()
    dir=$(etcd_dir "$k")
    mapfile -t tls_args < <(tls_curl_args)
    until curl -fsS --max-time 2 "${tls_args[@]}" "$(etcd_url "$k")/health" 2>/dev/null | grep >/dev/null '"health":"true"'; do
        ((SECONDS < deadline)) || { tail -n 20 "$dir/etcd.log" >&2; die "etcd member $k did not become healthy"; }
        etcd_pid "$k" >/dev/null || { tail -n 20 "$dir/etcd.log" >&2; die "etcd member $k exited"; }
        sleep 0.2
    done
}

# zk_pid: prints ZooKeeper's PID if it is alive (and its command line names this sandbox's zoo.cfg).
zk_pid() {
    local pid
    pid=$(read_pid "$SANDBOX_DIR/zookeeper.pid")
    [[ -n $pid ]] && pid_alive "$pid" "$SANDBOX_DIR/zookeeper/zoo.cfg" && printf '%s\n' "$pid"
}

# zk_write_cfg: a standalone server (no server.N lines) on 127.0.0.1:$ZK_PORT, admin HTTP server off.
zk_write_cfg() {
    mkdir -p "$ZK_DIR/data"
    cat >"$ZK_DIR/zoo.cfg" <<EOF
tickTime=2000
dataDir=$ZK_DIR/data
clientPort=$ZK_PORT
clientPortAddress=127.0.0.1
admin.enableServer=false
EOF
}

zk_spawn() {
    log "starting ZooKeeper on 127.0.0.1:$ZK_PORT (java, $ZK_DIR/zoo.cfg)"
    spawn "$SANDBOX_DIR/zookeeper.pid" "$ZK_DIR/zookeeper.log" "$ZK_DIR" \
        java "${ZK_JVM_FLAGS[@]}" -cp "$ZK_CLASSPATH" "$ZK_MAIN" "$ZK_DIR/zoo.cfg"
}

# zk_srvr: the server's answer to the four-letter word `srvr` (empty when it does not answer in 2 s).
zk_srvr() {
    timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" && printf srvr >&3 && cat <&3' zk-srvr "$ZK_PORT" 2>/dev/null || true
}

# zk_wait_ready SECONDS: wait until ZooKeeper answers `srvr` with its mode.
zk_wait_ready() {
    local deadline=$((SECONDS + $1))
    until zk_srvr | grep >/dev/null '^Mode: '; do
        ((SECONDS < deadline)) || { tail -n 20 "$ZK_DIR/zookeeper.log" >&2; die "ZooKeeper did not answer srvr"; }
        zk_pid >/dev/null || { tail -n 20 "$ZK_DIR/zookeeper.log" >&2; die "ZooKeeper exited"; }
        sleep 0.2
    done
}

# etcd_enable_auth: user root with a password, then authentication on (v3 or v2 API, as the nodes use).
etcd_enable_auth() {
    local api=v3
    [[ $DCS == etcd ]] && api=v2
    log "enabling etcd authentication (user root) on the $api API"
    if [[ $DCS == etcd3 ]]; then
        etcdctl_v3 noauth user add "root" --new-user-password="$ETCD_ROOT_PASSWORD" >/dev/null ||
            die "etcdctl user add root failed"
        etcdctl_v3 noauth auth enable >/dev/null || die "etcdctl auth enable failed"
    else
        # the v2 auth API; the guest role keeps full access unless it is revoked
        local base=$ETCD_URL/v2/auth tls_args=()
        mapfile -t tls_args < <(tls_curl_args)
        curl -fsS --max-time 5 "${tls_args[@]}" -X PUT "$base/users/root" \
            -d "{\"user\":\"root\",\"password\":\"$ETCD_ROOT_PASSWORD\"}" >/dev/null || die "v2 user add root failed"
        curl -fsS --max-time 5 "${tls_args[@]}" -X PUT "$base/enable" >/dev/null || die "v2 auth enable failed"
        curl -fsS --max-time 5 "${tls_args[@]}" -u "root:$ETCD_ROOT_PASSWORD" -X PUT "$base/roles/guest" \
            -d '{"role":"guest","revoke":{"kv":{"read":["/*"],"write":["/*"]}}}' >/dev/null ||
            die "v2 revoking the guest role failed"
    fi
}

cmd_up() {
    local t0=$SECONDS
    ((EUID == 0)) || die "up must run as root (Patroni is started as the postgres user via setpriv)"
    check_sandbox_dir
    if [[ -d $SANDBOX_DIR ]] && any_alive; then
        if [[ ${SANDBOX_FORCE:-0} == 1 ]]; then
            log "SANDBOX_FORCE=1: stopping the running sandbox in $SANDBOX_DIR first"
            cmd_down
        else
            die "sandbox already running in $SANDBOX_DIR (use '$0 down' first, or SANDBOX_FORCE=1)"
        fi
    fi
    load_settings
    [[ -z ${SANDBOX_STANDBY_OF:-} || $SANDBOX_STANDBY_OF =~ ^[^:]+:[0-9]+$ ]] ||
        die "SANDBOX_STANDBY_OF must be HOST:PORT (got '$SANDBOX_STANDBY_OF')"
    local p needed=("$PY" "$NODE_VENV/bin/patroni" "$PG_BIN/initdb")
    if [[ $DCS == zookeeper ]]; then
        [[ -f ${ZK_CLASSPATH%%:*} ]] || die "${ZK_CLASSPATH%%:*} is missing; run '$0 install' first"
        command -v java >/dev/null 2>&1 || die "java is missing; run '$0 install' first"
        "$PY" -c 'import kazoo' 2>/dev/null || die "kazoo is missing in $VENV; run '$0 install' first"
    else
        needed+=(/usr/bin/etcd /usr/bin/etcdctl)
    fi
    for p in "${needed[@]}"; do
        [[ -x $p ]] || die "$p is missing; run '$0 install' first (SANDBOX_PATRONI_VERSION: '$0 install-version V')"
    done
    id postgres >/dev/null 2>&1 || die "OS user 'postgres' is missing; run '$0 install' first"
    command -v curl >/dev/null 2>&1 || die "curl is missing; run '$0 install' first"
    if [[ $TLS != 0 ]]; then
        command -v openssl >/dev/null 2>&1 || die "openssl is missing; run '$0 install' first"
    fi

    # ports: all distinct and all free
    local -A seen=()
    local ports=() i
    if [[ $DCS == zookeeper ]]; then
        ports+=("$ZK_PORT")
    else
        for ((i = 1; i <= ETCD_MEMBERS; i++)); do ports+=("$(etcd_client_port "$i")" "$(etcd_peer_port "$i")"); done
    fi
    for ((i = 1; i <= NODES; i++)); do ports+=($((PG_BASE + i)) $((API_BASE + i))); done
    for p in "${ports[@]}"; do
        [[ -z ${seen[$p]:-} ]] || die "port $p would be used twice (check SANDBOX_ETCD_PORT/ZK_PORT/PG_BASE/API_BASE)"
        seen[$p]=1
        port_in_use "$p" && die "port $p is already listening (another sandbox or service?); pick other SANDBOX_*_PORT/BASE values"
    done

    # tags from SANDBOX_TAGS_nodeI, validated before anything starts
    local -a tags=()
    local var raw parsed
    for ((i = 1; i <= NODES; i++)); do
        var="SANDBOX_TAGS_node$i"
        raw=${!var:-}
        tags[i]=""
        if [[ -n $raw ]]; then
            parsed=$(tags_parse "$raw") || die "$var: cannot use '$raw'"
            tags[i]=${parsed%%$'\n'*}
        fi
    done

    local where="etcd=$ETCD_HOSTS"
    [[ $DCS == zookeeper ]] && where="zookeeper=$ZK_HOSTS"
    log "preparing $SANDBOX_DIR (nodes=$NODES scope=$SCOPE dcs=$DCS $where tls=$TLS auth=$ETCD_AUTH pg=$((PG_BASE + 1)).. api=$((API_BASE + 1))..)"
    rm -rf "$SANDBOX_DIR"
    mkdir -p "$SANDBOX_DIR"
    chmod 0755 "$SANDBOX_DIR"
    : >"$SANDBOX_DIR/$MARKER"
    save_settings
    [[ $TLS == 1 ]] && make_tls
    [[ $TLS == selfsigned ]] && make_tls_selfsigned
    for ((i = 1; i <= NODES; i++)); do
        mkdir -p "$SANDBOX_DIR/node$i"
        write_patroni_yml "node$i" "${tags[i]}"
        chown postgres:postgres "$SANDBOX_DIR/node$i"
        chmod 0755 "$SANDBOX_DIR/node$i"
    done
    setpriv --reuid=postgres --regid=postgres --init-groups test -w "$SANDBOX_DIR/node1" ||
        die "the postgres user cannot write $SANDBOX_DIR/node1 (is a parent directory closed to it?)"

    if [[ $DCS == zookeeper ]]; then
        zk_write_cfg
        zk_spawn
        zk_wait_ready 30
    else
        for ((i = 1; i <= ETCD_MEMBERS; i++)); do
            mkdir -p "$(etcd_dir "$i")"
            etcd_spawn "$i"
        done
        for ((i = 1; i <= ETCD_MEMBERS; i++)); do
            etcd_wait_healthy "$i" 30
        done
        [[ $ETCD_AUTH == 1 ]] && etcd_enable_auth
    fi

    local node
    for ((i = 1; i <= NODES; i++)); do
        node="node$i"
        log "starting $node (pg 127.0.0.1:$((PG_BASE + i)), api 127.0.0.1:$((API_BASE + i)))${tags[i]:+ tags ${tags[i]}}"
        patroni_spawn "$node"
        ((i == 1 && NODES > 1)) && sleep 1 # let node1 win the initialize race
    done

    local timeout=${SANDBOX_TIMEOUT:-120} summary last="" json tls_args=()
    mapfile -t tls_args < <(api_curl_args)
    is_uint "$timeout" || die "SANDBOX_TIMEOUT must be an integer"
    deadline=$((SECONDS + timeout))
    log "waiting (up to ${timeout}s) for 1 leader + $((NODES - 1)) streaming replicas"
    while :; do
        json=""
        for ((i = 1; i <= NODES; i++)); do
            json=$(curl -fsS --max-time 3 "${tls_args[@]}" "$API_SCHEME://127.0.0.1:$((API_BASE + i))/cluster" 2>/dev/null) && break
        done
        if summary=$(cluster_health "$NODES" "$json"); then
            log "healthy: $summary"
            break
        fi
        if [[ $summary != "$last" ]]; then log "  $summary"; last=$summary; fi
        if ((SECONDS >= deadline)); then
            for ((i = 1; i <= NODES; i++)); do
                printf '==== node%s: tail of %s\n' "$i" "$SANDBOX_DIR/node$i/patroni.log" >&2
                tail -n 25 "$SANDBOX_DIR/node$i/patroni.log" >&2 || true
            done
            die "cluster not healthy after ${timeout}s (processes left running; '$0 down' stops them)"
        fi
        sleep 0.5
    done
    log "up in $((SECONDS - t0)) s; try: patronictl -c $SANDBOX_DIR/node1/patroni.yml list"
}

# ---------------------------------------------------------------- down

# wait_gone SECONDS PID...: returns 0 when all are gone, 1 on timeout.
wait_gone() {
    local limit=$1 pid left
    shift
    local deadline=$((SECONDS + limit))
    while :; do
        left=0
        for pid in "$@"; do
            [[ -r /proc/$pid/stat ]] && [[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || true) != Z ]] && left=1
        done
        ((left)) || return 0
        ((SECONDS < deadline)) || return 1
        sleep 0.2
    done
}

# etcd_stop K: stop member K by its PID (SIGTERM, then SIGKILL after 15 s); returns 1 if it was not running.
etcd_stop() {
    local k=$1 pid
    if pid=$(etcd_pid "$k"); then
        log "stopping etcd member $k (pid $pid, SIGTERM)"
        kill -TERM "$pid" 2>/dev/null || true
        if ! wait_gone 15 "$pid"; then
            log "etcd $pid still alive: SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            wait_gone 5 "$pid" || true
        fi
        rm -f "$(etcd_pidfile "$k")"
        return 0
    fi
    rm -f "$(etcd_pidfile "$k")"
    return 1
}

# zk_stop: stop this sandbox's ZooKeeper by its PID (SIGTERM, then SIGKILL after 15 s); 1 if not running.
zk_stop() {
    local pid
    if pid=$(zk_pid); then
        log "stopping ZooKeeper (pid $pid, SIGTERM)"
        kill -TERM "$pid" 2>/dev/null || true
        if ! wait_gone 15 "$pid"; then
            log "ZooKeeper $pid still alive: SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            wait_gone 5 "$pid" || true
        fi
        rm -f "$SANDBOX_DIR/zookeeper.pid"
        return 0
    fi
    rm -f "$SANDBOX_DIR/zookeeper.pid"
    return 1
}

cmd_down() {
    local t0=$SECONDS node pid pids=() stopped=0
    [[ -d $SANDBOX_DIR ]] || { log "nothing to stop: $SANDBOX_DIR does not exist"; return 0; }
    while read -r node; do
        [[ -n $node ]] || continue
        pid=$(read_pid "$SANDBOX_DIR/$node/patroni.pid")
        if [[ -n $pid ]] && pid_alive "$pid" "$(patroni_needle "$node")"; then
            log "stopping $node patroni (pid $pid, SIGTERM)"
            kill -TERM "$pid" 2>/dev/null || true
            pids+=("$pid")
        fi
    done < <(node_dirs)
    if ((${#pids[@]})); then
        if ! wait_gone 40 "${pids[@]}"; then
            for pid in "${pids[@]}"; do
                if pid_alive "$pid" patroni; then
                    log "patroni pid $pid still alive after 40 s: SIGKILL"
                    kill -KILL "$pid" 2>/dev/null || true
                fi
            done
            wait_gone 10 "${pids[@]}" || true
        fi
        stopped=$((stopped + ${#pids[@]}))
    fi
    while read -r node; do
        [[ -n $node ]] || continue
        if [[ -f $SANDBOX_DIR/$node/patroni.pid ]]; then
            pid=$(read_pid "$SANDBOX_DIR/$node/patroni.pid")
            pid_alive "$pid" patroni || rm -f "$SANDBOX_DIR/$node/patroni.pid"
        fi
    done < <(node_dirs)

    pids=()
    while read -r node; do
        [[ -n $node ]] || continue
        if pid=$(postmaster_pid "$node"); then
            log "stopping orphaned $node postmaster (pid $pid, SIGQUIT)"
            kill -QUIT "$pid" 2>/dev/null || true
            pids+=("$pid")
        fi
    done < <(node_dirs)
    if ((${#pids[@]})); then
        if ! wait_gone 15 "${pids[@]}"; then
            for pid in "${pids[@]}"; do
                pid_alive "$pid" postgres && { log "postmaster $pid still alive: SIGKILL"; kill -KILL "$pid" 2>/dev/null || true; }
            done
            wait_gone 5 "${pids[@]}" || true
        fi
        stopped=$((stopped + ${#pids[@]}))
    fi

    local k
    while read -r k; do
        etcd_stop "$k" && stopped=$((stopped + 1))
    done < <(etcd_members_present)
    zk_stop && stopped=$((stopped + 1))
    if ((stopped)); then
        log "down: stopped $stopped process(es) in $((SECONDS - t0)) s (data and logs kept in $SANDBOX_DIR)"
    else
        log "down: nothing was running in $SANDBOX_DIR"
    fi
}

# ---------------------------------------------------------------- status / env

cmd_status() {
    [[ -f $SANDBOX_DIR/$STATE_FILE_NAME ]] || { log "no sandbox in $SANDBOX_DIR"; exit 1; }
    load_settings recorded
    local bad=0 pid i node name
    if [[ $DCS == zookeeper ]]; then
        if pid=$(zk_pid); then
            printf '%-6s %-8s alive  pid %s  127.0.0.1:%s\n' zk zookeeper "$pid" "$ZK_PORT"
        else
            printf '%-6s %-8s dead\n' zk zookeeper; bad=1
        fi
    fi
    for ((i = 1; i <= ETCD_MEMBERS; i++)); do
        [[ $DCS == zookeeper ]] && break
        name=etcd
        ((i > 1)) && name=etcd$i
        if pid=$(etcd_pid "$i"); then
            printf '%-6s %-8s alive  pid %s  %s\n' "$name" etcd "$pid" "$(etcd_url "$i")"
        else
            printf '%-6s %-8s dead\n' "$name" etcd; bad=1
        fi
    done
    for ((i = 1; i <= NODES; i++)); do
        node="node$i"
        pid=$(read_pid "$SANDBOX_DIR/$node/patroni.pid")
        if [[ -n $pid ]] && pid_alive "$pid" "$(patroni_needle "$node")"; then
            printf '%-6s %-8s alive  pid %s  api %s://127.0.0.1:%s\n' "$node" patroni "$pid" "$API_SCHEME" $((API_BASE + i))
        else
            printf '%-6s %-8s dead\n' "$node" patroni; bad=1
        fi
        if pid=$(postmaster_pid "$node"); then
            printf '%-6s %-8s alive  pid %s  127.0.0.1:%s\n' "$node" postgres "$pid" $((PG_BASE + i))
        else
            printf '%-6s %-8s dead\n' "$node" postgres; bad=1
        fi
    done
    return "$bad"
}

cmd_env() {
    load_settings recorded
    printf 'export SANDBOX_DIR=%q\n' "$SANDBOX_DIR"
    printf 'export PATCTL_TEST_CONFIG=%q\n' "$SANDBOX_DIR/node1/patroni.yml"
    printf 'export SANDBOX_ETCD_URL=%q\n' "$ETCD_URL"
    printf 'export SANDBOX_ETCD_PORT=%q\n' "$ETCD_PORT"
    printf 'export SANDBOX_API_BASE=%q\n' "$API_BASE"
    printf 'export SANDBOX_PG_BASE=%q\n' "$PG_BASE"
    printf 'export SANDBOX_NODES=%q\n' "$NODES"
    printf 'export SANDBOX_SCOPE=%q\n' "$SCOPE"
    printf 'export SANDBOX_DCS=%q\n' "$DCS"
    printf 'export SANDBOX_ETCD_MEMBERS=%q\n' "$ETCD_MEMBERS"
    printf 'export SANDBOX_ETCD_ENDPOINTS=%q\n' "$ETCD_ENDPOINTS"
    printf 'export SANDBOX_TLS=%q\n' "$TLS"
    printf 'export SANDBOX_ETCD_AUTH=%q\n' "$ETCD_AUTH"
    printf 'export SANDBOX_ZK_PORT=%q\n' "$ZK_PORT"
    printf 'export SANDBOX_ZK_HOSTS=%q\n' "$ZK_HOSTS"
    if [[ $TLS == 1 ]]; then
        printf 'export SANDBOX_TLS_DIR=%q\n' "$TLS_DIR"
        printf 'export ETCDCTL_CACERT=%q ETCDCTL_CERT=%q ETCDCTL_KEY=%q\n' \
            "$TLS_DIR/ca.crt" "$TLS_DIR/client.crt" "$TLS_DIR/client.key"
    else
        printf 'unset SANDBOX_TLS_DIR ETCDCTL_CACERT ETCDCTL_CERT ETCDCTL_KEY\n'
    fi
    if [[ $ETCD_AUTH == 1 ]]; then
        printf 'export SANDBOX_ETCD_PASSWORD=%q ETCDCTL_USER=%q\n' "$ETCD_ROOT_PASSWORD" "root:$ETCD_ROOT_PASSWORD"
    else
        printf 'unset SANDBOX_ETCD_PASSWORD ETCDCTL_USER\n'
    fi
    if [[ $TLS == selfsigned ]]; then
        # the reproduction: patronictl configured by environment only
        local host_var=PATRONI_ETCD3_HOST
        [[ $DCS == etcd ]] && host_var=PATRONI_ETCD_HOST
        printf 'export SANDBOX_TLS_DIR=%q\n' "$TLS_DIR"
        printf 'export PATRONI_RESTAPI_CAFILE=%q PATRONI_CTL_CERTFILE=%q PATRONI_CTL_KEYFILE=%q PATRONI_CTL_INSECURE=on\n' \
            "$TLS_DIR/server.crt" "$TLS_DIR/server.crt" "$TLS_DIR/server.key"
        printf 'export PATRONI_RESTAPI_USERNAME=admin PATRONI_RESTAPI_PASSWORD=admin %s=%q PATRONI_SCOPE=%q\n' \
            "$host_var" "127.0.0.1:$ETCD_PORT" "$SCOPE"
        printf 'export PGSSLMODE=verify-full PGSSLROOTCERT=%q PGSSLCERT=%q PGSSLKEY=%q PGPASSWORD=postgres\n' \
            "$TLS_DIR/server.crt" "$TLS_DIR/server.crt" "$TLS_DIR/server.key"
    else
        printf 'unset PATRONI_RESTAPI_CAFILE PATRONI_CTL_CERTFILE PATRONI_CTL_KEYFILE PATRONI_CTL_INSECURE\n'
        printf 'unset PATRONI_RESTAPI_USERNAME PATRONI_RESTAPI_PASSWORD PATRONI_ETCD3_HOST PATRONI_ETCD_HOST PATRONI_SCOPE\n'
        printf 'unset PGSSLMODE PGSSLROOTCERT PGSSLCERT PGSSLKEY PGPASSWORD\n'
    fi
}

# ---------------------------------------------------------------- tag

member_key_value() {
    local key="/service/$SCOPE/members/$1"
    if [[ $DCS == zookeeper ]]; then
        "$PY" - "$ZK_HOSTS" "$key" <<'EOF' 2>/dev/null
import sys
from kazoo.client import KazooClient
zk = KazooClient(hosts=sys.argv[1], timeout=5)
zk.start(timeout=5)
try:
    print(zk.get(sys.argv[2])[0].decode())
finally:
    zk.stop()
EOF
    elif [[ $DCS == etcd3 ]]; then
        etcdctl_v3 get --print-value-only "$key" 2>/dev/null
    else
        etcdctl_v2 get "$key" 2>/dev/null
    fi
}

cmd_tag() {
    (($# == 2)) || die "usage: $0 tag NODE 'YAML-flow-map'   (e.g. '{nofailover: true}', '{}' clears)"
    local node=$1 raw=$2 t0=$SECONDS
    load_settings recorded
    [[ $node =~ ^node[0-9]+$ && -f $SANDBOX_DIR/$node/patroni.yml ]] || die "no such node: $node (in $SANDBOX_DIR)"
    local pid parsed flow expected
    pid=$(read_pid "$SANDBOX_DIR/$node/patroni.pid")
    if [[ -z $pid ]] || ! pid_alive "$pid" "$(patroni_needle "$node")"; then
        die "$node's Patroni is not running"
    fi
    parsed=$(tags_parse "$raw") || die "cannot use '$raw' as tags"
    flow=${parsed%%$'\n'*}
    expected=${parsed#*$'\n'}

    local yml="$SANDBOX_DIR/$node/patroni.yml" tmp
    tmp=$(mktemp "$SANDBOX_DIR/$node/.patroni.yml.XXXXXX")
    # drop the old top-level `tags:` key (and its indented continuation lines), append the new one
    awk '/^tags:/ {skip = 1; next} skip && /^[[:space:]]/ {next} {skip = 0; print}' "$yml" >"$tmp"
    printf 'tags: %s\n' "$flow" >>"$tmp"
    chown postgres:postgres "$tmp"
    chmod 0600 "$tmp"
    mv -f "$tmp" "$yml"
    log "$node: tags: $flow written to $yml"

    local code tls_args=()
    mapfile -t tls_args < <(api_curl_args)
    code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 5 "${tls_args[@]}" -u admin:admin -X POST \
        "$API_SCHEME://127.0.0.1:$(api_port "$node")/reload" 2>/dev/null || true)
    if [[ $code == 202 || $code == 200 ]]; then
        log "$node: POST /reload -> $code"
    else
        log "$node: POST /reload -> '$code'; sending SIGHUP to pid $pid instead"
        kill -HUP "$pid"
    fi

    local deadline=$((SECONDS + 30)) value
    while :; do
        value=$(member_key_value "$node" || true)
        if [[ -n $value ]] && "$PY" -c '
import json, sys
sys.exit(0 if json.loads(sys.argv[1]).get("tags", {}) == json.loads(sys.argv[2]) else 1)' "$value" "$expected"; then
            log "$node: member key shows tags $expected after $((SECONDS - t0)) s"
            return 0
        fi
        ((SECONDS < deadline)) || die "$node: member key still does not show tags $expected after 30 s: $value"
        sleep 0.3
    done
}

# ---------------------------------------------------------------- etcd-stop / etcd-start

etcd_member_arg() {
    if (($# != 1)) || ! [[ $1 =~ ^[1-9]$ ]] || (($1 > ETCD_MEMBERS)); then
        die "usage: $0 $SUB K   (K = etcd member 1..$ETCD_MEMBERS)"
    fi
}

cmd_etcd_stop() {
    load_settings recorded
    etcd_member_arg "$@"
    etcd_stop "$1" || log "etcd member $1 was not running"
}

cmd_etcd_start() {
    load_settings recorded
    etcd_member_arg "$@"
    local pid
    if pid=$(etcd_pid "$1"); then
        log "etcd member $1 is already running (pid $pid)"
        return 0
    fi
    port_in_use "$(etcd_client_port "$1")" && die "port $(etcd_client_port "$1") is taken by something else"
    etcd_spawn "$1"
    etcd_wait_healthy "$1" 30
    log "etcd member $1 is healthy"
}

# ---------------------------------------------------------------- node-stop / node-start

# patroni_spawn NODE: start NODE's Patroni as the postgres user (as `up` does).
patroni_spawn() {
    spawn "$SANDBOX_DIR/$1/patroni.pid" "$SANDBOX_DIR/$1/patroni.log" "$SANDBOX_DIR/$1" \
        setpriv --reuid=postgres --regid=postgres --init-groups \
        env -i PATH=/usr/bin:/bin HOME=/var/lib/postgresql LANG=C.UTF-8 LC_ALL=C.UTF-8 \
        "$NODE_VENV/bin/python3" "$NODE_VENV/bin/patroni" "$SANDBOX_DIR/$1/patroni.yml"
}

node_arg() {
    (($# == 1)) && [[ $1 =~ ^node[0-9]+$ ]] && [[ -f $SANDBOX_DIR/$1/patroni.yml ]] ||
        die "usage: $0 $SUB NODE   (NODE = node1..node$NODES)"
}

cmd_node_stop() {
    load_settings recorded
    node_arg "$@"
    local pid
    pid=$(read_pid "$SANDBOX_DIR/$1/patroni.pid")
    if [[ -z $pid ]] || ! pid_alive "$pid" "$(patroni_needle "$1")"; then
        log "$1's Patroni was not running"
        return 0
    fi
    log "stopping $1 patroni (pid $pid, SIGTERM; it stops PostgreSQL and deletes its member key)"
    kill -TERM "$pid" 2>/dev/null || true
    wait_gone 40 "$pid" || die "$1's Patroni (pid $pid) did not stop within 40 s"
}

cmd_node_start() {
    load_settings recorded
    node_arg "$@"
    local pid
    pid=$(read_pid "$SANDBOX_DIR/$1/patroni.pid")
    if [[ -n $pid ]] && pid_alive "$pid" "$(patroni_needle "$1")"; then
        log "$1's Patroni is already running (pid $pid)"
        return 0
    fi
    patroni_spawn "$1"
    log "started $1's Patroni (pid $(read_pid "$SANDBOX_DIR/$1/patroni.pid"))"
}

# ---------------------------------------------------------------- zk-stop / zk-start

zk_mode_only() {
    [[ $DCS == zookeeper ]] || die "$SUB: this sandbox runs etcd, not ZooKeeper"
}

cmd_zk_stop() {
    load_settings recorded
    zk_mode_only
    zk_stop || log "ZooKeeper was not running"
}

cmd_zk_start() {
    load_settings recorded
    zk_mode_only
    local pid
    if pid=$(zk_pid); then
        log "ZooKeeper is already running (pid $pid)"
        return 0
    fi
    port_in_use "$ZK_PORT" && die "port $ZK_PORT is taken by something else"
    zk_spawn
    zk_wait_ready 30
    log "ZooKeeper answers on 127.0.0.1:$ZK_PORT"
}

# ---------------------------------------------------------------- clean / main

cmd_clean() {
    check_sandbox_dir
    cmd_down
    if [[ -d $SANDBOX_DIR ]]; then
        any_alive && die "something in $SANDBOX_DIR is still running; not removing it"
        rm -rf "$SANDBOX_DIR"
        log "removed $SANDBOX_DIR"
    fi
}

main() {
    SUB=${1:-}
    local sub=$SUB
    (($#)) && shift
    case $sub in
        install) cmd_install ;;
        install-version) cmd_install_version "$@" ;;
        up) cmd_up ;;
        down) cmd_down ;;
        status) cmd_status ;;
        env) cmd_env ;;
        tag) cmd_tag "$@" ;;
        etcd-stop) cmd_etcd_stop "$@" ;;
        etcd-start) cmd_etcd_start "$@" ;;
        node-stop) cmd_node_stop "$@" ;;
        node-start) cmd_node_start "$@" ;;
        zk-stop) cmd_zk_stop ;;
        zk-start) cmd_zk_start ;;
        clean) cmd_clean ;;
        -h | --help | help) usage ;;
        *) usage; exit 2 ;;
    esac
}

main "$@"
