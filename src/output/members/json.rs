//! Patroni's `cluster_as_json` as patronictl's `output_members` uses it: each member's derived role,
//! state, host and port, LSN and lag cells, the pending and scheduled restarts, tags; the group's
//! pause flag and scheduled switchover; and `topology_sort`'s replication-tree order.

use serde_json::Value;

use crate::model::{format_lsn, Cluster, Member};

/// One member as Patroni's `cluster_as_json` describes it.
#[derive(Debug, Clone)]
pub(super) struct MemberJson {
    pub(super) name: String,
    pub(super) role: &'static str,
    pub(super) state: String,
    pub(super) host: Option<String>,
    pub(super) port: Option<u16>,
    pub(super) timeline: Option<Value>,
    pub(super) pending_restart: Option<Value>,
    pub(super) pending_restart_reason: Option<Value>,
    pub(super) scheduled_restart: Option<Value>,
    pub(super) tags: Option<Value>,
    /// (lsn, lag) for receive, replay and the legacy xlog location; `None` = leader (no cells).
    pub(super) lsns: Option<[LsnCell; 3]>,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum LsnCell {
    Unknown,
    Known(String, i64),
}

/// A scheduled switchover: (at, from, to).
pub(super) type ScheduledSwitchover = (String, Option<String>, Option<String>);

/// `cluster_as_json` of one group: its members, whether it is paused, a scheduled switchover.
pub(super) struct ClusterJson {
    pub(super) members: Vec<MemberJson>,
    pub(super) paused: bool,
    pub(super) switchover: Option<ScheduledSwitchover>,
}

pub(super) fn cluster_as_json(c: &Cluster) -> ClusterJson {
    let leader = c.leader_name();
    let sync_role = if c.is_quorum_commit_mode() {
        "quorum_standby"
    } else {
        "sync_standby"
    };
    let standby = c.is_standby_cluster();
    let sync_mode = c.is_synchronous_mode();
    let mut out: Vec<MemberJson> = c
        .members
        .iter()
        .map(|m| {
            let is_leader = Some(m.name.as_str()) == leader;
            let role = if is_leader {
                if standby {
                    "standby_leader"
                } else {
                    "leader"
                }
            } else if sync_mode && c.sync_matches(&m.name, false) {
                sync_role
            } else {
                "replica"
            };
            let repl = if role != "leader" {
                m.str_field("replication_state").unwrap_or("")
            } else {
                ""
            };
            let state = if repl.is_empty() {
                m.str_field("state").unwrap_or("").to_string()
            } else {
                repl.to_string()
            };
            let (host, port) = match m.host_port() {
                Some((h, p)) if !h.is_empty() => (Some(h), p),
                _ => (None, None),
            };
            let lsns = (!is_leader).then(|| {
                ["receive_lsn", "replay_lsn", "xlog_location"]
                    .map(|k| lsn_cell(m, k, c.optime as i64))
            });
            MemberJson {
                name: m.name.clone(),
                role,
                state,
                host,
                port,
                timeline: m.data.get("timeline").cloned(),
                pending_restart: m.data.get("pending_restart").cloned(),
                pending_restart_reason: m.data.get("pending_restart_reason").cloned(),
                scheduled_restart: m.data.get("scheduled_restart").cloned(),
                tags: m.data.get("tags").cloned(),
                lsns,
            }
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    let switchover = c.scheduled_switchover().map(|f| {
        (
            iso_normalize(f.scheduled_at.as_deref().unwrap_or("")),
            f.leader.clone(),
            f.candidate.clone(),
        )
    });
    ClusterJson {
        members: out,
        paused: c.is_paused(),
        switchover,
    }
}

pub(super) fn lsn_cell(m: &Member, key: &str, cluster_lsn: i64) -> LsnCell {
    match m.lsn_field(key) {
        None | Some(0) => LsnCell::Unknown,
        Some(lsn) => LsnCell::Known(
            format_lsn(lsn),
            if cluster_lsn >= lsn {
                cluster_lsn - lsn
            } else {
                0
            },
        ),
    }
}

/// `dateutil.parser.parse(s).isoformat()` of a stored timestamp, as patronictl re-formats the
/// scheduled switchover's time (any other text is shown as stored).
pub(super) fn iso_normalize(s: &str) -> String {
    crate::py::datetime::reformat_iso(s).unwrap_or_else(|| s.to_string())
}

/// Patroni's `topology_sort` + `generate_topology`: leader first, children as `+ name`, deeper levels
/// indented by two spaces; members in a `replicatefrom` cycle are dropped, as in patronictl.
pub(super) fn topology_sort(members: Vec<MemberJson>) -> Vec<MemberJson> {
    topology_tree(members)
        .into_iter()
        .map(|(level, mut m)| {
            if level > 0 {
                m.name = format!("{}+ {}", " ".repeat((level - 1) * 2), m.name);
            }
            m
        })
        .collect()
}

/// [`topology_sort`]'s order with each member's depth (0: the leader) and undecorated name.
pub(super) fn topology_tree(members: Vec<MemberJson>) -> Vec<(usize, MemberJson)> {
    let leader = members.iter().find(|m| m.role.ends_with("leader")).cloned();
    let replicas: Vec<String> = members
        .iter()
        .filter(|m| !m.role.ends_with("leader"))
        .map(|m| m.name.clone())
        .collect();
    let leader_name = leader.as_ref().map(|l| l.name.clone());
    let mut children: std::collections::HashMap<Option<String>, Vec<MemberJson>> =
        Default::default();
    for m in members.iter().filter(|m| !m.role.ends_with("leader")) {
        let parent = m
            .tags
            .as_ref()
            .and_then(|t| t.get("replicatefrom"))
            .and_then(Value::as_str)
            .filter(|p| !p.is_empty() && *p != m.name && replicas.iter().any(|r| r == p))
            .map(String::from);
        let parent = if parent.is_some() {
            parent
        } else {
            leader_name.clone()
        };
        children.entry(parent).or_default().push(m.clone());
    }
    let mut out = Vec::new();
    fn walk(
        level: usize,
        node_name: Option<String>,
        node: Option<MemberJson>,
        children: &std::collections::HashMap<Option<String>, Vec<MemberJson>>,
        out: &mut Vec<(usize, MemberJson)>,
    ) {
        let kids = children.get(&node_name).cloned().unwrap_or_default();
        if let Some(m) = node {
            if level > 0 || !m.name.is_empty() {
                out.push((level, m));
            }
        }
        for k in kids {
            let name = Some(k.name.clone());
            walk(level + 1, name, Some(k), children, out);
        }
    }
    walk(0, leader_name, leader, &children, &mut out);
    out
}
