#!/usr/bin/env bash
# sandbox/demo.sh - on a fresh Debian 12 machine (as root): install everything, build patctl, bring up
# the sandbox cluster (etcd + 3 Patroni/PostgreSQL 15 nodes on 127.0.0.1), and run patctl against it
# next to the real patronictl. Stops the cluster at the end unless --keep is given.
#
# Usage: bash sandbox/demo.sh [--keep]
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -d "${HOME:-/root}/.cargo/bin" ]] && PATH="${HOME:-/root}/.cargo/bin:$PATH"
keep=false
[[ "${1:-}" == "--keep" ]] && keep=true

step() { printf '\n==> %s\n' "$*" >&2; }

step "install (apt, pip) where missing"
bash sandbox/cluster.sh install

step "build patctl (release)"
cargo build --release --quiet
patctl=$PWD/target/release/patctl

step "bring up the sandbox cluster"
if ! $keep; then
    trap 'step "stop the sandbox"; bash sandbox/cluster.sh down' EXIT
fi
SANDBOX_FORCE=1 bash sandbox/cluster.sh up
eval "$(bash sandbox/cluster.sh env)"
cfg=$PATCTL_TEST_CONFIG

run() {
    printf '\n$ patctl -c %s %s\n' "$cfg" "$*"
    "$patctl" -c "$cfg" "$@"
}
run list
run topology
run list -f json
run history
run show-config
run version demo

step "the same list from the real patronictl, for comparison"
printf '$ patronictl -c %s list\n' "$cfg"
patronictl -c "$cfg" list
if cmp -s <("$patctl" -c "$cfg" list) <(patronictl -c "$cfg" list); then
    echo "identical output"
else
    echo "outputs differ (a member key may have been refreshed between the two runs)"
fi

if $keep; then
    step "the cluster keeps running; try: $patctl -c $cfg list   (stop it: bash sandbox/cluster.sh down)"
fi
