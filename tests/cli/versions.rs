//! The Patroni version matrix: for each version in `PATCTL_VERSIONS` (e.g. `"3.0.4 4.1.5"`), a
//! sandbox of its own whose nodes run that Patroni (`SANDBOX_PATRONI_VERSION`, from
//! /opt/patroni-venv-V made by `sandbox/cluster.sh install-version V`; ports as the mode sandboxes:
//! etcd +10, PostgreSQL and REST +100), while patronictl 4.1.5 and check_patroni stay the oracles.
//! On each: the read commands byte for byte against patronictl, `check` against check_patroni, one
//! `switchover --wait` (its progress says `primary`, never 3.x's `master`), and the replication-cut
//! case: the leader's pg_hba rejects replication and its walsenders are terminated, Patroni then
//! publishes no `replication_state`, and `list -o json`, `list --all --unhealthy` (exit 9),
//! `doctor` (FAIL), the switchover pre-flight, `top` (in tmux) and `check` all say so; then
//! replication is restored.
//!
//! Without `PATCTL_VERSIONS` the group is skipped (it is its own phase of sandbox/test.sh, not part
//! of the main suite); a version whose venv is missing fails.

use std::io::Write;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::*;

const NODES: usize = 3;

fn versions() -> Vec<String> {
    std::env::var("PATCTL_VERSIONS")
        .unwrap_or_default()
        .split([' ', ','])
        .filter(|v| !v.is_empty())
        .map(String::from)
        .collect()
}

#[test]
fn patroni_version_matrix() {
    let versions = versions();
    if versions.is_empty() {
        // Not a `needs` skip: the main suite runs without the matrix on purpose, CI or not.
        let _ = writeln!(
            std::io::stderr(),
            "skipped: patroni_version_matrix runs with PATCTL_VERSIONS=\"3.0.4 4.1.5\""
        );
        return;
    }
    for v in &versions {
        if v != "4.1.5" {
            let venv = format!("/opt/patroni-venv-{v}/bin/patroni");
            assert!(
                std::path::Path::new(&venv).exists(),
                "{venv} is missing: run `sandbox/cluster.sh install-version {v}`"
            );
        }
    }
    // Each version on a sandbox of its own, side by side (as many at once as there are slots).
    std::thread::scope(|s| {
        let runs: Vec<_> = versions
            .iter()
            .map(|v| s.spawn(move || one_sandbox(v)))
            .collect();
        let failed: Vec<String> = runs
            .into_iter()
            .zip(&versions)
            .filter_map(|(run, v)| run.join().is_err().then(|| v.clone()))
            .collect();
        assert!(
            failed.is_empty(),
            "failed on Patroni {failed:?} (see above)"
        );
    });
}

fn one_sandbox(v: &str) {
    let tag = format!("v{}", v.replace('.', ""));
    let mode = [
        ("SANDBOX_PATRONI_VERSION", v),
        ("SANDBOX_NODES", "3"),
        ("SANDBOX_TIMEOUT", "150"),
    ];
    if let Some(sb) = ModeSandbox::up(&tag, &mode) {
        one_version(&sb, v);
    }
}

fn one_version(sb: &ModeSandbox, v: &str) {
    let leader = healthy(sb);
    // The nodes really run that Patroni.
    let keys = member_keys(sb);
    assert!(keys.values().all(|m| m["version"] == v), "{v}: {keys:#?}");
    for args in [
        &["list"][..],
        &["list", "-e"],
        &["topology"],
        &["history"],
        &["show-config"],
        &["list", "-f", "json"],
    ] {
        sb.assert_same(args);
    }
    check_agrees(sb, &leader);

    // One switchover --wait: to the first replica; the progress names roles as 4.x does.
    let candidate = replicas(&leader)[0].clone();
    let out = sb.patctl(&[
        "switchover",
        "--leader",
        &leader,
        "--candidate",
        &candidate,
        "--force",
        "--wait",
    ]);
    out.code(0);
    assert!(
        !out.stdout.contains("master") && !out.stderr.contains("master"),
        "{v}: {}{}",
        out.stdout,
        out.stderr
    );
    let leader = healthy(sb);
    assert_eq!(leader, candidate, "{v}");
    sb.assert_same(&["history"]);

    replication_cut(sb, v, &leader);
}

