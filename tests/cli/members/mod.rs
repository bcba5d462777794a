//! `restart`, `reinit`, `reload` and `flush` against the sandbox cluster: the member really restarts,
//! the pending/scheduled state in the DCS really changes, prompts and lines are byte-identical to
//! patronictl, and member failures (rejection, unreachable, no answer) give patctl's exit codes.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::*;

const HEALTHY: Duration = Duration::from_secs(90);

/// Blank out the `(e.g. YYYY-MM-DDTHH:MM)` example of the schedule prompt (it is "now + 1 hour"),
/// and sort the reinit prompt's member list (patronictl prints it in Python set order).
fn without_example_time(s: &str) -> String {
    let sorted = sorted_member_prompt(s);
    let s: &str = &sorted;
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("(e.g. 20") {
        out.push_str(&rest[..i + 6]);
        out.push_str("<time>");
        rest = &rest[(i + 6 + 16).min(rest.len())..];
    }
    out.push_str(rest);
    out
}

fn sorted_member_prompt(s: &str) -> String {
    const P: &str = "Which member do you want to reinitialize [";
    let Some(i) = s.find(P) else {
        return s.to_string();
    };
    let start = i + P.len();
    let Some(len) = s[start..].find("]?") else {
        return s.to_string();
    };
    let mut names: Vec<&str> = s[start..start + len].split(", ").collect();
    names.sort();
    format!("{}{}{}", &s[..start], names.join(", "), &s[start + len..])
}

/// Both tools with the same piped answers; retried like `both` so moving LSNs do not make it flaky.
#[track_caller]
fn assert_same_piped(args: &[&str], input: &str) -> Out {
    let (ours, theirs) = until_same(
        |tool| tool.on_sandbox(args, Some(input)),
        |ours, theirs| {
            without_example_time(&ours.stdout) == without_example_time(&theirs.stdout)
                && ours.code == theirs.code
        },
    )
    .unwrap_or_else(|last| last);
    assert_eq!(
        without_example_time(&ours.stdout),
        without_example_time(&theirs.stdout),
        "patctl {args:?} <<< {input:?} differs from patronictl\n--- patctl stderr:\n{}\n--- patronictl stderr:\n{}",
        ours.stderr,
        theirs.stderr
    );
    assert_eq!(ours.code, theirs.code, "exit codes differ for {args:?}");
    ours
}

fn node_port(name: &str) -> u16 {
    api_port(name.trim_start_matches("node").parse().unwrap())
}

fn status(name: &str) -> Value {
    rest_get(node_port(name), "patroni").unwrap_or(Value::Null)
}

/// The member's postmaster start time (bounded wait: a REST API busy on a loaded machine, or a
/// PostgreSQL just restarting, answers without it for a moment).
fn start_time(name: &str) -> String {
    let mut last = Value::Null;
    let mut found = None;
    wait_until(
        &format!("postmaster_start_time of {name}"),
        Duration::from_secs(30),
        || {
            last = status(name);
            found = last["postmaster_start_time"].as_str().map(String::from);
            found.is_some()
        },
    );
    found.unwrap_or_else(|| panic!("no postmaster_start_time for {name}: {last}"))
}

/// The replicas of the healthy sandbox, in name order.
fn replicas(leader: &str) -> Vec<String> {
    let n: usize = env("SANDBOX_NODES").parse().unwrap();
    (1..=n)
        .map(|i| format!("node{i}"))
        .filter(|m| m != leader)
        .collect()
}

fn member_key(name: &str) -> Value {
    let raw = etcd_get(&format!("/service/demo/members/{name}")).unwrap_or_default();
    serde_json::from_str(&raw).unwrap_or(Value::Null)
}

