//! `switchover --wait` on the sandbox: the scripted JSON answer once the former leader streams, a
//! replica that does not stream (exit 8), and a `nofailover` candidate refused with Patroni's reason.

use super::*;

/// The member key of `node` as JSON.
fn member_json(node: &str) -> serde_json::Value {
    let raw = etcd_get(&format!("/service/demo/members/{node}")).unwrap_or_default();
    serde_json::from_str(&raw).unwrap_or_default()
}

/// The stage `name` of a `Switchover` document.
fn stage<'a>(doc: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    doc["data"]["wait"]["stages"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["name"] == name))
        .unwrap_or_else(|| panic!("no stage {name} in {doc}"))
}

#[test]
fn wait_json_returns_once_the_former_leader_streams_again() {
    let Some(_g) = write_lock() else { return };
    on_cluster(|| {
        let out = patctl(&[
            "switchover",
            "--candidate",
            "node2",
            "--force",
            "--wait",
            "-o",
            "json",
        ]);
        // Read at once: the DCS must already show what the JSON says.
        let node1 = member_json("node1");
        let node2 = member_json("node2");
        out.code(0);
        let doc: serde_json::Value = serde_json::from_str(&out.stdout).expect("one JSON document");
        crate::schema::assert_valid("Switchover", &doc);
        let data = &doc["data"];
        assert_eq!(data["request"]["outcome"], "succeeded");
        assert_eq!(data["request"]["httpStatus"], 200);
        assert_eq!(data["newLeader"], "node2");
        assert_eq!(data["wait"]["completed"], true);
        for name in ["leader", "rejoin", "replicas"] {
            let s = stage(&doc, name);
            assert_eq!(s["reached"], true, "{s}");
            assert!(s["elapsedSeconds"].as_f64().unwrap() > 0.0, "{s}");
        }
        let rejoin = &stage(&doc, "rejoin")["details"]["member"];
        assert_eq!(rejoin["name"], "node1");
        assert_eq!(rejoin["replicationState"], "streaming");
        assert_eq!(node1["replication_state"], "streaming", "{node1}");
        assert_eq!(node1["timeline"], node2["timeline"]);
        assert_eq!(rejoin["timeline"], node2["timeline"]);
        assert!(
            stage(&doc, "leader")["details"]["timeline"].as_i64()
                > stage(&doc, "leader")["details"]["previousTimeline"].as_i64()
        );
        assert!(
            out.stderr.contains("\nStages:\n  leader    reached "),
            "{}",
            out.stderr
        );
    });
}

#[test]
fn a_replica_that_does_not_stream_fails_the_wait_with_exit_8() {
    let Some(_g) = write_lock() else { return };
    on_cluster(|| {
        // nostream: Patroni keeps node3 from streaming, so it cannot follow the new timeline and
        // falls behind the new leader.
        tag_member("node3", "{nostream: true}");
        finally(
            || {
                let out = patctl(&[
                    "switchover",
                    "--candidate",
                    "node2",
                    "--force",
                    "--wait",
                    "--wait-timeout",
                    "20",
                    "-o",
                    "json",
                ]);
                out.code(8);
                let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
                crate::schema::assert_valid("Switchover", &doc);
                assert_eq!(doc["error"]["exitCode"], 8);
                let msg = doc["error"]["message"].as_str().unwrap();
                assert!(
                    msg.contains("replicas not reached") && msg.contains("node3"),
                    "{msg}"
                );
                assert_eq!(stage(&doc, "leader")["reached"], true);
                assert_eq!(stage(&doc, "rejoin")["reached"], true);
                let replicas = stage(&doc, "replicas");
                assert_eq!(replicas["reached"], false);
                assert_eq!(replicas["blocking"], serde_json::json!(["node3"]));
                assert!(
                    out.stderr.contains("replicas  NOT reached"),
                    "{}",
                    out.stderr
                );
            },
            || tag_member("node3", "{}"),
        );
    });
}

#[test]
fn a_nofailover_candidate_gets_412_and_the_reason() {
    let Some(_g) = write_lock() else { return };
    on_cluster(|| {
        tag_member("node3", "{nofailover: true}");
        finally(
            || {
                // The DCS shows node3 without the tag (as before Patroni's next loop), so the
                // client-side check lets it through and Patroni, which asks node3 itself, refuses.
                let key = "/service/demo/members/node3";
                let mut m = member_json("node3");
                m.as_object_mut().unwrap().remove("tags");
                etcd_put(key, &m.to_string());
                let out = patctl(&["switchover", "--candidate", "node3", "--force"]);
                out.code(1);
                assert!(
                    out.stdout.ends_with(
                        "Switchover failed, details: 412, switchover is not possible: no good candidates have been found\n"
                    ),
                    "{}",
                    out.stdout
                );
                assert!(
                    out.stderr
                        .contains("Pre-flight reasons:\n  node3: tagged nofailover"),
                    "{}",
                    out.stderr
                );
            },
            || tag_member("node3", "{}"),
        );
        assert_eq!(wait_healthy(HEALTHY), "node1");
    });
}
