//! `list --all` and `topology --all` over several clusters in memory: one table per cluster as
//! patronictl prints them by name, a health line per cluster on stderr, the `--unhealthy` and
//! `--paused` filters, other namespaces, exit 9, and the `-o json` data of `list` and `topology`.

use serde_json::Value;

use crate::harness::*;

/// demo (healthy), `paused` (healthy, paused), `nolead` (no leader key) in `/service/`, and `far`
/// (healthy) in `/other/`.
fn fleet() -> World {
    let w = World::demo_unreachable();
    let dead = dead_api();
    w.seed_demo("/service/paused/", [&dead, &dead, &dead]);
    w.dcs.set("/service/paused/config", r#"{"pause":true}"#);
    w.seed_demo("/service/nolead/", [&dead, &dead, &dead]);
    w.dcs.remove("/service/nolead/leader");
    w.seed_demo("/other/far/", [&dead, &dead, &dead]);
    w
}

fn json(out: &Out) -> Value {
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", out.stdout))
}

fn names(data: &Value) -> Vec<String> {
    data["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn all_prints_each_cluster_as_by_name_and_a_health_line_per_cluster() {
    let w = fleet();
    let by_name = w.run(&["list", "demo", "nolead", "paused"]);
    by_name.code(0);
    let out = w.run(&["list", "--all"]);
    out.code(9);
    assert_eq!(out.stdout, by_name.stdout);
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(
        lines,
        [
            "demo: healthy; leader node1 running, 2/2 replicas streaming, worst lag 0 bytes",
            "nolead: UNHEALTHY (no leader; node1 primary without the leader key); no leader, 2/3 replicas streaming, worst lag 0 bytes",
            "paused: healthy; leader node1 running, 2/2 replicas streaming, worst lag 0 bytes, paused",
            "Error: 1 cluster shown is unhealthy: nolead",
        ]
    );
    for fmt in ["json", "tsv", "yaml"] {
        let by_name = w.run(&["list", "-f", fmt, "demo", "nolead", "paused"]);
        let all = w.run(&["list", "-f", fmt, "--all"]);
        all.code(9);
        assert_eq!(all.stdout, by_name.stdout, "-f {fmt}");
    }
    let topo = w.run(&["topology", "--all"]);
    topo.code(9);
    assert_eq!(
        topo.stdout,
        w.run(&["topology", "demo", "nolead", "paused"]).stdout
    );
}

#[test]
fn filters_namespaces_and_exit_codes() {
    let w = fleet();
    let out = w.run(&["list", "--all", "--paused"]);
    out.code(0);
    assert!(
        out.stdout.starts_with("+ Cluster: paused "),
        "{}",
        out.stdout
    );
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    let out = w.run(&["list", "--all", "--unhealthy", "-f", "tsv"]);
    out.code(9);
    assert!(out
        .stdout
        .lines()
        .skip(1)
        .all(|l| l.starts_with("nolead\t")));
    let out = w.run(&["list", "--all", "--namespace", "other"]);
    out.code(0);
    assert!(out.stdout.starts_with("+ Cluster: far "), "{}", out.stdout);
    // Several namespaces: the health lines name the namespace too.
    let out = w.run(&[
        "list",
        "--all",
        "--namespace",
        "/other/",
        "--namespace",
        "service",
    ]);
    out.code(9);
    let first: Vec<&str> = out
        .stderr
        .lines()
        .map(|l| l.split(':').next().unwrap())
        .collect();
    assert_eq!(
        first,
        [
            "/other/far",
            "/service/demo",
            "/service/nolead",
            "/service/paused",
            "Error"
        ]
    );
    let out = w.run(&["list", "--all", "--namespace", "empty"]);
    out.code(0);
    assert_eq!(out.stdout, "");
    assert_eq!(out.stderr, "No clusters to show\n");
}

#[test]
fn a_member_key_without_a_lease_is_stale() {
    let w = World::demo_unreachable();
    // Written by hand (no lease): it would never expire.
    let ghost = member(4, &dead_api(), false);
    w.dcs.set(&World::key("members/node4"), &ghost);
    let out = w.run(&["list", "--all"]);
    out.code(9);
    assert!(
        out.stderr.contains("UNHEALTHY (stale member key node4)"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("stale member keys: node4"),
        "{}",
        out.stderr
    );
}

#[test]
fn machine_output_with_and_without_all() {
    let w = fleet();
    let out = w.run(&["-o", "json", "list"]);
    out.code(0);
    let env = json(&out);
    assert_eq!(env["kind"], "ClusterList");
    assert_eq!(names(&env["data"]), ["demo"]);
    let c = &env["data"]["clusters"][0];
    assert_eq!(c["namespace"], "/service/");
    assert_eq!(c["health"]["healthy"], true);
    assert_eq!(c["health"]["leader"], "node1");
    assert_eq!(c["health"]["worstLagBytes"], 0);
    let m = &c["members"];
    assert_eq!(m.as_array().unwrap().len(), 3);
    assert_eq!(m[0]["role"], "leader");
    assert_eq!(m[1]["state"], "streaming");
    assert_eq!(m[1]["receiveLsn"], 67108960);
    assert_eq!(m[1]["replayLagBytes"], 0);
    assert_eq!(m[1]["port"], 5434);
    assert_eq!(m[1]["staleKey"], false);
    assert!(
        out.stderr.is_empty(),
        "no table in machine mode: {}",
        out.stderr
    );

    let out = w.run(&["-o", "json", "list", "--all"]);
    out.code(9);
    let env = json(&out);
    assert_eq!(names(&env["data"]), ["demo", "nolead", "paused"]);
    assert_eq!(env["error"]["exitCode"], 9);
    assert_eq!(env["error"]["category"], "unhealthy");
    assert_eq!(
        env["data"]["clusters"][1]["health"]["problems"][0],
        "no leader"
    );
    assert_eq!(env["data"]["clusters"][2]["health"]["paused"], true);

    let out = w.run(&["-o", "json", "list", "--all", "--paused"]);
    out.code(0);
    let env = json(&out);
    assert!(env.get("error").is_none());
    assert_eq!(names(&env["data"]), ["paused"]);

    let out = w.run(&["-o", "yaml", "topology", "--all", "--namespace", "other"]);
    out.code(0);
    assert!(out.stdout.contains("kind: Topology"), "{}", out.stdout);
    let out = w.run(&["-o", "json", "topology"]);
    out.code(0);
    let env = json(&out);
    assert_eq!(env["kind"], "Topology");
    let m = &env["data"]["clusters"][0]["members"];
    assert_eq!(m[0]["level"], 0);
    assert_eq!(m[1]["level"], 1);
    assert_eq!(m[1]["upstream"], "node1");
}

#[test]
fn flags_that_need_all_and_watching_in_machine_mode() {
    use clap::Parser;
    for args in [
        &["patctl", "list", "--unhealthy"][..],
        &["patctl", "list", "--namespace", "x"],
        &["patctl", "topology", "--paused"],
        &["patctl", "list", "--all", "demo"],
        &["patctl", "list", "--all", "--group", "1"],
    ] {
        assert!(
            patctl::cli::Cli::try_parse_from(args).is_err(),
            "{args:?} should be refused"
        );
    }
    let out = World::demo_unreachable().run(&["-o", "json", "list", "-W"]);
    out.code(2);
    assert_eq!(json(&out)["error"]["category"], "usage");
}

#[test]
fn citus_clusters_are_read_with_their_groups() {
    let w = World::empty_with("citus:\n  group: 0\n  database: citus\n");
    let dead = dead_api();
    w.seed_demo("/service/demo/0/", [&dead, &dead, &dead]);
    w.seed_demo("/service/demo/1/", [&dead, &dead, &dead]);
    w.dcs.remove("/service/demo/1/leader");
    let out = w.run(&["list", "--all"]);
    out.code(9);
    assert_eq!(out.stdout, w.run(&["list", "demo"]).stdout);
    assert!(
        out.stderr.starts_with(
            "demo: UNHEALTHY (group 1: no leader; group 1: node1 primary without the leader key); "
        ),
        "{}",
        out.stderr
    );
    let out = w.run(&["-o", "json", "list", "--all"]);
    let groups: Vec<i64> = json(&out)["data"]["clusters"][0]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["group"].as_i64().unwrap())
        .collect();
    assert_eq!(groups, [0, 0, 0, 1, 1, 1]);
}

/// Past 64 clusters the tables and health lines are drawn (and the clusters parsed) on several
/// threads: the output is still each cluster in the order of its name, as listed by name.
#[test]
fn a_big_namespace_is_printed_in_order_as_by_name() {
    let w = World::empty();
    let dead = dead_api();
    let names: Vec<String> = (0..150).map(|i| format!("c{i:03}")).collect();
    for (i, n) in names.iter().enumerate() {
        w.seed_demo(&format!("/service/{n}/"), [&dead, &dead, &dead]);
        if i % 7 == 3 {
            // Every seventh cluster has no leader, so the health lines differ from cluster to cluster.
            w.dcs.remove(&format!("/service/{n}/leader"));
        }
    }
    let mut args = vec!["list"];
    args.extend(names.iter().map(String::as_str));
    let by_name = w.run(&args);
    by_name.code(0);
    for fmt in ["pretty", "json", "tsv"] {
        let all = w.run(&["list", "-f", fmt, "--all"]);
        all.code(9);
        let mut by_name_args = vec!["list", "-f", fmt];
        by_name_args.extend(names.iter().map(String::as_str));
        assert_eq!(all.stdout, w.run(&by_name_args).stdout, "-f {fmt}");
    }
    let all = w.run(&["list", "--all"]);
    let health: Vec<&str> = all.stderr.lines().collect();
    assert_eq!(health.len(), 151, "{}", all.stderr);
    for (i, (line, n)) in health.iter().zip(&names).enumerate() {
        assert!(line.starts_with(&format!("{n}: ")), "{line}");
        assert_eq!(line.contains("UNHEALTHY"), i % 7 == 3, "{line}");
    }
    assert!(health[150].starts_with("Error: 21 clusters shown are unhealthy: c003, c010, "));
}
