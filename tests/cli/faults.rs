//! Faults an operator meets during an incident: the DCS down, a member frozen (SIGSTOP) or answering
//! garbage. Nothing hangs, nothing panics, errors are one line with a distinct exit code, and nothing
//! is written when it should not be.

use std::time::{Duration, Instant};

use crate::common::*;

/// Every command, with arguments that skip prompts, aimed at cluster `demo`.
const COMMANDS: &[&[&str]] = &[
    &["list", "demo"],
    &["topology", "demo"],
    &["history", "demo"],
    &["show-config", "demo"],
    &["edit-config", "demo", "-s", "loop_wait=3", "--force"],
    &["pause", "demo"],
    &["resume", "demo"],
    &["switchover", "demo", "--candidate", "node2", "--force"],
    &["failover", "demo", "--candidate", "node2", "--force"],
    &["restart", "demo", "--force"],
    &["reload", "demo", "--force"],
    &["reinit", "demo", "node2", "--force"],
    &["flush", "demo", "restart", "--force"],
    &["flush", "demo", "switchover"],
    &["dsn", "demo"],
    &["version", "demo"],
    &["remove", "demo"],
    &["demote-cluster", "demo", "--host", "127.0.0.1", "--force"],
    &["promote-cluster", "demo", "--force"],
    &["query", "demo", "-c", "select 1"],
];

#[test]
fn every_command_fails_fast_when_the_dcs_is_down() {
    // Nothing listens on 127.0.0.1:1; etcd3:// is the v3 back end, a bare host:port is etcd v2.
    for url in ["etcd3://127.0.0.1:1", "127.0.0.1:1"] {
        for cmd in COMMANDS {
            let mut args = vec!["--timeout", "2", "-d", url];
            args.extend_from_slice(cmd);
            let start = Instant::now();
            let out = patctl_raw(&args, Some(""), &[]);
            let took = start.elapsed();
            assert!(
                took < Duration::from_secs(15),
                "{cmd:?} on {url} took {took:?}"
            );
            assert_eq!(
                out.code, 3,
                "{cmd:?} on {url}: exit {}\n{}{}",
                out.code, out.stdout, out.stderr
            );
            // The error, then the hint naming the endpoints tried.
            let last = out
                .stderr
                .lines()
                .find(|l| l.starts_with("Error: "))
                .unwrap_or_default();
            assert!(
                out.stderr.contains("\nHint: tried ") && last.starts_with("Error: DCS unreachable"),
                "{cmd:?} on {url}: {}",
                out.stderr
            );
            assert!(
                last.contains("127.0.0.1:1"),
                "{cmd:?}: the endpoint is named: {last}"
            );
            assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
        }
    }
}

