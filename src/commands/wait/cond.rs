//! The conditions of `wait --until`: how each is written on the command line and whether one DCS
//! snapshot of the cluster meets it. patctl's own (patronictl has no `wait`; runbooks poll
//! `patronictl list -f json` in loops). Pure: a [`Cluster`] in, a verdict with what was seen out.

use std::fmt;

use serde_json::{json, Value};

use crate::model::health::{health, replica_lag, replication, Replication};
use crate::model::Cluster;
use crate::py::truth::truthy;

/// One `--until` condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cond {
    /// The rule of `list --all`'s health line.
    Healthy,
    /// `NAME` holds the leader key and runs.
    Leader(String),
    /// `NAME` is a replica in `replication_state: streaming`.
    Streaming(String),
    /// `NAME`'s member key says `state: running`.
    Running(String),
    /// No member key left, or every member stopped.
    Stopped,
    /// Cluster management is paused.
    Paused,
    /// Cluster management is not paused.
    Resumed,
    /// No member reports a pending restart.
    NoPendingRestart,
    /// Every replica is at most this many bytes behind the cluster LSN.
    LagAtMost(u64),
    /// `NAME` is listed as a synchronous standby in the `/sync` key.
    Sync(String),
}

/// The `--until` choices, for the error message and `--help`.
pub const SYNTAX: &str = "healthy, leader=NAME, streaming=NAME, running=NAME, stopped, paused, \
resumed, no-pending-restart, lag<=BYTES, sync=NAME";

/// clap's value parser of `--until`.
pub fn parse(s: &str) -> Result<Cond, String> {
    let t = s.trim();
    let named = |v: &str| -> Result<String, String> {
        let v = v.trim();
        if v.is_empty() {
            Err(format!("'{s}' names no member: give one, e.g. {t}node2"))
        } else {
            Ok(v.to_string())
        }
    };
    if let Some(b) = t.strip_prefix("lag<=") {
        return b
            .trim()
            .parse::<u64>()
            .map(Cond::LagAtMost)
            .map_err(|_| format!("'{s}': lag<= takes a number of bytes, e.g. lag<=1048576"));
    }
    if let Some((k, v)) = t.split_once('=') {
        return match k.trim() {
            "leader" => named(v).map(Cond::Leader),
            "streaming" => named(v).map(Cond::Streaming),
            "running" => named(v).map(Cond::Running),
            "sync" => named(v).map(Cond::Sync),
            _ => Err(format!("unknown condition '{s}'; one of: {SYNTAX}")),
        };
    }
    match t {
        "healthy" => Ok(Cond::Healthy),
        "stopped" => Ok(Cond::Stopped),
        "paused" => Ok(Cond::Paused),
        "resumed" => Ok(Cond::Resumed),
        "no-pending-restart" => Ok(Cond::NoPendingRestart),
        _ => Err(format!("unknown condition '{s}'; one of: {SYNTAX}")),
    }
}

impl fmt::Display for Cond {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cond::Healthy => f.write_str("healthy"),
            Cond::Leader(n) => write!(f, "leader={n}"),
            Cond::Streaming(n) => write!(f, "streaming={n}"),
            Cond::Running(n) => write!(f, "running={n}"),
            Cond::Stopped => f.write_str("stopped"),
            Cond::Paused => f.write_str("paused"),
            Cond::Resumed => f.write_str("resumed"),
            Cond::NoPendingRestart => f.write_str("no-pending-restart"),
            Cond::LagAtMost(b) => write!(f, "lag<={b}"),
            Cond::Sync(n) => write!(f, "sync={n}"),
        }
    }
}