/// Wait until the sandbox lists one leader running and every other member streaming.
fn healthy(sb: &ModeSandbox) -> String {
    wait_listed_healthy(NODES, Duration::from_secs(150), || {
        sb.patctl(&["list", "-f", "json"])
    })
}

fn replicas(leader: &str) -> Vec<String> {
    (1..=NODES)
        .map(|i| format!("node{i}"))
        .filter(|m| m != leader)
        .collect()
}

/// The member keys as Patroni wrote them (etcd v3), by name.
fn member_keys(sb: &ModeSandbox) -> std::collections::BTreeMap<String, Value> {
    let out = Command::new("etcdctl")
        .env("ETCDCTL_API", "3")
        .args(["--endpoints", sb.var("SANDBOX_ETCD_URL")])
        .args(["get", "--prefix", "/service/demo/members/"])
        .output()
        .unwrap();
    assert!(out.status.success(), "etcdctl: {out:?}");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let lines: Vec<&str> = text.lines().collect();
    lines
        .chunks(2)
        .filter(|kv| kv.len() == 2)
        .map(|kv| {
            let name = kv[0].rsplit('/').next().unwrap().to_string();
            (name, serde_json::from_str(kv[1]).unwrap_or(Value::Null))
        })
        .collect()
}

fn endpoints(sb: &ModeSandbox) -> String {
    let base: u16 = sb.var("SANDBOX_API_BASE").parse().unwrap();
    (1..=NODES as u16)
        .map(|i| format!("http://127.0.0.1:{}", base + i))
        .collect::<Vec<_>>()
        .join(",")
}

fn check_agrees(sb: &ModeSandbox, leader: &str) {
    let all = endpoints(sb);
    for args in [
        &["cluster_has_leader"][..],
        &["cluster_has_replica"],
        &["cluster_node_count"],
    ] {
        let mut full = vec!["-e", all.as_str()];
        full.extend_from_slice(args);
        same_check(&full);
    }
    let base: u16 = sb.var("SANDBOX_API_BASE").parse().unwrap();
    let url = |n: &str| {
        let i: u16 = n.trim_start_matches("node").parse().unwrap();
        format!("http://127.0.0.1:{}", base + i)
    };
    same_check(&["-e", &url(leader), "node_is_primary"]);
    same_check(&["-e", &url(&replicas(leader)[0]), "node_is_replica"]);
}

