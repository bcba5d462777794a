//! The health summary of one cluster as read in one DCS read: leader present and running, replicas
//! streaming, worst lag in bytes, paused, pending restarts, scheduled actions and stale member keys.
//! patctl's own (patronictl has none); `list --all` and `topology --all` print and filter on it, and
//! it is pure (a [`Cluster`] in, a [`Health`] out) so that every view that judges health (`list
//! --all` and `-o json`, `top`, `events`, `doctor`, the switchover pre-flight and `--wait`) uses it.
//! Whether one replica streams is [`replica::replication`], version-aware.
//!
//! A cluster is **healthy** when it has a leader key whose member is running, every other member is
//! streaming (or, tagged `nostream`, in archive recovery), no replica is further behind than `maximum_lag_on_failover` (default 1 MiB: a replica
//! further behind could not be promoted) and no member key is stale. Being paused, a pending restart
//! and a scheduled switchover or restart are reported but are not unhealthy: they are deliberate.
//! It is **unknown** when nothing is wrong but a replica's Patroni version cannot tell whether it
//! streams (before 3.0.4, or no `version`): an unknown cluster is not healthy (`healthy: false`,
//! `verdict: "unknown"`, listed by `--unhealthy`, exit 9).
//!
//! **Stale member key**: a `members/<name>` key that the DCS will never expire by itself, i.e. one
//! without an etcd v3 lease, without an etcd v2 TTL, or a ZooKeeper znode that is not ephemeral.
//! Patroni writes every member key with its lease, TTL or session, so such a key outlives the Patroni
//! that wrote it (a restore of the store, a hand-made `put`, a migration) and would show the member
//! for ever. A key that does carry a lease or TTL is never older than `ttl`: it disappears within
//! `ttl` seconds of its Patroni stopping, so it is not stale, even when the member's state or WAL
//! position did not change between two reads (an idle cluster writes the same values every loop,
//! and one read cannot tell idle from stuck).

pub mod replica;
#[cfg(test)]
mod table;

use serde_json::Value;

use super::{parse_int, Cluster, Member};
use crate::py::truth::truthy;
pub use replica::{replication, Replication};

/// The cluster verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Verdict {
    /// No problem found.
    #[default]
    Healthy,
    /// At least one problem.
    Unhealthy,
    /// No problem found, but a replica's Patroni cannot tell whether it streams.
    Unknown,
}

impl Verdict {
    /// `healthy`, `unhealthy`, `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Healthy => "healthy",
            Verdict::Unhealthy => "unhealthy",
            Verdict::Unknown => "unknown",
        }
    }
}

/// Patroni's default `maximum_lag_on_failover` (bytes).
pub const DEFAULT_MAXIMUM_LAG: u64 = 1_048_576;

/// A scheduled switchover or restart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scheduled {
    /// `switchover` or `restart`.
    pub action: &'static str,
    /// The member restarted, or the switchover candidate.
    pub member: Option<String>,
    /// When, as stored.
    pub at: String,
}

/// The health summary of a cluster (Citus: of all its groups).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Health {
    /// No problem found and nothing unknown (see the module documentation).
    pub healthy: bool,
    /// Healthy, unhealthy or unknown.
    pub verdict: Verdict,
    /// What makes the cluster unhealthy, one short phrase each (`no leader`, `node2 stopped`).
    pub problems: Vec<String>,
    /// What cannot be told, one phrase each (`node2 running, Patroni 2.1.7 publishes no …`).
    pub unknown: Vec<String>,
    /// The holder of the leader key.
    pub leader: Option<String>,
    /// The leader's member key exists and its state is `running`.
    pub leader_running: bool,
    /// Members other than the leader.
    pub replicas: usize,
    /// Of those, the ones streaming.
    pub streaming: usize,
    /// The largest replica lag behind the cluster LSN, from each replica's replay LSN (else its
    /// `xlog_location`); `None` when no replica has a known position or the cluster LSN is unknown.
    pub worst_lag_bytes: Option<u64>,
    /// The lag limit used: `maximum_lag_on_failover` from the dynamic configuration.
    pub maximum_lag_bytes: u64,
    /// `pause` in the dynamic configuration.
    pub paused: bool,
    /// Members with a pending restart.
    pub pending_restart: Vec<String>,
    /// Scheduled switchover and restarts.
    pub scheduled: Vec<Scheduled>,
    /// Members whose key the DCS will not expire (see the module documentation).
    pub stale_members: Vec<String>,
}

/// A member's lag behind the cluster LSN `optime`, in bytes (`None` when either is unknown).
pub fn replica_lag(m: &Member, optime: u64) -> Option<u64> {
    if optime == 0 {
        return None;
    }
    let lsn = ["replay_lsn", "xlog_location"]
        .iter()
        .filter_map(|k| m.lsn_field(k))
        .find(|l| *l > 0)?;
    Some(optime.saturating_sub(u64::try_from(lsn).ok()?))
}

