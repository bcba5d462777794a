//! The stages of `--wait` after a switchover or failover, judged on one DCS read at a time (pure):
//!
//! 1. `leader`: a new member holds the leader key and runs as primary (or standby leader) on a
//!    timeline above the former leader's (in a standby cluster the same or a later one: its leader
//!    follows the primary cluster's timeline);
//! 2. `rejoin`: the former leader runs as a replica, streaming, on the new leader's timeline;
//! 3. `replicas`: every member but the new leader runs, streams on the new timeline, and lags at most
//!    the lag limit (`--max-lag`, else `maximum_lag_on_failover`, else Patroni's 1 MiB).
//!
//! Lag is Patroni's own measure (`is_lagging`): the cluster's last known LSN (the `status` key, or the
//! leader's `xlog_location` when that is further) minus the member's position, the larger of its
//! received and replayed LSN. A stage counts as reached on the first read that shows it (and the
//! stages before it); it is not taken back afterwards.

use serde_json::{json, Value};

use crate::error::Exit;
use crate::model::health::replica::role_name;
use crate::model::health::{replication, Replication};
use crate::model::{parse_int, Cluster, Member};

/// Patroni's default `maximum_lag_on_failover` (1 MiB).
pub(super) const DEFAULT_MAX_LAG: i64 = 1_048_576;

/// Roles a member shows once it runs as the leader. `promoted` is left out on purpose: Patroni
/// writes the new timeline's history line after it, and reports `primary` one HA loop later.
const LEADING_ROLES: [&str; 3] = ["primary", "master", "standby_leader"];

/// The lag limit: `--max-lag`, else the cluster's `maximum_lag_on_failover`, else 1 MiB.
pub(super) fn max_lag(cluster: &Cluster, flag: Option<u64>) -> i64 {
    flag.map(|b| i64::try_from(b).unwrap_or(i64::MAX))
        .or_else(|| {
            cluster
                .valid_config()
                .and_then(|c| c.get("maximum_lag_on_failover"))
                .and_then(parse_int)
        })
        .unwrap_or(DEFAULT_MAX_LAG)
}

/// The three stages, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum StageName {
    Leader,
    Rejoin,
    Replicas,
}

impl StageName {
    pub(super) const ALL: [StageName; 3] =
        [StageName::Leader, StageName::Rejoin, StageName::Replicas];

    pub(super) fn as_str(self) -> &'static str {
        match self {
            StageName::Leader => "leader",
            StageName::Rejoin => "rejoin",
            StageName::Replicas => "replicas",
        }
    }

    /// The exit code when this stage is not reached in time.
    pub(super) fn exit(self) -> Exit {
        match self {
            StageName::Leader => Exit::WaitLeader,
            StageName::Rejoin => Exit::WaitRejoin,
            StageName::Replicas => Exit::WaitReplicas,
        }
    }

    /// What reaching it means, for messages.
    pub(super) fn goal(self) -> &'static str {
        match self {
            StageName::Leader => "the new leader runs as primary on a new timeline",
            StageName::Rejoin => "the former leader streams from the new leader",
            StageName::Replicas => "every replica streams within the lag limit",
        }
    }
}

/// What the wait is judged against: the cluster before the request.
#[derive(Debug, Clone)]
pub(super) struct Baseline {
    pub(super) old_leader: Option<String>,
    pub(super) old_timeline: Option<i64>,
    pub(super) max_lag: i64,
    /// A standby cluster's leader follows the primary cluster's timeline: it does not start a new one.
    pub(super) standby: bool,
}

impl Baseline {
    pub(super) fn of(before: &Cluster, max_lag: i64) -> Baseline {
        let old_timeline = before
            .leader_member()
            .and_then(|m| m.data.get("timeline"))
            .and_then(parse_int)
            // The history's last line is the timeline before the current one.
            .or_else(|| {
                before
                    .history
                    .last()
                    .and_then(|l| l.first())
                    .and_then(parse_int)
                    .map(|t| t + 1)
            });
        Baseline {
            old_leader: before.leader_name().map(String::from),
            old_timeline,
            max_lag,
            standby: before.is_standby_cluster(),
        }
    }
}

