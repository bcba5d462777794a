//! The advice part of the pre-flight: the WARN items (they do not block a switch) and, without a
//! candidate, the member Patroni would promote and why (Patroni's `_is_healthiest_node`).

use serde_json::Value;

use super::Row;
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