/// Whether `c` meets the condition, and what was seen (one short phrase).
pub fn judge(cond: &Cond, c: Option<&Cluster>) -> (bool, String) {
    let Some(c) = c else {
        return (*cond == Cond::Stopped, "the cluster has no key".into());
    };
    let state_of = |n: &str| c.member(n).map(|m| m.state().to_string());
    match cond {
        Cond::Healthy => {
            let h = health(c);
            let seen = if h.healthy {
                "healthy".to_string()
            } else {
                h.problems.join(", ")
            };
            (h.healthy, seen)
        }
        Cond::Leader(n) => {
            let leader = c.leader_name();
            let running = c.leader_member().is_some_and(|m| m.state() == "running");
            let ok = leader == Some(n.as_str()) && running;
            let seen = match (leader, c.leader_member()) {
                (None, _) => "no leader".to_string(),
                (Some(l), Some(m)) => format!("leader {l} {}", m.state()),
                (Some(l), None) => format!("leader {l} (no member key)"),
            };
            (ok, seen)
        }
        Cond::Streaming(n) => match c.member(n) {
            None => (false, format!("{n}: no member key")),
            Some(_) if c.leader_name() == Some(n.as_str()) => (false, format!("{n} is the leader")),
            Some(m) => {
                let repl = m.str_field("replication_state");
                let seen = format!("{n} {}", repl.unwrap_or(m.state()));
                // The one judgement of `list --all`: a Patroni that cannot tell is not streaming.
                (replication(m) == Replication::Streaming, seen)
            }
        },
        Cond::Running(n) => match state_of(n) {
            None => (false, format!("{n}: no member key")),
            Some(s) => (s == "running", format!("{n} {s}")),
        },
        Cond::Stopped => {
            let up: Vec<String> = c
                .members
                .iter()
                .filter(|m| m.state() != "stopped")
                .map(|m| format!("{} {}", m.name, m.state()))
                .collect();
            let seen = if up.is_empty() {
                "no member running".to_string()
            } else {
                up.join(", ")
            };
            (up.is_empty(), seen)
        }
        Cond::Paused | Cond::Resumed => {
            let p = c.is_paused();
            let seen = if p { "paused" } else { "not paused" };
            ((*cond == Cond::Paused) == p, seen.to_string())
        }
        Cond::NoPendingRestart => {
            let pending: Vec<&str> = c
                .members
                .iter()
                .filter(|m| m.data.get("pending_restart").is_some_and(truthy))
                .map(|m| m.name.as_str())
                .collect();
            let seen = if pending.is_empty() {
                "no pending restart".to_string()
            } else {
                format!("pending restart: {}", pending.join(", "))
            };
            (pending.is_empty(), seen)
        }
        Cond::LagAtMost(limit) => {
            let mut behind = Vec::new();
            for m in c
                .members
                .iter()
                .filter(|m| Some(m.name.as_str()) != c.leader_name())
            {
                match replica_lag(m, c.optime) {
                    Some(l) if l <= *limit => {}
                    Some(l) => behind.push(format!("{} {l} bytes behind", m.name)),
                    None => behind.push(format!("{} lag unknown", m.name)),
                }
            }
            let seen = if behind.is_empty() {
                format!("every replica within {limit} bytes")
            } else {
                behind.join(", ")
            };
            (behind.is_empty(), seen)
        }
        Cond::Sync(n) => {
            let standbys = c
                .sync
                .as_ref()
                .map(|s| s.sync_standby.clone())
                .unwrap_or_default();
            let ok = standbys.iter().any(|s| s.eq_ignore_ascii_case(n));
            let seen = if standbys.is_empty() {
                "no synchronous standby".to_string()
            } else {
                format!("synchronous: {}", standbys.join(", "))
            };
            (ok, seen)
        }
    }
}

/// The last observed state, for `-o json`: leader, pause, sync standbys and every member.
pub fn observed(c: Option<&Cluster>) -> Value {
    let Some(c) = c else {
        return json!({"exists": false, "leader": null, "paused": false, "syncStandbys": [], "members": []});
    };
    let members: Vec<Value> = c
        .members
        .iter()
        .map(|m| {
            json!({
                "name": m.name,
                "role": m.str_field("role"),
                "state": m.state(),
                "replicationState": m.str_field("replication_state"),
                "timeline": m.data.get("timeline").cloned().unwrap_or(Value::Null),
                "lagBytes": if Some(m.name.as_str()) == c.leader_name() { None } else { replica_lag(m, c.optime) },
                "pendingRestart": m.data.get("pending_restart").is_some_and(truthy),
            })
        })
        .collect();
    json!({
        "exists": true,
        "leader": c.leader_name(),
        "paused": c.is_paused(),
        "syncStandbys": c.sync.as_ref().map(|s| s.sync_standby.clone()).unwrap_or_default(),
        "members": members,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fixtures::node as n;

    fn cluster(node3: &str) -> Cluster {
        Cluster::from_nodes(&[
            n("leader", "node1", Some(1)),
            n(
                "members/node1",
                r#"{"state":"running","role":"primary","xlog_location":100}"#,
                Some(1),
            ),
            n("members/node3", node3, Some(1)),
            n("status", r#"{"optime":100}"#, None),
            n("sync", r#"{"leader":"node1","sync_standby":"node3"}"#, None),
        ])
    }

    #[test]
    fn parses_every_condition_and_refuses_others() {
        for s in [
            "healthy",
            "leader=a",
            "streaming=a",
            "running=a",
            "stopped",
            "paused",
            "resumed",
            "no-pending-restart",
            "lag<=10",
            "sync=a",
        ] {
            assert_eq!(parse(s).unwrap().to_string(), s);
        }
        assert!(parse("streaming=").unwrap_err().contains("names no member"));
        assert!(parse("lag<=x").unwrap_err().contains("number of bytes"));
        assert!(parse("sick")
            .unwrap_err()
            .contains("unknown condition 'sick'"));
    }

    #[test]
    fn judges_one_snapshot() {
        let streaming = r#"{"state":"running","role":"replica","replication_state":"streaming","replay_lsn":90}"#;
        let c = cluster(streaming);
        assert!(judge(&Cond::Streaming("node3".into()), Some(&c)).0);
        assert!(!judge(&Cond::Streaming("node1".into()), Some(&c)).0);
        assert!(judge(&Cond::Leader("node1".into()), Some(&c)).0);
        assert!(judge(&Cond::LagAtMost(10), Some(&c)).0);
        assert_eq!(
            judge(&Cond::LagAtMost(9), Some(&c)),
            (false, "node3 10 bytes behind".into())
        );
        assert!(judge(&Cond::Sync("node3".into()), Some(&c)).0);
        assert!(judge(&Cond::Resumed, Some(&c)).0);
        let stopped = cluster(r#"{"state":"stopped","role":"replica"}"#);
        assert_eq!(
            judge(&Cond::Streaming("node3".into()), Some(&stopped)),
            (false, "node3 stopped".into())
        );
        assert!(!judge(&Cond::Stopped, Some(&stopped)).0);
        assert!(judge(&Cond::Stopped, None).0);
        assert!(!judge(&Cond::Healthy, None).0);
    }
}