/// One stage judged on one read: reached or not, one line saying what is seen, and details.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Check {
    pub(super) ok: bool,
    pub(super) seen: String,
    pub(super) details: Value,
    /// The members keeping the stage from being reached.
    pub(super) blocking: Vec<String>,
}

/// All three stages judged on one read (a later stage is judged only once the earlier ones hold).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Judgement {
    pub(super) new_leader: Option<String>,
    pub(super) checks: Vec<(StageName, Check)>,
}

fn timeline(m: &Member) -> Option<i64> {
    m.data.get("timeline").and_then(parse_int)
}

/// Judge the `leader` stage.
pub(super) fn judge_leader(cluster: &Cluster, base: &Baseline) -> (Option<String>, Check) {
    let leader = cluster.leader_name();
    let changed = leader.is_some() && leader != base.old_leader.as_deref();
    let Some(l) = leader.filter(|_| changed) else {
        let seen = match leader {
            Some(l) => format!("leader {l}"),
            None => "no leader".to_string(),
        };
        return (
            None,
            Check {
                ok: false,
                details: json!({"leader": leader}),
                seen,
                blocking: vec![],
            },
        );
    };
    let m = cluster.member(l);
    let state = m.map(|m| m.state().to_string());
    // Patroni 3.x writes `master`: named `primary` in the progress, as 4.x writes it.
    let role = m
        .and_then(|m| m.str_field("role"))
        .map(|r| role_name(r).to_string());
    let tl = m.and_then(timeline);
    let running = state.as_deref() == Some("running")
        && role.as_deref().is_some_and(|r| LEADING_ROLES.contains(&r));
    let new_tl = match (tl, base.old_timeline) {
        (Some(t), Some(old)) => t > old || (base.standby && t >= old),
        (Some(_), None) => true,
        (None, _) => false,
    };
    let seen = match m {
        None => format!("{l} holds the leader key (no member key)"),
        Some(_) if running && new_tl => format!(
            "{l} runs as {} on timeline {}",
            role.as_deref().unwrap_or(""),
            tl.unwrap_or(0)
        ),
        Some(_) => format!(
            "{l} holds the leader key ({} {}, timeline {})",
            state.as_deref().unwrap_or("unknown"),
            role.as_deref().unwrap_or("(no role)"),
            tl.map(|t| t.to_string())
                .unwrap_or_else(|| "unknown".into())
        ),
    };
    let details = json!({
        "leader": l,
        "state": state,
        "role": role,
        "timeline": tl,
        "previousTimeline": base.old_timeline,
    });
    (
        Some(l.to_string()),
        Check {
            ok: running && new_tl,
            seen,
            details,
            blocking: if running && new_tl {
                vec![]
            } else {
                vec![l.to_string()]
            },
        },
    )
}

