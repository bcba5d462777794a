//! The cluster model assembled from the keys under `/<namespace>/<scope>/`, mirroring Patroni's
//! `Cluster`, `Member`, `Leader`, `Failover`, `SyncState`, `Status`, `TimelineHistory` and the
//! `GlobalConfig` checks patronictl makes (pause, synchronous mode, standby cluster).
//!
//! Parsing is lenient the way Patroni's `from_node` factories are: a value that does not parse becomes
//! the empty form of its type, never an error, so one bad key never hides the rest of the cluster.

use serde_json::{Map, Value};

use crate::dcs::Version;
use crate::py::truth::truthy;

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

impl Member {
    /// Parse a member value: JSON object, or the legacy `postgres://…?application_name=<api_url>` form.
    pub fn from_node(
        name: &str,
        version: Option<Version>,
        session: Option<i64>,
        value: &str,
    ) -> Member {
        let data = if value.starts_with("postgres") {
            let mut m = Map::new();
            let (conn, api) = match value.split_once('?') {
                Some((c, q)) => (
                    c.to_string(),
                    q.split('&')
                        .find_map(|kv| kv.strip_prefix("application_name="))
                        .map(percent_decode),
                ),
                None => (value.to_string(), None),
            };
            m.insert("conn_url".into(), Value::String(conn));
            if let Some(a) = api {
                m.insert("api_url".into(), Value::String(a));
            }
            m
        } else {
            match serde_json::from_str::<Value>(value) {
                Ok(Value::Object(m)) => m,
                _ => Map::new(),
            }
        };
        Member {
            name: name.to_string(),
            version,
            session,
            data,
        }
    }

    /// A string field of the member data.
    pub fn str_field(&self, key: &str) -> Option<&str> {
        self.data.get(key).and_then(Value::as_str)
    }

    /// `api_url`, if any.
    pub fn api_url(&self) -> Option<&str> {
        self.str_field("api_url").filter(|s| !s.is_empty())
    }

    /// `state`, `unknown` when absent.
    pub fn state(&self) -> &str {
        self.str_field("state").unwrap_or("unknown")
    }

    /// The member's tags (`{}` when none).
    pub fn tags(&self) -> Option<&Map<String, Value>> {
        self.data.get("tags").and_then(Value::as_object)
    }

    /// Patroni's `Tags.nofailover`: the `nofailover` tag wins; otherwise `failover_priority` ≤ 0.
    pub fn nofailover(&self) -> bool {
        let Some(tags) = self.tags() else {
            return false;
        };
        if let Some(v) = tags.get("nofailover") {
            return truthy(v);
        }
        match tags.get("failover_priority").and_then(parse_int) {
            Some(p) => p <= 0,
            None => false,
        }
    }

    /// An integer LSN field (`xlog_location`, `receive_lsn`, `replay_lsn`), Patroni's `parse_int`.
    pub fn lsn_field(&self, key: &str) -> Option<i64> {
        self.data.get(key).and_then(parse_int)
    }

    /// Host and port of the member's PostgreSQL, from `conn_kwargs` or `conn_url`.
    pub fn host_port(&self) -> Option<(String, Option<u16>)> {
        if let Some(Value::Object(kw)) = self.data.get("conn_kwargs") {
            if !kw.is_empty() {
                let host = kw.get("host").and_then(Value::as_str)?.to_string();
                let port = kw
                    .get("port")
                    .and_then(parse_int)
                    .and_then(|p| u16::try_from(p).ok());
                return (!host.is_empty()).then_some((host, port));
            }
        }
        let url = self.str_field("conn_url").filter(|s| !s.is_empty())?;
        let (host, port) = parse_url_host_port(url)?;
        Some((host, Some(port.unwrap_or(5432))))
    }

    /// The database name of `conn_url`'s path.
    pub fn dbname(&self) -> Option<String> {
        if let Some(Value::Object(kw)) = self.data.get("conn_kwargs") {
            if let Some(d) = kw.get("dbname").and_then(Value::as_str) {
                return Some(d.to_string());
            }
        }
        let url = self.str_field("conn_url")?;
        let after = url.split_once("://")?.1;
        let path = after.split_once('/').map(|(_, p)| p).unwrap_or("");
        Some(path.split('?').next().unwrap_or("").to_string())
    }
}

