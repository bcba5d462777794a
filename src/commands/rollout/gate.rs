//! The gates of a rollout step, judged on one DCS snapshot: what keeps the cluster from being ready
//! for the next step (a running leader; every other member running and streaming on the leader's
//! timeline within the lag limit; the synchronous standbys synchronous mode needs), and what keeps a
//! restarted member from counting as back (running, no pending restart). Pure and small, so that it
//! can later be routed through the shared judgement of [`crate::model::health`].

use crate::model::health::{replica_lag, replication, Replication};
use crate::model::{parse_int, Cluster, Member};
use crate::py::truth::truthy;

/// The lag limit: `--max-lag`, else `maximum_lag_on_failover`, else 1 MiB.
pub fn max_lag(c: &Cluster, flag: Option<u64>) -> u64 {
    flag.or_else(|| {
        c.valid_config()
            .and_then(|cfg| cfg.get("maximum_lag_on_failover"))
            .and_then(parse_int)
            .and_then(|v| u64::try_from(v).ok())
    })
    .unwrap_or(crate::model::health::DEFAULT_MAXIMUM_LAG)
}

/// How many synchronous standbys the cluster needs now: `synchronous_node_count` (default 1) in
/// synchronous or quorum mode, at most the members that may be one (not the leader, no `nosync`
/// tag); 0 otherwise.
pub fn sync_needed(c: &Cluster) -> usize {
    if !c.is_synchronous_mode() && !c.is_quorum_commit_mode() {
        return 0;
    }
    let wanted = c
        .valid_config()
        .and_then(|cfg| cfg.get("synchronous_node_count"))
        .and_then(parse_int)
        .and_then(|v| usize::try_from(v).ok())
        .unwrap_or(1);
    let eligible = c
        .members
        .iter()
        .filter(|m| Some(m.name.as_str()) != c.leader_name())
        .filter(|m| !m.tags().and_then(|t| t.get("nosync")).is_some_and(truthy))
        .count();
    wanted.min(eligible)
}

/// What the gates require, in words, for the plan.
pub fn describe(c: &Cluster, max_lag: u64) -> Vec<String> {
    let mut out = vec![
        "a running leader".to_string(),
        format!("every other member running and streaming on the leader's timeline, at most {max_lag} bytes behind"),
    ];
    let n = sync_needed(c);
    if n > 0 {
        out.push(format!(
            "{n} synchronous standby(s) in the /sync key of the current leader"
        ));
    }
    out
}

fn timeline(m: &Member) -> Option<i64> {
    m.data.get("timeline").and_then(parse_int)
}

/// Whether a member streams, by the one judgement of `list --all` and every `--wait`
/// ([`replication`]): a Patroni that cannot tell (before 3.0.4, no version) is not taken for streaming.
fn streams(m: &Member) -> bool {
    replication(m) == Replication::Streaming
}

/// What keeps the cluster from being ready for a step; empty when it is.
pub fn blockers(c: Option<&Cluster>, max_lag: u64) -> Vec<String> {
    let Some(c) = c else {
        return vec!["the cluster has no key".into()];
    };
    let mut out = Vec::new();
    let leader = c.leader_name();
    let lm = c.leader_member();
    match (leader, lm) {
        (None, _) => out.push("no leader".to_string()),
        (Some(l), None) => out.push(format!("leader {l} has no member key")),
        (Some(l), Some(m)) if m.state() != "running" => {
            out.push(format!("leader {l} {}", m.state()))
        }
        _ => {}
    }
    let leader_tl = lm.and_then(timeline);
    for m in c.members.iter().filter(|m| Some(m.name.as_str()) != leader) {
        if m.state() != "running" {
            out.push(format!("{} {}", m.name, m.state()));
            continue;
        }
        if !streams(m) {
            let s = m.str_field("replication_state").unwrap_or("not streaming");
            out.push(format!("{} {s}", m.name));
            continue;
        }
        if let (Some(lt), Some(t)) = (leader_tl, timeline(m)) {
            if lt != t {
                out.push(format!("{} on timeline {t}, leader on {lt}", m.name));
            }
        }
        if let Some(lag) = replica_lag(m, c.optime).filter(|l| *l > max_lag) {
            out.push(format!("{} {lag} bytes behind (limit {max_lag})", m.name));
        }
    }
    let need = sync_needed(c);
    if need > 0 {
        let have: Vec<String> = c
            .sync
            .as_ref()
            .filter(|s| s.leader.is_some() && s.leader.as_deref() == leader)
            .map(|s| s.sync_standby.clone())
            .unwrap_or_default();
        if have.len() < need {
            out.push(format!(
                "{} synchronous standby(s) of {need} needed{}",
                have.len(),
                if have.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", have.join(", "))
                }
            ));
        }
    }
    out
}

