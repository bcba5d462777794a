//! `rollout` and `wait` on the sandbox: a full rolling restart (every postmaster restarted, the leader
//! moved, healthy), the sync standby kept through the switchover under `synchronous_mode`, a replica
//! whose restart fails stopping the rollout (exit 11) and a `--pending` rerun continuing, and `wait
//! --until streaming=node3` returning as soon as a stopped node3 streams again.

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

const HEALTHY: Duration = Duration::from_secs(60);

/// Every member's postmaster start time, from its REST API.
fn postmaster_starts() -> Vec<String> {
    (1..=3)
        .map(|i| {
            rest_get(api_port(i), "patroni")
                .and_then(|v| v["postmaster_start_time"].as_str().map(String::from))
                .unwrap_or_default()
        })
        .collect()
}

/// Make `node` the leader of a healthy cluster.
fn ensure_leader(node: &str) {
    if wait_healthy(HEALTHY) != node {
        patctl(&["switchover", "--candidate", node, "--force", "--wait"]).code(0);
        assert_eq!(wait_healthy(HEALTHY), node);
    }
}

/// Whether every member publishes a pending restart (`true`) or none does (`false`).
fn all_pending(pending: bool) -> bool {
    let prefix = format!("/service/{}/members/", env("SANDBOX_SCOPE"));
    let keys = etcd_keys(&prefix);
    keys.len() == 3
        && keys.iter().all(|k| {
            let v: serde_json::Value =
                serde_json::from_str(&etcd_get(k).unwrap_or_default()).unwrap_or_default();
            (v["pending_restart"] == true) == pending
        })
}

/// `patctl -o json` output as a document valid against `kind`'s schema.
fn doc(out: &Out, kind: &str) -> serde_json::Value {
    let d: serde_json::Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", out.stdout, out.stderr));
    crate::schema::assert_valid(kind, &d);
    d
}

#[test]
fn rollout_restarts_every_member_moves_the_leader_and_leaves_it_healthy() {
    let Some(_g) = write_lock() else { return };
    ensure_leader("node1");
    finally(
        || {
            let before = postmaster_starts();
            let dry = patctl(&["rollout", "--dry-run"]);
            dry.code(0);
            assert!(
                dry.stdout.contains("1. node2 (replica): restart"),
                "{}",
                dry.stdout
            );
            assert!(
                dry.stdout.contains("3. node1 (leader): switchover"),
                "{}",
                dry.stdout
            );
            assert_eq!(postmaster_starts(), before, "--dry-run restarted something");
            let out = patctl_long(
                &["rollout", "--force", "--wait-timeout", "60", "-o", "json"],
                HEALTHY * 3,
            );
            out.code(0);
            let d = doc(&out, "RolloutReport");
            assert_eq!(d["data"]["completed"], true);
            let steps = d["data"]["steps"].as_array().unwrap();
            let order: Vec<&str> = steps
                .iter()
                .map(|s| s["member"].as_str().unwrap())
                .collect();
            assert_eq!(order, ["node2", "node3", "node1"]);
            let after = postmaster_starts();
            for (i, (b, a)) in before.iter().zip(&after).enumerate() {
                assert!(
                    !a.is_empty() && a != b,
                    "node{} not restarted: {b} -> {a}",
                    i + 1
                );
            }
            assert_ne!(wait_healthy(HEALTHY), "node1", "the leader did not move");
            patctl(&["wait", "--until", "healthy", "--wait-timeout", "30"]).code(0);
            assert!(out.stderr.contains("[3/3] node1 done"), "{}", out.stderr);
        },
        || ensure_leader("node1"),
    );
}

/// An `etcdctl watch` of the cluster prefix, for what the DCS went through during a test.
fn watch_prefix() -> Child {
    let prefix = format!("/service/{}/", env("SANDBOX_SCOPE"));
    Command::new("etcdctl")
        .args(["--endpoints", &etcd_url(), "watch", "--prefix", &prefix])
        .env("ETCDCTL_API", "3")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("etcdctl watch")
}

