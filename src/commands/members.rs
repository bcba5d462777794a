//! `restart`, `reinit`, `reload` and `flush`: the member actions. They mirror patronictl's
//! `get_members` (member table first, role and name filters, the reinit member prompt),
//! `confirm_members_action`, `check_response` and the per-command REST calls and printed lines.
//!
//! Beyond patronictl: requests to several members go out in parallel (bounded; immediate restarts
//! stay one at a time, as in patronictl) and their results are printed in member order; every
//! request has a timeout; a member that rejected the action, could not be reached or did not answer
//! makes the command exit non-zero (1, 3 or 5); `reinit --wait` is bounded by `--wait-timeout` and
//! shows progress on a terminal.

use std::time::{Duration, Instant};

use crate::http_client::Method;
use clap::Args;
use serde_json::{Map, Value};

use super::fanout::{in_parallel, Job};
use super::{members_table, Role};
use crate::api::{Api, Failure, FailureKind, Response};
use crate::context::Context;
use crate::dcs::Dcs;
use crate::error::{Error, Exit, Result};
use crate::model::{truthy, Cluster, Member};
use crate::output::members::Format;
use crate::output::Ui;

/// `restart CLUSTER_NAME [MEMBER_NAMES]...`
#[derive(Debug, Args)]
pub struct RestartArgs {
    /// Cluster name
    pub cluster_name: String,
    /// Members to restart
    pub member_names: Vec<String>,
    /// Citus group
    #[arg(long)]
    pub group: Option<i64>,
    /// Restart only members with this role
    #[arg(short = 'r', long, value_enum, default_value = "any")]
    pub role: Role,
    /// Restart a single member only
    #[arg(long = "any")]
    pub p_any: bool,
    /// Timestamp of a scheduled restart in unambiguous format (e.g. ISO 8601)
    #[arg(long, value_name = "TEXT")]
    pub scheduled: Option<String>,
    /// Restart if the PostgreSQL version is less than provided (e.g. 9.5.2)
    #[arg(long = "pg-version", value_name = "TEXT")]
    pub version: Option<String>,
    /// Restart if pending
    #[arg(long)]
    pub pending: bool,
    /// Return error and fail over if necessary when restarting takes longer than this.
    #[arg(long, value_name = "TEXT")]
    pub timeout: Option<String>,
    /// Do not ask for confirmation at any point
    #[arg(long)]
    pub force: bool,
    /// patctl: how long to wait for each member's answer to an immediate restart; a member that has
    /// not answered by then is reported as "outcome unknown" (exit 5)
    #[arg(long = "wait-timeout", value_name = "SECONDS", default_value = "600", value_parser = parse_wait_timeout)]
    pub wait_timeout: Duration,
}

/// `reinit CLUSTER_NAME [MEMBER_NAMES]...`
#[derive(Debug, Args)]
pub struct ReinitArgs {
    /// Cluster name
    pub cluster_name: String,
    /// Members to reinitialize
    pub member_names: Vec<String>,
    /// Citus group
    #[arg(long)]
    pub group: Option<i64>,
    /// Do not ask for confirmation at any point
    #[arg(long)]
    pub force: bool,
    /// Get basebackup from leader
    #[arg(long = "from-leader")]
    pub from_leader: bool,
    /// Wait until reinitialization completes
    #[arg(long)]
    pub wait: bool,
    /// patctl: with --wait, give up after this many seconds (exit 5, outcome unknown)
    #[arg(long = "wait-timeout", value_name = "SECONDS", default_value = "600", value_parser = parse_wait_timeout)]
    pub wait_timeout: Duration,
}

/// `reload CLUSTER_NAME [MEMBER_NAMES]...`
#[derive(Debug, Args)]
pub struct ReloadArgs {
    /// Cluster name
    pub cluster_name: String,
    /// Members to reload
    pub member_names: Vec<String>,
    /// Citus group
    #[arg(long)]
    pub group: Option<i64>,
    /// Reload only members with this role
    #[arg(short = 'r', long, value_enum, default_value = "any")]
    pub role: Role,
    /// Do not ask for confirmation at any point
    #[arg(long)]
    pub force: bool,
}

/// `flush CLUSTER_NAME [MEMBER_NAMES]... {restart|switchover}`
#[derive(Debug, Args)]
pub struct FlushArgs {
    /// Cluster name
    pub cluster_name: String,
    /// Members, then the target: restart or switchover
    #[arg(value_name = "MEMBER_NAMES]... {restart|switchover}", required = true, num_args = 1..)]
    pub rest: Vec<String>,
    /// Citus group
    #[arg(long)]
    pub group: Option<i64>,
    /// Flush only members with this role
    #[arg(short = 'r', long, value_enum, default_value = "any")]
    pub role: Role,
    /// Do not ask for confirmation at any point
    #[arg(long)]
    pub force: bool,
}