/// `psql -c SQL` on `node` over its unix socket, as the superuser.
fn psql(sb: &ModeSandbox, node: &str, sql: &str) -> String {
    let i: u16 = node.trim_start_matches("node").parse().unwrap();
    let port = sb.var("SANDBOX_PG_BASE").parse::<u16>().unwrap() + i;
    let out = Command::new("psql")
        .args(["-h", &format!("{}/{node}", sb.dir), "-p", &port.to_string()])
        .args(["-U", "postgres", "-d", "postgres", "-Atc", sql])
        .output()
        .unwrap();
    assert!(out.status.success(), "psql {sql}: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn wait_for(what: &str, limit: Duration, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// Cut replication on the leader (pg_hba rejects it, walsenders terminated), check every view calls
/// the cluster unhealthy, then restore it (even when an assertion failed) and wait until healthy.
fn replication_cut(sb: &ModeSandbox, v: &str, leader: &str) {
    let hba = format!("{}/{leader}/data/pg_hba.conf", sb.dir);
    let original = std::fs::read_to_string(&hba).unwrap();
    let cut = || {
        // Patroni writes pg_hba.conf only at start and on a configuration change: this stays.
        std::fs::write(
            &hba,
            format!("host replication all 127.0.0.1/32 reject\n{original}"),
        )
        .unwrap();
        psql(sb, leader, "select pg_reload_conf()");
        psql(
            sb,
            leader,
            "select pg_terminate_backend(pid) from pg_stat_replication",
        );
    };
    let restore = || {
        std::fs::write(&hba, &original).unwrap();
        psql(sb, leader, "select pg_reload_conf()");
    };
    finally(
        || {
            cut();
            let others = replicas(leader);
            wait_for(
                "Patroni publishes no replication_state for the replicas",
                Duration::from_secs(60),
                || {
                    let keys = member_keys(sb);
                    others.iter().all(|r| {
                        keys.get(r).is_some_and(|m| {
                            m["state"] == "running" && m.get("replication_state").is_none()
                        })
                    })
                },
            );
            assert_cut_seen(sb, v, leader, &others);
        },
        restore,
    );
    healthy(sb);
    // Healthy again in the one judgement too.
    let out = sb.patctl(&["list", "-o", "json"]);
    let data: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        data["data"]["clusters"][0]["health"]["verdict"], "healthy",
        "{v}: {}",
        out.stdout
    );
}

fn assert_cut_seen(sb: &ModeSandbox, v: &str, leader: &str, others: &[String]) {
    // patronictl still shows `running` (the oracle of what the member keys say).
    let theirs = with_config(&sb.config(), &["list", "-f", "json"], |full| {
        Tool::Patronictl.run(full, None, &[])
    });
    let rows: Vec<Value> = serde_json::from_str(&theirs.stdout).unwrap();
    for r in rows.iter().filter(|r| r["Member"] != leader) {
        assert_eq!(r["State"], "running", "{v}: {}", theirs.stdout);
    }

    // list -o json: unhealthy, both replicas not streaming.
    let out = sb.patctl(&["list", "-o", "json"]);
    out.code(0);
    let data: Value = serde_json::from_str(&out.stdout).unwrap();
    let cluster = &data["data"]["clusters"][0];
    let health = &cluster["health"];
    assert_eq!(health["healthy"], false, "{v}: {health}");
    assert_eq!(health["verdict"], "unhealthy", "{v}: {health}");
    assert_eq!(health["streaming"], 0, "{v}: {health}");
    for r in others {
        let p = format!("{r} not streaming");
        assert!(
            health["problems"]
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x == p.as_str()),
            "{v}: {health}"
        );
        let m = cluster["members"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == r.as_str())
            .unwrap();
        assert_eq!(m["replication"], "not streaming", "{v}: {m}");
    }

    // list --all --unhealthy: the cluster is listed, exit 9.
    let out = sb.patctl(&["list", "--all", "--unhealthy"]);
    out.code(9);
    assert!(out.stdout.contains("Cluster: demo"), "{v}: {}", out.stdout);
    assert!(
        out.stderr.contains("demo: UNHEALTHY (") && out.stderr.contains("not streaming"),
        "{v}: {}",
        out.stderr
    );

    // doctor: a FAIL replication line per replica, exit 1.
    let out = sb.patctl(&["doctor"]);
    out.code(1);
    for r in others {
        assert!(
            out.stdout.lines().any(|l| {
                let w: Vec<&str> = l.split_whitespace().collect();
                w.len() > 3 && w[0] == "FAIL" && w[1] == "replication" && w[2] == r.as_str()
            }),
            "{v}: {}",
            out.stdout
        );
    }

    // The switchover pre-flight: no candidate can go ahead.
    let out = sb.patctl(&["switchover", "--dry-run", "--candidate", &others[0]]);
    out.code(1);
    assert!(
        out.stdout.contains("not streaming") && out.stdout.contains("can not go ahead"),
        "{v}: {}{}",
        out.stdout,
        out.stderr
    );

    // top (in tmux, as tests/cli/top.rs drives it): the cluster line says UNHEALTHY.
    if installed("tmux") {
        let t = crate::tty::Tmux::start(&format!("top-{}", v.replace('.', "")));
        let cmdline = format!(
            "{} -c {} top; echo rc=$? after",
            env!("CARGO_BIN_EXE_patctl"),
            sb.config()
        );
        t.send(&cmdline, &["Enter"]);
        let s = t.wait_for(
            |s| s.contains(&format!("demo: leader {leader}")) && s.contains("| UNHEALTHY: "),
            "top's cluster line calling the cut cluster unhealthy",
        );
        for r in others {
            assert!(s.contains(&format!("{r} not streaming")), "{v}: {s}");
        }
        t.send("q", &[]);
        t.wait_for(|s| s.contains("rc=0 after"), "top to end");
    }

    // check still agrees with check_patroni: no healthy replica.
    let all = endpoints(sb);
    let out = same_check(&["-e", &all, "cluster_has_replica"]);
    assert!(
        out.stdout.contains("unhealthy_replica=2"),
        "{v}: {}",
        out.stdout
    );
}