#[test]
fn rollout_in_synchronous_mode_switches_over_only_to_a_present_sync_standby() {
    let Some(_g) = write_lock() else { return };
    if !installed("etcdctl") {
        return;
    }
    ensure_leader("node1");
    let scope = env("SANDBOX_SCOPE");
    finally(
        || {
            patctl(&["edit-config", "--set", "synchronous_mode=true", "--force"]).code(0);
            patctl(&["wait", "--until", "healthy", "--wait-timeout", "30"]).code(0);
            wait_until("a sync standby in /sync", HEALTHY, || {
                etcd_get(&format!("/service/{scope}/sync"))
                    .is_some_and(|v| v.contains("node2") || v.contains("node3"))
            });
            let mut watch = watch_prefix();
            let out = patctl_long(
                &["rollout", "--force", "--wait-timeout", "60", "-o", "json"],
                HEALTHY * 3,
            );
            // Let etcdctl print the last events, then read everything it saw.
            patctl(&["wait", "--until", "healthy", "--wait-timeout", "30"]).code(0);
            let _ = watch.kill();
            let mut seen = String::new();
            watch
                .stdout
                .take()
                .unwrap()
                .read_to_string(&mut seen)
                .unwrap();
            let _ = watch.wait();
            out.code(0);
            let d = doc(&out, "RolloutReport");
            assert_eq!(d["data"]["completed"], true);
            // etcdctl watch prints PUT/DELETE, the key, the value: at the moment the failover key
            // was written, the last /sync value named the candidate as a synchronous standby.
            let lines: Vec<&str> = seen.lines().collect();
            let (mut sync, mut checked) = (String::new(), 0);
            for w in lines.windows(3) {
                if w[0] != "PUT" {
                    continue;
                }
                if w[1].ends_with("/sync") {
                    sync = w[2].to_string();
                }
                if w[1].ends_with("/failover") && w[2].contains("member") {
                    let f: serde_json::Value = serde_json::from_str(w[2]).unwrap();
                    let s: serde_json::Value = serde_json::from_str(&sync).unwrap_or_default();
                    let standbys = s["sync_standby"].to_string();
                    assert!(
                        standbys.contains(f["member"].as_str().unwrap()),
                        "switchover to {} while /sync was {sync}",
                        f["member"]
                    );
                    checked += 1;
                }
            }
            assert_eq!(checked, 1, "one switchover expected in:\n{seen}");
        },
        || {
            patctl(&["edit-config", "--set", "synchronous_mode=null", "--force"]).code(0);
            ensure_leader("node1");
        },
    );
}

/// node3's patroni.yml, and the same with a library PostgreSQL cannot load: a restart then fails.
fn node3_yml() -> (String, String, String) {
    let path = format!("{}/node3/patroni.yml", env("SANDBOX_DIR"));
    let good = std::fs::read_to_string(&path).unwrap();
    let bad = good.replacen(
        "    shared_buffers: 16MB\n",
        "    shared_buffers: 16MB\n    shared_preload_libraries: 'patctl_no_such_lib'\n",
        1,
    );
    assert_ne!(good, bad, "no shared_buffers line in {path}");
    (path, good, bad)
}

#[test]
fn a_failed_replica_restart_stops_the_rollout_and_a_pending_rerun_continues() {
    let Some(_g) = write_lock() else { return };
    ensure_leader("node1");
    let (path, good, bad) = node3_yml();
    let set = |v: &str| {
        let arg = format!("postgresql.parameters.track_activity_query_size={v}");
        patctl(&["edit-config", "--set", &arg, "--force"]).code(0);
    };
    finally(
        || {
            // Every member needs a restart; node3 will fail its own.
            std::fs::write(&path, &bad).unwrap();
            patctl(&["reload", "demo", "node3", "--force"]).code(0);
            set("2048");
            wait_until("every member pending a restart", HEALTHY, || {
                all_pending(true)
            });
            let node1_before = postmaster_starts()[0].clone();
            let out = patctl_long(
                &[
                    "rollout",
                    "--pending",
                    "--force",
                    "--wait-timeout",
                    "20",
                    "-o",
                    "json",
                ],
                HEALTHY * 2,
            );
            out.code(11);
            assert!(
                out.stderr.contains("rollout stopped at step 2/3 (node3)")
                    && out.stderr.contains("remaining: node3, node1"),
                "{}",
                out.stderr
            );
            let d = doc(&out, "RolloutReport");
            let steps = d["data"]["steps"].as_array().unwrap();
            let results: Vec<&str> = steps
                .iter()
                .map(|s| s["result"].as_str().unwrap())
                .collect();
            assert_eq!(results, ["done", "stopped", "not started"]);
            assert_eq!(d["data"]["stoppedAt"]["member"], "node3");
            assert_eq!(
                postmaster_starts()[0],
                node1_before,
                "the leader was touched"
            );
            assert_eq!(wait_healthy_or_leader(), "node1");
            // The fix: node3 starts again with its good configuration, without a pending restart.
            std::fs::write(&path, &good).unwrap();
            patctl(&["reload", "demo", "node3", "--force"]).code(0);
            patctl(&["wait", "--until", "streaming=node3", "--wait-timeout", "60"]).code(0);
            let rerun = patctl_long(
                &[
                    "rollout",
                    "--pending",
                    "--force",
                    "--wait-timeout",
                    "60",
                    "-o",
                    "json",
                ],
                HEALTHY * 2,
            );
            rerun.code(0);
            let d = doc(&rerun, "RolloutReport");
            let steps = d["data"]["steps"].as_array().unwrap();
            let order: Vec<&str> = steps
                .iter()
                .map(|s| s["member"].as_str().unwrap())
                .collect();
            assert_eq!(order, ["node1"], "only the member still pending: {d}");
            let skipped = d["data"]["members"].as_array().unwrap();
            assert!(skipped
                .iter()
                .filter(|m| m["name"] != "node1")
                .all(|m| m["selected"] == false && m["why"] == "no pending restart"));
            wait_until("no pending restart left", HEALTHY, || all_pending(false));
        },
        || {
            std::fs::write(&path, &good).unwrap();
            let _ = patctl(&["reload", "demo", "node3", "--force"]);
            let _ = patctl(&["wait", "--until", "streaming=node3", "--wait-timeout", "60"]);
            set("null");
            wait_until("every member pending a restart", HEALTHY, || {
                all_pending(true)
            });
            patctl_long(
                &["rollout", "--pending", "--force", "--wait-timeout", "60"],
                HEALTHY * 2,
            )
            .code(0);
            ensure_leader("node1");
        },
    );
}