fn parse_wait_timeout(s: &str) -> std::result::Result<Duration, String> {
    match s.parse::<f64>() {
        Ok(v) if v > 0.0 && v <= 86_400.0 => Ok(Duration::from_secs_f64(v)),
        _ => Err(format!(
            "'{s}' must be a number of seconds between 0 and 86400"
        )),
    }
}

/// How often `reinit --wait` polls, as patronictl.
const POLL_INTERVAL: Duration = Duration::from_secs(2);
/// A reinitialized replica that runs without streaming (archive recovery only) counts as done after this.
const NOT_STREAMING_GRACE: Duration = Duration::from_secs(15);
/// States after which a reinitialization will not complete by itself.
const FAILED_STATES: [&str; 6] = [
    "start failed",
    "stop failed",
    "restart failed",
    "crashed",
    "initdb failed",
    "custom bootstrap failed",
];

// ---------------------------------------------------------------------------------------------
// Outcomes and exit codes

/// How one member's request ended, for the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Done,
    Rejected,
    Unreachable,
    Unknown,
}

/// The lines one member's request printed, and how it ended.
struct Report {
    lines: Vec<String>,
    verdict: Verdict,
}

impl Report {
    fn new(line: String, verdict: Verdict) -> Report {
        Report {
            lines: vec![line],
            verdict,
        }
    }
}

/// Failure kinds seen so far; the exit code is the kind's code when there is one kind, else 1.
#[derive(Default)]
struct Tally {
    rejected: bool,
    unreachable: bool,
    unknown: bool,
}

impl Tally {
    fn add(&mut self, v: Verdict) {
        match v {
            Verdict::Done => {}
            Verdict::Rejected => self.rejected = true,
            Verdict::Unreachable => self.unreachable = true,
            Verdict::Unknown => self.unknown = true,
        }
    }

    fn finish(self) -> Result<()> {
        match (self.rejected, self.unreachable, self.unknown) {
            (false, false, false) => Ok(()),
            (false, true, false) => Err(Error::silent(Exit::Unreachable)),
            (false, false, true) => Err(Error::silent(Exit::Unknown)),
            _ => Err(Error::silent(Exit::Failure)),
        }
    }
}

/// The `Failed: …` line for a request that got no HTTP answer (patronictl prints a traceback).
fn transport_report(action: &str, member: &str, f: &Failure) -> Report {
    let (what, verdict) = match f.kind {
        FailureKind::Connect => ("unreachable ", Verdict::Unreachable),
        FailureKind::Timeout => ("outcome unknown ", Verdict::Unknown),
        FailureKind::NoUrl | FailureKind::Other => ("", Verdict::Rejected),
    };
    Report::new(
        format!(
            "Failed: {action} for member {member}, {what}({})",
            f.message
        ),
        verdict,
    )
}

/// patronictl's `check_response`: the line to print (none for a silent success) and whether the
/// status is below 400.
fn check_response(
    r: &Response,
    member: &str,
    action: &str,
    silent: bool,
) -> (Option<String>, bool) {
    if r.status >= 400 {
        let line = format!(
            "Failed: {action} for member {member}, status code={}, ({})",
            r.status, r.body
        );
        (Some(line), false)
    } else {
        (
            (!silent).then(|| format!("Success: {action} for member {member}")),
            true,
        )
    }
}

/// Print each report's lines and add its verdict to the tally.
fn emit(ui: &Ui, tally: &mut Tally, report: Report) {
    for l in &report.lines {
        ui.line(l);
    }
    tally.add(report.verdict);
}

// ---------------------------------------------------------------------------------------------
// Member selection (patronictl's get_members / confirm_members_action)

/// What a command asks of `get_members`.
struct Selection<'s> {
    cluster_name: &'s str,
    names: &'s [String],
    role: Role,
    group: Option<i64>,
    force: bool,
    action: &'s str,
    /// `reinit` passes the role enum, so its "No … among provided members" has no quotes.
    quoted_role: bool,
}