/// One replica's standing against the new leader.
fn replica_detail(
    cluster: &Cluster,
    m: Option<&Member>,
    name: &str,
    leader_tl: Option<i64>,
    max_lag: i64,
) -> (bool, Value, String) {
    let Some(m) = m else {
        return (
            false,
            json!({"name": name, "state": null, "role": null, "timeline": null, "replicationState": null, "lagBytes": null, "ok": false, "reason": "no member key"}),
            format!("{name}: no member key"),
        );
    };
    let state = m.state().to_string();
    let role = m.str_field("role").map(String::from);
    let repl = m.str_field("replication_state").map(String::from);
    let tl = timeline(m);
    let lag = lag_bytes(cluster, m);
    let mut why = Vec::new();
    // Patroni's member key says `running`; `streaming` is how newer views name a streaming replica.
    if state != "running" && state != "streaming" {
        why.push(format!("state {state}"));
    }
    if !matches!(
        role.as_deref(),
        Some("replica") | Some("standby") | Some("sync_standby") | Some("quorum_standby")
    ) {
        why.push(format!(
            "role {}",
            role.as_deref().map(role_name).unwrap_or("unknown")
        ));
    }
    // The one health judgement; a state other than running is already said above.
    match replication(m) {
        Replication::Streaming | Replication::Archive => {}
        Replication::NotStreaming(_) if state != "running" => {}
        Replication::NotStreaming(r) if r.ends_with("without the leader key") => {}
        Replication::NotStreaming(r) if r == "not streaming" => {
            why.push("not streaming (no replication state)".into())
        }
        Replication::NotStreaming(r) => why.push(format!("not streaming ({r})")),
        Replication::Unknown(r) => why.push(format!("streaming unknown ({r})")),
    }
    match (tl, leader_tl) {
        (Some(t), Some(l)) if t != l => why.push(format!("timeline {t}, the leader is on {l}")),
        (None, _) => why.push("timeline unknown".into()),
        _ => {}
    }
    match lag {
        Some(b) if b > max_lag => why.push(format!("lag {b} bytes > {max_lag}")),
        None => why.push("WAL position unknown".into()),
        _ => {}
    }
    let ok = why.is_empty();
    let reason = (!ok).then(|| why.join(", "));
    let line = match &reason {
        Some(r) => format!("{name}: {r}"),
        None => format!("{name}: streaming, lag {} bytes", lag.unwrap_or(0)),
    };
    (
        ok,
        json!({"name": name, "state": state, "role": role, "timeline": tl, "replicationState": repl, "lagBytes": lag, "ok": ok, "reason": reason}),
        line,
    )
}

/// Patroni's lag of `m`: the cluster's last known LSN minus the member's position (never below 0).
pub(super) fn lag_bytes(cluster: &Cluster, m: &Member) -> Option<i64> {
    let pos = ["receive_lsn", "replay_lsn", "xlog_location"]
        .iter()
        .filter_map(|k| m.lsn_field(k))
        .max()?;
    let last = i64::try_from(cluster.optime).unwrap_or(i64::MAX).max(
        cluster
            .leader_member()
            .and_then(|l| l.lsn_field("xlog_location"))
            .unwrap_or(0),
    );
    Some((last - pos).max(0))
}

