//! The cluster model assembled from the keys under `/<namespace>/<scope>/`, mirroring Patroni's
//! `Cluster`, `Member`, `Leader`, `Failover`, `SyncState`, `Status`, `TimelineHistory` and the
//! `GlobalConfig` checks patronictl makes (pause, synchronous mode, standby cluster).
//!
//! Parsing is lenient the way Patroni's `from_node` factories are: a value that does not parse becomes
//! the empty form of its type, never an error, so one bad key never hides the rest of the cluster.
//!
//! [`member`] reads one member key; this file assembles the cluster from every key.

pub mod health;
mod key;
mod member;

use serde_json::{Map, Value};

use crate::py::truth::truthy;

pub use key::{KeyTtl, Version};
pub use member::{parse_bool, parse_int, parse_url_host_port};

/// One key read from the DCS, with the version used for compare-and-swap.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The key relative to the cluster prefix, e.g. `members/node1`.
    pub key: String,
    /// The raw value.
    pub value: String,
    /// The key's version as read (opaque; for compare-and-swap).
    pub version: Version,
    /// etcd3 lease id or etcd2 TTL, when set.
    pub session: Option<i64>,
}

/// A cluster member (`members/<name>`).
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    /// The member name.
    pub name: String,
    /// Version of the member key (`None` for a member made up from the leader key alone).
    pub version: Option<Version>,
    /// Lease or TTL of the member key.
    pub session: Option<i64>,
    /// The member JSON (empty when unparsable).
    pub data: Map<String, Value>,
}

/// The `failover` key.
#[derive(Debug, Clone, PartialEq)]
pub struct Failover {
    /// Version of the key, for compare-and-swap.
    pub version: Version,
    /// The leader to switch over from.
    pub leader: Option<String>,
    /// The candidate (stored as `member`).
    pub candidate: Option<String>,
    /// The scheduled time, as stored.
    pub scheduled_at: Option<String>,
}

/// The dynamic configuration (`config` key).
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterConfig {
    /// Version of the key, for compare-and-swap.
    pub version: Version,
    /// The configuration; `{}` when the stored value is not a JSON object.
    pub data: Map<String, Value>,
    /// Whether the stored value was a JSON object (Patroni's `modify_version` is 0 when not).
    pub valid: bool,
    /// The stored text, byte for byte.
    pub raw: String,
}

/// The `sync` key.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SyncState {
    /// Version of the key.
    pub version: Option<Version>,
    /// The leader that wrote it.
    pub leader: Option<String>,
    /// The synchronous standbys.
    pub sync_standby: Vec<String>,
}

/// A whole cluster as read in one DCS range read.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Cluster {
    /// `initialize`: `None` when absent, `Some("")` while bootstrapping.
    pub initialize: Option<String>,
    /// The dynamic configuration, when the key exists.
    pub config: Option<ClusterConfig>,
    /// The leader key's value (a member name) and its version.
    pub leader: Option<(String, Version)>,
    /// The lease or TTL of the leader key, when it has one (see [`Node::session`]).
    pub leader_session: Option<i64>,
    /// Members in DCS key order.
    pub members: Vec<Member>,
    /// The cluster LSN (`status.optime`, legacy `optime/leader`), 0 when unknown.
    pub optime: u64,
    /// The failover key, when present.
    pub failover: Option<Failover>,
    /// The sync key, when present.
    pub sync: Option<SyncState>,
    /// Timeline history lines.
    pub history: Vec<Vec<Value>>,
    /// Citus workers by group, when the whole MPP prefix was read.
    pub workers: Vec<(i64, Cluster)>,
}