/// patronictl's `get_members`: print the member table, apply the role and name filters, prompt for
/// the member to reinitialize; the result keeps DCS order.
fn get_members<'c>(ctx: &Context, cluster: &'c Cluster, s: &Selection) -> Result<Vec<&'c Member>> {
    let members = super::get_all_members(cluster, s.group, s.role);
    let candidates: Vec<&str> = members.iter().map(|m| m.name.as_str()).collect();
    if s.names.is_empty() && candidates.is_empty() {
        return Err(Error::failure(format!(
            "{} cluster doesn't have any members",
            s.cluster_name
        )));
    }
    ctx.ui.out(&members_table(
        ctx,
        cluster,
        s.cluster_name,
        s.group,
        Format::Pretty,
    ));
    let mut chosen: Vec<String> = Vec::new();
    if !s.names.is_empty() {
        let (known, unknown): (Vec<&String>, Vec<&String>) = s
            .names
            .iter()
            .partition(|n| candidates.contains(&n.as_str()));
        chosen = known.into_iter().cloned().collect();
        if !chosen.is_empty() {
            for n in unknown {
                // patronictl drops such names silently; say so on stderr.
                ctx.ui.warning(&format!(
                    "{n} is not a member of cluster {} with role {}, skipped",
                    s.cluster_name,
                    s.role.as_str()
                ));
            }
        } else {
            let role = if s.quoted_role {
                format!("'{}'", s.role.as_str())
            } else {
                s.role.as_str().to_string()
            };
            return Err(Error::failure(format!("No {role} among provided members")));
        }
    } else if s.action != "reinitialize" {
        chosen = candidates.iter().map(|c| c.to_string()).collect();
    }
    if chosen.is_empty() && !s.force {
        let text = format!(
            "Which member do you want to {} [{}]?",
            s.action,
            candidates.join(", ")
        );
        chosen.push(ctx.ui.prompt(&text, Some(""))?);
    }
    if let Some(bad) = chosen.iter().find(|n| !candidates.contains(&n.as_str())) {
        return Err(Error::failure(format!("{bad} is not a member of cluster")));
    }
    Ok(members
        .into_iter()
        .filter(|m| chosen.contains(&m.name))
        .collect())
}

/// patronictl's `confirm_members_action` (skipped with `--force`).
fn confirm_members_action(
    ui: &Ui,
    members: &[&Member],
    force: bool,
    action: &str,
    scheduled: Option<&str>,
    pending: bool,
) -> Result<()> {
    if force {
        return Ok(());
    }
    let names = members
        .iter()
        .map(|m| m.name.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let (question, aborted) = match scheduled {
        Some(_) if pending => (
            "The nodes needing a restart will be identified at the scheduled time, and might be \
             different from the ones showing pending restart right now. Is this fine?"
                .to_string(),
            format!("Aborted scheduled {action}"),
        ),
        Some(at) => (
            format!("Are you sure you want to schedule {action} of members {names} at {at}?"),
            format!("Aborted scheduled {action}"),
        ),
        None => (
            format!("Are you sure you want to {action} members {names}?"),
            format!("Aborted {action}"),
        ),
    };
    if ui.confirm(&question)? {
        Ok(())
    } else {
        Err(Error::failure(aborted))
    }
}

// ---------------------------------------------------------------------------------------------
// restart

/// Python's `int()` on one version component: optional sign, digits, single underscores between digits.
fn py_int(s: &str) -> bool {
    let s = s.trim();
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    !digits.is_empty()
        && !digits.starts_with('_')
        && !digits.ends_with('_')
        && !digits.contains("__")
        && digits.chars().all(|c| c.is_ascii_digit() || c == '_')
}

/// Patroni's `postgres_version_to_int` validation: X.Y.Z, or X.Y when X ≥ 10.
fn check_pg_version(v: &str) -> Result<()> {
    let parts: Vec<&str> = v.split('.').collect();
    if !parts.iter().all(|p| py_int(p)) {
        return Err(Error::failure(format!("Invalid PostgreSQL version: {v}")));
    }
    let major: i64 = parts[0].trim().replace('_', "").parse().unwrap_or(0);
    if parts.len() < 2 || parts.len() == 2 && major < 10 || parts.len() > 3 {
        return Err(Error::failure(format!(
            "Invalid PostgreSQL version format: X.Y or X.Y.Z is accepted: {v}"
        )));
    }
    Ok(())
}

/// A random index below `n` (for `--any`), without a random-number crate.
fn random_index(n: usize) -> usize {
    use std::hash::BuildHasher;
    let h = std::collections::hash_map::RandomState::new().hash_one(Instant::now());
    (h % n as u64) as usize
}

/// Run `restart`.
pub async fn cmd_restart(ctx: &mut Context<'_>, args: RestartArgs) -> Result<()> {
    let cluster = ctx.cluster(&args.cluster_name, args.group).await?;
    let selection = Selection {
        cluster_name: &args.cluster_name,
        names: &args.member_names,
        role: args.role,
        group: args.group,
        force: args.force,
        action: "restart",
        quoted_role: true,
    };
    let mut members = get_members(ctx, &cluster, &selection)?;
    let ui = ctx.ui;
    let scheduled = match (&args.scheduled, args.force) {
        (None, false) => {
            let example = crate::time::in_one_hour();
            let text = format!("When should the restart take place (e.g. {example}) ");
            Some(ui.prompt(&text, Some("now"))?)
        }
        (s, _) => s.clone(),
    };
    let scheduled_at = crate::time::parse_scheduled(scheduled.as_deref())?;

    let mut body = Map::new();
    if args.pending {
        body.insert("restart_pending".into(), Value::Bool(true));
        // A scheduled restart finds the pending members at the scheduled time.
        if scheduled_at.is_none() {
            members.retain(|m| m.data.get("pending_restart").is_some_and(truthy));
        }
    }
    if args.p_any && !members.is_empty() {
        let keep = members[random_index(members.len())];
        members = vec![keep];
    }
    let at_text = scheduled_at.as_ref().map(crate::time::py_str);
    confirm_members_action(
        ui,
        &members,
        args.force,
        "restart",
        at_text.as_deref(),
        args.pending,
    )?;

    let version = match (&args.version, args.force) {
        (None, false) => Some(ui.prompt(
            "Restart if the PostgreSQL version is less than provided (e.g. 9.5.2) ",
            Some(""),
        )?),
        (v, _) => v.clone(),
    };
    if let Some(v) = version.filter(|v| !v.is_empty()) {
        check_pg_version(&v)?;
        body.insert("postgres_version".into(), Value::String(v));
    }
    if let Some(at) = &scheduled_at {
        if cluster.is_paused() {
            return Err(Error::failure("Can't schedule restart in the paused state"));
        }
        body.insert("schedule".into(), Value::String(crate::time::isoformat(at)));
    }
    if let Some(t) = &args.timeout {
        body.insert("timeout".into(), Value::String(t.clone()));
    }

    let body = Value::Object(body);
    let plan = RestartPlan {
        body: &body,
        // An immediate restart answers only once PostgreSQL is back up.
        answer_within: scheduled_at.is_none().then_some(args.wait_timeout),
        flush_first: scheduled_at.is_some() && args.force,
    };
    let api = ctx.api()?;
    let jobs: Vec<Job<Report>> = members.iter().map(|m| plan.job(api, m)).collect();
    let mut tally = Tally::default();
    if scheduled_at.is_none() {
        // Immediate restarts go one member at a time, as in patronictl: restarting every member at
        // once would take the whole cluster down together.
        for job in jobs {
            let report = job.await;
            emit(ui, &mut tally, report);
        }
    } else {
        in_parallel(jobs, |r| emit(ui, &mut tally, r)).await;
    }
    tally.finish()
}

/// What every member's restart request carries.
struct RestartPlan<'b> {
    body: &'b Value,
    answer_within: Option<Duration>,
    /// `--scheduled --force`: drop an existing scheduled restart first.
    flush_first: bool,
}