/// Judge every stage on one read.
pub(super) fn judge(cluster: &Cluster, base: &Baseline) -> Judgement {
    let (new_leader, leader) = judge_leader(cluster, base);
    let mut checks = vec![(StageName::Leader, leader.clone())];
    if !leader.ok {
        return Judgement { new_leader, checks };
    }
    let leader_name = new_leader.clone().unwrap_or_default();
    let leader_tl = cluster.member(&leader_name).and_then(timeline);
    let rejoin = match base.old_leader.as_deref() {
        None => Check {
            ok: true,
            seen: "there was no former leader".into(),
            details: json!({"member": null}),
            blocking: vec![],
        },
        Some(old) => {
            let (ok, d, line) =
                replica_detail(cluster, cluster.member(old), old, leader_tl, i64::MAX);
            Check {
                ok,
                seen: line,
                details: json!({"member": d}),
                blocking: if ok { vec![] } else { vec![old.to_string()] },
            }
        }
    };
    let rejoined = rejoin.ok;
    checks.push((StageName::Rejoin, rejoin));
    if !rejoined {
        return Judgement { new_leader, checks };
    }
    let mut rows = Vec::new();
    let mut lines = Vec::new();
    let mut blocking = Vec::new();
    for m in cluster.members.iter().filter(|m| m.name != leader_name) {
        let (ok, d, line) = replica_detail(cluster, Some(m), &m.name, leader_tl, base.max_lag);
        if !ok {
            blocking.push(m.name.clone());
            lines.push(line);
        }
        rows.push(d);
    }
    let ok = blocking.is_empty();
    let seen = if ok {
        format!(
            "{} replica(s) streaming within {} bytes",
            rows.len(),
            base.max_lag
        )
    } else {
        lines.join("; ")
    };
    checks.push((
        StageName::Replicas,
        Check {
            ok,
            seen,
            details: json!({"maxLagBytes": base.max_lag, "members": rows}),
            blocking,
        },
    ));
    Judgement { new_leader, checks }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dcs::Version;
    use crate::model::Node;

    fn node(key: &str, value: &str) -> Node {
        Node {
            key: key.into(),
            value: value.into(),
            version: Version::new(1),
            session: None,
        }
    }

    fn base() -> Baseline {
        Baseline {
            old_leader: Some("node1".into()),
            old_timeline: Some(1),
            max_lag: 1000,
            standby: false,
        }
    }

    const PRIMARY2: &str =
        r#"{"state":"running","role":"primary","timeline":2,"xlog_location":5000}"#;

    fn replica(tl: i64, pos: i64) -> String {
        format!(
            r#"{{"state":"running","role":"replica","replication_state":"streaming","timeline":{tl},"receive_lsn":{pos},"replay_lsn":{pos}}}"#
        )
    }

    #[test]
    fn stages_follow_each_other() {
        let c = Cluster::from_nodes(&[
            node("leader", "node1"),
            node(
                "members/node1",
                r#"{"state":"running","role":"primary","timeline":1}"#,
            ),
            node("members/node2", &replica(1, 5000)),
        ]);
        let j = judge(&c, &base());
        assert_eq!(j.checks.len(), 1);
        assert!(!j.checks[0].1.ok);

        // The new leader on the old timeline is not there yet.
        let c = Cluster::from_nodes(&[
            node("leader", "node2"),
            node(
                "members/node2",
                r#"{"state":"running","role":"primary","timeline":1}"#,
            ),
        ]);
        let j = judge(&c, &base());
        assert_eq!(j.new_leader.as_deref(), Some("node2"));
        assert!(!j.checks[0].1.ok);

        let c = Cluster::from_nodes(&[
            node("leader", "node2"),
            node("status", r#"{"optime":5000}"#),
            node("members/node1", r#"{"state":"stopped","role":"replica"}"#),
            node("members/node2", PRIMARY2),
            node("members/node3", &replica(2, 5000)),
        ]);
        let j = judge(&c, &base());
        assert!(j.checks[0].1.ok);
        assert!(!j.checks[1].1.ok);
        assert_eq!(j.checks[1].1.blocking, vec!["node1"]);
        assert!(
            j.checks[1].1.seen.contains("state stopped"),
            "{}",
            j.checks[1].1.seen
        );
        assert_eq!(j.checks.len(), 2);

        let c = Cluster::from_nodes(&[
            node("leader", "node2"),
            node("status", r#"{"optime":5000}"#),
            node("members/node1", &replica(2, 4900)),
            node("members/node2", PRIMARY2),
            node("members/node3", &replica(1, 3000)),
        ]);
        let j = judge(&c, &base());
        assert!(j.checks[1].1.ok);
        let r = &j.checks[2].1;
        assert!(!r.ok);
        assert_eq!(r.blocking, vec!["node3"]);
        assert!(r.seen.contains("lag 2000 bytes > 1000"), "{}", r.seen);
        assert!(
            r.seen.contains("timeline 1, the leader is on 2"),
            "{}",
            r.seen
        );
        assert_eq!(r.details["members"][0]["lagBytes"], 100);

        let c = Cluster::from_nodes(&[
            node("leader", "node2"),
            node("status", r#"{"optime":5000}"#),
            node("members/node1", &replica(2, 5000)),
            node("members/node2", PRIMARY2),
            node("members/node3", &replica(2, 4500)),
        ]);
        let j = judge(&c, &base());
        assert!(j.checks.iter().all(|(_, c)| c.ok), "{j:?}");
    }

    #[test]
    fn lag_limit_comes_from_the_flag_then_the_config() {
        let c = Cluster::from_nodes(&[node("config", r#"{"maximum_lag_on_failover":42}"#)]);
        assert_eq!(max_lag(&c, None), 42);
        assert_eq!(max_lag(&c, Some(7)), 7);
        assert_eq!(max_lag(&Cluster::from_nodes(&[]), None), DEFAULT_MAX_LAG);
    }
}
