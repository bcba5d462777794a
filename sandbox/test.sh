#!/usr/bin/env bash
# sandbox/test.sh - the whole test suite on a fresh Debian 12 machine (as root): installs what is
# missing, checks formatting, runs the tests that need no cluster (plain `cargo test`), starts a
# dedicated sandbox cluster (etcd + 3 Patroni/PostgreSQL nodes on 127.0.0.1, ports apart from the
# demo's), runs the integration tests against it (comparing with the real patronictl), and stops the
# sandbox at the end, pass or fail.
#
# What keeps it short on two cores: the sandbox starts while patctl builds; clippy lints in the same
# pass as the debug build (clippy-driver as the workspace's rustc); the hardened release build (with
# its packages) runs in the background at the lowest CPU priority while the integration tests mostly
# wait on clusters; the integration tests run side by side (readers together,
# a test that changes the cluster alone: `common::read_lock`/`write_lock`), and the tests of other
# modes (etcd v2, TLS, ZooKeeper, two sites, other Patroni versions) run on sandboxes of their own next
# to it, PATCTL_MODE_SANDBOXES [2] at a time, each on a slot of ports (slot K: etcd and ZooKeeper
# +10*K, PostgreSQL and REST +100*K). The integration tests are split in lanes, each a test process
# with a main sandbox of its own (lane b: $SANDBOX_DIR-b, every port +500; lane c: -c, +1000), so
# that the tests which switch over, restart and roll out change several clusters at once.
#
# Environment: SANDBOX_DIR [/tmp/patctl-test-sandbox], SANDBOX_ETCD_PORT [2479], SANDBOX_PG_BASE [5532],
# SANDBOX_API_BASE [8108], SANDBOX_ZK_PORT [2481]; TEST_ARGS are passed to `cargo test --test cli`
# (e.g. a test name filter); PATCTL_TEST_THREADS [4]: integration tests at once in a lane;
# PATCTL_TEST_LANES [3]: how many lanes (1 runs every integration test in one process on one sandbox).
# PATCTL_VERSIONS ["3.0.4 4.1.5"]: the Patroni versions of the version matrix (each in a sandbox of
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
PATCTL_VERSIONS=${PATCTL_VERSIONS-3.0.4 4.1.5}
LOGS=$(mktemp -d /tmp/patctl-test-logs.XXXXXX)
LANES=${PATCTL_TEST_LANES:-3}
# A name filter in TEST_ARGS would add to each lane's own: one lane then.
[[ -z ${TEST_ARGS:-} ]] || LANES=1
((LANES >= 1 && LANES <= 3)) || { echo "PATCTL_TEST_LANES must be 1, 2 or 3" >&2; exit 2; }
# The tests of lanes b and c (libtest name filters); lane a runs all the others.
LANE_TESTS=(
    "switchover:: rollout:: site:: versions::"
    "members:: check:: events:: config::"
)
LANE_NAMES=(b c)
((LANES == 3)) || LANE_TESTS[0]+=" ${LANE_TESTS[1]}"

# in_lane K CMD...: CMD with the sandbox settings of lane K (1: b, 2: c).
in_lane() {
    local k=$1
    shift
    env SANDBOX_DIR="$SANDBOX_DIR-${LANE_NAMES[k - 1]}" SANDBOX_ETCD_PORT=$((SANDBOX_ETCD_PORT + 500 * k)) \
        SANDBOX_PG_BASE=$((SANDBOX_PG_BASE + 500 * k)) SANDBOX_API_BASE=$((SANDBOX_API_BASE + 500 * k)) \
        SANDBOX_ZK_PORT=$((SANDBOX_ZK_PORT + 500 * k)) "$@"
}

# Each step's wall time, printed in a table at the end (pass or fail) so the README's figure stays true;
# the background steps write theirs to $LOGS/times.
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
    [[ -s $LOGS/times ]] && sed 's/^/  (beside) /' "$LOGS/times" >&2
    printf '%6ss  total\n' "$((SECONDS - SUITE_START))" >&2
}

