//! Test harness of the sandbox tests: run `patctl` and `patronictl` on the sandbox, read its settings,
//! poke etcd directly. Running the tools as processes is `tests/support/process.rs`, shared with the
//! tests that need no sandbox (`tests/offline`).

#![allow(dead_code)]

use std::process::Command;

pub use crate::fake_api::*;
pub use crate::hung::*;
pub use crate::process::*;
pub use crate::rng::*;
pub use crate::tls_server::SelfSigned;
pub use crate::wait::*;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

mod mode_sandbox;
pub use mode_sandbox::*;

static CLUSTER: RwLock<()> = RwLock::new(());

/// How to bring up what the sandbox tests need.
const SANDBOX: &str =
    "the sandbox cluster (bash sandbox/cluster.sh up; eval \"$(bash sandbox/cluster.sh env)\")";

/// Whether the sandbox is up (its settings are in the environment); see [`needs`].
#[track_caller]
pub fn sandbox() -> bool {
    needs(SANDBOX, std::env::var_os("PATCTL_TEST_CONFIG").is_some())
}

/// Shared access to the sandbox cluster (read-only tests); `None` (the test is skipped) when the
/// sandbox is not up.
#[track_caller]
pub fn read_lock() -> Option<RwLockReadGuard<'static, ()>> {
    sandbox().then(|| CLUSTER.read().unwrap_or_else(|e| e.into_inner()))
}

/// Exclusive access to the sandbox cluster (tests that change it); `None` (the test is skipped) when
/// the sandbox is not up.
#[track_caller]
pub fn write_lock() -> Option<RwLockWriteGuard<'static, ()>> {
    sandbox().then(|| CLUSTER.write().unwrap_or_else(|e| e.into_inner()))
}

/// A sandbox setting from the environment (`eval "$(sandbox/cluster.sh env)"`).
#[track_caller]
pub fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: start the sandbox (sandbox/cluster.sh up) and eval \"$(sandbox/cluster.sh env)\"")
    })
}

/// The sandbox's node1 patroni.yml, used as the config file by both tools.
pub fn config() -> String {
    env("PATCTL_TEST_CONFIG")
}

/// The REST API port of node `i` (1-based).
pub fn api_port(i: u16) -> u16 {
    env("SANDBOX_API_BASE").parse::<u16>().unwrap() + i
}

/// The etcd client URL.
pub fn etcd_url() -> String {
    env("SANDBOX_ETCD_URL")
}

/// `f(["-c", config, ARGS…])`.
pub fn with_config<T>(config: &str, args: &[&str], f: impl FnOnce(&[&str]) -> T) -> T {
    let mut full = vec!["-c", config];
    full.extend_from_slice(args);
    f(&full)
}

/// Run `patctl -c <sandbox config> ARGS`.
pub fn patctl(args: &[&str]) -> Out {
    Tool::Patctl.on_sandbox(args, None)
}

/// Run `patctl -c <sandbox config> ARGS` with stdin.
pub fn patctl_stdin(args: &[&str], stdin: &str) -> Out {
    Tool::Patctl.on_sandbox(args, Some(stdin))
}

/// Run the real `patronictl -c <sandbox config> ARGS` (bounded: it hangs forever when etcd is down).
pub fn patronictl(args: &[&str]) -> Out {
    Tool::Patronictl.on_sandbox(args, None)
}

/// Run the real `patronictl -c <sandbox config> ARGS` with stdin.
pub fn patronictl_stdin(args: &[&str], stdin: &str) -> Out {
    Tool::Patronictl.on_sandbox(args, Some(stdin))
}

/// Run `patctl -c <sandbox config> ARGS` with stdin (`None`: /dev/null) and extra environment.
pub fn patctl_env(args: &[&str], stdin: Option<&str>, envs: &[(&str, &str)]) -> Out {
    with_config(&config(), args, |full| Tool::Patctl.run(full, stdin, envs))
}

impl Tool {
    /// Run `TOOL -c <sandbox config> ARGS` with stdin (`None`: /dev/null).
    pub fn on_sandbox(self, args: &[&str], stdin: Option<&str>) -> Out {
        with_config(&config(), args, |full| self.run(full, stdin, &[]))
    }
}

/// Run both tools (`run(Tool::Patctl)`, then `run(Tool::Patronictl)`) until `same` holds for their
/// outputs, a few tries 300 ms apart so a member key refreshed between the two runs (LSNs move) does
/// not make a comparison flaky. `Ok((patctl, patronictl))` when they agreed, `Err` with the last try.
pub fn until_same(
    run: impl Fn(Tool) -> Out,
    same: impl Fn(&Out, &Out) -> bool,
) -> Result<(Out, Out), (Out, Out)> {
    let mut last = None;
    for _ in 0..5 {
        let ours = run(Tool::Patctl);
        let theirs = run(Tool::Patronictl);
        if same(&ours, &theirs) {
            return Ok((ours, theirs));
        }
        last = Some((ours, theirs));
        std::thread::sleep(Duration::from_millis(300));
    }
    Err(last.unwrap())
}

