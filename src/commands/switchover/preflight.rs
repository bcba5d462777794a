//! The pre-flight check of a switchover or failover: `--dry-run` (writes nothing, asks nothing), the
//! table shown on a terminal before the confirmation of a real switch, and the reasons printed after
//! Patroni refuses one (412, 503).
//!
//! It applies patronictl's own checks (leader, candidate, nofailover, schedule while paused) and the
//! ones the Patroni leader makes before it agrees (`is_failover_possible`, `failover_limitation`,
//! `is_lagging`): each member's REST API is asked `GET /patroni` (bounded by the per-call timeout),
//! and its state, replication state, timeline, lag against the lag limit (`--max-lag`, else
//! `maximum_lag_on_failover`), sync/quorum membership and tags (the REST API's, which Patroni
//! judges, and the DCS's) are judged. WARN items do not block: pending restarts, scheduled actions,
//! mixed Patroni versions, a `ttl` too short for `loop_wait` and `retry_timeout`, DCS endpoints that
//! do not answer or a DCS quorum at risk, a leader key about to expire (its lease or TTL has less
//! than `loop_wait` + 1 s left: the leader is late refreshing it). Without a
//! candidate, the member Patroni would promote is named, with why ([`predict`]). The leader's
//! PostgreSQL is looked into as well ([`pg`]): its findings are WARN items, or block under `--strict`.

mod advice;
pub mod pg;
mod report;

use std::time::Duration;

use crate::api::Api;
use crate::dcs::Dcs;
use crate::http_client::Method;
use serde_json::Value;

use super::decide::{candidate_names, check_leader, CITUS_GROUP_REQUIRED};
use super::stages::max_lag;
use super::{Action, Plan, Request};
use crate::context::Context;
use crate::error::{Error, Exit, Result};
use crate::model::health::{replication, Replication};
use crate::model::{parse_int, Cluster, Member};
use crate::py::truth::truthy;
use crate::time::parse_scheduled;

use advice::{dcs_warnings, predict, warnings, DcsView, Prediction};
pub(super) use report::{explain_rejection, show_before_confirm};

/// The reason the current leader is not a candidate.
const LEADER: &str = "is the leader";

/// One member's verdict.
#[derive(Debug, Clone)]
pub(super) struct Row {
    pub(super) name: String,
    pub(super) reasons: Vec<String>,
    pub(super) notes: Vec<String>,
    /// The larger of received and replayed LSN, when known.
    pub(super) position: Option<i64>,
    /// The lag behind the cluster's last LSN, in bytes, when known.
    pub(super) lag: Option<i64>,
    /// `failover_priority` (1 when not set, as Patroni).
    pub(super) priority: i64,
    /// The current leader: never a candidate, but not a failure either (shown as `-`).
    pub(super) leader: bool,
}

impl Row {
    pub(super) fn pass(&self) -> bool {
        self.reasons.is_empty()
    }

    /// `PASS`, `FAIL`, or `LEADER` for the current leader (the switch's source, not a failure).
    pub(super) fn result(&self) -> &'static str {
        match (self.leader, self.pass()) {
            (true, _) => "LEADER",
            (false, true) => "PASS",
            (false, false) => "FAIL",
        }
    }

    fn cells(&self) -> Vec<String> {
        if self.leader {
            // Under a PASS verdict the leader must not read as a failure: `-  current leader`, with
            // what else was found about it (an unreachable REST API).
            let text = std::iter::once("current leader".to_string())
                .chain(self.reasons.iter().filter(|r| *r != LEADER).cloned())
                .collect::<Vec<_>>()
                .join("; ");
            return vec![self.name.clone(), "-".into(), text];
        }
        let (result, text) = if self.pass() {
            ("PASS", self.notes.join(", "))
        } else {
            ("FAIL", self.reasons.join("; "))
        };
        vec![self.name.clone(), result.to_string(), text]
    }
}

/// What every member is judged against.
struct Baseline {
    action: Action,
    leader_timeline: Option<i64>,
    optime: i64,
    max_lag: i64,
}

