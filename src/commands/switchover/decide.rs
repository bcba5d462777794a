//! The prompts and checks of patronictl's `_do_failover_or_switchover`, in its order and with its
//! exact texts: `Citus group`, `Primary [<leader>]` (or `Standby Leader`), `Candidate [<names>] []`,
//! the asynchronous-node question of a failover, the schedule prompt, and the final confirmation
//! ([`confirm`], asked by the caller after the pre-flight table).
//! On a pipe the answers are read as plain lines; end of input aborts.

use chrono::{DateTime, FixedOffset};

use super::{Action, Plan, Request};
use crate::error::{Error, Result};
use crate::model::Cluster;
use crate::output::Ui;
use crate::py::datetime::isoformat;
use crate::py::repr::repr_str;
use crate::time::{in_one_hour, parse_scheduled};

/// patronictl's message (sic: "must me").
pub(super) const CITUS_GROUP_REQUIRED: &str = "For Citus clusters the --group must me specified";

/// click's `prompt('Citus group', type=int)`: re-asks until the answer is an integer.
pub(super) fn prompt_group(ui: &Ui) -> Result<i64> {
    loop {
        let answer = ui.prompt("Citus group", None)?;
        match answer.trim().parse::<i64>() {
            Ok(g) => return Ok(g),
            Err(_) => ui.line(&format!("Error: '{answer}' is not a valid integer.")),
        }
    }
}

/// The prompts and checks of `_do_failover_or_switchover`, in its order.
pub(super) fn decide(
    ui: &Ui,
    req: &Request,
    name: String,
    group: Option<i64>,
    cluster: Cluster,
) -> Result<Plan> {
    let action = req.action;
    let leader = match action {
        Action::Switchover => Some(choose_leader(ui, req, &cluster, &name)?),
        Action::Failover => None,
    };
    let candidates = candidate_names(&cluster);
    if candidates.is_empty() {
        return Err(Error::failure(format!(
            "No candidates found to {} to",
            action.name()
        )));
    }
    let candidate = match &req.candidate {
        None if !req.force => {
            Some(ui.prompt(&format!("Candidate {}", py_list(&candidates)), Some(""))?)
        }
        c => c.clone(),
    };
    if action == Action::Failover && candidate.as_deref().unwrap_or("").is_empty() {
        return Err(Error::failure(
            "Failover could be performed only to a specific candidate",
        ));
    }
    if let Some(c) = candidate.as_deref().filter(|c| !c.is_empty()) {
        check_candidate(&cluster, &name, &candidates, c).map_err(Error::failure)?;
        if !req.force && action == Action::Failover && is_async(&cluster, c) {
            let q = format!("Are you sure you want to failover to the asynchronous node {c}?");
            if !ui.confirm(&q)? {
                return Err(Error::failure("Aborting failover"));
            }
        }
    }
    let scheduled = match action {
        Action::Switchover => choose_schedule(ui, req, &cluster)?,
        Action::Failover => None,
    };
    let max_lag = super::stages::max_lag(&cluster, req.extra.max_lag);
    let plan = Plan {
        action,
        name,
        group,
        cluster,
        leader,
        candidate,
        scheduled,
        max_lag,
        pg: req.extra.pg.clone(),
        record: Default::default(),
    };
    Ok(plan)
}

/// `--leader`, else (with `--force`) the current leader, else the `Primary [<leader>]` prompt.
fn choose_leader(ui: &Ui, req: &Request, cluster: &Cluster, name: &str) -> Result<String> {
    let Some(current) = cluster.leader_name() else {
        return Err(Error::failure("This cluster has no leader"));
    };
    let leader = match &req.leader {
        Some(l) => l.clone(),
        None if req.force => current.to_string(),
        None => {
            let label = if cluster.is_standby_cluster() {
                "Standby Leader"
            } else {
                "Primary"
            };
            ui.prompt(label, Some(current))?
        }
    };
    check_leader(cluster, name, &leader).map_err(Error::failure)?;
    Ok(leader)
}

