#!/usr/bin/env bash
# sandbox/test.sh - the whole test suite on a fresh Debian 12 machine (as root): installs what is
# missing, checks formatting and lints, runs the unit and hermetic tests, starts a dedicated sandbox cluster
# (etcd + 3 Patroni/PostgreSQL nodes on 127.0.0.1, ports apart from the demo's), runs the integration
# tests against it (comparing with the real patronictl), and stops the sandbox at the end, pass or fail.
#
# The tests of other modes (etcd v2, TLS, ZooKeeper) start sandboxes of their own next to it, one at a time
# (ports: etcd and ZooKeeper +10, PostgreSQL and REST +100).
#
# Environment: SANDBOX_DIR [/tmp/patctl-test-sandbox], SANDBOX_ETCD_PORT [2479], SANDBOX_PG_BASE [5532],
# SANDBOX_API_BASE [8108], SANDBOX_ZK_PORT [2481] (the ZooKeeper test's server listens on +10);
# TEST_ARGS are passed to `cargo test --test cli` (e.g. a test name filter).
# PATCTL_VERSIONS ["3.0.4 4.1.5"]: the Patroni versions of the version-matrix phase (each in a sandbox of
# its own, nodes on that Patroni from /opt/patroni-venv-V; patronictl 4.1.5 stays the oracle); "" skips it.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -d "${HOME:-/root}/.cargo/bin" ]] && PATH="${HOME:-/root}/.cargo/bin:$PATH"

export SANDBOX_DIR=${SANDBOX_DIR:-/tmp/patctl-test-sandbox}
export SANDBOX_ETCD_PORT=${SANDBOX_ETCD_PORT:-2479}
export SANDBOX_PG_BASE=${SANDBOX_PG_BASE:-5532}
export SANDBOX_API_BASE=${SANDBOX_API_BASE:-8108}
export SANDBOX_ZK_PORT=${SANDBOX_ZK_PORT:-2481}
export SANDBOX_FORCE=1

# Each step's wall time, printed in a table at the end (pass or fail) so the README's figure stays true.
PHASES=()
PHASE_NAME=""
PHASE_START=$SECONDS
SUITE_START=$SECONDS
phase_end() {
    [[ -n "$PHASE_NAME" ]] && PHASES+=("$(printf '%6ss  %s' "$((SECONDS - PHASE_START))" "$PHASE_NAME")")
    PHASE_NAME=""
}
step() {
    phase_end
    PHASE_NAME="$*"
    PHASE_START=$SECONDS
    printf '\n==> %s\n' "$*" >&2
}
report_phases() {
    phase_end
    printf '\n==> time per step\n' >&2
    printf '%s\n' "${PHASES[@]}" >&2
    printf '%6ss  total\n' "$((SECONDS - SUITE_START))" >&2
}

trap report_phases EXIT

step "install (apt, pip, cargo deps) where missing"
bash sandbox/cluster.sh install

step "format and lint"
cargo fmt --check
cargo clippy --all-targets --quiet -- -D warnings

step "build"
cargo build --quiet --all-targets

step "release build: the hardened default (PIE, the system's OpenSSL), stripped <= 10 MB"
# Built once here and reused by the package step.
cargo build --release --quiet
release=target/release/patctl
readelf -h "$release" | grep -E >/dev/null 'Type:[[:space:]]+DYN' || { readelf -h "$release" | grep Type: >&2; echo "release binary is not PIE" >&2; exit 1; }
ldd "$release" | grep -E >/dev/null 'libssl\.so\.3 => /(usr/)?lib' || { ldd "$release" >&2; echo "release binary does not load the system libssl" >&2; exit 1; }
size=$(stat -c %s "$release")
((size <= 10 * 1024 * 1024)) || { echo "release binary is $size bytes (> 10 MB)" >&2; exit 1; }
printf 'release binary: PIE (DYN), %s, %s bytes\n' "$(ldd "$release" | grep -o 'libssl\.so\.3 => [^ ]*')" "$size" >&2

step "packages: .deb and RPM built from that binary, the .deb installed, checked and removed"
PATCTL_BIN=$release bash sandbox/package.sh
bash sandbox/package-test.sh

step "unit tests"
cargo test --quiet --lib

step "hermetic command tests (in-memory DCS, fake REST APIs)"
cargo test --quiet --test hermetic

step "start the test sandbox in $SANDBOX_DIR"
cleanup() { bash sandbox/cluster.sh down >/dev/null 2>&1 || true; }
trap 'cleanup; report_phases' EXIT
bash sandbox/cluster.sh up
eval "$(bash sandbox/cluster.sh env)"

step "integration tests against the sandbox"
# One test at a time: several tests change the cluster (switchover, restart, edit-config). The
# sandbox is up, so a test that would skip for want of it is a failure here.
# shellcheck disable=SC2086
PATCTL_VERSIONS= PATCTL_REQUIRE_SANDBOX=1 cargo test --test cli -- --test-threads=1 ${TEST_ARGS:-}

PATCTL_VERSIONS=${PATCTL_VERSIONS-3.0.4 4.1.5}
if [[ -n $PATCTL_VERSIONS ]]; then
    step "Patroni version matrix ($PATCTL_VERSIONS): reads, check, switchover --wait, replication cut"
    for v in $PATCTL_VERSIONS; do
        [[ $v == 4.1.5 ]] || bash sandbox/cluster.sh install-version "$v"
    done
    # Each version's sandbox is stopped by the test itself, pass or fail (ModeSandbox's drop).
    PATCTL_VERSIONS=$PATCTL_VERSIONS PATCTL_REQUIRE_SANDBOX=1 \
        cargo test --test cli -- --test-threads=1 versions::
fi

step "stop the sandbox"
cleanup
trap - EXIT
report_phases