/// What is asked: the command line, or the plan after the prompts.
pub(super) struct Query {
    pub(super) action: Action,
    pub(super) leader: Option<String>,
    pub(super) candidate: Option<String>,
    pub(super) scheduled: Option<String>,
    pub(super) max_lag: Option<u64>,
    /// The PostgreSQL pre-flight's options.
    pub(super) pg: pg::PgArgs,
}

impl Query {
    fn of_request(req: &Request) -> Query {
        Query {
            action: req.action,
            leader: req.leader.clone(),
            candidate: req.candidate.clone(),
            scheduled: req.scheduled.clone(),
            max_lag: req.extra.max_lag,
            pg: req.extra.pg.clone(),
        }
    }

    fn of_plan(plan: &Plan) -> Query {
        Query {
            action: plan.action,
            leader: plan.leader.clone(),
            candidate: plan.wanted().map(String::from),
            // Already accepted by the prompts; a schedule is not what Patroni refuses on.
            scheduled: None,
            max_lag: u64::try_from(plan.max_lag).ok(),
            pg: plan.pg.clone(),
        }
    }

    fn wanted(&self) -> Option<&str> {
        self.candidate.as_deref().filter(|c| !c.is_empty())
    }
}

/// The whole pre-flight verdict.
pub(super) struct Assessment {
    pub(super) cluster: Cluster,
    pub(super) rows: Vec<Row>,
    /// Reasons the request as a whole cannot go ahead.
    pub(super) problems: Vec<String>,
    /// What does not block but deserves a look.
    pub(super) warnings: Vec<String>,
    /// Without a candidate: the member Patroni would promote, and why.
    pub(super) predicted: Option<Prediction>,
    /// The DCS endpoints and the leader key's time to live.
    pub(super) dcs: DcsView,
    pub(super) max_lag: i64,
    /// What the leader's PostgreSQL showed ([`pg`]).
    pub(super) pg: pg::PgReport,
    pub(super) go: bool,
}

/// `--dry-run`: assess, print the table and the verdict (or the `SwitchoverPlan` document).
pub(super) async fn run(ctx: &mut Context<'_>, req: &Request, name: &str) -> Result<()> {
    if ctx.settings.citus && req.group.is_none() {
        return Err(Error::failure(CITUS_GROUP_REQUIRED));
    }
    let cluster = ctx.cluster(name, req.group).await?;
    let q = Query::of_request(req);
    let a = assess(ctx, &q, name, cluster).await?;
    report::print_dry_run(ctx, &q, name, &a);
    let data = report::plan_json(&q, name, req.group, &a);
    if a.go {
        ctx.ui.emit(data);
        Ok(())
    } else {
        ctx.ui.set_partial(data);
        Err(Error::silent(Exit::Failure))
    }
}