BG_PIDS=()
cleanup() {
    local pid
    # Each background job leads a process group of its own (setsid): stop the whole group.
    for pid in "${BG_PIDS[@]}"; do kill -- "-$pid" 2>/dev/null || true; done
    bash sandbox/cluster.sh down >/dev/null 2>&1 || true
    local k
    for ((k = 1; k < LANES; k++)); do in_lane "$k" bash sandbox/cluster.sh down >/dev/null 2>&1 || true; done
}
trap 'cleanup; report_phases' EXIT

step "install (apt, pip, cargo deps) where missing"
bash sandbox/cluster.sh install
for v in $PATCTL_VERSIONS; do
    [[ $v == 4.1.5 ]] || bash sandbox/cluster.sh install-version "$v"
done

step "format, then the build with clippy's lints (-D warnings); the test sandbox starts meanwhile"
setsid bash sandbox/cluster.sh up >"$LOGS/sandbox-up.log" 2>&1 &
UP_PID=$!
BG_PIDS+=("$UP_PID")
UP_PIDS=("$UP_PID")
for ((k = 1; k < LANES; k++)); do
    in_lane "$k" setsid bash sandbox/cluster.sh up >"$LOGS/sandbox-$k-up.log" 2>&1 &
    UP_PIDS+=("$!")
    BG_PIDS+=("$!")
done
cargo fmt --check
# One pass for the lint and the debug build: clippy-driver compiles patctl's own crates (what `cargo
# clippy` does, plus code generation), rustc the dependencies. Every later cargo run of this script
# keeps these two variables, so nothing is built twice.
export RUSTC_WORKSPACE_WRAPPER
RUSTC_WORKSPACE_WRAPPER="$(rustc --print sysroot)/bin/clippy-driver"
export CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
cargo build --quiet --all-targets

# timed NAME CMD...: run CMD, append its wall time to $LOGS/times.
timed() {
    local name=$1 start=$SECONDS
    shift
    "$@"
    printf '%6ss  %s\n' "$((SECONDS - start))" "$name" >>"$LOGS/times"
}

release_checks() {
    # The release binary as users build it: plain rustc, no lint wrapper.
    env -u RUSTC_WORKSPACE_WRAPPER -u CLIPPY_ARGS cargo build --release --quiet
    local release=target/release/patctl size libs
    readelf -h "$release" | grep -E >/dev/null 'Type:[[:space:]]+DYN' || { readelf -h "$release" | grep Type:; echo "release binary is not PIE"; return 1; }
    libs=$(ldd "$release")
    grep -E >/dev/null 'libssl\.so\.3 => /(usr/)?lib' <<<"$libs" || { printf '%s\n' "$libs"; echo "release binary does not load the system libssl"; return 1; }
    size=$(stat -c %s "$release")
    ((size <= 10 * 1024 * 1024)) || { echo "release binary is $size bytes (> 10 MB)"; return 1; }
    printf 'release binary: PIE (DYN), %s, %s bytes\n' "$(grep -o 'libssl\.so\.3 => [^ ]*' <<<"$libs")" "$size"
}

# The hardened release build and its packages, at the lowest CPU priority while the tests run (they
# mostly wait on clusters); target/release is locked apart from target/debug.
background_checks() {
    set -euo pipefail
    timed "release build: the hardened default (PIE, the system's OpenSSL), stripped <= 10 MB" release_checks
    timed "packages: .deb and RPM from that binary, the .deb installed, checked and removed" \
        bash -c 'PATCTL_BIN=target/release/patctl bash sandbox/package.sh && bash sandbox/package-test.sh'
}
setsid nice -n 19 bash -c "$(declare -f timed release_checks background_checks); LOGS=$LOGS background_checks" \
    >"$LOGS/background.log" 2>&1 &
BG_PID=$!
BG_PIDS+=("$BG_PID")