/// The parameters a hot standby must keep at least at the primary's value: Patroni keeps a replica's
/// at the primary's until the primary restarts, so a decrease stays pending on a restarted replica.
const PRIMARY_BOUND: [&str; 5] = [
    "max_connections",
    "max_prepared_transactions",
    "max_locks_per_transaction",
    "max_wal_senders",
    "max_worker_processes",
];

/// Whether a replica's pending restart can only clear once the primary restarted: every reason
/// Patroni gives is one of [`PRIMARY_BOUND`].
fn pending_on_primary(m: &Member) -> bool {
    match m.data.get("pending_restart_reason") {
        Some(serde_json::Value::Object(r)) if !r.is_empty() => {
            r.keys().all(|k| PRIMARY_BOUND.contains(&k.as_str()))
        }
        _ => false,
    }
}

/// What keeps restarted member `name` from counting as back, beyond [`blockers`]: its key, running,
/// no pending restart (except, on a replica, one that only the primary's restart clears).
pub fn member_blockers(c: Option<&Cluster>, name: &str) -> Vec<String> {
    let leader = c.and_then(|c| c.leader_name()) == Some(name);
    match c.and_then(|c| c.member(name)) {
        None => vec![format!("{name}: no member key")],
        Some(m) if m.state() != "running" => vec![format!("{name} {}", m.state())],
        Some(m)
            if m.data.get("pending_restart").is_some_and(truthy)
                && (leader || !pending_on_primary(m)) =>
        {
            vec![format!("{name} still has a pending restart")]
        }
        Some(_) => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fixtures::cluster;

    const LEADER: &str = r#"{"state":"running","role":"primary","timeline":2,"xlog_location":100}"#;

    #[test]
    fn ready_cluster_has_no_blockers() {
        let c = cluster(&[
            ("leader", "a"),
            ("members/a", LEADER),
            (
                "members/b",
                r#"{"state":"running","replication_state":"streaming","timeline":2,"replay_lsn":90}"#,
            ),
            ("status", r#"{"optime":100}"#),
        ]);
        assert!(blockers(Some(&c), 10).is_empty());
        assert_eq!(blockers(Some(&c), 9), ["b 10 bytes behind (limit 9)"]);
        assert!(member_blockers(Some(&c), "b").is_empty());
        assert_eq!(max_lag(&c, None), 1_048_576);
    }

    #[test]
    fn streaming_timeline_and_sync_are_required() {
        let c = cluster(&[
            (
                "config",
                r#"{"synchronous_mode":true,"synchronous_node_count":2}"#,
            ),
            ("leader", "a"),
            ("members/a", LEADER),
            (
                "members/b",
                r#"{"state":"running","replication_state":"streaming","timeline":1,"pending_restart":true}"#,
            ),
            ("members/c", r#"{"state":"starting"}"#),
            ("members/d", r#"{"state":"running","version":"4.1.5"}"#),
            // Before 3.0.4 Patroni cannot tell: not taken for streaming (the health judgement).
            (
                "members/e",
                r#"{"state":"running","version":"2.1.7","timeline":2}"#,
            ),
            ("sync", r#"{"leader":"a","sync_standby":"b"}"#),
        ]);
        assert_eq!(sync_needed(&c), 2);
        assert_eq!(
            blockers(Some(&c), 10),
            [
                "b on timeline 1, leader on 2",
                "c starting",
                "d not streaming",
                "e not streaming",
                "1 synchronous standby(s) of 2 needed (b)"
            ]
        );
        assert_eq!(
            member_blockers(Some(&c), "b"),
            ["b still has a pending restart"]
        );
        assert_eq!(member_blockers(None, "b"), ["b: no member key"]);
        let bound = cluster(&[
            ("leader", "a"),
            (
                "members/b",
                r#"{"state":"running","pending_restart":true,"pending_restart_reason":{"max_connections":{}}}"#,
            ),
        ]);
        assert!(member_blockers(Some(&bound), "b").is_empty());
        assert_eq!(blockers(None, 1), ["the cluster has no key"]);
    }
}
