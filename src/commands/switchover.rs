//! `switchover` and `failover`, mirroring patronictl's `_do_failover_or_switchover`: the topology
//! table, the `Primary` / `Candidate` / schedule prompts and the confirmation with patronictl's exact
//! texts, defaults and checks, `POST /switchover` (or `/failover`) to the leader, and the DCS fallback
//! (`manual_failover`: an unconditional write of the `failover` key) when the member cannot be reached.
//!
//! Beyond patronictl: every REST call is bounded, the exit code says what happened (0 only when the
//! switch happened or was scheduled, 1 for a rejection or abort, 5 when the outcome is unknown),
//! `--wait` follows the switch in the DCS until the new leader runs ([`follow`]), and `--dry-run`
//! checks every member without writing anything ([`preflight`]).

mod follow;
mod preflight;

use std::time::{Duration, Instant};

use chrono::{DateTime, FixedOffset};
use clap::Args;
use reqwest::Method;
use serde_json::{json, Map, Value};

use super::members_table;
use crate::api::{Failure, FailureKind, Response};
use crate::context::Context;
use crate::dcs::Dcs;
use crate::error::{Error, Exit, Result};
use crate::model::{Cluster, Member};
use crate::output::members::Format;
use crate::output::{pyjson, Ui};
use crate::time::{in_one_hour, isoformat, parse_scheduled, timestamp};

/// `switchover [CLUSTER_NAME]`
#[derive(Debug, Args)]
pub struct SwitchoverArgs {
    /// Cluster name (default: the configured scope)
    pub cluster_name: Option<String>,
    /// Citus group
    #[arg(long)]
    pub group: Option<i64>,
    /// The name of the current leader
    #[arg(long = "leader", visible_alias = "primary", value_name = "TEXT")]
    pub leader: Option<String>,
    /// The name of the candidate
    #[arg(long, value_name = "TEXT")]
    pub candidate: Option<String>,
    /// Timestamp of a scheduled switchover in unambiguous format (e.g. ISO 8601)
    #[arg(long, value_name = "TEXT")]
    pub scheduled: Option<String>,
    /// Do not ask for confirmation at any point
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub extra: ExtraArgs,
}

/// `failover [CLUSTER_NAME]`
#[derive(Debug, Args)]
pub struct FailoverArgs {
    /// Cluster name (default: the configured scope)
    pub cluster_name: Option<String>,
    /// Citus group
    #[arg(long)]
    pub group: Option<i64>,
    /// The name of the candidate
    #[arg(long, value_name = "TEXT")]
    pub candidate: Option<String>,
    /// Do not ask for confirmation at any point
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub extra: ExtraArgs,
}

/// patctl's additions to `switchover` and `failover`.
#[derive(Debug, Args)]
pub struct ExtraArgs {
    /// After the request, follow the cluster until the new leader holds the leader key and is
    /// running; report the elapsed time (exit 5 if not confirmed within --timeout)
    #[arg(long, conflicts_with = "dry_run")]
    pub wait: bool,
    /// With --wait: how long to follow the switch, in seconds [default: 2 × max(10, loop_wait) + 30]
    #[arg(long = "timeout", value_name = "SECONDS", requires = "wait", value_parser = parse_wait_seconds)]
    pub wait_timeout: Option<Duration>,
    /// Check every member (tags, state, timeline, lag, sync, REST API) and say whether the switch can
    /// go ahead (exit 0) or not (exit 1); nothing is written and nothing is asked
    #[arg(long)]
    pub dry_run: bool,
}

fn parse_wait_seconds(s: &str) -> std::result::Result<Duration, String> {
    match s.parse::<f64>() {
        Ok(v) if v > 0.0 && v <= 86400.0 => Ok(Duration::from_secs_f64(v)),
        Ok(_) => Err(format!("'{s}' must be between 0 and 86400 seconds")),
        Err(_) => Err(format!("'{s}' is not a number of seconds")),
    }
}

/// Which of the two commands runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Switchover,
    Failover,
}

impl Action {
    fn name(self) -> &'static str {
        match self {
            Action::Switchover => "switchover",
            Action::Failover => "failover",
        }
    }

    /// Python's `action.title()`.
    fn title(self) -> &'static str {
        match self {
            Action::Switchover => "Switchover",
            Action::Failover => "Failover",
        }
    }
}

/// The command line of either command, in one shape.
#[derive(Debug)]
struct Request {
    action: Action,
    cluster_name: Option<String>,
    group: Option<i64>,
    leader: Option<String>,
    candidate: Option<String>,
    scheduled: Option<String>,
    force: bool,
    extra: ExtraArgs,
}