impl Cluster {
    /// Assemble a cluster from the nodes under its prefix (keys already relative to the prefix).
    pub fn from_nodes(nodes: &[Node]) -> Cluster {
        let mut c = Cluster::default();
        let mut status_optime: Option<u64> = None;
        let mut legacy_optime: Option<u64> = None;
        for n in nodes {
            match n.key.as_str() {
                "initialize" => c.initialize = Some(n.value.clone()),
                "config" => {
                    let (data, valid) = match serde_json::from_str::<Value>(&n.value) {
                        Ok(Value::Object(m)) => (m, true),
                        _ => (Map::new(), false),
                    };
                    c.config = Some(ClusterConfig {
                        version: n.version,
                        data,
                        valid,
                        raw: n.value.clone(),
                    });
                }
                "leader" => {
                    c.leader = Some((n.value.clone(), n.version));
                    c.leader_session = n.session;
                }
                "status" => status_optime = Some(parse_status(&n.value)),
                "optime/leader" => legacy_optime = n.value.trim().parse().ok(),
                "failover" => c.failover = parse_failover(n.version, &n.value),
                "sync" => c.sync = Some(parse_sync(n.version, &n.value)),
                "history" => {
                    if let Ok(Value::Array(lines)) = serde_json::from_str::<Value>(&n.value) {
                        c.history = lines
                            .into_iter()
                            .filter_map(|l| match l {
                                Value::Array(a) => Some(a),
                                _ => None,
                            })
                            .collect();
                    }
                }
                key => {
                    if let Some(name) = key.strip_prefix("members/") {
                        if !name.is_empty() && !name.contains('/') {
                            c.members.push(Member::from_node(
                                name,
                                Some(n.version),
                                n.session,
                                &n.value,
                            ));
                        }
                    }
                }
            }
        }
        c.optime = status_optime.or(legacy_optime).unwrap_or(0);
        c
    }

    /// Assemble a Citus cluster from its groups' nodes (keys relative to each group, as the DCS
    /// layer splits them): the `coordinator` group with the others as its workers, by group.
    pub fn from_groups(
        coordinator: i64,
        mut groups: std::collections::BTreeMap<i64, Vec<Node>>,
    ) -> Cluster {
        let mut coordinator = groups
            .remove(&coordinator)
            .map(|n| Cluster::from_nodes(&n))
            .unwrap_or_default();
        coordinator.workers = groups
            .into_iter()
            .map(|(g, n)| (g, Cluster::from_nodes(&n)))
            .collect();
        coordinator
    }

    /// The dynamic config, only when it is valid (Patroni ignores an invalid config key).
    pub fn valid_config(&self) -> Option<&Map<String, Value>> {
        self.config.as_ref().filter(|c| c.valid).map(|c| &c.data)
    }

    fn config_value(&self, key: &str) -> Option<&Value> {
        self.valid_config().and_then(|c| c.get(key))
    }

    /// `pause` in the dynamic config.
    pub fn is_paused(&self) -> bool {
        self.config_value("pause")
            .and_then(parse_bool)
            .unwrap_or(false)
    }

    /// A `standby_cluster` section with `host`, `port` or `restore_command` set.
    pub fn is_standby_cluster(&self) -> bool {
        match self.config_value("standby_cluster") {
            Some(Value::Object(m)) => ["host", "port", "restore_command"]
                .iter()
                .any(|k| m.get(*k).is_some_and(truthy)),
            _ => false,
        }
    }

    /// `synchronous_mode: quorum`.
    pub fn is_quorum_commit_mode(&self) -> bool {
        match self.config_value("synchronous_mode") {
            Some(Value::String(s)) => s.to_lowercase() == "quorum",
            _ => false,
        }
    }

    /// Synchronous replication on (`true` or `quorum`) and not a standby cluster.
    pub fn is_synchronous_mode(&self) -> bool {
        (self.config_value("synchronous_mode").and_then(parse_bool) == Some(true)
            || self.is_quorum_commit_mode())
            && !self.is_standby_cluster()
    }

    /// `loop_wait` from the dynamic config, else 10.
    pub fn loop_wait(&self) -> i64 {
        self.config_value("loop_wait")
            .and_then(parse_int)
            .unwrap_or(10)
    }

    /// The leader's name, when a leader key exists.
    pub fn leader_name(&self) -> Option<&str> {
        self.leader.as_ref().map(|(n, _)| n.as_str())
    }

    /// The leader's member object, when it has a member key.
    pub fn leader_member(&self) -> Option<&Member> {
        let name = self.leader_name()?;
        self.members.iter().find(|m| m.name == name)
    }

