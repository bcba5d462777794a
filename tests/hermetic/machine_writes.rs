//! Machine output (`-o json|yaml`) of the writes (`reload`, `reinit`, `flush`, `pause`, `resume`,
//! `remove`, `demote-cluster`, `promote-cluster`): what was asked, each member's outcome with
//! Patroni's answer, the wait stages; validated against `schemas/<Kind>.schema.json`.

use serde_json::{json, Value};

use crate::harness::*;
use crate::machine::envelope;

fn outcomes(env: &Value) -> Vec<(String, String)> {
    env["data"]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["member"].as_str().unwrap().to_string(),
                m["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn reload_reports_each_members_answer() {
    let api = fake_api(&[Reply::Status(202, "")]);
    let w = World::demo_served_by(&api);
    let env = envelope(&w, "Reload", &["reload", "demo", "--force"], 0);
    assert_eq!(env["data"]["action"], "reload");
    assert_eq!(env["data"]["targets"], json!(["node1", "node2", "node3"]));
    assert_eq!(
        outcomes(&env),
        pairs(&[
            ("node1", "succeeded"),
            ("node2", "succeeded"),
            ("node3", "succeeded")
        ])
    );
    assert_eq!(env["data"]["members"][0]["httpStatus"], 202);
    assert_eq!(env["data"]["members"][0]["response"], "");
}

#[test]
fn reload_with_a_rejection_and_a_dead_member() {
    let ok = fake_api(&[Reply::Status(200, "")]);
    let no = fake_api(&[Reply::Status(503, r#"{"error":"busy"}"#)]);
    let w = World::demo([&ok.url(), &no.url(), &dead_api()]);
    let env = envelope(&w, "Reload", &["reload", "demo", "--force"], 1);
    assert_eq!(env["error"]["category"], "failed");
    assert_eq!(
        outcomes(&env),
        pairs(&[
            ("node1", "succeeded"),
            ("node2", "failed"),
            ("node3", "failed")
        ])
    );
    let m = &env["data"]["members"];
    assert_eq!(m[1]["httpStatus"], 503);
    assert_eq!(
        m[1]["response"],
        json!({"error": "busy"}),
        "JSON answers are parsed"
    );
    assert_eq!(m[2]["httpStatus"], Value::Null);
    assert!(m[2]["message"].as_str().unwrap().contains("cannot connect"));
}

#[test]
fn a_member_that_does_not_answer_is_unknown() {
    let hang = fake_api(&[Reply::Hang]);
    let w = World::demo_served_by(&hang);
    let env = envelope(
        &w,
        "Reload",
        &[
            "--request-timeout",
            "0.3",
            "reload",
            "demo",
            "node2",
            "--force",
        ],
        5,
    );
    assert_eq!(outcomes(&env), pairs(&[("node2", "unknown")]));
    assert_eq!(env["error"]["category"], "unknown");
    assert_eq!(env["error"]["retrySafe"], false);
}

#[test]
fn reinit_outcome_and_no_wait() {
    let api = fake_api(&[Reply::Status(200, "reinitialize started")]);
    let w = World::demo_served_by(&api);
    let env = envelope(&w, "Reinit", &["reinit", "demo", "node2", "--force"], 0);
    assert_eq!(env["data"]["targets"], json!(["node2"]));
    assert_eq!(env["data"]["fromLeader"], false);
    assert_eq!(env["data"]["wait"], Value::Null);
    assert_eq!(outcomes(&env), pairs(&[("node2", "succeeded")]));
    assert_eq!(
        env["data"]["members"][0]["response"],
        "reinitialize started"
    );
}

#[test]
fn reinit_wait_that_times_out_keeps_the_stage() {
    let api = fake_api_routes(&[
        (
            "POST /reinitialize",
            Reply::Status(200, "reinitialize started"),
        ),
        (
            "GET /patroni",
            Reply::Status(200, r#"{"state":"creating replica"}"#),
        ),
    ]);
    let w = World::demo_served_by(&api);
    let args = [
        "reinit",
        "demo",
        "node2",
        "--force",
        "--wait",
        "--wait-timeout",
        "0.5",
    ];
    let env = envelope(&w, "Reinit", &args, 5);
    assert_eq!(outcomes(&env), pairs(&[("node2", "succeeded")]));
    assert_eq!(
        env["data"]["wait"],
        json!([{"member": "node2", "result": "timedOut", "lastState": "creating replica"}])
    );
}

#[test]
fn flush_restart_and_switchover() {
    let api = fake_api(&[Reply::Status(200, "")]);
    let w = World::demo_served_by(&api);
    let env = envelope(&w, "Flush", &["flush", "demo", "restart", "--force"], 0);
    assert_eq!(env["data"]["action"], "flush restart");
    assert_eq!(
        env["data"]["members"][0]["httpStatus"],
        Value::Null,
        "nothing to send"
    );
    assert_eq!(
        env["data"]["members"][0]["message"],
        "No scheduled restart for member node1"
    );
    let env = envelope(&w, "Flush", &["flush", "demo", "switchover"], 0);
    assert_eq!(env["data"]["members"], json!([]));

    // A scheduled switchover no member can flush: cleared in the DCS.
    let w = World::demo_unreachable();
    w.dcs.set(
        &World::key("failover"),
        r#"{"leader":"node1","member":"node2","scheduled_at":"2030-01-01T00:00:00+00:00"}"#,
    );
    let env = envelope(&w, "Flush", &["flush", "demo", "switchover"], 0);
    assert_eq!(
        outcomes(&env),
        pairs(&[
            ("node1", "failed"),
            ("node2", "failed"),
            ("node3", "failed")
        ])
    );
    assert_eq!(
        env["data"]["dcsWrite"],
        json!({"key": "failover", "value": {}, "outcome": "succeeded"})
    );
    assert_eq!(env["metadata"]["warnings"].as_array().unwrap().len(), 7);
}

#[test]
fn pause_and_resume() {
    let api = fake_api_routes(&[("PATCH /config", Reply::Status(200, "{}"))]);
    let w = World::demo_served_by(&api);
    let env = envelope(&w, "Pause", &["pause"], 0);
    assert_eq!(env["data"]["request"], json!({"pause": true}));
    assert_eq!(outcomes(&env), pairs(&[("node1", "succeeded")]));
    assert_eq!(env["data"]["wait"], Value::Null);

    let env = envelope(&w, "Resume", &["resume"], 1);
    assert_eq!(env["error"]["message"], "Cluster is not paused");
    assert!(env.get("data").is_none(), "nothing was done");

    w.dcs.set(
        &World::key("config"),
        r#"{"ttl":30,"loop_wait":1,"pause":true}"#,
    );
    // No member publishes `pause`, so every one has acknowledged the resume at once.
    let env = envelope(&w, "Resume", &["resume", "--wait"], 0);
    assert_eq!(env["data"]["request"], json!({"pause": null}));
    assert_eq!(outcomes(&env), pairs(&[("node1", "succeeded")]));
    let wait = &env["data"]["wait"];
    assert_eq!(wait["members"], json!(["node1", "node2", "node3"]));
    assert_eq!(wait["pending"], json!([]));
    assert_eq!(wait["timeoutSeconds"], 7.0);
}

#[test]
fn pause_wait_acknowledged_by_every_member() {
    let api = fake_api_routes(&[("PATCH /config", Reply::Status(200, "{}"))]);
    let w = World::demo_served_by(&api);
    let dcs = w.dcs.clone();
    let url = api.url();
    let patroni = api.clone();
    std::thread::spawn(move || {
        patroni.wait_for_request("PATCH /config");
        for n in 1..=3 {
            let m = member(n, &url, n == 1).replace('}', r#","pause":true}"#);
            dcs.set(&World::key(&format!("members/node{n}")), &m);
        }
    });
    let env = envelope(&w, "Pause", &["pause", "--wait"], 0);
    assert_eq!(env["data"]["wait"]["pending"], json!([]));
}

#[test]
fn remove_with_its_confirmation_flags() {
    let w = World::demo_unreachable();
    let args = [
        "remove",
        "demo",
        "--confirm-cluster",
        "demo",
        "--yes-i-am-aware",
        "--confirm-leader",
        "node1",
    ];
    let env = envelope(&w, "Remove", &args, 0);
    assert_eq!(
        env["data"],
        json!({"cluster": "demo", "group": null, "leader": "node1", "removed": true})
    );
    assert!(w.get("leader").is_none());
}

#[test]
fn demote_and_promote_report_the_patch_and_the_wait() {
    let api = fake_api_routes(&[("PATCH /config", Reply::Status(200, "{}"))]);
    let w = World::demo_served_by(&api);
    let dcs = w.dcs.clone();
    let url = api.url();
    let patroni = api.clone();
    std::thread::spawn(move || {
        patroni.wait_for_request("PATCH /config");
        let now = member(1, &url, true).replace("primary", "standby_leader");
        dcs.set(&World::key("members/node1"), &now);
    });
    let env = envelope(
        &w,
        "DemoteCluster",
        &["demote-cluster", "--host", "h", "--force"],
        0,
    );
    assert_eq!(
        env["data"]["request"],
        json!({"standby_cluster": {"host": "h"}})
    );
    assert_eq!(outcomes(&env), pairs(&[("node1", "succeeded")]));
    assert_eq!(env["data"]["wait"]["completed"], true);
    assert_eq!(env["data"]["wait"]["leaderRole"], "standby_leader");

    // Promote, and Patroni never gets there: the wait gives up, the stage stays.
    let env = envelope(
        &w,
        "PromoteCluster",
        &["promote-cluster", "--force", "--wait-timeout", "0.3"],
        5,
    );
    assert_eq!(env["data"]["request"], json!({"standby_cluster": null}));
    assert_eq!(env["data"]["wait"]["completed"], false);
    assert_eq!(env["error"]["category"], "unknown");
}

#[test]
fn a_rejected_demotion_has_patronis_answer() {
    let api = fake_api_routes(&[("PATCH /config", Reply::Status(409, "conflict"))]);
    let w = World::demo_served_by(&api);
    let env = envelope(
        &w,
        "DemoteCluster",
        &["demote-cluster", "--host", "h", "--force"],
        1,
    );
    assert_eq!(outcomes(&env), pairs(&[("node1", "failed")]));
    assert_eq!(env["data"]["members"][0]["httpStatus"], 409);
    assert_eq!(env["data"]["wait"], Value::Null);
}