step "integration tests (and the version matrix: $PATCTL_VERSIONS); the tests without a sandbox beside them"
wait "$UP_PID" || { cat "$LOGS/sandbox-up.log" >&2; echo "the test sandbox did not come up" >&2; exit 1; }
for ((k = 1; k < LANES; k++)); do
    wait "${UP_PIDS[k]}" || { cat "$LOGS/sandbox-$k-up.log" >&2; echo "lane ${LANE_NAMES[k - 1]}'s sandbox did not come up" >&2; exit 1; }
done
BG_PIDS=("$BG_PID")
# The test binary itself (built above), run once per lane: two `cargo test` would wait on each
# other's lock of target/debug.
CLI_BIN=$(cargo test --quiet --test cli --no-run --message-format=json |
    grep -o '"executable":"[^"]*"' | tail -n 1 | cut -d '"' -f 4)
[[ -x $CLI_BIN ]] || { echo "no test binary for tests/cli" >&2; exit 1; }
# integration LANE LIBTEST-ARGS...: one lane's tests against the sandbox of the settings in effect,
# each line of their output after the lane's name and its seconds since the start. The sandbox is up,
# so a test that would skip for want of it is a failure here.
integration() {
    local lane=$1
    shift
    eval "$(bash sandbox/cluster.sh env)"
    # shellcheck disable=SC2086
    PATCTL_VERSIONS=$PATCTL_VERSIONS PATCTL_REQUIRE_SANDBOX=1 "$CLI_BIN" \
        --test-threads="${PATCTL_TEST_THREADS:-4}" "$@" ${TEST_ARGS:-} 2>&1 |
        {
            # bash's read takes a line as soon as it is written (awk would wait for a whole block).
            local line t0=$SECONDS
            while IFS= read -r line; do printf '[%s %4ds] %s\n' "$lane" "$((SECONDS - t0))" "$line"; done
        }
}
skips=()
LANE_PIDS=()
for ((k = 1; k < LANES; k++)); do
    # shellcheck disable=SC2206
    filters=(${LANE_TESTS[k - 1]})
    for f in "${filters[@]}"; do skips+=(--skip "$f"); done
    (
        export SANDBOX_DIR="$SANDBOX_DIR-${LANE_NAMES[k - 1]}" SANDBOX_ETCD_PORT=$((SANDBOX_ETCD_PORT + 500 * k))
        export SANDBOX_PG_BASE=$((SANDBOX_PG_BASE + 500 * k)) SANDBOX_API_BASE=$((SANDBOX_API_BASE + 500 * k))
        export SANDBOX_ZK_PORT=$((SANDBOX_ZK_PORT + 500 * k))
        integration "${LANE_NAMES[k - 1]}" "${filters[@]}"
    ) &
    LANE_PIDS+=("$!")
done
integration a "${skips[@]}" &
LANE_PIDS+=("$!")
failed=0
# What plain `cargo test` runs (unit, hermetic, offline), while the lanes wait on their clusters.
start=$SECONDS
cargo test --quiet --lib --test hermetic --test offline || failed=1
printf '%6ss  %s\n' "$((SECONDS - start))" "tests without a sandbox (unit, hermetic, offline)" >>"$LOGS/times"
for pid in "${LANE_PIDS[@]}"; do wait "$pid" || failed=1; done
((failed == 0)) || { echo "tests failed (see above; the lanes' lines begin with [a], [b], [c])" >&2; exit 1; }

step "stop the sandboxes"
for ((k = 1; k < LANES; k++)); do in_lane "$k" bash sandbox/cluster.sh down >/dev/null 2>&1; done
bash sandbox/cluster.sh down >/dev/null 2>&1

step "release build and packages (in the background since the build)"
if ! wait "$BG_PID"; then
    cat "$LOGS/background.log" >&2
    exit 1
fi
cat "$LOGS/background.log" >&2
BG_PIDS=()
trap - EXIT
report_phases
rm -rf "$LOGS"
