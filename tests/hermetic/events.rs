//! `events`: the typed events a stream of DCS changes produces, in order, once each; `--count`,
//! `--until`, `--wait-timeout`; `--since-revision` replaying what happened after a revision; a DCS
//! that stops answering and comes back (said in the stream, nothing lost).

use std::thread;

use patctl::dcs::Memory;
use serde_json::Value;

use crate::harness::*;

/// The `data` of each envelope line.
fn events(out: &Out) -> Vec<Value> {
    out.stdout
        .lines()
        .map(|l| {
            let env: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
            assert_eq!(env["apiVersion"], "patctl/v1");
            assert_eq!(env["kind"], "Event");
            assert_eq!(env["metadata"]["command"], "events");
            env["data"].clone()
        })
        .collect()
}

fn types(evs: &[Value]) -> Vec<String> {
    evs.iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect()
}

/// Run `f` on another thread once the command watches `dcs`: it has read the cluster, so what `f`
/// changes is a change it sees (made earlier, it would be part of that first read).
fn once_watching(dcs: &Memory, f: impl FnOnce() + Send + 'static) -> thread::JoinHandle<()> {
    let dcs = dcs.clone();
    thread::spawn(move || {
        soon("the command watching the DCS", || dcs.waiters() > 0);
        f()
    })
}

#[test]
fn a_switchover_and_a_pause_arrive_in_order_once() {
    let w = World::demo_unreachable();
    let m = w.dcs.clone();
    let writer = once_watching(&w.dcs, move || {
        m.set(
            &World::key("failover"),
            r#"{"leader":"node1","member":"node2"}"#,
        );
        m.remove(&World::key("leader"));
        m.set(&World::key("leader"), "node2");
        m.remove(&World::key("failover"));
        m.set(
            &World::key("config"),
            r#"{"ttl":30,"loop_wait":10,"retry_timeout":10,"maximum_lag_on_failover":1048576,"postgresql":{"parameters":{"max_connections":100}},"pause":true}"#,
        );
    });
    let out = w.run(&["events", "--count", "7", "--wait-timeout", "10"]);
    writer.join().unwrap();
    out.code(0);
    let evs = events(&out);
    // Without the leader key the cluster is unhealthy (the one health judgement); node1 still says
    // `primary` once node2 holds the key, so it stays unhealthy.
    assert_eq!(
        types(&evs),
        [
            "failover-set",
            "leader-change",
            "health-change",
            "leader-change",
            "failover-cleared",
            "config-change",
            "pause"
        ]
    );
    assert_eq!(evs[0]["from"], "node1");
    assert_eq!(evs[0]["to"], "node2");
    assert_eq!(evs[1]["to"], Value::Null);
    assert_eq!(
        (&evs[2]["from"], &evs[2]["to"]),
        (&Value::from("healthy"), &Value::from("unhealthy"))
    );
    assert!(
        evs[2]["detail"].as_str().unwrap().starts_with("no leader"),
        "{}",
        evs[2]
    );
    let evs: Vec<Value> = evs
        .into_iter()
        .filter(|e| e["type"] != "health-change")
        .collect();
    assert_eq!(evs[2]["from"], Value::Null);
    assert_eq!(evs[2]["to"], "node2");
    assert_eq!(evs[2]["timeline"], 2, "one past the last history line");
    assert_eq!(evs[4]["keys"], serde_json::json!(["pause"]));
    let revs: Vec<i64> = evs
        .iter()
        .map(|e| e["revision"].as_i64().unwrap())
        .collect();
    assert!(revs.windows(2).all(|p| p[0] <= p[1]), "{revs:?}");
    assert_eq!(revs[4], revs[5], "pause comes with its config change");
    assert!(evs.iter().all(|e| e["cluster"] == "demo"));
}

#[test]
fn since_revision_replays_exactly_what_came_after() {
    let w = World::demo_unreachable();
    let start = w.dcs.version(&World::key("members/node3")).unwrap().raw();
    w.dcs.remove(&World::key("members/node3"));
    w.dcs.set(&World::key("leader"), "node2");
    let out = w.run(&[
        "events",
        "--since-revision",
        &start.to_string(),
        "--count",
        "2",
    ]);
    out.code(0);
    let evs = events(&out);
    assert_eq!(types(&evs), ["member-left", "leader-change"]);
    assert_eq!(evs[0]["member"], "node3");
    assert_eq!(evs[0]["revision"], start + 1);
    // Resuming after the first event gives the second, and nothing before it.
    let out = w.run(&[
        "events",
        "--since-revision",
        &(start + 1).to_string(),
        "--until",
        "leader-change",
    ]);
    assert_eq!(types(&events(&out)), ["leader-change"]);
}

#[test]
fn until_waits_for_its_type_and_times_out_with_exit_1() {
    let w = World::demo_unreachable();
    let m = w.dcs.clone();
    let writer = once_watching(&w.dcs, move || {
        m.set(
            &World::key("members/node4"),
            r#"{"role":"replica","state":"starting"}"#,
        );
        m.set(&World::key("leader"), "node3");
    });
    let out = w.run(&["events", "--until", "leader-change", "--wait-timeout", "10"]);
    writer.join().unwrap();
    out.code(0);
    // A member that is starting makes the cluster unhealthy.
    assert_eq!(
        types(&events(&out)),
        ["member-joined", "health-change", "leader-change"]
    );
    let out = w.run(&["events", "--until", "pause", "--wait-timeout", "0.3"]);
    out.code(1);
    assert!(out.stdout.is_empty());
    assert!(
        out.stderr.contains("no pause event within 0.3s"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_dcs_outage_is_said_and_loses_nothing() {
    let w = World::demo_unreachable();
    let m = w.dcs.clone();
    let writer = once_watching(&w.dcs, move || {
        m.set_unreachable(true);
        // The change wakes the command's watch, which finds the DCS away; the outage ends once it
        // has seen that.
        m.set(&World::key("leader"), "node2");
        soon("the command seeing the outage", || m.refusals() > 0);
        m.set_unreachable(false);
    });
    let out = w.run(&["events", "--until", "leader-change", "--wait-timeout", "15"]);
    writer.join().unwrap();
    out.code(0);
    let evs = events(&out);
    assert_eq!(
        types(&evs),
        ["dcs-disconnected", "dcs-reconnected", "leader-change"]
    );
    assert!(evs[0]["detail"].as_str().unwrap().contains("unreachable"));
    assert_eq!(evs[2]["to"], "node2");
}

#[test]
fn every_cluster_with_all() {
    let w = World::demo_unreachable();
    let m = w.dcs.clone();
    let writer = once_watching(&w.dcs, move || {
        m.set("/service/other/leader", "x1");
        m.set(&World::key("leader"), "node3");
    });
    let out = w.run(&["events", "--all", "--count", "3", "--wait-timeout", "10"]);
    writer.join().unwrap();
    out.code(0);
    let evs = events(&out);
    let got: Vec<(String, String)> = evs
        .iter()
        .map(|e| {
            (
                e["cluster"].as_str().unwrap().into(),
                e["type"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("other".into(), "cluster-created".into()),
            ("other".into(), "leader-change".into()),
            ("demo".into(), "leader-change".into())
        ]
    );
}