impl<'b> RestartPlan<'b> {
    fn job<'a>(&self, api: &'a Api, m: &'a Member) -> Job<'a, Report>
    where
        'b: 'a,
    {
        let flush = self.flush_first && m.data.get("scheduled_restart").is_some_and(truthy);
        Box::pin(restart_member(api, m, self.body, flush, self.answer_within))
    }
}

/// One member's restart: drop its scheduled restart first when asked, then `POST /restart`.
async fn restart_member(
    api: &Api,
    m: &Member,
    body: &Value,
    flush_first: bool,
    answer_within: Option<Duration>,
) -> Report {
    let mut lines = Vec::new();
    if flush_first {
        let action = "flush scheduled restart";
        match api.request(m, Method::DELETE, "restart", None, None).await {
            Ok(r) => lines.extend(check_response(&r, &m.name, action, true).0),
            Err(f) => lines.extend(transport_report(action, &m.name, &f).lines),
        }
    }
    if answer_within.is_some() {
        // An immediate restart may legitimately take minutes to answer, so first make sure the
        // member answers at all (a frozen Patroni would otherwise hold us for the whole wait).
        if let Err(f) = api.request(m, Method::GET, "patroni", None, None).await {
            let probe = Failure {
                kind: FailureKind::Connect,
                message: format!("{}; restart not sent", f.message),
            };
            let mut report = transport_report("restart", &m.name, &probe);
            lines.append(&mut report.lines);
            report.lines = lines;
            return report;
        }
    }
    let mut report = match api
        .request(m, Method::POST, "restart", Some(body), answer_within)
        .await
    {
        Err(f) => transport_report("restart", &m.name, &f),
        Ok(r) => match r.status {
            200 => Report::new(
                format!("Success: restart on member {}", m.name),
                Verdict::Done,
            ),
            202 => Report::new(
                format!("Success: restart scheduled on member {}", m.name),
                Verdict::Done,
            ),
            409 => Report::new(
                format!(
                    "Failed: another restart is already scheduled on member {}",
                    m.name
                ),
                Verdict::Rejected,
            ),
            s => Report::new(
                format!(
                    "Failed: restart for member {}, status code={s}, ({})",
                    m.name, r.body
                ),
                Verdict::Rejected,
            ),
        },
    };
    lines.append(&mut report.lines);
    report.lines = lines;
    report
}