/// Member names with the pending-restart flag, per `patctl list -e -f json`.
fn pending_members() -> Vec<String> {
    let out = patctl(&["list", "-e", "-f", "json"]);
    let rows: Value = serde_json::from_str(&out.stdout).unwrap_or(Value::Null);
    rows.as_array()
        .map(|rows| {
            rows.iter()
                .filter(|r| r["Pending restart"] == "*")
                .filter_map(|r| r["Member"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

fn set_max_connections(v: u32) {
    patronictl(&[
        "edit-config",
        "-p",
        &format!("max_connections={v}"),
        "--force",
    ])
    .code(0);
}

#[test]
fn prompts_and_refusals_match_patronictl() {
    let Some(_g) = read_lock() else { return };
    let leader = wait_healthy(HEALTHY);
    let replica = replicas(&leader)[0].clone();
    let r = replica.as_str();
    for (args, input) in [
        (&["restart", "demo", r][..], "\nn\n"),
        (&["restart", "demo", r], ""),
        (&["restart", "demo", r], "garbage\n"),
        (&["restart", "demo", r], "2030-01-01T10:00:00+00:00\nn\n"),
        (
            &["restart", "demo", "--pending"],
            "2030-01-01T10:00:00+00:00\nn\n",
        ),
        (&["restart", "demo", r], "\ny\n9.6\n"),
        (&["reload", "demo"], "n\n"),
        (&["reload", "demo", r], "maybe\nn\n"),
        (&["reinit", "demo", r], "n\n"),
        (&["reinit", "demo"], "node9\n"),
        (&["flush", "demo", "restart"], "n\n"),
        (&["flush", "demo", r, "restart"], ""),
    ] {
        let out = assert_same_piped(args, input);
        assert_ne!(
            out.code, 0,
            "{args:?} <<< {input:?} was meant to stop early"
        );
    }
    // Refusals: same table, same message, exit 1.
    for args in [
        &["restart", "demo", "node9", "--force"][..],
        &["restart", "nosuch"],
        &["restart", "nosuch", "node1", "--force"],
        &["reload", "demo", "-r", "leader", "node9", "--force"],
        &["reinit", "demo", leader.as_str(), "--force"],
        &["flush", "demo", "nosuchtarget"],
    ] {
        let out = assert_same(args);
        assert_ne!(out.code, 0, "{args:?}");
    }
    let out = patctl(&["restart", "demo", "node9", "--force"]);
    assert_eq!(out.stderr, "Error: No 'any' among provided members\n");
    let out = patctl(&["reinit", "demo", leader.as_str(), "--force"]);
    assert_eq!(out.stderr, "Error: No replica among provided members\n");
    let out = patctl_stdin(&["reinit", "demo"], "node9\n");
    assert_eq!(out.stderr, "Error: node9 is not a member of cluster\n");
    patctl(&["flush", "demo", "nosuchtarget"]).code(2);
}

#[test]
fn reload_matches_patronictl() {
    let Some(_g) = read_lock() else { return };
    let leader = wait_healthy(HEALTHY);
    let replica = replicas(&leader)[0].clone();
    for args in [
        &["reload", "demo", "--force"][..],
        &["reload", "demo", replica.as_str(), "--force"],
        &["reload", "demo", "-r", "replica", "--force"],
        &["reload", "demo", "-r", "leader", "--force"],
    ] {
        let out = assert_same(args);
        out.code(0);
    }
    let out = assert_same_piped(&["reload", "demo", replica.as_str()], "y\n");
    out.code(0);
    let config: Value =
        serde_json::from_str(&etcd_get("/service/demo/config").unwrap_or_default()).unwrap();
    let loop_wait = config["loop_wait"].as_i64().unwrap_or(10);
    assert!(
        out.stdout.ends_with(&format!(
            "[y/N]: Reload request received for member {replica} and will be processed within {loop_wait} seconds\n"
        )),
        "{}",
        out.stdout
    );
    let all = patctl(&["reload", "demo", "--force"]);
    let lines: Vec<&str> = all
        .stdout
        .lines()
        .filter(|l| l.starts_with("Reload request received"))
        .collect();
    assert_eq!(lines.len(), 3, "{}", all.stdout);
    assert!(lines[0].contains("member node1 ") && lines[2].contains("member node3 "));
}

#[test]
fn restart_restarts_the_member() {
    let Some(_g) = write_lock() else { return };
    let leader = wait_healthy(HEALTHY);
    let rs = replicas(&leader);
    let (target, other) = (rs[0].as_str(), rs[1].as_str());
    let before = (start_time(target), start_time(other), start_time(&leader));
    let started = Instant::now();
    let out = patctl(&["restart", "demo", target, "--force"]);
    out.code(0);
    assert!(
        out.stdout.starts_with("+ Cluster: demo ("),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .ends_with(&format!("+\nSuccess: restart on member {target}\n")),
        "{}",
        out.stdout
    );
    assert!(started.elapsed() < Duration::from_secs(60));
    assert_ne!(start_time(target), before.0, "{target} was not restarted");
    assert_eq!(start_time(other), before.1, "{other} must not restart");
    assert_eq!(start_time(&leader), before.2, "the leader must not restart");
    wait_healthy(HEALTHY);

    // Piped answers: byte-identical to patronictl from the prompts to the result line.
    let tail = |s: &str| s[s.rfind("-+\n").map_or(0, |i| i + 3)..].to_string();
    let theirs = patronictl_stdin(&["restart", "demo", target], "\ny\n\n");
    wait_healthy(HEALTHY);
    let before = start_time(target);
    let ours = patctl_stdin(&["restart", "demo", target], "\ny\n\n");
    ours.code(0);
    assert_eq!(
        without_example_time(&tail(&ours.stdout)),
        without_example_time(&tail(&theirs.stdout))
    );
    assert!(tail(&ours.stdout).starts_with("When should the restart take place (e.g. "));
    assert!(ours.stdout.ends_with(&format!(
        "[now]: Are you sure you want to restart members {target}? [y/N]: \
         Restart if the PostgreSQL version is less than provided (e.g. 9.5.2)  []: \
         Success: restart on member {target}\n"
    )));
    assert_ne!(start_time(target), before);
    wait_healthy(HEALTHY);
}

/// Restart pending members until none is left (bounded). After a lowered max_connections a replica
/// keeps the primary's old value until it has replayed the primary's restart, so the leader goes
/// first and the replicas may need a second round.
fn restart_until_clean() {
    let leader = wait_healthy(HEALTHY);
    if pending_members().contains(&leader) {
        patctl(&["restart", "demo", leader.as_str(), "--force"]).code(0);
    }
    for _ in 0..5 {
        wait_healthy(HEALTHY);
        if pending_members().is_empty() {
            return;
        }
        // A bounded retry, not a handshake: Patroni recomputes pending_restart on its next loops
        // after a restart, and the condition is checked again at the top.
        std::thread::sleep(Duration::from_secs(3));
        patctl(&["restart", "demo", "--pending", "--force"]);
        std::thread::sleep(Duration::from_secs(3));
    }
    assert!(pending_members().is_empty(), "members still pending");
}

#[test]
fn pending_restarts_only_pending_members() {
    let Some(_g) = write_lock() else { return };
    restart_until_clean();
    finally(
        || {
            let leader = wait_healthy(HEALTHY);
            let rs = replicas(&leader);
            set_max_connections(150);
            wait_until("all members pending", HEALTHY, || {
                pending_members().len() == 3
            });
            // Restart one replica first: afterwards only the other two are pending.
            patctl(&["restart", "demo", rs[0].as_str(), "--force"]).code(0);
            wait_until("the restarted member not pending", HEALTHY, || {
                pending_members().len() == 2
            });
            let pending = pending_members();
            assert!(!pending.contains(&rs[0]), "{pending:?}");
            let before: Vec<String> = ["node1", "node2", "node3"]
                .iter()
                .map(|n| start_time(n))
                .collect();
            let out = patctl(&["restart", "demo", "--pending", "--force"]);
            out.code(0);
            let results: Vec<&str> = out
                .stdout
                .lines()
                .filter(|l| l.starts_with("Success") || l.starts_with("Failed"))
                .collect();
            let expected: Vec<String> = pending
                .iter()
                .map(|m| format!("Success: restart on member {m}"))
                .collect();
            assert_eq!(results, expected, "{}", out.stdout);
            for (i, n) in ["node1", "node2", "node3"].iter().enumerate() {
                let restarted = start_time(n) != before[i];
                assert_eq!(restarted, pending.contains(&n.to_string()), "{n}");
            }
            wait_until("no member pending", HEALTHY, || {
                pending_members().is_empty()
            });
            // Nothing pending: --pending restarts nobody.
            let out = patctl(&["restart", "demo", "--pending", "--force"]);
            out.code(0);
            assert!(!out.stdout.contains("restart on member"), "{}", out.stdout);
        },
        || {
            // Leave the cluster as found: max_connections 100, nothing pending, healthy.
            set_max_connections(100);
            let _ = std::panic::catch_unwind(|| {
                wait_until("members pending after restore", HEALTHY, || {
                    pending_members().len() == 3
                })
            });
            restart_until_clean();
        },
    );
}

#[test]
fn scheduled_restart_then_flush() {
    let Some(_g) = write_lock() else { return };
    let leader = wait_healthy(HEALTHY);
    let target = replicas(&leader)[1].clone();
    let t = target.as_str();
    finally(
        || {
            let at = "2030-01-01T12:00:00+00:00";
            let out = patctl(&["restart", "demo", t, "--force", "--scheduled", at]);
            out.code(0);
            assert!(out
                .stdout
                .ends_with(&format!("Success: restart scheduled on member {t}\n")));
            wait_until("scheduled_restart in the member key", HEALTHY, || {
                member_key(t)["scheduled_restart"]["schedule"] == at
            });
            let list = patctl(&["list", "-e"]);
            assert!(
                list.stdout.contains(&format!("| {at} |")),
                "{}",
                list.stdout
            );

            // A second schedule is rejected by Patroni: same lines as patronictl, but exit 1, not 0.
            let again = [
                "restart",
                "demo",
                t,
                "--scheduled",
                "2031-01-01T12:00:00+00:00",
            ];
            let ours = patctl_stdin(&again, "y\n\n");
            let theirs = patronictl_stdin(&again, "y\n\n");
            assert_eq!(ours.stdout, theirs.stdout);
            assert!(ours.stdout.ends_with(&format!(
                "Failed: another restart is already scheduled on member {t}\n"
            )));
            assert_eq!((ours.code, theirs.code), (1, 0));

            // With --force the old schedule is dropped first, then replaced.
            let later = "2031-01-01T12:00:00+00:00";
            patctl(&["restart", "demo", t, "--force", "--scheduled", later]).code(0);
            wait_until("the new schedule in the member key", HEALTHY, || {
                member_key(t)["scheduled_restart"]["schedule"] == later
            });

            let out = patctl(&["flush", "demo", "restart", "--force"]);
            out.code(0);
            assert!(
                out.stdout.contains(&format!("| {later} |")),
                "{}",
                out.stdout
            );
            let results: Vec<String> = out
                .stdout
                .lines()
                .filter(|l| !l.starts_with(['+', '|']))
                .map(String::from)
                .collect();
            let expected: Vec<String> = ["node1", "node2", "node3"]
                .iter()
                .map(|n| {
                    if *n == t {
                        format!("Success: flush scheduled restart for member {n}")
                    } else {
                        format!("No scheduled restart for member {n}")
                    }
                })
                .collect();
            assert_eq!(results, expected);
            wait_until(
                "scheduled_restart gone from the member key",
                HEALTHY,
                || member_key(t).get("scheduled_restart").is_none(),
            );
            // Nothing left to flush for that member.
            let out = patctl(&["flush", "demo", t, "restart", "--force"]);
            out.code(0);
            assert!(out
                .stdout
                .ends_with(&format!("No scheduled restart for member {t}\n")));
        },
        || {
            if member_key(t).get("scheduled_restart").is_some() {
                let _ = patronictl(&["flush", "demo", t, "restart", "--force"]);
            }
            wait_healthy(HEALTHY);
        },
    );
}

#[test]
fn flush_scheduled_switchover() {
    let Some(_g) = write_lock() else { return };
    wait_healthy(HEALTHY);
    let failover = || {
        let raw = etcd_get("/service/demo/failover").unwrap_or_default();
        serde_json::from_str::<Value>(&raw).unwrap_or(Value::Null)
    };
    finally(
        || {
            patronictl(&[
                "switchover",
                "--scheduled",
                "2030-01-01T12:00:00+00:00",
                "--force",
            ])
            .code(0);
            assert_eq!(failover()["scheduled_at"], "2030-01-01T12:00:00+00:00");
            let out = patctl(&["flush", "demo", "switchover"]);
            out.code(0);
            assert_eq!(out.stdout, "Success: scheduled switchover deleted\n");
            assert!(failover().get("scheduled_at").is_none(), "{}", failover());
            let out = assert_same(&["flush", "demo", "switchover"]);
            assert_eq!(out.stdout, "No pending scheduled switchover\n");
        },
        || {
            if failover().get("scheduled_at").is_some() {
                let _ = patronictl(&["flush", "demo", "switchover"]);
            }
        },
    );
}

#[test]
fn reinit_wait_returns_when_streaming() {
    let Some(_g) = write_lock() else { return };
    let leader = wait_healthy(HEALTHY);
    let target = replicas(&leader)[0].clone();
    let t = target.as_str();
    let before = start_time(t);
    let started = Instant::now();
    let out = patctl(&["reinit", "demo", t, "--force", "--wait"]);
    out.code(0);
    let tail = lines_from_success(&out.stdout);
    assert_eq!(
        tail,
        [
            format!("Success: reinitialize for member {t}"),
            format!("Waiting for reinitialize to complete on: {t}"),
            format!("Reinitialize is completed on: {t}"),
        ],
        "{}",
        out.stdout
    );
    // Returned only once the member streams again, with a new postmaster.
    let s = status(t);
    assert_eq!(s["state"], "running", "{s}");
    assert_eq!(s["replication_state"], "streaming", "{s}");
    assert_ne!(start_time(t), before);
    assert!(started.elapsed() < Duration::from_secs(120));
    wait_healthy(HEALTHY);

    // A wait that cannot finish in time: exit 5, named member.
    let before = start_time(t);
    let out = patctl(&[
        "reinit",
        "demo",
        t,
        "--force",
        "--wait",
        "--wait-timeout",
        "0.5",
    ]);
    out.code(5);
    assert!(
        out.stderr.starts_with(&format!(
            "Error: reinitialize did not complete within 0.5s on: {t} ("
        )),
        "{}",
        out.stderr
    );
    // The reinitialize goes on in Patroni: the next test starts once it is done (the member may
    // still show `streaming` from before it for a moment, so its new postmaster is what counts).
    wait_until(
        &format!("the reinitialize of {t} to complete"),
        Duration::from_secs(120),
        || {
            let s = status(t);
            s["postmaster_start_time"]
                .as_str()
                .is_some_and(|p| p != before)
                && s["state"] == "running"
                && s["replication_state"] == "streaming"
        },
    );
    wait_healthy(HEALTHY);
}

// -------------------------------------------------------------------------------------------------
// Failing members: a scratch cluster whose members point at fake REST servers on loopback.

#[test]
fn restart_wait_returns_once_the_member_runs_without_pending_restart() {
    let Some(_g) = write_lock() else { return };
    restart_until_clean();
    finally(
        || {
            let leader = wait_healthy(HEALTHY);
            let target = replicas(&leader)[0].clone();
            set_max_connections(150);
            wait_until("the replica pending", HEALTHY, || {
                pending_members().contains(&target)
            });
            let before = start_time(&target);
            let out = patctl(&[
                "restart", "demo", &target, "--force", "--wait", "-o", "json",
            ]);
            // Read at once: the DCS and the REST API must already show what the JSON says.
            let key = member_key(&target);
            let after = start_time(&target);
            out.code(0);
            assert_ne!(after, before, "{target} was not restarted");
            assert_eq!(key["state"], "running", "{key}");
            assert!(key.get("pending_restart").is_none(), "{key}");
            let doc: Value = serde_json::from_str(&out.stdout).unwrap();
            crate::schema::assert_valid("Restart", &doc);
            let data = &doc["data"];
            assert_eq!(data["members"][0]["member"], target.as_str());
            assert_eq!(data["members"][0]["outcome"], "succeeded");
            assert_eq!(data["wait"]["completed"], true);
            let followed = &data["wait"]["stages"][0]["details"]["members"][0];
            assert_eq!(followed["postmasterStartTimeBefore"], before.as_str());
            let seen = &followed["seen"];
            assert_eq!(seen["postmasterStartTime"], after.as_str());
            assert_eq!(seen["pendingRestart"], false);
        },
        || {
            set_max_connections(100);
            let _ = std::panic::catch_unwind(|| {
                wait_until("members pending after restore", HEALTHY, || {
                    !pending_members().is_empty()
                })
            });
            restart_until_clean();
        },
    );
}

mod synthetic;
