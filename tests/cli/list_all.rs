//! `list --all` / `topology --all` on the sandbox etcd: synthetic clusters (healthy, without a leader,
//! paused) written into a scratch namespace with a lease, as Patroni writes its member keys; stdout
//! compared with patronictl listing the same clusters by name, the health lines, the filters, exit 9,
//! `--namespace`, and the `-o json` data.

use std::time::Duration;

use crate::common::*;

/// Member JSON as Patroni 4.1.5 writes it (reference/patronictl-spec.md §4.2).
fn member_json(port: u16, leader: bool) -> String {
    if leader {
        format!(
            r#"{{"conn_url":"postgres://127.0.0.1:{port}/postgres","api_url":"http://127.0.0.1:1/patroni","state":"running","role":"primary","version":"4.1.5","xlog_location":67108960,"timeline":3}}"#
        )
    } else {
        format!(
            r#"{{"conn_url":"postgres://127.0.0.1:{port}/postgres","api_url":"http://127.0.0.1:1/patroni","state":"running","role":"replica","version":"4.1.5","xlog_location":67108960,"receive_lsn":67108960,"replay_lsn":67100000,"replication_state":"streaming","timeline":3}}"#
        )
    }
}

/// A lease for the synthetic leader and member keys (outlives the test; the keys are deleted after).
fn grant_lease() -> String {
    let out = etcdctl(&["lease", "grant", "300"]);
    out.code(0);
    // "lease 694d7a1b2c3d4e5f granted with TTL(300s)"
    out.stdout.split_whitespace().nth(1).unwrap().to_string()
}