/// The leader's name once node1..3 are back to one leader (node3 may be down: only the leader
/// counts here).
fn wait_healthy_or_leader() -> String {
    let mut leader = String::new();
    wait_until("a running leader", HEALTHY, || {
        leader = rest_get(api_port(1), "cluster")
            .and_then(|c| {
                c["members"].as_array()?.iter().find_map(|m| {
                    (m["role"] == "leader").then(|| m["name"].as_str().unwrap_or("").to_string())
                })
            })
            .unwrap_or_default();
        !leader.is_empty()
    });
    leader
}

/// Start node3's Patroni; node-start finds a Patroni still exiting "already running", so try again
/// until its REST API answers.
fn start_node3() {
    for _ in 0..20 {
        sandbox_cmd(&["node-start", "node3"]);
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(3) {
            if rest_get(api_port(3), "patroni").is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    panic!("node3's Patroni did not start");
}

#[test]
fn wait_returns_as_soon_as_a_stopped_node3_streams_again() {
    let Some(_g) = write_lock() else { return };
    wait_healthy(HEALTHY);
    finally(
        || {
            sandbox_cmd(&["node-stop", "node3"]);
            let key = format!("/service/{}/members/node3", env("SANDBOX_SCOPE"));
            wait_until("node3's member key gone", HEALTHY, || {
                etcd_get(&key).is_none()
            });
            let mut w = Command::new(env!("CARGO_BIN_EXE_patctl"))
                .args([
                    "-c",
                    &config(),
                    "wait",
                    "--until",
                    "streaming=node3",
                    "--wait-timeout",
                    "60",
                ])
                .args(["-o", "json"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            start_node3();
            let mut streaming_seen = None;
            wait_until("node3 streaming in its member key", HEALTHY, || {
                let prefix = format!("/service/{}/members/node3", env("SANDBOX_SCOPE"));
                let ok = etcd_get(&prefix).is_some_and(|v| {
                    v.contains(r#""replication_state": "streaming""#)
                        || v.contains(r#""replication_state":"streaming""#)
                });
                if ok {
                    streaming_seen = Some(Instant::now());
                }
                ok
            });
            let status = w.wait().unwrap();
            let returned = Instant::now();
            let mut stdout = String::new();
            w.stdout
                .take()
                .unwrap()
                .read_to_string(&mut stdout)
                .unwrap();
            assert!(status.success(), "{stdout}");
            let out = Out {
                stdout,
                stderr: String::new(),
                code: 0,
            };
            let d = doc(&out, "WaitResult");
            assert_eq!(d["data"]["met"], true);
            assert_eq!(d["data"]["conditions"][0]["condition"], "streaming=node3");
            // The test polls every 300 ms: wait must have returned by then, not a polling round later.
            let lag = returned.saturating_duration_since(streaming_seen.unwrap());
            assert!(
                lag < Duration::from_millis(700),
                "wait returned {lag:?} after node3 streamed"
            );
            // And a condition not met names itself and exits 10.
            let out = patctl(&[
                "wait",
                "--until",
                "leader=nobody",
                "--until",
                "healthy",
                "--wait-timeout",
                "0.5",
            ]);
            out.code(11);
            assert!(
                out.stderr.contains("not met within")
                    && out.stderr.contains("leader=nobody (leader "),
                "{}",
                out.stderr
            );
            assert!(!out.stderr.contains("healthy ("), "{}", out.stderr);
            patctl(&["wait", "--until", "bogus"]).code(2);
        },
        || {
            let _ = Command::new("bash")
                .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/sandbox/cluster.sh"))
                .args(["node-start", "node3"])
                .output();
            wait_healthy(HEALTHY);
        },
    );
}
