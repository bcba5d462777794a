//! What the DCS says about itself and about the keys' leases: the switchover pre-flight's DCS WARN
//! items (endpoints that do not answer, the quorum, a leader key about to expire) and the members'
//! key age in `list`/`topology -o json`. The memory store plays etcd v3: its leases have a granted
//! and a remaining time to live, and it answers the endpoint statuses a test gives it.

use patctl::dcs::EndpointStatus;

use crate::harness::*;

/// A healthy etcd member of a three-member DCS cluster.
fn answering(endpoint: &str) -> EndpointStatus {
    let mut s = EndpointStatus::new(endpoint);
    s.quorum = Some(true);
    s.quorum_note = "raft term 2".into();
    s.members = vec!["etcd1".into(), "etcd2".into(), "etcd3".into()];
    s
}

/// The demo cluster whose REST APIs all answer as a streaming replica.
fn demo_world() -> (World, FakeApi) {
    let api = fake_api_routes(&[
        (
            "POST /switchover",
            Reply::Status(
                412,
                "switchover is not possible: no good candidates have been found",
            ),
        ),
        (
            "GET /patroni",
            Reply::Status(
                200,
                r#"{"state":"running","role":"replica","timeline":1,"replication_state":"streaming","xlog":{"received_location":67108960,"replayed_location":67108960}}"#,
            ),
        ),
    ]);
    (World::demo_served_by(&api), api)
}

#[test]
fn dry_run_warns_of_a_dcs_endpoint_down_and_a_leader_key_about_to_expire() {
    let (w, _api) = demo_world();
    // The demo's leader and member keys share lease 7 (loop_wait 10): 4 s left is late.
    w.dcs.set_lease_ttl(7, 30.0, 4.0);
    w.dcs.set_endpoint_statuses(vec![
        answering("http://e1:2379"),
        answering("http://e2:2379"),
        EndpointStatus::unreachable("http://e3:2379", "connection refused", Default::default()),
    ]);
    let out = w.run(&["switchover", "--candidate", "node2", "--dry-run"]);
    out.code(0);
    for line in [
        "WARN: DCS endpoint http://e3:2379 did not answer (connection refused)\n",
        "WARN: 2 of 3 DCS members answered; the quorum (2) holds\n",
        "WARN: the leader key expires in 4 s (under loop_wait 10 s + 1 s): node1 is late refreshing it\n",
    ] {
        assert!(out.stdout.contains(line), "no {line:?} in:\n{}", out.stdout);
    }
    assert!(out
        .stdout
        .ends_with("Switchover can go ahead (dry run: nothing was written)\n"));

    let out = w.run(&[
        "switchover",
        "--candidate",
        "node2",
        "--dry-run",
        "-o",
        "json",
    ]);
    out.code(0);
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    crate::schema::assert_valid("SwitchoverPlan", &doc);
    let dcs = &doc["data"]["dcs"];
    assert_eq!(dcs["leaderKeyRemainingSeconds"], 4.0);
    assert_eq!(dcs["endpoints"][2]["answered"], false);
    assert_eq!(dcs["endpoints"][2]["error"], "connection refused");
    assert_eq!(dcs["endpoints"][0]["quorum"], true);
    let warnings = doc["data"]["warnings"].to_string();
    assert!(warnings.contains("the quorum (2) holds"), "{warnings}");
    assert!(
        warnings.contains("the leader key expires in 4 s"),
        "{warnings}"
    );

    // Lost quorum, and a leader key refreshed on time: no TTL warning.
    w.dcs.set_lease_ttl(7, 30.0, 25.0);
    let mut lost = answering("http://e2:2379");
    lost.quorum = Some(false);
    lost.quorum_note = "raft term 3".into();
    w.dcs.set_endpoint_statuses(vec![
        answering("http://e1:2379"),
        lost,
        EndpointStatus::unreachable("http://e3:2379", "connection refused", Default::default()),
    ]);
    let out = w.run(&["switchover", "--candidate", "node2", "--dry-run"]);
    assert!(
        out.stdout.contains(
            "WARN: DCS endpoint http://e2:2379 is not part of a working quorum (raft term 3)\n"
        ) && out
            .stdout
            .contains("WARN: 1 of 3 DCS members answered; a quorum needs 2\n"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("leader key expires"), "{}", out.stdout);
}

#[test]
fn healthy_dcs_and_fresh_leases_give_no_dcs_warning() {
    let (w, _api) = demo_world();
    w.dcs.set_lease_ttl(7, 30.0, 30.0);
    w.dcs.set_endpoint_statuses(vec![
        answering("http://e1:2379"),
        answering("http://e2:2379"),
        answering("http://e3:2379"),
    ]);
    let out = w.run(&["switchover", "--candidate", "node2", "--dry-run"]);
    out.code(0);
    assert!(!out.stdout.contains("WARN"), "{}", out.stdout);
    assert_eq!(w.dcs.ttl_asks(), [7]);
}

#[test]
fn a_rejection_lists_the_dcs_warnings_with_its_reasons() {
    let (w, _api) = demo_world();
    w.dcs.set_lease_ttl(7, 30.0, 2.0);
    let out = w.run(&["switchover", "--candidate", "node2", "--force"]);
    out.code(1);
    assert!(
        out.stderr.contains(
            "  WARN: the leader key expires in 2 s (under loop_wait 10 s + 1 s): node1 is late refreshing it\n"
        ),
        "{}",
        out.stderr
    );
}

#[test]
fn list_json_gives_each_members_key_age_from_one_ask_per_lease() {
    let w = World::demo_unreachable();
    w.dcs.set_lease_ttl(7, 30.0, 21.0);
    // node3 on a lease of its own, refreshed 45 s ago (granted 60): older than ttl 30, stale.
    let node3 = w.get("members/node3").unwrap();
    w.dcs.set_leased(&World::key("members/node3"), &node3, 9);
    w.dcs.set_lease_ttl(9, 60.0, 15.0);
    let text = w.run(&["list"]);
    text.code(0);
    assert!(w.dcs.ttl_asks().is_empty(), "the table asks for no lease");
    for kind in ["list", "topology"] {
        let out = w.run(&[kind, "-o", "json"]);
        out.code(0);
        let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        crate::schema::assert_valid(
            if kind == "list" {
                "ClusterList"
            } else {
                "Topology"
            },
            &doc,
        );
        let members = doc["data"]["clusters"][0]["members"].as_array().unwrap();
        let age = |n: &str| {
            let m = members.iter().find(|m| m["name"] == n).unwrap();
            (m["keyAgeSeconds"].clone(), m["staleKey"].clone())
        };
        assert_eq!(age("node1"), (9.0.into(), false.into()));
        assert_eq!(age("node2"), (9.0.into(), false.into()));
        assert_eq!(age("node3"), (45.0.into(), true.into()));
    }
    assert_eq!(w.dcs.ttl_asks(), [7, 9, 7, 9]);
    // A lease the store no longer knows: the age is unknown, the key is not judged on it.
    w.dcs.set_leased(&World::key("members/node3"), &node3, 11);
    let out = w.run(&["list", "-o", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let m = &doc["data"]["clusters"][0]["members"][2];
    assert_eq!(m["keyAgeSeconds"], serde_json::Value::Null);
    assert_eq!(m["staleKey"], false);
}