    /// A member by name.
    pub fn member(&self, name: &str) -> Option<&Member> {
        self.members.iter().find(|m| m.name == name)
    }

    /// Whether the `sync` key lists `name` (case-insensitive); with `check_leader`, also the sync leader.
    pub fn sync_matches(&self, name: &str, check_leader: bool) -> bool {
        let Some(s) = &self.sync else { return false };
        if s.leader.is_none() {
            return false;
        }
        let lname = name.to_lowercase();
        (check_leader
            && s.leader
                .as_deref()
                .is_some_and(|l| l.to_lowercase() == lname))
            || s.sync_standby.iter().any(|n| n.to_lowercase() == lname)
    }

    /// A scheduled switchover from the failover key.
    pub fn scheduled_switchover(&self) -> Option<&Failover> {
        self.failover.as_ref().filter(|f| f.scheduled_at.is_some())
    }

    /// Members ordered leader first, then the rest in DCS order (patronictl's `get_all_members_leader_first`).
    pub fn members_leader_first(&self) -> Vec<&Member> {
        let mut out: Vec<&Member> = self.leader_member().into_iter().collect();
        out.extend(
            self.members
                .iter()
                .filter(|m| Some(m.name.as_str()) != self.leader_name()),
        );
        out
    }
}

fn parse_status(value: &str) -> u64 {
    match serde_json::from_str::<Value>(value) {
        Ok(Value::Number(n)) => n.as_u64().unwrap_or(0),
        Ok(Value::Object(m)) => m
            .get("optime")
            .and_then(parse_int)
            .and_then(|v| u64::try_from(v).ok())
            .unwrap_or(0),
        _ => 0,
    }
}

fn parse_failover(version: Version, value: &str) -> Option<Failover> {
    let data = match serde_json::from_str::<Value>(value) {
        Ok(Value::Object(m)) => m,
        Ok(_) => Map::new(),
        Err(_) if !value.is_empty() => {
            let mut parts = value.split(':').map(str::trim);
            let leader = parts.next().filter(|s| !s.is_empty()).map(String::from);
            let candidate = parts.next().filter(|s| !s.is_empty()).map(String::from);
            return (leader.is_some() || candidate.is_some()).then_some(Failover {
                version,
                leader,
                candidate,
                scheduled_at: None,
            });
        }
        Err(_) => Map::new(),
    };
    let field = |k: &str| {
        data.get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(String::from)
    };
    let f = Failover {
        version,
        leader: field("leader"),
        candidate: field("member"),
        scheduled_at: field("scheduled_at"),
    };
    // Patroni keeps a failover object only when it names a leader or a member.
    (f.leader.is_some() || f.candidate.is_some()).then_some(f)
}

fn parse_sync(version: Version, value: &str) -> SyncState {
    let version = Some(version);
    match serde_json::from_str::<Value>(value) {
        Ok(Value::Object(m)) => {
            let leader = m
                .get("leader")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(String::from);
            let sync_standby = match m.get("sync_standby") {
                Some(Value::String(s)) => s
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect(),
                _ => Vec::new(),
            };
            SyncState {
                version,
                leader,
                sync_standby,
            }
        }
        _ => SyncState {
            version,
            ..Default::default()
        },
    }
}

/// Format an LSN the way PostgreSQL does: `%X/%X`.
pub fn format_lsn(lsn: i64) -> String {
    let l = lsn as u64;
    format!("{:X}/{:X}", l >> 32, l & 0xFFFF_FFFF)
}

/// Test fixtures: DCS nodes and clusters as a store returns them.
#[cfg(test)]
pub(crate) mod fixtures {
    use super::{Cluster, Node, Version};

    /// A node at version 1 whose lease (etcd v3) or TTL (etcd v2) is `session`.
    pub(crate) fn node(key: &str, value: &str, session: Option<i64>) -> Node {
        Node {
            key: key.into(),
            value: value.into(),
            version: Version::new(1),
            session,
        }
    }

