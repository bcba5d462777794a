//! `doctor`'s replication section: the leader runs, and every replica streams from it, judged by
//! the one health judgement ([`crate::model::health::replication`], version-aware), with its lag
//! behind the cluster's last known LSN. patronictl has no such check.
//!
//! FAIL: no leader, the leader not running, a standby leader replicating from nothing, a replica
//! that does not stream (replication cut, stopped, starting, in archive recovery without
//! `nostream`). WARN: a replica whose Patroni (before 3.0.4, or no `version`) cannot tell whether it
//! streams, or one further behind than `maximum_lag_on_failover`. PASS otherwise. Pure: a
//! [`Cluster`] in, findings out.

use super::{Area, Finding, Status};
use crate::model::health::replica::{role_name, standby_leader_problem};
use crate::model::health::{health, replica_lag, replication, Replication};
use crate::model::Cluster;

/// The replication findings of `c` and of its Citus worker groups (targets `group N: member`).
pub fn check(c: &Cluster) -> Vec<Finding> {
    let mut out = group(c, "");
    for (g, w) in &c.workers {
        out.extend(group(w, &format!("group {g}: ")));
    }
    out
}

fn group(c: &Cluster, prefix: &str) -> Vec<Finding> {
    let max_lag = health(c).maximum_lag_bytes;
    let finding = |status, target: &str, message: String| {
        Finding::new(
            status,
            Area::Replication,
            &format!("{prefix}{target}"),
            "replication",
            message,
        )
    };
    let mut out = Vec::new();
    let leader = c.leader_name();
    match (leader, c.leader_member()) {
        (None, _) => out.push(finding(Status::Fail, "leader", "no leader".into())),
        (Some(l), None) => out.push(finding(
            Status::Fail,
            l,
            "holds the leader key but has no member key".into(),
        )),
        (Some(l), Some(m)) if m.state() != "running" => {
            out.push(finding(Status::Fail, l, format!("leader {}", m.state())))
        }
        (Some(l), Some(m)) => {
            let role = role_name(m.str_field("role").unwrap_or("leader"));
            out.push(match standby_leader_problem(m) {
                Some(p) => finding(Status::Fail, l, format!("{role} running, {p}")),
                None => finding(Status::Pass, l, format!("{role} running")),
            })
        }
    }
    let upstream = |m: &crate::model::Member| {
        m.tags()
            .and_then(|t| t.get("replicatefrom"))
            .and_then(|v| v.as_str())
            .filter(|s| !s.is_empty())
            .map(|s| format!("from {s} (replicatefrom)"))
            .unwrap_or_else(|| match leader {
                Some(l) => format!("from the leader {l}"),
                None => String::new(),
            })
    };
    for m in c.members.iter().filter(|m| Some(m.name.as_str()) != leader) {
        let lag = replica_lag(m, c.optime);
        let lag_text = lag.map_or("lag unknown".to_string(), |b| format!("lag {b} bytes"));
        out.push(match replication(m) {
            Replication::Streaming | Replication::Archive => {
                let how = match replication(m) {
                    Replication::Archive => "in archive recovery (nostream)".to_string(),
                    _ => format!("streaming {}", upstream(m)),
                };
                match lag {
                    Some(b) if b > max_lag => finding(
                        Status::Warn,
                        &m.name,
                        format!("{how}, lag {b} bytes > maximum_lag_on_failover {max_lag}"),
                    ),
                    _ => finding(Status::Pass, &m.name, format!("{how}, {lag_text}")),
                }
            }
            Replication::NotStreaming(r) => {
                // Patroni 3.0.4+ publishes no replication state for a replica that does not stream.
                let why = if r == "not streaming" {
                    "running without replication_state"
                } else {
                    r.as_str()
                };
                finding(
                    Status::Fail,
                    &m.name,
                    format!("NOT streaming ({why}), {lag_text}"),
                )
            }
            Replication::Unknown(r) => finding(
                Status::Warn,
                &m.name,
                format!("streaming unknown: {r}, {lag_text}"),
            ),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fixtures::cluster;

    const LEADER: &str = r#"{"state":"running","role":"primary","version":"4.1.5","xlog_location":5000,"timeline":1}"#;

    #[test]
    fn streaming_cut_unknown_and_lagging() {
        let c = cluster(&[
            ("config", r#"{"maximum_lag_on_failover":100}"#),
            ("leader", "node1"),
            ("status", r#"{"optime":5000}"#),
            ("members/node1", LEADER),
            (
                "members/node2",
                r#"{"state":"running","role":"replica","version":"4.1.5","replication_state":"streaming","replay_lsn":4990,"timeline":1}"#,
            ),
            (
                "members/node3",
                r#"{"state":"running","role":"replica","version":"3.0.4","xlog_location":5000,"timeline":1}"#,
            ),
            (
                "members/node4",
                r#"{"state":"running","role":"replica","version":"2.1.7","xlog_location":5000}"#,
            ),
            (
                "members/node5",
                r#"{"state":"running","role":"replica","version":"4.1.5","replication_state":"streaming","replay_lsn":10,"tags":{"replicatefrom":"node2"}}"#,
            ),
        ]);
        let got: Vec<(Status, String, String)> = check(&c)
            .into_iter()
            .map(|f| (f.status, f.target, f.message))
            .collect();
        let want = [
            (Status::Pass, "node1", "primary running"),
            (Status::Pass, "node2", "streaming from the leader node1, lag 10 bytes"),
            (Status::Fail, "node3", "NOT streaming (running without replication_state), lag 0 bytes"),
            (
                Status::Warn,
                "node4",
                "streaming unknown: running, Patroni 2.1.7 publishes no replication state, lag 0 bytes",
            ),
            (
                Status::Warn,
                "node5",
                "streaming from node2 (replicatefrom), lag 4990 bytes > maximum_lag_on_failover 100",
            ),
        ];
        let want: Vec<(Status, String, String)> = want
            .iter()
            .map(|(s, t, m)| (*s, t.to_string(), m.to_string()))
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn no_leader_and_stopped_leader() {
        let f = check(&cluster(&[("members/node1", LEADER)]));
        assert_eq!(
            (f[0].status, f[0].message.as_str()),
            (Status::Fail, "no leader")
        );
        assert_eq!(
            f[1].message,
            "NOT streaming (primary without the leader key), lag unknown"
        );
        let f = check(&cluster(&[
            ("leader", "node1"),
            ("members/node1", r#"{"state":"stopped","role":"primary"}"#),
        ]));
        assert_eq!(
            (f[0].status, f[0].message.as_str()),
            (Status::Fail, "leader stopped")
        );
    }
}