/// The `--leader` check: it must be the holder of the leader key.
pub(super) fn check_leader(
    cluster: &Cluster,
    name: &str,
    leader: &str,
) -> std::result::Result<(), String> {
    if cluster.leader_name() == Some(leader) {
        Ok(())
    } else {
        Err(format!(
            "Member {leader} is not the leader of cluster {name}"
        ))
    }
}

/// Members other than the leader that may be promoted (no `nofailover`), sorted by name.
pub(super) fn candidate_names(cluster: &Cluster) -> Vec<String> {
    let mut names: Vec<String> = cluster
        .members
        .iter()
        .filter(|m| Some(m.name.as_str()) != cluster.leader_name() && !m.nofailover())
        .map(|m| m.name.clone())
        .collect();
    names.sort();
    names
}

/// A named candidate must be one of the candidates.
fn check_candidate(
    cluster: &Cluster,
    name: &str,
    candidates: &[String],
    candidate: &str,
) -> std::result::Result<(), String> {
    if candidates.iter().any(|c| c == candidate) {
        Ok(())
    } else if cluster.leader_name() == Some(candidate) {
        Err(format!(
            "Member {candidate} is already the leader of cluster {name}"
        ))
    } else {
        Err(format!(
            "Member {candidate} does not exist in cluster {name} or is tagged as nofailover"
        ))
    }
}

/// Synchronous mode is on, the sync key names a leader, and `candidate` is neither sync standby nor
/// sync leader: patronictl asks before failing over to it.
fn is_async(cluster: &Cluster, candidate: &str) -> bool {
    cluster.is_synchronous_mode()
        && cluster.sync.as_ref().is_some_and(|s| s.leader.is_some())
        && !cluster.sync_matches(candidate, true)
}

/// Python's `str(list_of_str)` for plain names: `['a', 'b']`.
fn py_list(names: &[String]) -> String {
    let items: Vec<String> = names.iter().map(|n| repr_str(n)).collect();
    format!("[{}]", items.join(", "))
}

/// `--scheduled`, else (without `--force`) the schedule prompt; a time is refused when paused.
fn choose_schedule(
    ui: &Ui,
    req: &Request,
    cluster: &Cluster,
) -> Result<Option<DateTime<FixedOffset>>> {
    let answer = match &req.scheduled {
        None if !req.force => {
            // The space before `)` and the double space before `[now]` are patronictl's.
            let q = format!(
                "When should the switchover take place (e.g. {} ) ",
                in_one_hour()
            );
            Some(ui.prompt(&q, Some("now"))?)
        }
        s => s.clone(),
    };
    let scheduled = parse_scheduled(answer.as_deref())?;
    if scheduled.is_some() && cluster.is_paused() {
        return Err(Error::failure(
            "Can't schedule switchover in the paused state",
        ));
    }
    Ok(scheduled)
}

/// The final `Are you sure …? [y/N]` question (the caller asks it unless `--force`).
pub(super) fn confirm(ui: &Ui, plan: &Plan) -> Result<()> {
    let cluster_leader = plan.cluster.leader_name();
    let demote = cluster_leader
        .map(|l| format!(", demoting current leader {l}"))
        .unwrap_or_default();
    let (question, refusal) = match &plan.scheduled {
        Some(t) => (
            format!(
                "Are you sure you want to schedule switchover of cluster {} at {}{demote}?",
                plan.name,
                isoformat(t)
            ),
            format!("Aborting scheduled {}", plan.action.name()),
        ),
        None => (
            format!(
                "Are you sure you want to {} cluster {}{demote}?",
                plan.action.name(),
                plan.name
            ),
            format!("Aborting {}", plan.action.name()),
        ),
    };
    if ui.confirm(&question)? {
        Ok(())
    } else {
        Err(Error::failure(refusal))
    }
}