// ---------------------------------------------------------------------------------------------
// reload

/// `loop_wait` as patronictl prints it: the dynamic config's value when truthy, else 10.
fn loop_wait_text(cluster: &Cluster) -> String {
    match cluster.valid_config().and_then(|c| c.get("loop_wait")) {
        Some(Value::Number(n)) if n.as_f64() != Some(0.0) => n.to_string(),
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::Bool(true)) => "True".to_string(),
        _ => "10".to_string(),
    }
}

/// Run `reload`.
pub async fn cmd_reload(ctx: &mut Context<'_>, args: ReloadArgs) -> Result<()> {
    let cluster = ctx.cluster(&args.cluster_name, args.group).await?;
    let selection = Selection {
        cluster_name: &args.cluster_name,
        names: &args.member_names,
        role: args.role,
        group: args.group,
        force: args.force,
        action: "reload",
        quoted_role: true,
    };
    let members = get_members(ctx, &cluster, &selection)?;
    let ui = ctx.ui;
    confirm_members_action(ui, &members, args.force, "reload", None, false)?;
    let loop_wait = loop_wait_text(&cluster);
    let api = ctx.api()?;
    let jobs: Vec<Job<Report>> = members
        .iter()
        .map(|m| Box::pin(reload_member(api, m, &loop_wait)) as Job<Report>)
        .collect();
    let mut tally = Tally::default();
    in_parallel(jobs, |r| emit(ui, &mut tally, r)).await;
    tally.finish()
}

async fn reload_member(api: &Api, m: &Member, loop_wait: &str) -> Report {
    match api.request(m, Method::POST, "reload", None, None).await {
        Err(f) => transport_report("reload", &m.name, &f),
        Ok(r) => match r.status {
            200 => Report::new(
                format!("No changes to apply on member {}", m.name),
                Verdict::Done,
            ),
            202 => Report::new(
                format!(
                    "Reload request received for member {} and will be processed within {loop_wait} seconds",
                    m.name
                ),
                Verdict::Done,
            ),
            s => Report::new(
                format!(
                    "Failed: reload for member {}, status code={s}, ({})",
                    m.name, r.body
                ),
                Verdict::Rejected,
            ),
        },
    }
}

// ---------------------------------------------------------------------------------------------
// flush

/// Run `flush`.
pub async fn cmd_flush(ctx: &mut Context<'_>, args: FlushArgs) -> Result<()> {
    let Some((target, names)) = args.rest.split_last() else {
        return Err(Error::usage("Missing argument '{restart|switchover}'."));
    };
    match target.as_str() {
        "restart" => flush_restart(ctx, &args, names).await,
        "switchover" => flush_switchover(ctx, &args).await,
        other => Err(Error::usage(format!(
            "Invalid value for '{{restart|switchover}}': '{other}' is not one of 'restart', 'switchover'."
        ))),
    }
}

async fn flush_restart(ctx: &mut Context<'_>, args: &FlushArgs, names: &[String]) -> Result<()> {
    let cluster = ctx.cluster(&args.cluster_name, args.group).await?;
    let selection = Selection {
        cluster_name: &args.cluster_name,
        names,
        role: args.role,
        group: args.group,
        force: args.force,
        action: "flush",
        quoted_role: true,
    };
    let members = get_members(ctx, &cluster, &selection)?;
    let ui = ctx.ui;
    confirm_members_action(ui, &members, args.force, "flush", None, false)?;
    let api = ctx.api()?;
    let jobs: Vec<Job<Report>> = members
        .iter()
        .map(|m| Box::pin(flush_member_restart(api, m)) as Job<Report>)
        .collect();
    let mut tally = Tally::default();
    in_parallel(jobs, |r| emit(ui, &mut tally, r)).await;
    tally.finish()
}

async fn flush_member_restart(api: &Api, m: &Member) -> Report {
    let action = "flush scheduled restart";
    if !m.data.get("scheduled_restart").is_some_and(truthy) {
        return Report::new(
            format!("No scheduled restart for member {}", m.name),
            Verdict::Done,
        );
    }
    match api.request(m, Method::DELETE, "restart", None, None).await {
        Err(f) => transport_report(action, &m.name, &f),
        Ok(r) => {
            let (line, ok) = check_response(&r, &m.name, action, false);
            Report {
                lines: line.into_iter().collect(),
                verdict: if ok { Verdict::Done } else { Verdict::Rejected },
            }
        }
    }
}