/// Run `check_patroni ARGS` and `patctl check ARGS` until they agree (a few tries: lag moves);
/// assert the same stdout and exit code. Returns patctl's output.
#[track_caller]
pub fn same_check(args: &[&str]) -> Out {
    let run = |tool: Tool| match tool {
        Tool::Patctl => {
            let mut full = vec!["check"];
            full.extend_from_slice(args);
            run_isolated(env!("CARGO_BIN_EXE_patctl"), &full, &[])
        }
        Tool::Patronictl => run_isolated("check_patroni", args, &[]),
    };
    match until_same(run, same_stdout_and_code) {
        Ok((ours, _)) => ours,
        Err((ours, theirs)) => panic!(
            "patctl check {args:?} differs from check_patroni\n--- patctl ({}):\n{}{}\n--- check_patroni ({}):\n{}{}",
            ours.code, ours.stdout, ours.stderr, theirs.code, theirs.stdout, theirs.stderr
        ),
    }
}

/// Same stdout and exit code.
fn same_stdout_and_code(ours: &Out, theirs: &Out) -> bool {
    ours.stdout == theirs.stdout && ours.code == theirs.code
}

/// Run both tools with the same arguments; retried ([`until_same`]). Returns (patctl, patronictl) of
/// the last try.
pub fn both(args: &[&str]) -> (Out, Out) {
    until_same(|tool| tool.on_sandbox(args, None), same_stdout_and_code).unwrap_or_else(|last| last)
}

/// Assert that both tools print the same stdout and exit the same way.
#[track_caller]
pub fn assert_same(args: &[&str]) -> Out {
    assert_same_run(args, |tool| tool.on_sandbox(args, None))
}

/// [`assert_same`] with the tools run by `run` (`args` names the command in the messages): both print
/// the same stdout and exit the same way, retried ([`until_same`]).
#[track_caller]
pub fn assert_same_run(args: &[&str], run: impl Fn(Tool) -> Out) -> Out {
    let (ours, theirs) = until_same(run, same_stdout_and_code).unwrap_or_else(|last| last);
    assert_eq!(
        ours.stdout, theirs.stdout,
        "patctl {args:?} differs from patronictl\n--- patctl stderr:\n{}\n--- patronictl stderr:\n{}",
        ours.stderr, theirs.stderr
    );
    assert_eq!(ours.code, theirs.code, "exit codes differ for {args:?}");
    ours
}

/// The lines of `stdout` from the first one starting with "Success" on (what a `--wait` printed after
/// the action).
pub fn lines_from_success(stdout: &str) -> Vec<&str> {
    stdout
        .lines()
        .skip_while(|l| !l.starts_with("Success"))
        .collect()
}

/// `etcdctl` (v3 API) against the sandbox etcd.
pub fn etcdctl(args: &[&str]) -> Out {
    let url = etcd_url();
    let mut full = vec!["--endpoints", url.as_str()];
    full.extend_from_slice(args);
    run(
        "etcdctl",
        &full,
        None,
        &[("ETCDCTL_API", "3")],
        Duration::from_secs(20),
    )
}

/// Put a raw key (v3).
pub fn etcd_put(key: &str, value: &str) {
    etcdctl(&["put", key, value]).code(0);
}

/// Get a raw key's value (v3), `None` when absent.
pub fn etcd_get(key: &str) -> Option<String> {
    let out = etcdctl(&["get", "--print-value-only", key]);
    let v = out
        .stdout
        .strip_suffix('\n')
        .unwrap_or(&out.stdout)
        .to_string();
    if v.is_empty() && etcdctl(&["get", "--count-only", key]).stdout.contains("0") {
        None
    } else {
        Some(v)
    }
}