/// Host and optional port of a URL like `scheme://[user@]host[:port][/path]`.
pub fn parse_url_host_port(url: &str) -> Option<(String, Option<u16>)> {
    let after = url.split_once("://")?.1;
    let authority = after.split(['/', '?']).next()?;
    let authority = authority
        .rsplit_once('@')
        .map(|(_, h)| h)
        .unwrap_or(authority);
    if let Some(rest) = authority.strip_prefix('[') {
        let (h, tail) = rest.split_once(']')?;
        let port = tail.strip_prefix(':').and_then(|p| p.parse().ok());
        return Some((h.to_lowercase(), port));
    }
    let (h, p) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, p.parse().ok()),
        None => (authority, None),
    };
    if h.is_empty() {
        return None;
    }
    Some((h.to_lowercase(), p))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Patroni's `parse_int`: ints, and strings holding an int (a float string is truncated).
pub fn parse_int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => {
            let s = s.trim();
            s.parse::<i64>().ok().or_else(|| {
                s.parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite())
                    .map(|f| f as i64)
            })
        }
        Value::Bool(b) => Some(i64::from(*b)),
        _ => None,
    }
}

/// Patroni's `parse_bool` on a JSON value.
pub fn parse_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) => crate::config::parse_bool_str(s),
        Value::Number(n) => crate::config::parse_bool_str(&n.to_string()),
        _ => None,
    }
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
                "leader" => c.leader = Some((n.value.clone(), n.version)),
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

    /// Split the nodes of a whole Citus prefix (`<group>/<key>`) into coordinator (group 0) and workers.
    pub fn from_mpp_nodes(nodes: &[Node]) -> Cluster {
        let mut groups: std::collections::BTreeMap<i64, Vec<Node>> = Default::default();
        for n in nodes {
            if let Some((g, rest)) = n.key.split_once('/') {
                if let Some(gi) = crate::dcs::Layout::parse_group(g) {
                    groups.entry(gi).or_default().push(Node {
                        key: rest.to_string(),
                        ..n.clone()
                    });
                }
            }
        }
        let mut coordinator = groups
            .remove(&0)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn node(key: &str, value: &str, version: i64) -> Node {
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
    const OLD3: &str = r#"{"conn_url":"postgres://10.0.0.3:5432/postgres","api_url":"http://10.0.0.3:8008/patroni","state":"running","role":"master","version":"3.3.1","xlog_location":1000,"timeline":4}"#;

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
    fn lenient_and_legacy_forms() {
        let c = Cluster::from_nodes(&[
            node("config", "{not json", 3),
            node("members/old", OLD3, 1),
            node("members/legacy", "postgres://u:p@10.0.0.9:5433/postgres?application_name=http://10.0.0.9:8008/patroni", 2),
            node("members/broken", "[1,2", 3),
            node("members/a/b", "{}", 4),
            node("optime/leader", "1234", 5),
            node("failover", "node1:node2", 6),
            node("status", "garbage", 7),
        ]);
        assert!(c.valid_config().is_none() && !c.is_paused());
        assert_eq!(c.members.len(), 3);
        assert_eq!(c.members[1].api_url(), Some("http://10.0.0.9:8008/patroni"));
        assert_eq!(
            c.members[1].host_port(),
            Some(("10.0.0.9".into(), Some(5433)))
        );
        assert!(c.members[2].data.is_empty());
        assert_eq!(c.members[2].host_port(), None);
        assert_eq!(
            c.optime, 0,
            "an unparsable status key wins over optime/leader, as in Patroni"
        );
        let f = c.failover.unwrap();
        assert_eq!(
            (f.leader.as_deref(), f.candidate.as_deref()),
            (Some("node1"), Some("node2"))
        );
    }

    #[test]
    fn nofailover_rules() {
        let m = |tags: &str| Member::from_node("x", None, None, &format!(r#"{{"tags":{tags}}}"#));
        assert!(m(r#"{"nofailover":true}"#).nofailover());
        assert!(!m(r#"{"nofailover":false,"failover_priority":0}"#).nofailover());
        assert!(m(r#"{"failover_priority":0}"#).nofailover());
        assert!(!m(r#"{"failover_priority":"2"}"#).nofailover());
    }

    #[test]
    fn lsn_format() {
        assert_eq!(format_lsn(67108960), "0/4000060");
        assert_eq!(format_lsn(0x1_0000_0010), "1/10");
    }

    #[test]
    fn citus_groups() {
        let c = Cluster::from_mpp_nodes(&[
            node("0/leader", "c1", 1),
            node("0/members/c1", NODE1, 1),
            node("1/members/w1", NODE2, 1),
            node("01/members/x", NODE2, 1),
        ]);
        assert_eq!(c.leader_name(), Some("c1"));
        assert_eq!(c.workers.len(), 1);
        assert_eq!(c.workers[0].0, 1);
    }
}