/// What was decided after the prompts and checks: everything the request needs.
struct Plan {
    action: Action,
    name: String,
    group: Option<i64>,
    /// The cluster as read before the prompts (patronictl prints it again after a DCS fallback).
    cluster: Cluster,
    /// The switchover leader (`None` for failover).
    leader: Option<String>,
    /// `None` is sent as `null` (`--force` without `--candidate`), `Some("")` as `""` (empty answer).
    candidate: Option<String>,
    scheduled: Option<DateTime<FixedOffset>>,
}

impl Plan {
    /// The REST body, keys in patronictl's order: candidate, leader, scheduled_at.
    fn body(&self) -> Value {
        let mut m = Map::new();
        m.insert("candidate".into(), json!(self.candidate));
        if self.action == Action::Switchover {
            m.insert("leader".into(), json!(self.leader));
        }
        if let Some(t) = &self.scheduled {
            m.insert("scheduled_at".into(), json!(isoformat(t)));
        }
        Value::Object(m)
    }

    /// The `failover` key as Patroni's `manual_failover` writes it: empty fields left out, the
    /// candidate stored as `member`.
    fn failover_value(&self) -> Value {
        let mut m = Map::new();
        if let Some(l) = self.leader.as_deref().filter(|l| !l.is_empty()) {
            m.insert("leader".into(), json!(l));
        }
        if let Some(c) = self.wanted() {
            m.insert("member".into(), json!(c));
        }
        if let Some(t) = &self.scheduled {
            m.insert("scheduled_at".into(), json!(isoformat(t)));
        }
        Value::Object(m)
    }

    /// The candidate, when one was named.
    fn wanted(&self) -> Option<&str> {
        self.candidate.as_deref().filter(|c| !c.is_empty())
    }

    /// The member the request goes to: the leader (a bare stub when its member key is missing, so
    /// the request fails and the DCS fallback runs, as in patronictl), else the candidate.
    fn target(&self) -> Option<Member> {
        match self.cluster.leader_name() {
            Some(l) => Some(
                self.cluster
                    .leader_member()
                    .cloned()
                    .unwrap_or_else(|| Member::from_node(l, -1, None, "{}")),
            ),
            None => self.wanted().and_then(|c| self.cluster.member(c).cloned()),
        }
    }
}

/// Run `switchover`.
pub async fn cmd_switchover(ctx: &mut Context<'_>, args: SwitchoverArgs) -> Result<()> {
    run(
        ctx,
        Request {
            action: Action::Switchover,
            cluster_name: args.cluster_name,
            group: args.group,
            leader: args.leader,
            candidate: args.candidate,
            scheduled: args.scheduled,
            force: args.force,
            extra: args.extra,
        },
    )
    .await
}

/// Run `failover`.
pub async fn cmd_failover(ctx: &mut Context<'_>, args: FailoverArgs) -> Result<()> {
    run(
        ctx,
        Request {
            action: Action::Failover,
            cluster_name: args.cluster_name,
            group: args.group,
            leader: None,
            candidate: args.candidate,
            scheduled: None,
            force: args.force,
            extra: args.extra,
        },
    )
    .await
}

async fn run(ctx: &mut Context<'_>, req: Request) -> Result<()> {
    let name = ctx.cluster_name(req.cluster_name.clone())?;
    if req.extra.dry_run {
        return preflight::run(ctx, &req, &name).await;
    }
    let mut group = req.group;
    let mut cluster = ctx.cluster(&name, group).await?;
    ctx.ui.line("Current cluster topology");
    ctx.ui
        .out(&members_table(ctx, &cluster, &name, group, Format::Pretty));
    if ctx.settings.citus && group.is_none() {
        if req.force {
            return Err(Error::failure(CITUS_GROUP_REQUIRED));
        }
        group = Some(prompt_group(ctx.ui)?);
        cluster = ctx.cluster(&name, group).await?;
    }
    let plan = decide(ctx.ui, &req, name, group, cluster)?;
    if req.extra.wait && plan.scheduled.is_some() {
        ctx.ui
            .err_line("Note: --wait does not apply to a scheduled switchover");
    }
    execute(ctx, &req, plan).await
}

/// patronictl's message (sic: "must me").
const CITUS_GROUP_REQUIRED: &str = "For Citus clusters the --group must me specified";

/// click's `prompt('Citus group', type=int)`: re-asks until the answer is an integer.
fn prompt_group(ui: &Ui) -> Result<i64> {
    loop {
        let answer = ui.prompt("Citus group", None)?;
        match answer.trim().parse::<i64>() {
            Ok(g) => return Ok(g),
            Err(_) => ui.line(&format!("Error: '{answer}' is not a valid integer.")),
        }
    }
}

