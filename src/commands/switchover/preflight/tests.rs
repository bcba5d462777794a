//! Unit tests of the member verdicts of the pre-flight.

use super::*;
use crate::commands::switchover::stages::DEFAULT_MAX_LAG;
use crate::model::Node;

fn member(name: &str, value: &str) -> Node {
    Node {
        key: format!("members/{name}"),
        value: value.into(),
        version: crate::dcs::Version::new(1),
        session: None,
    }
}

fn base(action: Action) -> Baseline {
    Baseline {
        action,
        leader_timeline: Some(2),
        optime: 10_000_000,
        max_lag: DEFAULT_MAX_LAG,
    }
}

#[test]
fn member_checks_from_the_member_key() {
    let c = Cluster::from_nodes(&[
        Node {
            key: "leader".into(),
            value: "a".into(),
            version: crate::dcs::Version::new(1),
            session: None,
        },
        member("a", r#"{"state":"running","role":"primary","timeline":2}"#),
        member(
            "b",
            r#"{"state":"running","replication_state":"streaming","timeline":2,"receive_lsn":9999000,"replay_lsn":9999000}"#,
        ),
        member(
            "c",
            r#"{"state":"running","replication_state":"streaming","timeline":1,"receive_lsn":100,"tags":{"nofailover":true}}"#,
        ),
        member("d", r#"{"state":"stopped","tags":{"failover_priority":0}}"#),
    ]);
    let down: std::result::Result<Value, String> = Err("connection refused".into());
    let judge_dcs = |n: &str| judge(&c, &base(Action::Switchover), c.member(n).unwrap(), &down);
    let a = judge_dcs("a");
    assert_eq!(a.reasons[0], "is the leader");
    // The leader reads as the current leader, not as a failure under a PASS verdict.
    assert_eq!(
        a.cells()[1..],
        [
            "-",
            "current leader; REST API unreachable (connection refused)"
        ]
    );
    assert_eq!(a.result(), "LEADER");
    let b = judge_dcs("b");
    assert_eq!(b.reasons, vec!["REST API unreachable (connection refused)"]);
    assert_eq!(b.notes, vec!["streaming", "TL 2", "lag 1000 bytes"]);
    let cr = judge_dcs("c").reasons;
    assert!(cr.contains(&"tagged nofailover".to_string()), "{cr:?}");
    assert!(
        cr.contains(&"timeline 1, the leader is on 2".to_string()),
        "{cr:?}"
    );
    assert!(cr
        .iter()
        .any(|r| r.starts_with("lag 9999900 bytes > maximum_lag_on_failover")));
    let dr = judge_dcs("d").reasons;
    assert!(dr.contains(&"failover_priority 0".to_string()), "{dr:?}");
    assert!(dr.contains(&"not running (stopped)".to_string()), "{dr:?}");
    assert!(dr.contains(&"WAL position unknown".to_string()), "{dr:?}");
}

#[test]
fn rest_status_is_preferred_and_sync_mode_judged() {
    let c = Cluster::from_nodes(&[
        Node {
            key: "config".into(),
            value: r#"{"synchronous_mode":true}"#.into(),
            version: crate::dcs::Version::new(1),
            session: None,
        },
        Node {
            key: "sync".into(),
            value: r#"{"leader":"a","sync_standby":"b"}"#.into(),
            version: crate::dcs::Version::new(1),
            session: None,
        },
        member("b", r#"{"state":"stopped"}"#),
        member("c", r#"{"state":"stopped"}"#),
    ]);
    let status: std::result::Result<Value, String> = Ok(serde_json::json!({
        "state": "running", "timeline": 2, "replication_state": "streaming",
        "xlog": {"received_location": 10_000_000, "replayed_location": 9_000_000}
    }));
    let b = judge(
        &c,
        &base(Action::Switchover),
        c.member("b").unwrap(),
        &status,
    );
    assert!(b.pass(), "{:?}", b.reasons);
    assert_eq!(
        b.cells()[2],
        "streaming, TL 2, lag 0 bytes, synchronous standby"
    );
    let cs = judge(
        &c,
        &base(Action::Switchover),
        c.member("c").unwrap(),
        &status,
    );
    assert_eq!(cs.reasons, vec!["not a synchronous standby"]);
    let cf = judge(&c, &base(Action::Failover), c.member("c").unwrap(), &status);
    assert!(cf.pass());
}