    /// A cluster from `(key, value)` pairs, keys relative to the scope, none of them leased.
    pub(crate) fn cluster(keys: &[(&str, &str)]) -> Cluster {
        let nodes: Vec<Node> = keys.iter().map(|(k, v)| node(k, v, None)).collect();
        Cluster::from_nodes(&nodes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn node(key: &str, value: &str, version: i64) -> Node {
        Node {
            key: key.into(),
            value: value.into(),
            version: Version::new(version),
            session: None,
        }
    }

    // Captured from a real Patroni 4.1.5 cluster on etcd 3.4.23 (reference/real-cluster.md, A.1).
    const NODE1: &str = r#"{"conn_url":"postgres://127.0.0.1:5433/postgres","api_url":"http://127.0.0.1:8009/patroni","state":"running","role":"primary","version":"4.1.5","xlog_location":67108960,"timeline":1}"#;
    const NODE2: &str = r#"{"conn_url":"postgres://127.0.0.1:5434/postgres","api_url":"http://127.0.0.1:8010/patroni","state":"running","role":"replica","version":"4.1.5","xlog_location":67108960,"replay_lsn":67108960,"receive_lsn":67108960,"replication_state":"streaming","timeline":1}"#;
    // Patroni 3.x wrote role "master" and no receive/replay LSNs.
    pub(super) const OLD3: &str = r#"{"conn_url":"postgres://10.0.0.3:5432/postgres","api_url":"http://10.0.0.3:8008/patroni","state":"running","role":"master","version":"3.3.1","xlog_location":1000,"timeline":4}"#;

    #[test]
    fn real_cluster_keys() {
        let c = Cluster::from_nodes(&[
            node(
                "config",
                r#"{"ttl":30,"loop_wait":10,"pause":true,"synchronous_mode":true}"#,
                11,
            ),
            node("initialize", "7712032472125471084", 10),
            node("leader", "node1", 12),
            node("members/node1", NODE1, 19),
            node("members/node2", NODE2, 20),
            node(
                "status",
                r#"{"optime":67108960,"slots":{"node2":67108960},"retain_slots":["node1","node2"]}"#,
                18,
            ),
            node(
                "sync",
                r#"{"leader":"node1","quorum":0,"sync_standby":"Node2"}"#,
                5,
            ),
            node(
                "history",
                r#"[[1,67109608,"no recovery target specified","2026-11-25T09:06:12.571482+00:00","node2"]]"#,
                7,
            ),
            node("failover", "{}", 8),
        ]);
        assert_eq!(c.initialize.as_deref(), Some("7712032472125471084"));
        assert_eq!(c.leader_name(), Some("node1"));
        assert_eq!(c.members.len(), 2);
        assert_eq!(c.optime, 67108960);
        assert!(c.is_paused() && c.is_synchronous_mode() && !c.is_quorum_commit_mode());
        assert!(c.sync_matches("node2", false));
        assert!(c.failover.is_none(), "{{}} is the cleared failover key");
        assert_eq!(c.history.len(), 1);
        assert_eq!(
            c.members[1].host_port(),
            Some(("127.0.0.1".into(), Some(5434)))
        );
        assert_eq!(c.loop_wait(), 10);
    }

    #[test]
    fn lsn_format() {
        assert_eq!(format_lsn(67108960), "0/4000060");
        assert_eq!(format_lsn(0x1_0000_0010), "1/10");
    }

    #[test]
    fn citus_groups() {
        let groups = [
            (
                0,
                vec![node("leader", "c1", 1), node("members/c1", NODE1, 1)],
            ),
            (1, vec![node("members/w1", NODE2, 1)]),
            (2, vec![node("members/w2", NODE2, 1)]),
        ];
        let c = Cluster::from_groups(0, groups.into_iter().collect());
        assert_eq!(c.leader_name(), Some("c1"));
        let workers: Vec<_> = c
            .workers
            .iter()
            .map(|(g, w)| (*g, w.members[0].name.as_str()))
            .collect();
        assert_eq!(workers, [(1, "w1"), (2, "w2")]);
    }
}