/// The prompts and checks of `_do_failover_or_switchover`, in its order.
fn decide(
    ui: &Ui,
    req: &Request,
    name: String,
    group: Option<i64>,
    cluster: Cluster,
) -> Result<Plan> {
    let action = req.action;
    let cluster_leader = cluster.leader_name().map(String::from);
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
    let plan = Plan {
        action,
        name,
        group,
        cluster,
        leader,
        candidate,
        scheduled,
    };
    if !req.force {
        confirm(ui, &plan, cluster_leader.as_deref())?;
    }
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
fn check_leader(cluster: &Cluster, name: &str, leader: &str) -> std::result::Result<(), String> {
    if cluster.leader_name() == Some(leader) {
        Ok(())
    } else {
        Err(format!(
            "Member {leader} is not the leader of cluster {name}"
        ))
    }
}

/// Members other than the leader that may be promoted (no `nofailover`), sorted by name.
fn candidate_names(cluster: &Cluster) -> Vec<String> {
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
    let items: Vec<String> = names.iter().map(|n| py_repr(n)).collect();
    format!("[{}]", items.join(", "))
}

/// Python's `repr(str)`: single quotes unless the text holds a single quote and no double quote.
fn py_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::from(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
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

/// The final `Are you sure …? [y/N]` question.
fn confirm(ui: &Ui, plan: &Plan, cluster_leader: Option<&str>) -> Result<()> {
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

/// How long the POST may take: the server holds an immediate request up to 2 × max(10, loop_wait)
/// seconds, so at least that plus a margin, and never less than 30 s or the global timeout.
fn post_timeout(ctx: &Context, cluster: &Cluster) -> Duration {
    let server_hold = 2 * cluster.loop_wait().max(10) as u64;
    Duration::from_secs((server_hold + 5).max(30)).max(ctx.settings.rest.timeout)
}

/// `--wait`'s default: the server's own limit plus time for the new leader to come up.
fn default_wait(cluster: &Cluster) -> Duration {
    Duration::from_secs(2 * cluster.loop_wait().max(10) as u64 + 30)
}

/// Send the request (re-sending a switchover to `/failover` on a pre-switchover Patroni).
async fn post(
    ctx: &mut Context<'_>,
    plan: &Plan,
    timeout: Duration,
) -> std::result::Result<Response, Failure> {
    let Some(target) = plan.target() else {
        return Err(Failure {
            kind: FailureKind::NoUrl,
            message: "no member to send the request to".into(),
        });
    };
    let api = ctx.api().map_err(|e| Failure {
        kind: FailureKind::Other,
        message: e.message,
    })?;
    let body = plan.body();
    let endpoint = plan.action.name();
    let r = api
        .request(&target, Method::POST, endpoint, Some(&body), Some(timeout))
        .await?;
    if r.status == 501
        && plan.action == Action::Switchover
        && r.body.contains("Server does not support this operation")
    {
        return api
            .request(
                &target,
                Method::POST,
                "failover",
                Some(&body),
                Some(timeout),
            )
            .await;
    }
    Ok(r)
}

/// Send the request and act on the answer.
async fn execute(ctx: &mut Context<'_>, req: &Request, plan: Plan) -> Result<()> {
    let started = Instant::now();
    let wait = req.extra.wait && plan.scheduled.is_none();
    let deadline = started
        + req
            .extra
            .wait_timeout
            .unwrap_or_else(|| default_wait(&plan.cluster));
    let mut timeout = post_timeout(ctx, &plan.cluster);
    if wait {
        timeout = timeout.min(deadline.saturating_duration_since(Instant::now()));
    }
    let times = (started, deadline);
    match post(ctx, &plan, timeout).await {
        Ok(r) if r.status == 200 || r.status == 202 => accepted(ctx, &plan, r, wait, times).await,
        Ok(r) if r.status == 503 && r.body.ends_with("status unknown") && wait => {
            // Patroni stopped waiting, not the switch: keep following it.
            let why = format!("Patroni answered 503 \"{}\"", r.body);
            unknown(ctx, &plan, why, Some((times, true))).await
        }
        Ok(r) => {
            ctx.ui.line(&format!(
                "{} failed, details: {}, {}",
                plan.action.title(),
                r.status,
                r.body
            ));
            if r.status == 503 && r.body.ends_with("status unknown") {
                let why = "Patroni stopped waiting for it".to_string();
                return unknown(ctx, &plan, why, None).await;
            }
            Err(Error::silent(Exit::Failure))
        }
        Err(f) if f.kind == FailureKind::Timeout => {
            // The request may never have been handled, so no failover key is assumed.
            unknown(ctx, &plan, f.message, wait.then_some((times, false))).await
        }
        Err(f) => fall_back_to_dcs(ctx, &plan, f, wait, times).await,
    }
}

/// The request went out but its result is not known: follow the cluster (`--wait`, with whether the
/// failover key is known to be written), else exit 5.
async fn unknown(
    ctx: &mut Context<'_>,
    plan: &Plan,
    why: String,
    follow: Option<((Instant, Instant), bool)>,
) -> Result<()> {
    let Some((times, key_written)) = follow else {
        return Err(Error::unknown(format!(
            "{why}: the {} outcome is unknown; check `patctl list` or use --wait",
            plan.action.name()
        )));
    };
    ctx.ui
        .err_line(&format!("{} {why}; following the cluster", timestamp(6)));
    let fresh = read_after_request(ctx, plan).await?;
    follow::run(ctx, plan, times, fresh, key_written).await
}

/// Read the cluster after the request went out: failing now leaves the outcome unknown (exit 5).
async fn read_after_request(ctx: &mut Context<'_>, plan: &Plan) -> Result<Cluster> {
    ctx.cluster(&plan.name, plan.group).await.map_err(|e| {
        Error::unknown(format!(
            "{}; the {} request was made but its outcome is unknown",
            e.message,
            plan.action.name()
        ))
    })
}

/// A 200 (switched) or 202 (scheduled): the result line, then the table of a fresh read, or with
/// `--wait` the follow-up until the new leader runs.
async fn accepted(
    ctx: &mut Context<'_>,
    plan: &Plan,
    r: Response,
    wait: bool,
    times: (Instant, Instant),
) -> Result<()> {
    ctx.ui.line(&format!("{} {}", timestamp(6), r.body));
    let fresh = match ctx.cluster(&plan.name, plan.group).await {
        Ok(c) => c,
        Err(e) => {
            // Patroni confirmed the switch; only the table afterwards is missing.
            ctx.ui
                .warning(&format!("cannot show the cluster: {}", e.message));
            return Ok(());
        }
    };
    if wait && r.status == 200 {
        return follow::run(ctx, plan, times, fresh, true).await;
    }
    ctx.ui.out(&members_table(
        ctx,
        &fresh,
        &plan.name,
        plan.group,
        Format::Pretty,
    ));
    Ok(())
}

/// patronictl's fallback when the request could not be made: write the `failover` key
/// unconditionally, print the table read before, then read the DCS back to say what happened.
async fn fall_back_to_dcs(
    ctx: &mut Context<'_>,
    plan: &Plan,
    failure: Failure,
    wait: bool,
    times: (Instant, Instant),
) -> Result<()> {
    ctx.ui
        .warning(&format!("Failing over to DCS ({})", failure.message));
    ctx.ui.line(&format!(
        "{} Could not {} using Patroni api, falling back to DCS",
        timestamp(6),
        plan.action.name()
    ));
    let key = format!("{}failover", ctx.prefix(&plan.name, plan.group));
    let value = pyjson::dumps_compact(&plan.failover_value());
    ctx.dcs().await?.put(&key, &value, None).await?;
    ctx.ui.out(&members_table(
        ctx,
        &plan.cluster,
        &plan.name,
        plan.group,
        Format::Pretty,
    ));
    let fresh = read_after_request(ctx, plan).await?;
    if wait {
        return follow::run(ctx, plan, times, fresh, true).await;
    }
    report_fallback(ctx.ui, plan, &fresh, &value)
}

/// What the DCS shows right after the fallback write.
fn report_fallback(ui: &Ui, plan: &Plan, fresh: &Cluster, written: &str) -> Result<()> {
    let old_leader = plan.cluster.leader_name();
    let new_leader = fresh.leader_name();
    if new_leader.is_some() && new_leader != old_leader {
        ui.err_line(&format!("{} is the leader now", new_leader.unwrap_or("")));
        return Ok(());
    }
    let stored = fresh.failover.as_ref();
    let matches = stored.is_some_and(|f| {
        f.leader.as_deref() == plan.leader.as_deref().filter(|l| !l.is_empty())
            && f.candidate.as_deref() == plan.wanted()
            && f.scheduled_at.is_some() == plan.scheduled.is_some()
    });
    if !matches {
        return Err(Error::failure(format!(
            "the failover key was written ({written}) but the DCS no longer holds it and {} is still the leader",
            old_leader.unwrap_or("nobody")
        )));
    }
    if plan.scheduled.is_some() {
        ui.err_line(&format!("Scheduled through the DCS: {written}"));
        return Ok(());
    }
    Err(Error::unknown(format!(
        "the failover key is set ({written}) but the {} is not confirmed yet; check `patctl list` or use --wait",
        plan.action.name()
    )))
}