/// All keys under a prefix (v3).
pub fn etcd_keys(prefix: &str) -> Vec<String> {
    etcdctl(&["get", "--prefix", "--keys-only", prefix])
        .stdout
        .lines()
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

/// Delete every key under a prefix (v3).
pub fn etcd_del_prefix(prefix: &str) {
    etcdctl(&["del", "--prefix", prefix]).code(0);
}

/// GET a member REST endpoint and return the JSON (loopback only; https with the sandbox's client
/// certificate when the sandbox runs with SANDBOX_TLS=1).
pub fn rest_get(port: u16, path: &str) -> Option<serde_json::Value> {
    let mut args: Vec<String> = ["-sS", "-m", "5"].map(String::from).to_vec();
    let scheme = match std::env::var("SANDBOX_TLS_DIR") {
        Ok(dir) if std::env::var("SANDBOX_TLS").as_deref() == Ok("1") => {
            for (opt, file) in [
                ("--cacert", "ca.crt"),
                ("--cert", "client.crt"),
                ("--key", "client.key"),
            ] {
                args.push(opt.to_string());
                args.push(format!("{dir}/{file}"));
            }
            "https"
        }
        _ => "http",
    };
    args.push(format!("{scheme}://127.0.0.1:{port}/{path}"));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    // A few tries: a REST API on a loaded two-core machine may miss one 5-second window.
    (0..3).find_map(|_| {
        let out = run("curl", &args, None, &[], Duration::from_secs(10));
        serde_json::from_str(&out.stdout).ok()
    })
}

/// Wait (bounded) until the sandbox has one running leader and all other members streaming.
/// Returns the leader's name.
#[track_caller]
pub fn wait_healthy(timeout: Duration) -> String {
    let start = Instant::now();
    let nodes: usize = env("SANDBOX_NODES").parse().unwrap();
    loop {
        if let Some(c) =
            rest_get(api_port(1), "cluster").or_else(|| rest_get(api_port(2), "cluster"))
        {
            let members = c["members"].as_array().cloned().unwrap_or_default();
            let leaders: Vec<_> = members
                .iter()
                .filter(|m| m["role"] == "leader" && m["state"] == "running")
                .collect();
            let streaming = members.iter().filter(|m| m["state"] == "streaming").count();
            if members.len() == nodes && leaders.len() == 1 && streaming == nodes - 1 {
                return leaders[0]["name"].as_str().unwrap().to_string();
            }
        }
        assert!(
            start.elapsed() < timeout,
            "cluster not healthy within {timeout:?}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// Poll (bounded, every 300 ms) until `check` holds; fails naming `what` when it does not within
/// `timeout`.
#[track_caller]
pub fn wait_until(what: &str, timeout: Duration, check: impl FnMut() -> bool) {
    poll_until(what, timeout, Duration::from_millis(300), check);
}

/// Each sandbox member's published `pause` flag, read from its member key.
pub fn member_pause_flags() -> Vec<bool> {
    let prefix = format!("/service/{}/members/", env("SANDBOX_SCOPE"));
    etcd_keys(&prefix)
        .iter()
        .filter_map(|k| etcd_get(k))
        .filter_map(|v| serde_json::from_str::<serde_json::Value>(&v).ok())
        .map(|v| v.get("pause") == Some(&serde_json::Value::Bool(true)))
        .collect()
}

/// Wait (bounded) until every sandbox member publishes `paused`. A member that read the cluster
/// before a pause/resume may still write the old flag once afterwards, so a command's own wait
/// can end before the flags settle for good.
#[track_caller]
pub fn wait_pause_flags(paused: bool, timeout: Duration) {
    let nodes: usize = env("SANDBOX_NODES").parse().unwrap();
    wait_until(
        &format!("every member's pause flag = {paused}"),
        timeout,
        || {
            let flags = member_pause_flags();
            flags.len() == nodes && flags.iter().all(|p| *p == paused)
        },
    );
}

/// Clean-up after a test that paused the sandbox: resume (retried while the DCS is away; a resume
/// whose wait ran out leaves the cluster already resumed, which is fine) and wait until every member
/// publishes it.
#[track_caller]
pub fn resume_and_settle(timeout: Duration) {
    wait_until("patctl resume", timeout, || {
        let out = patctl(&["resume"]);
        out.code == 0 || out.stderr == "Error: Cluster is not paused\n"
    });
    wait_pause_flags(false, timeout);
}

/// Run `test`, then `cleanup` whether or not it panicked (set-up undone, scratch keys removed); a
/// panic in `test` goes on after the clean-up. Returns what `test` returned.
pub fn finally<T>(test: impl FnOnce() -> T, cleanup: impl FnOnce()) -> T {
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(test));
    cleanup();
    result.unwrap_or_else(|e| std::panic::resume_unwind(e))
}

/// Run `test`, then delete every key under `base` (a scratch cluster's `/service/<scope>`), even when
/// it panicked.
pub fn with_prefix_removed<T>(base: &str, test: impl FnOnce() -> T) -> T {
    finally(test, || etcd_del_prefix(&format!("{base}/")))
}

/// A scope name unique to this test process, for synthetic clusters written straight into etcd.
pub fn scratch_scope(tag: &str) -> String {
    format!("patctl-test-{tag}-{}", std::process::id())
}

/// Run `sandbox/cluster.sh ARGS` on the main sandbox (`node-stop 2`, `etcd-start 1`, …); fails the
/// test with the script's stderr when it fails.
#[track_caller]
pub fn sandbox_cmd(args: &[&str]) {
    let out = Command::new("bash")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/sandbox/cluster.sh"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cluster.sh {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Set a sandbox member's tags live (`sandbox/cluster.sh tag`; `"{}"` clears them).
#[track_caller]
pub fn tag_member(node: &str, tags: &str) {
    sandbox_cmd(&["tag", node, tags]);
}

/// Run `patctl -c <sandbox config> ARGS`, allowed to take up to `limit` (for long waits).
pub fn patctl_long(args: &[&str], limit: Duration) -> Out {
    with_config(&config(), args, |full| {
        run(env!("CARGO_BIN_EXE_patctl"), full, None, &[], limit)
    })
}