/// Judge every member and the request as a whole.
pub(super) async fn assess(
    ctx: &mut Context<'_>,
    q: &Query,
    name: &str,
    cluster: Cluster,
) -> Result<Assessment> {
    // The members' REST statuses and the DCS endpoints' are asked at the same time: each is bounded
    // by its own timeout, and a slow one must not add to the other.
    let budget = ctx.settings.dcs().map(|d| d.timeout).ok();
    let request_timeout = ctx.settings.rest.timeout;
    let superuser = pg::config_superuser(&ctx.settings.raw);
    let (api, dcs) = ctx.api_and_dcs().await?;
    let (statuses, dcs, pg) = tokio::join!(
        fetch_statuses(api, &cluster),
        dcs_view(dcs, budget, &cluster),
        pg::check(&cluster, &q.pg, superuser, request_timeout)
    );
    let status_of = |m: &Member| {
        statuses
            .iter()
            .find(|(n, _)| *n == m.name)
            .map(|(_, s)| s.clone())
            .unwrap_or_else(|| Err("no REST answer".into()))
    };
    let leader_status = cluster.leader_member().map(status_of);
    let mut problems = cluster_problems(&cluster, q, name);
    if let (Action::Switchover, Some(Err(e))) = (q.action, &leader_status) {
        problems.push(format!("the leader's REST API is unreachable ({e})"));
    }
    let base = Baseline {
        action: q.action,
        leader_timeline: leader_timeline(&cluster, leader_status.as_ref()),
        optime: i64::try_from(cluster.optime).unwrap_or(i64::MAX),
        max_lag: max_lag(&cluster, q.max_lag),
    };
    let mut rows: Vec<Row> = cluster
        .members
        .iter()
        .map(|m| judge(&cluster, &base, m, &status_of(m)))
        .collect();
    let wanted = q.wanted();
    if let Some(c) = wanted.filter(|c| cluster.member(c).is_none()) {
        rows.push(Row {
            name: c.to_string(),
            reasons: vec![format!("not a member of cluster {name}")],
            notes: vec![],
            position: None,
            lag: None,
            priority: 0,
            leader: false,
        });
    }
    // The PostgreSQL findings block only under --strict.
    if pg.strict {
        problems.extend(pg.lines());
    }
    let go = problems.is_empty()
        && match wanted {
            Some(c) => rows.iter().any(|r| r.name == c && r.pass()),
            None => rows.iter().any(Row::pass),
        };
    let mut warnings = warnings(&cluster, &statuses);
    warnings.extend(dcs_warnings(&cluster, &dcs));
    if !pg.strict {
        warnings.extend(pg.lines());
    }
    let predicted = if wanted.is_none() {
        predict(&rows)
    } else {
        None
    };
    Ok(Assessment {
        cluster,
        rows,
        problems,
        warnings,
        predicted,
        dcs,
        max_lag: base.max_lag,
        pg,
        go,
    })
}

/// `--strict` on a real switch: refuse it (exit 1) when the leader's PostgreSQL shows anything the
/// pre-flight warns about, before anything is asked or written.
pub(super) async fn refuse_if_strict(ctx: &mut Context<'_>, plan: &Plan) -> Result<()> {
    if !plan.pg.strict {
        return Ok(());
    }
    let r = pg::check(
        &plan.cluster,
        &plan.pg,
        pg::config_superuser(&ctx.settings.raw),
        ctx.settings.rest.timeout,
    )
    .await;
    for i in r.info() {
        ctx.ui.err_line(&format!("INFO: {i}"));
    }
    if r.findings.is_empty() {
        return Ok(());
    }
    Err(Error::failure(format!(
        "{} refused by the PostgreSQL pre-flight (--strict): {}",
        plan.action.title(),
        r.lines().join("; ")
    )))
}

/// Every DCS endpoint's status and what is left of the leader key's lease or TTL, each within the
/// DCS timeout. What cannot be asked is left out: the switch does not depend on it.
async fn dcs_view(dcs: &mut Dcs, budget: Option<Duration>, cluster: &Cluster) -> DcsView {
    let Some(budget) = budget else {
        return DcsView::default();
    };
    let endpoints = dcs.endpoint_statuses(budget).await;
    let leader_ttl = match cluster.leader_session {
        Some(s) => dcs
            .key_ttls([s])
            .await
            .ok()
            .and_then(|m| m.get(&s).copied()),
        None => None,
    };
    DcsView {
        endpoints,
        leader_ttl,
    }
}

/// The checks patronictl and the Patroni REST API make on the request as a whole.
fn cluster_problems(cluster: &Cluster, req: &Query, name: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let action = req.action;
    let leader = cluster.leader_name();
    if action == Action::Switchover {
        match (leader, &req.leader) {
            (None, _) => problems.push("This cluster has no leader".to_string()),
            (Some(_), Some(l)) => problems.extend(check_leader(cluster, name, l).err()),
            (Some(_), None) => {}
        }
    }
    if candidate_names(cluster).is_empty() {
        problems.push(format!("No candidates found to {} to", action.name()));
    }
    match req.wanted() {
        None if action == Action::Failover => {
            problems.push("Failover could be performed only to a specific candidate".to_string())
        }
        None if cluster.is_paused() => problems.push(
            "Switchover is possible only to a specific candidate in a paused state".to_string(),
        ),
        Some(c) if Some(c) == leader => problems.push(format!(
            "Member {c} is already the leader of cluster {name}"
        )),
        _ => {}
    }
    match parse_scheduled(req.scheduled.as_deref()) {
        Err(e) => problems.push(e.message),
        Ok(Some(_)) if cluster.is_paused() => {
            problems.push("Can't schedule switchover in the paused state".to_string())
        }
        Ok(Some(t)) if t < chrono::Local::now() => {
            problems.push("Cannot schedule switchover in the past".to_string())
        }
        Ok(_) => {}
    }
    problems
}