/// Whether the DCS will never expire this member key by itself (see the module documentation).
pub fn is_stale(m: &Member) -> bool {
    m.version.is_some() && m.session.is_none()
}

/// The health of `c`, its Citus worker groups included (their findings named `group N: …`).
pub fn health(c: &Cluster) -> Health {
    let mut h = group_health(c, "");
    for (g, w) in &c.workers {
        let wh = group_health(w, &format!("group {g}: "));
        h.problems.extend(wh.problems);
        h.unknown.extend(wh.unknown);
        h.leader_running &= wh.leader_running;
        h.replicas += wh.replicas;
        h.streaming += wh.streaming;
        h.worst_lag_bytes = h.worst_lag_bytes.max(wh.worst_lag_bytes);
        h.paused |= wh.paused;
        h.pending_restart.extend(wh.pending_restart);
        h.scheduled.extend(wh.scheduled);
        h.stale_members.extend(wh.stale_members);
    }
    h.set_verdict();
    h
}

impl Health {
    fn set_verdict(&mut self) {
        self.verdict = if !self.problems.is_empty() {
            Verdict::Unhealthy
        } else if !self.unknown.is_empty() {
            Verdict::Unknown
        } else {
            Verdict::Healthy
        };
        self.healthy = self.verdict == Verdict::Healthy;
    }
}

