//! The health judgement's test table: a member key as each Patroni version writes it (shapes from
//! `Ha.touch_member` at tags v3.0.4, v3.3.x, v4.0.x and v4.1.x: 3.x writes role `master` and only
//! `xlog_location`, 4.1 adds `receive_lsn`/`replay_lsn`, `nostream` exists since 3.3.0; older
//! Patroni publishes no `replication_state`) in each state, and the verdict expected, for one member
//! and for the cluster it is the replica of.

use super::replica::{replication, Replication};
use super::{health, Verdict};
use crate::model::fixtures::node as n;
use crate::model::{Cluster, Member};

/// What the cluster verdict should be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    Streaming,
    Archive,
    Not(&'static str),
    Unknown,
}

/// A replica member key as Patroni `version` writes it; `extra` is spliced into the object.
fn replica(version: Option<&str>, state: &str, extra: &str) -> String {
    let v = version.map_or(String::new(), |v| format!(r#","version":"{v}""#));
    let lsns = match version {
        // 4.1 adds the receive and replay positions of a standby.
        Some(v) if v.starts_with("4.1") && state != "stopped" => {
            r#","xlog_location":5000000,"receive_lsn":5000000,"replay_lsn":5000000"#
        }
        _ if state != "stopped" => r#","xlog_location":5000000"#,
        _ => "",
    };
    format!(
        r#"{{"conn_url":"postgres://h2:5432/postgres","api_url":"http://h2:8008/patroni","state":"{state}","role":"replica"{v}{lsns}{extra}}}"#
    )
}

fn leader(version: Option<&str>) -> String {
    let role = match version {
        Some(v) if v.starts_with('4') => "primary",
        _ => "master",
    };
    let v = version.map_or(String::new(), |v| format!(r#","version":"{v}""#));
    format!(
        r#"{{"conn_url":"postgres://h1:5432/postgres","api_url":"http://h1:8008/patroni","state":"running","role":"{role}"{v},"xlog_location":5000000,"timeline":1}}"#
    )
}

const VERSIONS: [Option<&str>; 6] = [
    None,
    Some("2.1.7"),
    Some("3.0.4"),
    Some("3.3.11"),
    Some("4.0.11"),
    Some("4.1.5"),
];

fn since_304(v: Option<&str>) -> bool {
    matches!(v, Some(x) if !x.starts_with('2'))
}

/// The cases of one version: (state label, member JSON, expected verdict).
fn cases(v: Option<&str>) -> Vec<(&'static str, String, Want)> {
    let new = since_304(v);
    let mut out = vec![
        (
            "streaming",
            replica(
                v,
                "running",
                r#","replication_state":"streaming","timeline":1"#,
            ),
            Want::Streaming,
        ),
        (
            // pg_hba rejects replication, the walsenders are gone: no replication_state.
            "replication cut",
            replica(v, "running", r#","timeline":1"#),
            if new {
                Want::Not("not streaming")
            } else {
                Want::Unknown
            },
        ),
        (
            // Streaming, far behind: streaming, and the lag is the problem.
            "catching up",
            replica(
                v,
                "running",
                r#","replication_state":"streaming","timeline":1"#,
            )
            .replace("5000000", "100"),
            Want::Not("4999900 bytes behind"),
        ),
        ("stopped", replica(v, "stopped", ""), Want::Not("stopped")),
        (
            "starting",
            replica(v, "starting", r#","timeline":1"#),
            Want::Not("starting"),
        ),
        ("crashed", replica(v, "crashed", ""), Want::Not("crashed")),
        (
            "archive recovery",
            replica(
                v,
                "running",
                r#","replication_state":"in archive recovery","timeline":1"#,
            ),
            Want::Not("in archive recovery"),
        ),
        (
            "no position",
            replica(v, "running", r#","replication_state":"streaming""#)
                .replace(r#","xlog_location":5000000"#, "")
                .replace(r#","receive_lsn":5000000,"replay_lsn":5000000"#, ""),
            Want::Streaming,
        ),
    ];
    // `nostream` exists since 3.3.0: such a replica replays from the archive only.
    if matches!(v, Some(x) if x.starts_with("3.3") || x.starts_with('4')) {
        out.push((
            "nostream, archive recovery",
            replica(
                v,
                "running",
                r#","replication_state":"in archive recovery","timeline":1,"tags":{"nostream":true}"#,
            ),
            Want::Archive,
        ));
        out.push((
            "nostream, no archive",
            replica(v, "running", r#","timeline":1,"tags":{"nostream":true}"#),
            Want::Not("not streaming"),
        ));
    }
    out
}

fn cluster_of(v: Option<&str>, member: &str) -> Cluster {
    Cluster::from_nodes(&[
        n("config", r#"{"ttl":30}"#, None),
        n("leader", "node1", Some(7)),
        n("members/node1", &leader(v), Some(7)),
        n("members/node2", member, Some(7)),
        n("status", r#"{"optime":5000000}"#, None),
    ])
}

#[test]
fn every_version_and_state() {
    for v in VERSIONS {
        for (label, json, want) in cases(v) {
            let what = format!("Patroni {v:?}, {label}: {json}");
            let m = Member::from_node("node2", None, Some(7), &json);
            let member_verdict = replication(&m);
            match want {
                Want::Streaming => assert_eq!(member_verdict, Replication::Streaming, "{what}"),
                Want::Archive => assert_eq!(member_verdict, Replication::Archive, "{what}"),
                Want::Unknown => {
                    assert!(
                        matches!(member_verdict, Replication::Unknown(_)),
                        "{what}: {member_verdict:?}"
                    )
                }
                Want::Not(_) if label == "catching up" => {
                    assert_eq!(member_verdict, Replication::Streaming, "{what}")
                }
                Want::Not(why) => assert_eq!(
                    member_verdict,
                    Replication::NotStreaming(why.into()),
                    "{what}"
                ),
            }
            let h = health(&cluster_of(v, &json));
            let expected = match want {
                Want::Streaming | Want::Archive => Verdict::Healthy,
                Want::Not(_) => Verdict::Unhealthy,
                Want::Unknown => Verdict::Unknown,
            };
            assert_eq!(h.verdict, expected, "{what}: {h:?}");
            assert_eq!(h.healthy, expected == Verdict::Healthy, "{what}");
            if let Want::Not(why) = want {
                assert!(
                    h.problems
                        .iter()
                        .any(|p| p.starts_with(&format!("node2 {why}"))),
                    "{what}: {:?}",
                    h.problems
                );
            }
            assert_eq!(
                h.streaming,
                usize::from(want == Want::Streaming || label == "catching up"),
                "{what}"
            );
        }
    }
}

#[test]
fn standby_leader_by_version() {
    let sl = |v: &str, extra: &str| {
        format!(
            r#"{{"conn_url":"postgres://h1:5432/postgres","state":"running","role":"standby_leader","version":"{v}","xlog_location":5000000,"timeline":1{extra}}}"#
        )
    };
    for (v, extra, want) in [
        (
            "4.1.5",
            r#","replication_state":"streaming""#,
            Verdict::Healthy,
        ),
        (
            "3.0.4",
            r#","replication_state":"in archive recovery""#,
            Verdict::Healthy,
        ),
        ("4.0.11", "", Verdict::Unhealthy),
        ("3.0.4", "", Verdict::Unhealthy),
        // Before 3.0.4 a standby leader never said: nothing to hold against it.
        ("2.1.7", "", Verdict::Healthy),
    ] {
        let c = Cluster::from_nodes(&[
            n("config", r#"{"standby_cluster":{"host":"x"}}"#, None),
            n("leader", "node1", Some(7)),
            n("members/node1", &sl(v, extra), Some(7)),
        ]);
        let h = health(&c);
        assert_eq!(h.verdict, want, "{v} {extra}: {h:?}");
    }
    // Patroni 4 publishes a standby leader that streams from its source in the state `streaming`.
    let streaming = sl("4.1.5", r#","replication_state":"streaming""#)
        .replace(r#""state":"running""#, r#""state":"streaming""#);
    let c = Cluster::from_nodes(&[
        n("config", r#"{"standby_cluster":{"host":"x"}}"#, None),
        n("leader", "node1", Some(7)),
        n("members/node1", &streaming, Some(7)),
    ]);
    let h = health(&c);
    assert_eq!(h.verdict, Verdict::Healthy, "{h:?}");
    assert!(h.leader_running);
    // A standby leader without the leader key is no replica.
    let m = Member::from_node("x", None, Some(7), &sl("4.1.5", ""));
    assert_eq!(
        replication(&m),
        Replication::NotStreaming("standby_leader without the leader key".into())
    );
    let m = Member::from_node("x", None, Some(7), &leader(Some("3.0.4")));
    assert_eq!(
        replication(&m),
        Replication::NotStreaming("primary without the leader key".into())
    );
}

#[test]
fn versions_parse() {
    use super::replica::patroni_version;
    let m = |v: &str| Member::from_node("x", None, None, &format!(r#"{{"version":"{v}"}}"#));
    assert_eq!(patroni_version(&m("3.0.4")), Some((3, 0, 4)));
    assert_eq!(patroni_version(&m("4.1.5")), Some((4, 1, 5)));
    assert_eq!(patroni_version(&m("4.0.0.dev1")), Some((4, 0, 0)));
    assert_eq!(patroni_version(&m("3.0")), Some((3, 0, 0)));
    assert_eq!(patroni_version(&m("x")), None);
    assert_eq!(
        patroni_version(&Member::from_node("x", None, None, "{}")),
        None
    );
}