/// Write one synthetic cluster `scope` under `ns` (`/patctl-test-…/`).
fn write_cluster(ns: &str, scope: &str, lease: &str, leader: bool, paused: bool) {
    let put = |k: &str, v: &str| etcd_put(&format!("{ns}{scope}/{k}"), v);
    let leased = |k: &str, v: &str| {
        let key = format!("{ns}{scope}/{k}");
        etcdctl(&["put", &format!("--lease={lease}"), &key, v]).code(0);
    };
    let config = if paused {
        r#"{"ttl":30,"loop_wait":10,"pause":true}"#
    } else {
        r#"{"ttl":30,"loop_wait":10}"#
    };
    put("config", config);
    put("initialize", "7712032472125471084");
    put("status", r#"{"optime":67108960}"#);
    if leader {
        leased("leader", "pg1");
    }
    for (i, name) in ["pg1", "pg2", "pg3"].iter().enumerate() {
        leased(
            &format!("members/{name}"),
            &member_json(7001 + i as u16, i == 0),
        );
    }
}

/// `etcd3://host:port/<ns>`, the `-d` URL that points either tool at a namespace.
fn dcs_url(ns: &str) -> String {
    format!(
        "etcd3://{}{}",
        etcd_url().trim_start_matches("http://"),
        ns.trim_end_matches('/')
    )
}

#[test]
fn all_over_synthetic_clusters_matches_patronictl_by_name() {
    let Some(_g) = read_lock() else { return };
    let ns = format!("/{}/", scratch_scope("fleet"));
    finally(
        || {
            let lease = grant_lease();
            write_cluster(&ns, "alpha", &lease, true, false);
            write_cluster(&ns, "beta", &lease, false, false);
            write_cluster(&ns, "gamma", &lease, true, true);
            let url = dcs_url(&ns);
            let d = ["-d", url.as_str()];
            let run = |tool: Tool, args: &[&str]| {
                let mut full = d.to_vec();
                full.extend_from_slice(args);
                tool.run(&full, None, &[])
            };
            for (ours, theirs) in [
                (
                    &["list", "--all"][..],
                    &["list", "alpha", "beta", "gamma"][..],
                ),
                (
                    &["list", "--all", "-f", "json"],
                    &["list", "-f", "json", "alpha", "beta", "gamma"],
                ),
                (
                    &["list", "--all", "-f", "tsv", "-e"],
                    &["list", "-f", "tsv", "-e", "alpha", "beta", "gamma"],
                ),
                (
                    &["topology", "--all"],
                    &["topology", "alpha", "beta", "gamma"],
                ),
                (&["list", "--all", "--unhealthy"], &["list", "beta"]),
            ] {
                let p = run(Tool::Patronictl, theirs);
                p.code(0);
                let o = run(Tool::Patctl, ours);
                o.code(9);
                assert_eq!(o.stdout, p.stdout, "{ours:?} against patronictl {theirs:?}");
            }
            let o = run(Tool::Patctl, &["list", "--all"]);
            let lines: Vec<&str> = o.stderr.lines().collect();
            assert_eq!(
                lines,
                [
                    "alpha: healthy; leader pg1 running, 2/2 replicas streaming, worst lag 8960 bytes",
                    "beta: UNHEALTHY (no leader; pg1 primary without the leader key); no leader, 2/3 replicas streaming, worst lag 8960 bytes",
                    "gamma: healthy; leader pg1 running, 2/2 replicas streaming, worst lag 8960 bytes, paused",
                    "Error: 1 cluster shown is unhealthy: beta",
                ]
            );
            let o = run(Tool::Patctl, &["list", "--all", "--paused"]);
            o.code(0);
            assert_eq!(o.stdout, run(Tool::Patronictl, &["list", "gamma"]).stdout);

            let o = run(Tool::Patctl, &["-o", "json", "list", "--all"]);
            o.code(9);
            let env: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
            assert_eq!(env["kind"], "ClusterList");
            assert_eq!(env["error"]["exitCode"], 9);
            let clusters = env["data"]["clusters"].as_array().unwrap();
            assert_eq!(clusters.len(), 3);
            assert_eq!(clusters[0]["namespace"], ns.as_str());
            assert_eq!(clusters[0]["health"]["healthy"], true);
            assert_eq!(clusters[0]["health"]["staleMembers"], serde_json::json!([]));
            assert_eq!(clusters[1]["health"]["leader"], serde_json::Value::Null);
            assert_eq!(clusters[0]["members"][1]["replayLagBytes"], 8960);
            assert_eq!(clusters[0]["members"][1]["receiveLagBytes"], 0);
            assert_eq!(clusters[0]["members"][2]["port"], 7003);
        },
        || etcd_del_prefix(&ns),
    );
}

#[test]
fn all_reads_several_namespaces_and_sees_stale_keys() {
    let Some(_g) = read_lock() else { return };
    let leader = wait_healthy(Duration::from_secs(60));
    let ns = format!("/{}/", scratch_scope("fleet2"));
    finally(
        || {
            let lease = grant_lease();
            write_cluster(&ns, "delta", &lease, true, false);
            // A member key written without a lease never expires: stale.
            etcd_put(&format!("{ns}delta/members/pg9"), &member_json(7009, false));
            let ns_arg = ns.trim_matches('/');
            let o = patctl(&[
                "list",
                "--all",
                "--namespace",
                "service",
                "--namespace",
                ns_arg,
            ]);
            o.code(9);
            let want_demo =
                format!("/service/demo: healthy; leader {leader} running, 2/2 replicas streaming, worst lag 0 bytes");
            assert!(o.stderr.lines().any(|l| l == want_demo), "{}", o.stderr);
            let want_delta = format!("{ns}delta: UNHEALTHY (stale member key pg9); ");
            assert!(
                o.stderr.lines().any(|l| l.starts_with(&want_delta)),
                "{}",
                o.stderr
            );
            let demo = patronictl(&["list", "demo"]);
            assert!(o.stdout.contains(&demo.stdout), "{}", o.stdout);
            // The configured namespace alone: the demo cluster, healthy.
            let o = patctl(&["-o", "json", "topology", "--all"]);
            let env: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
            assert_eq!(env["kind"], "Topology");
            let demo = env["data"]["clusters"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["name"] == "demo")
                .expect("demo listed")
                .clone();
            assert_eq!(demo["health"]["healthy"], true, "{demo}");
            assert_eq!(demo["members"][0]["name"], leader.as_str());
            assert_eq!(demo["members"][0]["level"], 0);
            assert_eq!(demo["members"][1]["upstream"], leader.as_str());
        },
        || etcd_del_prefix(&ns),
    );
}

#[test]
fn live_members_key_ages_are_within_ttl() {
    let Some(_g) = read_lock() else { return };
    wait_healthy(Duration::from_secs(60));
    let config = patctl(&["show-config"]);
    config.code(0);
    let ttl: f64 = config
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("ttl: "))
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or(30.0);
    let o = patctl(&["-o", "json", "list"]);
    o.code(0);
    let env: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    crate::schema::assert_valid("ClusterList", &env);
    let members = env["data"]["clusters"][0]["members"].as_array().unwrap();
    assert_eq!(members.len(), 3, "{env}");
    let zookeeper = std::env::var("SANDBOX_DCS").is_ok_and(|d| d.starts_with("zoo"));
    for m in members {
        if zookeeper {
            // An ephemeral znode lives with its session: no age to tell.
            assert_eq!(m["keyAgeSeconds"], serde_json::Value::Null, "{m}");
            continue;
        }
        let age = m["keyAgeSeconds"]
            .as_f64()
            .unwrap_or_else(|| panic!("no key age: {m}"));
        assert!(
            (0.0..=ttl).contains(&age),
            "age {age} outside 0..={ttl}: {m}"
        );
        assert_eq!(m["staleKey"], false, "{m}");
    }
}
