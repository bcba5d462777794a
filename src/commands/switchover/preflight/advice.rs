//! The advice part of the pre-flight: the WARN items (they do not block a switch) and, without a
//! candidate, the member Patroni would promote and why (Patroni's `_is_healthiest_node`).
//!
//! The DCS items come from [`DcsView`]: every configured endpoint asked on its own (as `doctor`
//! does, [`crate::dcs::endpoint_statuses`]) and what is left of the leader key's lease or TTL.

use serde_json::{json, Value};

use super::Row;
use crate::dcs::{quorum_count, EndpointStatus, KeyTtl};
use crate::model::{parse_int, Cluster};
use crate::py::truth::truthy;

/// Without a candidate, Patroni lets the healthiest eligible member take the lock
/// (`_is_healthiest_node`): the furthest WAL position wins, then the higher `failover_priority`;
/// members at the same place race for the lock.
pub(super) fn predict(rows: &[Row]) -> Option<Prediction> {
    let eligible: Vec<&Row> = rows.iter().filter(|r| r.pass()).collect();
    let best = eligible
        .iter()
        .max_by_key(|r| (r.position.unwrap_or(-1), r.priority))?;
    let ties: Vec<&str> = eligible
        .iter()
        .filter(|r| r.position == best.position && r.priority == best.priority)
        .map(|r| r.name.as_str())
        .collect();
    let pos = best
        .position
        .map(crate::model::format_lsn)
        .unwrap_or_else(|| "unknown".into());
    let why = if ties.len() > 1 {
        format!(
            "{} are equally placed (WAL position {pos}, failover_priority {}): the first to take the leader lock wins",
            ties.join(", "),
            best.priority
        )
    } else if eligible.len() == 1 {
        "the only member that passes the checks".to_string()
    } else {
        format!(
            "the furthest WAL position ({pos}, lag {} bytes) and failover_priority {} among {} eligible members",
            best.lag.unwrap_or(0),
            best.priority,
            eligible.len()
        )
    };
    Some(Prediction {
        name: (ties.len() == 1).then(|| best.name.clone()),
        candidates: ties.iter().map(|t| t.to_string()).collect(),
        why,
    })
}

/// The member Patroni would promote without a candidate (`name`), or the members racing for it.
#[derive(Debug, Clone)]
pub(in crate::commands::switchover) struct Prediction {
    pub(in crate::commands::switchover) name: Option<String>,
    pub(in crate::commands::switchover) candidates: Vec<String>,
    pub(in crate::commands::switchover) why: String,
}

/// What the pre-flight saw of the DCS itself.
#[derive(Debug, Clone, Default)]
pub(in crate::commands::switchover) struct DcsView {
    /// Every configured endpoint's status (empty: none could be asked).
    pub(in crate::commands::switchover) endpoints: Vec<EndpointStatus>,
    /// What is left of the leader key's lease or TTL (`None`: no leader key, ZooKeeper, or unknown).
    pub(in crate::commands::switchover) leader_ttl: Option<KeyTtl>,
}

impl DcsView {
    /// As machine data: `endpoints` (answered, why not, quorum) and `leaderKeyRemainingSeconds`.
    pub(in crate::commands::switchover) fn to_json(&self) -> Value {
        let endpoints: Vec<Value> = self
            .endpoints
            .iter()
            .map(|s| {
                json!({
                    "endpoint": s.endpoint,
                    "answered": s.reachable.is_ok(),
                    "error": s.reachable.as_ref().err(),
                    "quorum": s.quorum,
                })
            })
            .collect();
        json!({
            "endpoints": endpoints,
            "leaderKeyRemainingSeconds": self.leader_ttl.map(|t| t.remaining),
        })
    }
}

/// The DCS WARN items: endpoints that do not answer or are out of the quorum, how many members of
/// the DCS cluster answered (`doctor`'s wording), and a leader key that expires within `loop_wait`
/// + 1 s (its holder is late refreshing it: the switch may meet a leader race instead).
pub(super) fn dcs_warnings(cluster: &Cluster, view: &DcsView) -> Vec<String> {
    let mut w = Vec::new();
    for s in &view.endpoints {
        match &s.reachable {
            Err(why) => w.push(format!(
                "DCS endpoint {} did not answer ({why})",
                s.endpoint
            )),
            Ok(()) if s.quorum == Some(false) => w.push(format!(
                "DCS endpoint {} is not part of a working quorum ({})",
                s.endpoint, s.quorum_note
            )),
            Ok(()) => {}
        }
    }
    if let Some((answered, total, need)) = quorum_count(&view.endpoints) {
        if answered < total {
            let quorum = if answered >= need {
                format!("the quorum ({need}) holds")
            } else {
                format!("a quorum needs {need}")
            };
            w.push(format!(
                "{answered} of {total} DCS members answered; {quorum}"
            ));
        }
    }
    if let (Some(ttl), Some(leader)) = (view.leader_ttl, cluster.leader_name()) {
        let loop_wait = cluster
            .valid_config()
            .and_then(|c| c.get("loop_wait"))
            .and_then(parse_int)
            .unwrap_or(10) as f64;
        if ttl.remaining < loop_wait + 1.0 {
            w.push(format!(
                "the leader key expires in {} s (under loop_wait {loop_wait} s + 1 s): {leader} is late refreshing it",
                ttl.remaining
            ));
        }
    }
    w
}

/// WARN items: they do not block the switch, but a DBA wants to know before it.
pub(super) fn warnings(
    cluster: &Cluster,
    statuses: &[(String, std::result::Result<Value, String>)],
) -> Vec<String> {
    let mut w = Vec::new();
    for m in &cluster.members {
        if m.data.get("pending_restart").is_some_and(truthy) {
            w.push(format!("{}: restart pending (parameters changed)", m.name));
        }
        if let Some(at) = m
            .data
            .get("scheduled_restart")
            .and_then(|s| s.get("schedule"))
            .and_then(Value::as_str)
        {
            w.push(format!("{}: restart scheduled at {at}", m.name));
        }
    }
    if let Some(f) = cluster.scheduled_switchover() {
        w.push(format!(
            "a switchover is scheduled at {}",
            f.scheduled_at.as_deref().unwrap_or("?")
        ));
    }
    let mut versions: Vec<(String, String)> = cluster
        .members
        .iter()
        .filter_map(|m| {
            let rest = statuses
                .iter()
                .find(|(n, _)| *n == m.name)
                .and_then(|(_, s)| s.as_ref().ok())
                .and_then(|s| s.get("patroni"))
                .and_then(|p| p.get("version"))
                .and_then(Value::as_str)
                .map(String::from);
            let v = rest.or_else(|| m.str_field("version").map(String::from))?;
            Some((m.name.clone(), v))
        })
        .collect();
    versions.sort_by(|a, b| a.1.cmp(&b.1));
    if versions.first().map(|v| &v.1) != versions.last().map(|v| &v.1) {
        let list: Vec<String> = versions.iter().map(|(n, v)| format!("{n} {v}")).collect();
        w.push(format!("mixed Patroni versions: {}", list.join(", ")));
    }
    if let Some(c) = cluster.valid_config() {
        let get = |k: &str, d: i64| c.get(k).and_then(parse_int).unwrap_or(d);
        let (ttl, lw, rt) = (
            get("ttl", 30),
            get("loop_wait", 10),
            get("retry_timeout", 10),
        );
        if ttl < lw + 2 * rt {
            w.push(format!(
                "leader key ttl {ttl} s is under loop_wait + 2 × retry_timeout ({} s): a busy leader may lose the lock",
                lw + 2 * rt
            ));
        }
    }
    w
}