/// Ask every member for `GET /patroni` at once; each answer is the JSON or why there is none.
async fn fetch_statuses(
    api: &Api,
    cluster: &Cluster,
) -> Vec<(String, std::result::Result<Value, String>)> {
    let requests = cluster.members.iter().map(|m| async move {
        let answer = match api.request(m, Method::GET, "patroni", None, None).await {
            Err(f) => Err(short_failure(&f)),
            Ok(r) => match serde_json::from_str::<Value>(&r.body) {
                Ok(v @ Value::Object(_)) => Ok(v),
                _ => Err(format!("HTTP {} without a JSON status", r.status)),
            },
        };
        (m.name.clone(), answer)
    });
    crate::commands::fanout::join_all(requests).await
}

fn short_failure(f: &crate::api::Failure) -> String {
    use crate::api::FailureKind::*;
    match f.kind {
        NoUrl => "no api_url".to_string(),
        Connect => "connection refused".to_string(),
        Timeout => "no answer within the timeout".to_string(),
        Other => "request failed".to_string(),
    }
}

/// The leader's timeline: from its REST status, else its member key.
fn leader_timeline(
    cluster: &Cluster,
    status: Option<&std::result::Result<Value, String>>,
) -> Option<i64> {
    status
        .and_then(|s| s.as_ref().ok())
        .and_then(|s| s.get("timeline"))
        .and_then(parse_int)
        .or_else(|| {
            cluster
                .leader_member()
                .and_then(|m| m.data.get("timeline"))
                .and_then(parse_int)
        })
}

/// Judge one member. The REST status is preferred (it is current); the member key is the fallback.
fn judge(
    cluster: &Cluster,
    base: &Baseline,
    m: &Member,
    status: &std::result::Result<Value, String>,
) -> Row {
    let mut row = Row {
        name: m.name.clone(),
        reasons: vec![],
        notes: vec![],
        position: None,
        lag: None,
        priority: m
            .tags()
            .and_then(|t| t.get("failover_priority"))
            .and_then(parse_int)
            .unwrap_or(1),
        leader: false,
    };
    if cluster.leader_name() == Some(m.name.as_str()) {
        row.leader = true;
        row.reasons.push(LEADER.into());
        if let Err(e) = status {
            row.reasons.push(format!("REST API unreachable ({e})"));
        }
        return row;
    }
    if let Some(why) = nofailover_reason(m).or_else(|| rest_nofailover(status)) {
        row.reasons.push(why);
    }
    let field = |k: &str| -> Option<Value> {
        match status {
            Ok(s) => s.get(k).cloned(),
            Err(_) => m.data.get(k).cloned(),
        }
    };
    match status {
        Err(e) => row.reasons.push(format!("REST API unreachable ({e})")),
        Ok(s) if s.get("watchdog_failed").is_some_and(truthy) => {
            row.reasons.push("watchdog not capable".into())
        }
        Ok(_) => {}
    }
    judge_replication(&mut row, base, m, &field);
    judge_position(&mut row, base, m, status);
    judge_sync(&mut row, cluster, base.action);
    row
}

/// The tags the member's REST API reports (what Patroni's `failover_limitation` reads): set there
/// but not yet in the DCS, they are why a candidate the DCS shows as eligible is refused.
fn rest_nofailover(status: &std::result::Result<Value, String>) -> Option<String> {
    let tags = status.as_ref().ok()?.get("tags")?;
    if tags.get("nofailover").is_some_and(truthy) {
        return Some("tagged nofailover (REST API)".to_string());
    }
    match tags.get("failover_priority").and_then(parse_int) {
        Some(p) if p <= 0 && tags.get("nofailover").is_none() => {
            Some(format!("failover_priority {p} (REST API)"))
        }
        _ => None,
    }
}

