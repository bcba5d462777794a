//! `remove`: the three confirmations, and exactly the cluster's keys deleted.

use crate::harness::*;

fn world() -> World {
    let w = World::demo_unreachable();
    w.dcs.set("/service/other/leader", "x");
    w
}

fn demo_keys(w: &World) -> usize {
    w.dcs
        .keys()
        .iter()
        .filter(|k| k.starts_with("/service/demo/"))
        .count()
}

#[test]
fn confirmed_removal_deletes_the_cluster_only() {
    let w = world();
    let out = w.run_stdin(&["remove", "demo"], "demo\nYes I am aware\nnode1\n");
    out.code(0);
    assert!(out
        .stdout
        .contains("Please confirm the cluster name to remove: "));
    assert!(out.stdout.contains(
        "You are about to remove all information in DCS for demo, please type: \"Yes I am aware\": "
    ));
    assert!(out.stdout.contains(
        "This cluster currently is healthy. Please specify the leader name to continue: "
    ));
    assert_eq!(demo_keys(&w), 0);
    assert_eq!(w.dcs.get("/service/other/leader").as_deref(), Some("x"));
    assert_eq!(w.dcs.writes(), ["delete /service/demo/"]);
}

#[test]
fn every_wrong_answer_deletes_nothing() {
    let w = world();
    let cases = [
        ("demo2\n", "Error: Cluster names specified do not match\n"),
        (
            "demo\nyes\n",
            "Error: You did not exactly type \"Yes I am aware\"\n",
        ),
        (
            "demo\nYes I am aware\nnode2\n",
            "Error: You did not specify the current leader of the cluster\n",
        ),
    ];
    for (stdin, err) in cases {
        let out = w.run_stdin(&["remove", "demo"], stdin);
        out.code(1);
        assert_eq!(out.stderr, err);
    }
    assert!(w.dcs.writes().is_empty());
    assert_eq!(demo_keys(&w), 8);
}

#[test]
fn without_a_leader_no_leader_name_is_asked() {
    let w = world();
    w.dcs.remove(&World::key("leader"));
    let out = w.run_stdin(&["remove", "demo"], "demo\nYes I am aware\n");
    out.code(0);
    assert!(!out.stdout.contains("leader name"));
    assert_eq!(demo_keys(&w), 0);
}

#[test]
fn scriptable_flags_answer_the_prompts() {
    let w = world();
    let args = [
        "remove",
        "demo",
        "--confirm-cluster",
        "demo",
        "--yes-i-am-aware",
        "--confirm-leader",
        "node2",
    ];
    w.run(&args).code(1);
    assert_eq!(demo_keys(&w), 8);
    let mut args = args;
    args[6] = "node1";
    w.run(&args).code(0);
    assert_eq!(demo_keys(&w), 0);
}

#[test]
fn citus_needs_a_group_and_removes_only_that_group() {
    let w = World::empty_with("citus:\n  group: 0\n  database: citus\n");
    let dead = dead_api();
    w.seed_demo("/service/demo/0/", [&dead, &dead, &dead]);
    w.seed_demo("/service/demo/1/", [&dead, &dead, &dead]);
    let out = w.run_stdin(&["remove", "demo"], "demo\nYes I am aware\nnode1\n");
    out.code(1);
    assert_eq!(
        out.stderr,
        "Error: For Citus clusters the --group must me specified\n"
    );
    w.run_stdin(
        &["remove", "demo", "--group", "1"],
        "demo\nYes I am aware\nnode1\n",
    )
    .code(0);
    let left = w.dcs.keys();
    assert!(
        left.iter().all(|k| k.starts_with("/service/demo/0/")),
        "{left:?}"
    );
    assert_eq!(left.len(), 8);
}
