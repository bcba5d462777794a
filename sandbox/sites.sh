#!/usr/bin/env bash
# sandbox/sites.sh - two Patroni sites on one machine for disaster-recovery tests: site A, an ordinary
# cluster, and site B, a Patroni *standby cluster* replicating from site A's leader. Each site is a
# sandbox/cluster.sh sandbox of its own (own directory, etcd, scope and ports); site B is started with
# SANDBOX_STANDBY_OF=127.0.0.1:<site A leader's PostgreSQL port>.
#
# Usage: sandbox/sites.sh up|down|env|status
#   up      start site A, wait until healthy, then site B as its standby cluster (about a minute)
#   down    stop site B, then site A (data and logs kept)
#   env     print `export` lines: SITES_DIR, SITE_A_DIR, SITE_B_DIR, SITE_A_CONFIG, SITE_B_CONFIG and
#           PATCTL_CONTEXTS (a contexts file with the contexts `site-a` and `site-b`), PGUSER/PGPASSWORD
#   status  cluster.sh status of both sites
#
# Environment (defaults in brackets): site A takes the usual SANDBOX_DIR [/tmp/patctl-sandbox],
#   SANDBOX_ETCD_PORT [2379], SANDBOX_PG_BASE [5432], SANDBOX_API_BASE [8008], SANDBOX_NODES [2];
#   SITES_DIR [$SANDBOX_DIR-sites] holds a/ and b/ (the two sandboxes) and contexts.yaml;
#   SITE_A_SCOPE [demo], SITE_B_SCOPE [demo-dr];
#   site B's ports: SITE_B_ETCD_PORT [A's + 10], SITE_B_PG_BASE [A's + 100], SITE_B_API_BASE [A's + 100].
# Try: eval "$(sandbox/sites.sh env)"; patctl site status --primary site-a --standby site-b
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cluster="$here/cluster.sh"

SANDBOX_DIR=${SANDBOX_DIR:-/tmp/patctl-sandbox}
SITES_DIR=${SITES_DIR:-${SANDBOX_DIR%/}-sites}
A_ETCD=${SANDBOX_ETCD_PORT:-2379}
A_PG=${SANDBOX_PG_BASE:-5432}
A_API=${SANDBOX_API_BASE:-8008}
NODES=${SANDBOX_NODES:-2}
A_SCOPE=${SITE_A_SCOPE:-demo}
B_SCOPE=${SITE_B_SCOPE:-demo-dr}
B_ETCD=${SITE_B_ETCD_PORT:-$((A_ETCD + 10))}
B_PG=${SITE_B_PG_BASE:-$((A_PG + 100))}
B_API=${SITE_B_API_BASE:-$((A_API + 100))}

log() { printf '[sites] %s\n' "$*" >&2; }

# site A|B ARGS...: cluster.sh for that site.
site() {
    local which=$1
    shift
    if [[ $which == A ]]; then
        env SANDBOX_DIR="$SITES_DIR/a" SANDBOX_ETCD_PORT="$A_ETCD" SANDBOX_PG_BASE="$A_PG" \
            SANDBOX_API_BASE="$A_API" SANDBOX_SCOPE="$A_SCOPE" SANDBOX_NODES="$NODES" SANDBOX_DCS=etcd3 \
            SANDBOX_TLS=0 SANDBOX_ETCD_AUTH=0 SANDBOX_ETCD_MEMBERS=1 SANDBOX_STANDBY_OF= bash "$cluster" "$@"
    else
        env SANDBOX_DIR="$SITES_DIR/b" SANDBOX_ETCD_PORT="$B_ETCD" SANDBOX_PG_BASE="$B_PG" \
            SANDBOX_API_BASE="$B_API" SANDBOX_SCOPE="$B_SCOPE" SANDBOX_NODES="$NODES" SANDBOX_DCS=etcd3 \
            SANDBOX_TLS=0 SANDBOX_ETCD_AUTH=0 SANDBOX_ETCD_MEMBERS=1 \
            SANDBOX_STANDBY_OF="127.0.0.1:$(a_leader_pg_port)" bash "$cluster" "$@"
    fi
}

# The PostgreSQL port of site A's leader, from its REST API (node1's when it cannot be asked).
a_leader_pg_port() {
    local i json port
    for ((i = 1; i <= NODES; i++)); do
        json=$(curl -fsS --max-time 3 "http://127.0.0.1:$((A_API + i))/cluster" 2>/dev/null) || continue
        port=$(printf '%s' "$json" | /opt/patroni-venv/bin/python3 -c '
import json, sys
for m in json.load(sys.stdin).get("members", []):
    if m.get("role") in ("leader", "standby_leader"):
        print(m.get("port")); break')
        if [[ -n $port ]]; then
            printf '%s' "$port"
            return 0
        fi
    done
    printf '%s' $((A_PG + 1))
}

write_contexts() {
    mkdir -p "$SITES_DIR"
    cat >"$SITES_DIR/contexts.yaml" <<EOF
# written by sandbox/sites.sh
contexts:
  site-a:
    config_file: $SITES_DIR/a/node1/patroni.yml
  site-b:
    config_file: $SITES_DIR/b/node1/patroni.yml
EOF
}

case ${1:-} in
    up)
        mkdir -p "$SITES_DIR"
        log "site A ($A_SCOPE): $SITES_DIR/a, etcd $A_ETCD, pg $((A_PG + 1)).., api $((A_API + 1)).."
        SANDBOX_FORCE=${SANDBOX_FORCE:-0} site A up
        log "site B ($B_SCOPE, standby of 127.0.0.1:$(a_leader_pg_port)): $SITES_DIR/b, etcd $B_ETCD, pg $((B_PG + 1)).., api $((B_API + 1)).."
        SANDBOX_FORCE=${SANDBOX_FORCE:-0} site B up
        write_contexts
        log "both sites up; eval \"\$($0 env)\" then: patctl site status --primary site-a --standby site-b"
        ;;
    down)
        site B down || true
        site A down
        ;;
    status)
        rc=0
        printf '== site A (%s)\n' "$A_SCOPE"
        site A status || rc=1
        printf '== site B (%s)\n' "$B_SCOPE"
        site B status || rc=1
        exit "$rc"
        ;;
    env)
        write_contexts
        printf 'export SITES_DIR=%q\n' "$SITES_DIR"
        printf 'export SITE_A_DIR=%q SITE_B_DIR=%q\n' "$SITES_DIR/a" "$SITES_DIR/b"
        printf 'export SITE_A_CONFIG=%q SITE_B_CONFIG=%q\n' "$SITES_DIR/a/node1/patroni.yml" "$SITES_DIR/b/node1/patroni.yml"
        printf 'export PATCTL_CONTEXTS=%q\n' "$SITES_DIR/contexts.yaml"
        printf 'export PGUSER=postgres PGPASSWORD=postgres\n'
        ;;
    *)
        sed -n '2,/^set -euo pipefail/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
        exit 2
        ;;
esac
