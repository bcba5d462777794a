//! `list`, `topology` and `history` rendered from a fixture (the renderers are compared with
//! patronictl byte for byte by the sandbox tests; here the command's reading and choices are).

use crate::harness::*;

const LIST: &str = "\
+ Cluster: demo (7712032472125471084) ----------+----+-------------+-----+------------+-----+
| Member | Host           | Role    | State     | TL | Receive LSN | Lag | Replay LSN | Lag |
+--------+----------------+---------+-----------+----+-------------+-----+------------+-----+
| node1  | 127.0.0.1:5433 | Leader  | running   |  1 |             |     |            |     |
| node2  | 127.0.0.1:5434 | Replica | streaming |  1 |   0/4000060 |   0 |  0/4000060 |   0 |
| node3  | 127.0.0.1:5435 | Replica | streaming |  1 |   0/4000060 |   0 |  0/4000060 |   0 |
+--------+----------------+---------+-----------+----+-------------+-----+------------+-----+
";

#[test]
fn list_renders_the_cluster() {
    let out = World::demo_unreachable().run(&["list"]);
    out.code(0);
    assert_eq!(out.stdout, LIST);
    let out = World::demo_unreachable().run(&["list", "demo"]);
    assert_eq!(out.stdout, LIST);
}

#[test]
fn list_json_and_tsv() {
    let out = World::demo_unreachable().run(&["list", "-f", "json"]);
    out.code(0);
    let rows: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 3);
    assert_eq!(rows[0]["Role"], "Leader");
    assert_eq!(rows[1]["Receive LSN"], "0/4000060");
    let out = World::demo_unreachable().run(&["list", "-f", "tsv"]);
    assert_eq!(out.stdout.lines().count(), 4);
    assert!(out
        .stdout
        .starts_with("Cluster\tMember\tHost\tRole\tState\tTL"));
}

#[test]
fn topology_nests_replicas_under_the_leader() {
    let w = World::demo_unreachable();
    let cascading = member(3, "http://x", false).replace(
        r#""timeline":1}"#,
        r#""timeline":1,"tags":{"replicatefrom":"node2"}}"#,
    );
    w.dcs.set(&World::key("members/node3"), &cascading);
    let out = w.run(&["topology"]);
    out.code(0);
    assert!(
        out.stdout.contains("\n| + node2   | 127.0.0.1:5434 |"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("\n|   + node3 | 127.0.0.1:5435 |"),
        "{}",
        out.stdout
    );
}

#[test]
fn history_table() {
    let out = World::demo_unreachable().run(&["history"]);
    out.code(0);
    assert_eq!(
        out.stdout,
        "\
+----+----------+------------------------------+----------------------------------+------------+
| TL |      LSN | Reason                       | Timestamp                        | New Leader |
+----+----------+------------------------------+----------------------------------+------------+
|  1 | 25165984 | no recovery target specified | 2026-11-25T09:06:12.571482+00:00 | node1      |
+----+----------+------------------------------+----------------------------------+------------+
"
    );
}

#[test]
fn a_paused_cluster_and_a_scheduled_switchover_are_shown() {
    let w = World::demo_unreachable();
    w.dcs.set(&World::key("config"), r#"{"pause":true}"#);
    w.dcs.set(
        &World::key("failover"),
        r#"{"leader":"node1","member":"node2","scheduled_at":"2030-01-01T12:00:00+00:00"}"#,
    );
    let out = w.run(&["list"]);
    out.code(0);
    assert!(out.stdout.contains("Maintenance mode: on"));
    assert!(out
        .stdout
        .contains("Switchover scheduled at: 2030-01-01T12:00:00+00:00"));
}

#[test]
fn a_missing_cluster_and_an_unreachable_dcs() {
    let w = World::empty();
    let out = w.run(&["list", "nosuch"]);
    out.code(0);
    assert!(
        out.stdout.starts_with("+ Cluster: nosuch "),
        "{}",
        out.stdout
    );
    w.dcs.set_unreachable(true);
    let out = w.run(&["list"]);
    out.code(3);
    assert!(out.stderr.starts_with("Error: DCS unreachable"));
}

#[test]
fn citus_list_shows_every_group() {
    let w = World::empty_with("citus:\n  group: 0\n  database: citus\n");
    let dead = dead_api();
    w.seed_demo("/service/demo/0/", [&dead, &dead, &dead]);
    w.seed_demo("/service/demo/1/", [&dead, &dead, &dead]);
    let out = w.run(&["list"]);
    out.code(0);
    let groups: Vec<&str> = out
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix("| "))
        .filter_map(|l| l.split(" |").next())
        .collect();
    assert_eq!(
        groups.iter().filter(|g| g.trim() == "0").count(),
        3,
        "{}",
        out.stdout
    );
    assert_eq!(
        groups.iter().filter(|g| g.trim() == "1").count(),
        3,
        "{}",
        out.stdout
    );
    let out = w.run(&["list", "--group", "1"]);
    out.code(0);
    assert_eq!(
        out.stdout.lines().filter(|l| l.contains("| node")).count(),
        3
    );
}