/// `flush … switchover`: `DELETE /switchover` leader first until a member answers 200 or 404; when
/// none does, clear the failover key in the DCS with compare-and-swap on the version read.
async fn flush_switchover(ctx: &mut Context<'_>, args: &FlushArgs) -> Result<()> {
    let cluster = ctx.cluster(&args.cluster_name, args.group).await?;
    let ui = ctx.ui;
    let Some(failover) = cluster.scheduled_switchover() else {
        ui.line("No pending scheduled switchover");
        return Ok(());
    };
    let targets: Vec<&Member> = cluster
        .members_leader_first()
        .into_iter()
        .filter(|m| m.api_url().is_some())
        .collect();
    let api = ctx.api()?;
    for m in targets {
        match api
            .request(m, Method::DELETE, "switchover", None, None)
            .await
        {
            Ok(r) if r.status == 200 => {
                ui.line(&format!("Success: {}", r.body));
                return Ok(());
            }
            Ok(r) if r.status == 404 => {
                ui.line(&format!("Failed: {}", r.body));
                return Err(Error::silent(Exit::Failure));
            }
            Ok(r) => ui.line(&format!(
                "Failed: member={}, status_code={}, ({})",
                m.name, r.status, r.body
            )),
            Err(f) => {
                ui.warning(&f.message);
                ui.warning(&format!("Member {} is not accessible", m.name));
            }
        }
    }
    ui.warning("Failing over to DCS");
    ui.line(&format!(
        "{} Could not find any accessible member of cluster {}",
        crate::time::timestamp(6),
        args.cluster_name
    ));
    // Without --group on Citus the failover key read is the coordinator's (group 0).
    let group = args.group.or(ctx.settings.citus.then_some(0));
    let key = format!(
        "{}failover",
        ctx.settings.cluster_prefix(&args.cluster_name, group)
    );
    let version = failover.version;
    if ctx.dcs().await?.put(&key, "{}", Some(version)).await? {
        Ok(())
    } else {
        Err(Error::conflict(format!(
            "{key} changed since it was read; the scheduled switchover was not flushed"
        )))
    }
}

// ---------------------------------------------------------------------------------------------
// reinit

/// A member's `GET /patroni` before the reinit, to tell a finished reinit from one not yet begun.
#[derive(Default, Clone)]
struct Baseline {
    state: Option<String>,
    start_time: Option<String>,
}

/// The first `POST /reinitialize` of one member (and its baseline when waiting).
struct FirstTry {
    baseline: Baseline,
    result: std::result::Result<Response, Failure>,
}

async fn patroni_status(api: &Api, m: &Member) -> Option<Value> {
    let r = api
        .request(m, Method::GET, "patroni", None, None)
        .await
        .ok()?;
    serde_json::from_str::<Value>(&r.body)
        .ok()
        .filter(Value::is_object)
}

async fn reinit_first(api: &Api, m: &Member, body: Value, wait: bool) -> FirstTry {
    let mut baseline = Baseline::default();
    if wait {
        if let Some(s) = patroni_status(api, m).await {
            baseline.state = s["state"].as_str().map(String::from);
            baseline.start_time = s["postmaster_start_time"].as_str().map(String::from);
        }
    }
    let result = api
        .request(m, Method::POST, "reinitialize", Some(&body), None)
        .await;
    FirstTry { baseline, result }
}

fn reinit_body(force: bool, from_leader: bool) -> Value {
    serde_json::json!({"force": force, "from_leader": from_leader})
}

/// Run `reinit`.
pub async fn cmd_reinit(ctx: &mut Context<'_>, args: ReinitArgs) -> Result<()> {
    let cluster = ctx.cluster(&args.cluster_name, args.group).await?;
    let selection = Selection {
        cluster_name: &args.cluster_name,
        names: &args.member_names,
        role: Role::Replica,
        group: args.group,
        force: args.force,
        action: "reinitialize",
        quoted_role: false,
    };
    let members = get_members(ctx, &cluster, &selection)?;
    let ui = ctx.ui;
    confirm_members_action(ui, &members, args.force, "reinitialize", None, false)?;
    let api = ctx.api()?;
    let jobs: Vec<Job<FirstTry>> = members
        .iter()
        .map(|m| {
            let body = reinit_body(args.force, args.from_leader);
            Box::pin(reinit_first(api, m, body, args.wait)) as Job<FirstTry>
        })
        .collect();
    let mut first = Vec::new();
    in_parallel(jobs, |t| first.push(t)).await;

    let mut tally = Tally::default();
    let mut waiting = Vec::new();
    for (m, t) in members.iter().copied().zip(first) {
        let started = reinit_outcome(ui, api, m, &args, t.result, &mut tally).await?;
        if started && args.wait {
            waiting.push(Waiter::new(m, t.baseline));
        }
    }
    if !waiting.is_empty() {
        wait_for_reinit(ui, api, waiting, args.wait_timeout, &mut tally).await?;
    }
    tally.finish()
}