/// `nofailover`, or a `failover_priority` that forbids promotion.
fn nofailover_reason(m: &Member) -> Option<String> {
    if !m.nofailover() {
        return None;
    }
    let tags = m.tags()?;
    Some(if tags.contains_key("nofailover") {
        "tagged nofailover".to_string()
    } else {
        let p = tags
            .get("failover_priority")
            .and_then(parse_int)
            .unwrap_or(0);
        format!("failover_priority {p}")
    })
}

/// State, replication state (the one judgement, [`crate::model::health::replication`], of the
/// member as its REST API reports it when it answers, else as its key says) and timeline.
fn judge_replication(
    row: &mut Row,
    base: &Baseline,
    m: &Member,
    field: &dyn Fn(&str) -> Option<Value>,
) {
    let text = |k: &str| field(k).and_then(|v| v.as_str().map(String::from));
    let state = text("state").unwrap_or_else(|| "unknown".into());
    let mut seen = m.clone();
    for k in ["state", "role", "replication_state"] {
        match field(k) {
            Some(v) => seen.data.insert(k.into(), v),
            None => seen.data.remove(k),
        };
    }
    if let Some(v) = field("patroni").and_then(|p| p.get("version").cloned()) {
        seen.data.insert("version".into(), v);
    }
    match replication(&seen) {
        Replication::Streaming => row.notes.push("streaming".into()),
        Replication::Archive => row.notes.push("in archive recovery (nostream)".into()),
        _ if state != "running" => row.reasons.push(format!("not running ({state})")),
        Replication::NotStreaming(r) if r == "not streaming" => {
            row.reasons.push("not streaming".into())
        }
        Replication::NotStreaming(r) => row.reasons.push(format!("not streaming ({r})")),
        Replication::Unknown(r) => row.reasons.push(format!("streaming unknown ({r})")),
    }
    let tl = field("timeline").as_ref().and_then(parse_int);
    match (tl, base.leader_timeline) {
        (Some(t), Some(l)) if t != l => row
            .reasons
            .push(format!("timeline {t}, the leader is on {l}")),
        (Some(t), _) => row.notes.push(format!("TL {t}")),
        (None, _) => row.reasons.push("timeline unknown".into()),
    }
}

/// Lag in bytes behind the cluster's last known LSN, as Patroni's `is_lagging`.
fn judge_position(
    row: &mut Row,
    base: &Baseline,
    m: &Member,
    status: &std::result::Result<Value, String>,
) {
    let position = match status {
        Ok(s) => ["received_location", "replayed_location"]
            .iter()
            .filter_map(|k| s.get("xlog").and_then(|x| x.get(*k)).and_then(parse_int))
            .max(),
        Err(_) => ["receive_lsn", "replay_lsn", "xlog_location"]
            .iter()
            .filter_map(|k| m.lsn_field(k))
            .max(),
    };
    let Some(pos) = position else {
        row.reasons.push("WAL position unknown".into());
        return;
    };
    let lag = (base.optime - pos).max(0);
    row.position = Some(pos);
    row.lag = Some(lag);
    if lag > base.max_lag {
        row.reasons.push(format!(
            "lag {lag} bytes > maximum_lag_on_failover {}",
            base.max_lag
        ));
    } else {
        row.notes.push(format!("lag {lag} bytes"));
    }
}

/// In synchronous or quorum mode only a sync/quorum standby can take over in a switchover; a
/// failover may go to an asynchronous node (patronictl asks first).
fn judge_sync(row: &mut Row, cluster: &Cluster, action: Action) {
    if !cluster.is_synchronous_mode() {
        return;
    }
    let kind = if cluster.is_quorum_commit_mode() {
        "quorum standby"
    } else {
        "synchronous standby"
    };
    if cluster.sync_matches(&row.name, false) {
        row.notes.push(kind.into());
    } else if action == Action::Switchover {
        row.reasons.push(format!("not a {kind}"));
    } else {
        row.notes
            .push("asynchronous (failover asks for confirmation)".into());
    }
}

#[cfg(test)]
mod tests;