fn group_health(c: &Cluster, prefix: &str) -> Health {
    let named = |n: &str| format!("{prefix}{n}");
    let mut problems = Vec::new();
    let leader = c.leader_name().map(String::from);
    let leader_member = c.leader_member();
    // A standby leader that replicates from its source publishes the state `streaming`.
    let leader_running = leader_member.is_some_and(|m| {
        m.state() == "running"
            || (m.state() == "streaming" && m.str_field("role") == Some("standby_leader"))
    });
    match (&leader, leader_member) {
        (None, _) => problems.push(named("no leader")),
        (Some(l), None) => problems.push(named(&format!("leader {l} has no member key"))),
        (Some(l), Some(m)) if !leader_running => {
            problems.push(named(&format!("leader {l} {}", m.state())))
        }
        (Some(l), Some(m)) => {
            if let Some(p) = replica::standby_leader_problem(m) {
                problems.push(named(&format!("standby leader {l} {p}")));
            }
        }
    }
    let mut unknown = Vec::new();
    let maximum_lag_bytes = c
        .valid_config()
        .and_then(|cfg| cfg.get("maximum_lag_on_failover"))
        .and_then(parse_int)
        .and_then(|v| u64::try_from(v).ok())
        .unwrap_or(DEFAULT_MAXIMUM_LAG);
    let (mut replicas, mut streaming, mut worst) = (0, 0, None::<u64>);
    for m in c
        .members
        .iter()
        .filter(|m| Some(m.name.as_str()) != leader.as_deref())
    {
        replicas += 1;
        match replication(m) {
            Replication::Streaming => streaming += 1,
            Replication::Archive => {}
            Replication::NotStreaming(why) => problems.push(named(&format!("{} {why}", m.name))),
            Replication::Unknown(why) => unknown.push(named(&format!("{} {why}", m.name))),
        }
        if let Some(lag) = replica_lag(m, c.optime) {
            worst = worst.max(Some(lag));
            if lag > maximum_lag_bytes {
                problems.push(named(&format!(
                    "{} {lag} bytes behind (maximum_lag_on_failover {maximum_lag_bytes})",
                    m.name
                )));
            }
        }
    }
    let stale_members: Vec<String> = c
        .members
        .iter()
        .filter(|m| is_stale(m))
        .map(|m| named(&m.name))
        .collect();
    for s in &stale_members {
        problems.push(format!("stale member key {s}"));
    }
    let pending_restart = c
        .members
        .iter()
        .filter(|m| m.data.get("pending_restart").is_some_and(truthy))
        .map(|m| named(&m.name))
        .collect();
    let mut scheduled: Vec<Scheduled> = c
        .scheduled_switchover()
        .map(|f| Scheduled {
            action: "switchover",
            member: f.candidate.clone(),
            at: f.scheduled_at.clone().unwrap_or_default(),
        })
        .into_iter()
        .collect();
    for m in &c.members {
        if let Some(Value::Object(sr)) = m.data.get("scheduled_restart") {
            let at = match sr.get("schedule") {
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => String::new(),
            };
            scheduled.push(Scheduled {
                action: "restart",
                member: Some(named(&m.name)),
                at,
            });
        }
    }
    let mut h = Health {
        problems,
        unknown,
        leader,
        leader_running,
        replicas,
        streaming,
        worst_lag_bytes: worst,
        maximum_lag_bytes,
        paused: c.is_paused(),
        pending_restart,
        scheduled,
        stale_members,
        ..Health::default()
    };
    h.set_verdict();
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Node;

    use crate::model::fixtures::node as n;

    const L: Option<i64> = Some(7);
    const PRIMARY: &str = r#"{"conn_url":"postgres://h1:5432/postgres","state":"running","role":"primary","xlog_location":5000000,"timeline":2}"#;

    fn replica(lsn: u64, repl: &str) -> String {
        format!(
            r#"{{"conn_url":"postgres://h2:5432/postgres","state":"running","role":"replica","xlog_location":{lsn},"receive_lsn":{lsn},"replay_lsn":{lsn},"replication_state":"{repl}","timeline":2}}"#
        )
    }

    fn cluster(extra: &[Node]) -> Cluster {
        let mut nodes = vec![
            n("config", r#"{"ttl":30}"#, None),
            n("leader", "node1", L),
            n("members/node1", PRIMARY, L),
            n("status", r#"{"optime":5000000}"#, None),
        ];
        nodes.extend_from_slice(extra);
        Cluster::from_nodes(&nodes)
    }

    #[test]
    fn healthy_cluster() {
        let h = health(&cluster(&[
            n("members/node2", &replica(5000000, "streaming"), L),
            n("members/node3", &replica(4999000, "streaming"), L),
        ]));
        assert!(h.healthy, "{h:?}");
        assert_eq!(h.leader.as_deref(), Some("node1"));
        assert!(h.leader_running);
        assert_eq!((h.replicas, h.streaming), (2, 2));
        assert_eq!(h.worst_lag_bytes, Some(1000));
        assert!(h.stale_members.is_empty() && h.scheduled.is_empty() && !h.paused);
    }

    #[test]
    fn no_leader_not_streaming_lag_and_stale_keys() {
        let c = Cluster::from_nodes(&[
            n("config", r#"{"maximum_lag_on_failover":100}"#, None),
            n("members/node1", PRIMARY, L),
            n("members/node2", &replica(1000, "in archive recovery"), None),
            n("status", r#"{"optime":5000000}"#, None),
        ]);
        let h = health(&c);
        assert!(!h.healthy);
        assert_eq!(h.leader, None);
        assert_eq!((h.replicas, h.streaming), (2, 0));
        assert_eq!(h.worst_lag_bytes, Some(4999000));
        assert_eq!(h.stale_members, ["node2"]);
        assert_eq!(
            h.problems,
            [
                "no leader",
                "node1 primary without the leader key",
                "node2 in archive recovery",
                "node2 4999000 bytes behind (maximum_lag_on_failover 100)",
                "stale member key node2"
            ]
        );
    }

    #[test]
    fn leader_stopped_or_without_member_key() {
        let c = Cluster::from_nodes(&[
            n("leader", "node1", L),
            n("members/node1", r#"{"state":"stopped"}"#, L),
        ]);
        assert_eq!(health(&c).problems, ["leader node1 stopped"]);
        let c = Cluster::from_nodes(&[n("leader", "ghost", L)]);
        let h = health(&c);
        assert_eq!(h.problems, ["leader ghost has no member key"]);
        assert!(!h.leader_running);
        assert_eq!(h.worst_lag_bytes, None);
    }

    #[test]
    fn paused_pending_and_scheduled_are_reported_not_unhealthy() {
        let r = replica(5000000, "streaming").replace(
            r#""timeline":2}"#,
            r#""timeline":2,"pending_restart":true,"scheduled_restart":{"schedule":"2030-01-01T10:00:00+00:00"}}"#,
        );
        let h = health(&cluster(&[
            n("config", r#"{"pause":true}"#, None),
            n("members/node2", &r, L),
            n(
                "failover",
                r#"{"leader":"node1","member":"node2","scheduled_at":"2030-01-02T00:00:00+00:00"}"#,
                None,
            ),
        ]));
        assert!(h.healthy, "{h:?}");
        assert!(h.paused);
        assert_eq!(h.pending_restart, ["node2"]);
        assert_eq!(h.scheduled.len(), 2);
        assert_eq!(h.scheduled[0].action, "switchover");
        assert_eq!(h.scheduled[1].member.as_deref(), Some("node2"));
        assert_eq!(h.scheduled[1].at, "2030-01-01T10:00:00+00:00");
    }

    #[test]
    fn citus_groups_are_named() {
        let groups = [
            (
                0,
                vec![n("leader", "node1", L), n("members/node1", PRIMARY, L)],
            ),
            (1, vec![n("members/w1", PRIMARY, L)]),
        ];
        let c = Cluster::from_groups(0, groups.into_iter().collect());
        let h = health(&c);
        assert_eq!(
            h.problems,
            [
                "group 1: no leader",
                "group 1: w1 primary without the leader key"
            ]
        );
        assert_eq!(h.replicas, 1);
    }
}