/// Print one member's reinitialize result; on `… already in progress` offer to force it, as
/// patronictl does. Returns whether the reinitialization started.
async fn reinit_outcome(
    ui: &Ui,
    api: &Api,
    m: &Member,
    args: &ReinitArgs,
    mut result: std::result::Result<Response, Failure>,
    tally: &mut Tally,
) -> Result<bool> {
    loop {
        let r = match result {
            Ok(r) => r,
            Err(f) => {
                emit(ui, tally, transport_report("reinitialize", &m.name, &f));
                return Ok(false);
            }
        };
        let (line, started) = check_response(&r, &m.name, "reinitialize", false);
        if let Some(l) = line {
            ui.line(&l);
        }
        if !started
            && r.body.ends_with(" already in progress")
            && !args.force
            && ui.confirm("Do you want to cancel it and reinitialize anyway?")?
        {
            let body = reinit_body(true, args.from_leader);
            result = api
                .request(m, Method::POST, "reinitialize", Some(&body), None)
                .await;
            continue;
        }
        tally.add(if started {
            Verdict::Done
        } else {
            Verdict::Rejected
        });
        return Ok(started);
    }
}

/// A member `reinit --wait` is watching.
struct Waiter<'c> {
    member: &'c Member,
    baseline: Baseline,
    /// A state other than the one before the reinit was seen.
    changed: bool,
    /// When it was first seen running but not streaming.
    running_since: Option<Instant>,
    /// Last state seen, for progress and the timeout message.
    last: String,
}

/// Where a watched member stands after one poll.
enum Stage {
    Waiting,
    Completed,
    Failed,
}