/// A synthetic cluster whose members' REST APIs are the given loopback ports.
fn synthetic(scope: &str, ports: &[u16]) {
    let base = format!("/service/{scope}");
    etcd_put(&format!("{base}/initialize"), "1");
    etcd_put(&format!("{base}/config"), r#"{"ttl":30,"loop_wait":10}"#);
    etcd_put(&format!("{base}/leader"), "m1");
    for (i, p) in ports.iter().enumerate() {
        let role = if i == 0 { "primary" } else { "replica" };
        etcd_put(
            &format!("{base}/members/m{}", i + 1),
            &format!(
                r#"{{"conn_url":"postgres://127.0.0.1:{}/postgres","api_url":"http://127.0.0.1:{p}/patroni","state":"running","role":"{role}","timeline":1}}"#,
                40000 + i
            ),
        );
    }
}

#[test]
fn members_answering_garbage_5xx_or_nothing_never_hang_patctl() {
    let Some(_g) = read_lock() else { return };
    let garbage = fake_api(&[Reply::Raw(
        "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n{not json",
    )])
    .port;
    let err500 = fake_api(&[Reply::Raw(
        "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\nboom",
    )])
    .port;
    let silent = fake_api(&[Reply::Hang]).port;
    let scope = scratch_scope("faultyrest");
    synthetic(&scope, &[err500, garbage, silent]);
    let base = format!("/service/{scope}/");
    let before = etcd_keys(&base);
    let result = std::panic::catch_unwind(|| {
        for cmd in [
            &["version", scope.as_str()][..],
            &["reload", scope.as_str(), "--force"],
            &["restart", scope.as_str(), "--force"],
            &["pause", scope.as_str()],
            &["switchover", scope.as_str(), "--candidate", "m2", "--force"],
        ] {
            let start = Instant::now();
            let out = patctl_raw(
                &["-c", &config(), "--timeout", "2", cmd[0]]
                    .into_iter()
                    .chain(cmd[1..].iter().copied())
                    .collect::<Vec<_>>(),
                Some(""),
                &[],
            );
            let took = start.elapsed();
            assert!(took < Duration::from_secs(15), "{cmd:?} took {took:?}");
            assert!(!out.stderr.contains("panicked"), "{cmd:?}: {}", out.stderr);
            if cmd[0] != "version" {
                assert_ne!(
                    out.code, 0,
                    "{cmd:?} must not report success:\n{}{}",
                    out.stdout, out.stderr
                );
            }
        }
    });
    let after = etcd_keys(&base);
    etcd_del_prefix(&base);
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
    assert_eq!(
        before.len(),
        after.len(),
        "keys appeared or vanished: {before:?} -> {after:?}"
    );
}

/// Send a signal to a sandbox node's Patroni by its PID file.
pub(crate) fn signal_patroni(node: &str, signal: &str) {
    let pid_file = format!("{}/{node}/patroni.pid", env("SANDBOX_DIR"));
    let pid = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .to_string();
    let ok = std::process::Command::new("kill")
        .args([signal, &pid])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill {signal} {pid}");
}

#[test]
fn a_frozen_member_fails_fast_and_leaves_the_others_alone() {
    let Some(_g) = write_lock() else { return };
    let leader = wait_healthy(Duration::from_secs(90));
    let frozen = ["node1", "node2", "node3"]
        .into_iter()
        .find(|n| *n != leader)
        .unwrap()
        .to_string();
    signal_patroni(&frozen, "-STOP");
    finally(
        || {
            // list reads only the DCS: it still answers at once.
            let start = Instant::now();
            patctl(&["list"]).code(0);
            assert!(start.elapsed() < Duration::from_secs(3));
            // A restart aimed at the frozen member is not sent and fails within the timeout.
            let start = Instant::now();
            let out = patctl(&["--timeout", "2", "restart", "demo", &frozen, "--force"]);
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "{:?}",
                start.elapsed()
            );
            assert_eq!(out.code, 3, "{}{}", out.stdout, out.stderr);
            assert!(
                out.stdout
                    .contains(&format!("Failed: restart for member {frozen}, unreachable")),
                "{}",
                out.stdout
            );
            assert!(out.stdout.contains("restart not sent"), "{}", out.stdout);
            // A reload of every member still reaches the others.
            let out = patctl(&["--timeout", "2", "reload", "demo", "--force"]);
            assert_eq!(
                out.code, 5,
                "only the frozen member failed, outcome unknown: {}{}",
                out.stdout, out.stderr
            );
            assert_eq!(
                out.stdout
                    .matches("Reload request received for member")
                    .count(),
                2,
                "{}",
                out.stdout
            );
        },
        || {
            signal_patroni(&frozen, "-CONT");
            wait_healthy(Duration::from_secs(90));
        },
    );
}

#[test]
fn the_leader_lost_during_a_switchover_wait_is_reported_honestly() {
    let Some(_g) = write_lock() else { return };
    let old = wait_healthy(Duration::from_secs(120));
    let candidate = ["node1", "node2", "node3"]
        .into_iter()
        .find(|n| *n != old)
        .unwrap();
    // The leader's Patroni freezes just as the switchover is asked for: the POST gets no answer
    // and the leader key expires, so another member takes over by failover.
    signal_patroni(&old, "-STOP");
    let start = Instant::now();
    let result = std::panic::catch_unwind(|| {
        patctl_long(
            &[
                "switchover",
                "demo",
                "--candidate",
                candidate,
                "--force",
                "--wait",
                "--timeout",
                "75",
            ],
            Duration::from_secs(120),
        )
    });
    let took = start.elapsed();
    signal_patroni(&old, "-CONT");
    let out = match result {
        Ok(out) => out,
        Err(e) => {
            wait_healthy(Duration::from_secs(180));
            std::panic::resume_unwind(e)
        }
    };
    let new_leader = wait_healthy(Duration::from_secs(180));
    assert!(
        took < Duration::from_secs(90),
        "bounded by --timeout: {took:?}"
    );
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    match out.code {
        // The switch was seen through: a new leader runs, and it is the one now leading.
        0 => {
            assert!(out.stdout.contains("is the leader"), "{}", out.stdout);
            assert_ne!(new_leader, old);
        }
        // Or a --wait stage was honestly not reached: the frozen former leader cannot rejoin
        // (7) while it is stopped, and the new leader may not be confirmed in time (6).
        6 | 7 => assert!(out.stderr.contains("Error: "), "{}", out.stderr),
        // Or its outcome is honestly unknown (never reported as a plain failure or success).
        5 => assert!(
            out.stderr.starts_with("Error: ") || out.stderr.contains("Error: "),
            "{}",
            out.stderr
        ),
        c => panic!("unexpected exit {c}\n{}{}", out.stdout, out.stderr),
    }
}