impl<'c> Waiter<'c> {
    fn new(member: &'c Member, baseline: Baseline) -> Waiter<'c> {
        Waiter {
            member,
            baseline,
            changed: false,
            running_since: None,
            last: "requested".to_string(),
        }
    }

    /// Judge one `GET /patroni` answer (`None`: no usable answer, e.g. while PostgreSQL restarts).
    fn judge(&mut self, status: Option<Value>) -> Stage {
        let Some(s) = status else {
            self.last = "no answer".to_string();
            return Stage::Waiting;
        };
        let state = s["state"].as_str().unwrap_or("unknown").to_string();
        if Some(state.as_str()) != self.baseline.state.as_deref() {
            self.changed = true;
        }
        self.last = state.clone();
        if state != "running" {
            self.running_since = None;
            let failed = self.changed && FAILED_STATES.contains(&state.as_str());
            return if failed {
                Stage::Failed
            } else {
                Stage::Waiting
            };
        }
        let start = s["postmaster_start_time"].as_str();
        let restarted = self.changed
            || self.baseline.start_time.is_none()
            || start != self.baseline.start_time.as_deref();
        if !restarted {
            self.last = "running (reinitialize not started yet)".to_string();
            return Stage::Waiting;
        }
        if s["replication_state"].as_str() == Some("streaming") {
            return Stage::Completed;
        }
        self.last = "running, not streaming yet".to_string();
        let since = *self.running_since.get_or_insert_with(Instant::now);
        if since.elapsed() >= NOT_STREAMING_GRACE {
            Stage::Completed
        } else {
            Stage::Waiting
        }
    }
}

/// patronictl's `--wait` loop, bounded: every 2 s poll the members still reinitializing; print
/// `Waiting for reinitialize to complete on: …` whenever that set changes and
/// `Reinitialize is completed on: …` as each one streams again.
async fn wait_for_reinit(
    ui: &Ui,
    api: &Api,
    mut waiting: Vec<Waiter<'_>>,
    limit: Duration,
    tally: &mut Tally,
) -> Result<()> {
    let started = Instant::now();
    let progress = Progress { ui, started };
    let mut shown: Vec<String> = Vec::new();
    while !waiting.is_empty() {
        let names: Vec<String> = waiting.iter().map(|w| w.member.name.clone()).collect();
        if names != shown {
            progress.clear();
            ui.line(&format!(
                "Waiting for reinitialize to complete on: {}",
                names.join(", ")
            ));
            shown = names;
        }
        let left = limit.saturating_sub(started.elapsed());
        if left.is_zero() {
            progress.clear();
            return Err(Error::unknown(format!(
                "reinitialize did not complete within {}s on: {}",
                limit.as_secs_f64(),
                waiting
                    .iter()
                    .map(|w| format!("{} ({})", w.member.name, w.last))
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        tokio::time::sleep(left.min(POLL_INTERVAL)).await;
        let jobs: Vec<Job<Option<Value>>> = waiting
            .iter()
            .map(|w| Box::pin(patroni_status(api, w.member)) as Job<Option<Value>>)
            .collect();
        let mut answers = Vec::new();
        in_parallel(jobs, |a| answers.push(a)).await;
        let mut still = Vec::new();
        for (mut w, answer) in waiting.into_iter().zip(answers) {
            match w.judge(answer) {
                Stage::Waiting => still.push(w),
                Stage::Completed => {
                    progress.clear();
                    ui.line(&format!("Reinitialize is completed on: {}", w.member.name));
                }
                Stage::Failed => {
                    progress.clear();
                    emit(
                        ui,
                        tally,
                        Report::new(
                            format!(
                                "Failed: reinitialize on member {}, state: {}",
                                w.member.name, w.last
                            ),
                            Verdict::Rejected,
                        ),
                    );
                }
            }
        }
        waiting = still;
        progress.show(&waiting, limit);
    }
    Ok(())
}

/// The one-line progress display of `reinit --wait` on stderr, only on a terminal.
struct Progress<'u> {
    ui: &'u Ui,
    started: Instant,
}

impl Progress<'_> {
    fn show(&self, waiting: &[Waiter], limit: Duration) {
        if !self.ui.err_is_tty() || waiting.is_empty() {
            return;
        }
        let states = waiting
            .iter()
            .map(|w| format!("{}: {}", w.member.name, w.last))
            .collect::<Vec<_>>()
            .join(", ");
        let text = format!(
            "  {}s/{}s  {}",
            self.started.elapsed().as_secs(),
            limit.as_secs(),
            states
        );
        self.ui.status(&text);
    }

    fn clear(&self) {
        if self.ui.err_is_tty() {
            self.ui.status_done();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pg_versions() {
        assert!(check_pg_version("9.5.2").is_ok());
        assert!(check_pg_version("10.1").is_ok());
        assert!(check_pg_version("15.4.0").is_ok());
        let msg = |v: &str| check_pg_version(v).unwrap_err().message;
        assert_eq!(
            msg("9.6"),
            "Invalid PostgreSQL version format: X.Y or X.Y.Z is accepted: 9.6"
        );
        assert_eq!(
            msg("10"),
            "Invalid PostgreSQL version format: X.Y or X.Y.Z is accepted: 10"
        );
        assert_eq!(
            msg("1.2.3.4"),
            "Invalid PostgreSQL version format: X.Y or X.Y.Z is accepted: 1.2.3.4"
        );
        assert_eq!(msg("a.b.c"), "Invalid PostgreSQL version: a.b.c");
        assert_eq!(msg("9..1"), "Invalid PostgreSQL version: 9..1");
    }

    #[test]
    fn exit_code_is_the_only_failure_kind() {
        let code = |vs: &[Verdict]| {
            let mut t = Tally::default();
            vs.iter().for_each(|v| t.add(*v));
            t.finish().err().map(|e| e.exit)
        };
        assert_eq!(code(&[Verdict::Done]), None);
        assert_eq!(
            code(&[Verdict::Done, Verdict::Unreachable]),
            Some(Exit::Unreachable)
        );
        assert_eq!(code(&[Verdict::Unknown]), Some(Exit::Unknown));
        assert_eq!(
            code(&[Verdict::Unknown, Verdict::Unreachable]),
            Some(Exit::Failure)
        );
        assert_eq!(code(&[Verdict::Rejected]), Some(Exit::Failure));
    }

    #[test]
    fn waiter_needs_a_real_restart() {
        let m = Member::from_node("n", 1, None, "{}");
        let base = Baseline {
            state: Some("running".into()),
            start_time: Some("t0".into()),
        };
        let mut w = Waiter::new(&m, base);
        let running = |t: &str| {
            Some(
                serde_json::json!({"state": "running", "postmaster_start_time": t, "replication_state": "streaming"}),
            )
        };
        assert!(matches!(w.judge(running("t0")), Stage::Waiting));
        assert!(matches!(w.judge(None), Stage::Waiting));
        assert!(matches!(
            w.judge(Some(serde_json::json!({"state": "creating replica"}))),
            Stage::Waiting
        ));
        assert!(matches!(w.judge(running("t1")), Stage::Completed));
        let mut w = Waiter::new(&m, Baseline::default());
        assert!(matches!(
            w.judge(Some(serde_json::json!({"state": "start failed"}))),
            Stage::Failed
        ));
    }

    #[test]
    fn loop_wait_as_printed() {
        let c = |cfg: &str| {
            Cluster::from_nodes(&[crate::model::Node {
                key: "config".into(),
                value: cfg.into(),
                version: 3,
                session: None,
            }])
        };
        assert_eq!(loop_wait_text(&c(r#"{"loop_wait":5}"#)), "5");
        assert_eq!(loop_wait_text(&c(r#"{"loop_wait":0}"#)), "10");
        assert_eq!(loop_wait_text(&c(r#"{}"#)), "10");
        assert_eq!(loop_wait_text(&Cluster::default()), "10");
    }
}
